import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  matchesLabels,
  matchesFields,
  parseFieldSelector,
  parseLabelSelector,
  selectorString,
} from "../../src/kube-api/selectors.js";
import { matchesSelector, type LabelSelector } from "../../src/kube/labels.js";
import { R } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/types.js";

const m = (sel: string, labels: Record<string, string>) => matchesLabels(parseLabelSelector(sel), labels);

describe("label selector strings", () => {
  it.each([
    ["", {}, true],
    ["a=b", { a: "b" }, true],
    ["a==b", { a: "b" }, true],
    ["a=b", { a: "c" }, false],
    ["a!=b", {}, true],
    ["a!=b", { a: "b" }, false],
    ["a in (b, c)", { a: "c" }, true],
    ["a in (b,c)", {}, false],
    ["a notin (b,c)", {}, true],
    ["a notin (b,c)", { a: "b" }, false],
    ["a", { a: "" }, true],
    ["!a", { a: "x" }, false],
    ["!a", {}, true],
    ["a,b=c", { a: "1", b: "c" }, true],
    ["env in (prod),tier notin (db),!canary", { env: "prod", tier: "web" }, true],
    ["n>3", { n: "4" }, true],
    ["n<3", { n: "4" }, false],
    ["app.kubernetes.io/name=web", { "app.kubernetes.io/name": "web" }, true],
  ])("%j on %j → %s", (sel, labels, want) => {
    expect(m(sel, labels)).toBe(want);
  });

  it.each(["a in (b", "=b", "a b", "a=b=c", "-a=b", "a,", "a=b$"])("%j is a 400", (sel) => {
    expect(() => parseLabelSelector(sel)).toThrow(expect.objectContaining({ code: 400, reason: "BadRequest" }));
  });

  it("selectorString of a LabelSelector selects what matchesSelector selects (property)", () => {
    const key = fc.constantFrom("a", "b", "app.kubernetes.io/name");
    const value = fc.constantFrom("x", "y", "z");
    const selector: fc.Arbitrary<LabelSelector> = fc.record({
      matchLabels: fc.dictionary(key, value, { maxKeys: 2 }),
      matchExpressions: fc.array(
        fc.record({
          key,
          operator: fc.constantFrom("In" as const, "NotIn" as const, "Exists" as const, "DoesNotExist" as const),
          values: fc.array(value, { minLength: 1, maxLength: 2 }),
        }),
        { maxLength: 2 },
      ),
    });
    fc.assert(
      fc.property(selector, fc.dictionary(key, value), (sel, labels) => {
        expect(matchesLabels(parseLabelSelector(selectorString(sel)), labels)).toBe(matchesSelector(sel, labels));
      }),
    );
  });
});

describe("field selectors", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns" },
    spec: { nodeName: "n1" },
    status: { phase: "Running" },
  } as KubeObject;

  it("matches per-kind fields, = and !=", () => {
    const f = (s: string) => matchesFields(parseFieldSelector(s, R.pods), pod);
    expect(f("metadata.name=p,metadata.namespace=ns")).toBe(true);
    expect(f("status.phase=Running")).toBe(true);
    expect(f("status.phase!=Running")).toBe(false);
    expect(f("spec.nodeName==n1")).toBe(true);
    expect(f("spec.nodeName=")).toBe(false);
    expect(f("spec.hostNetwork=false")).toBe(true);
  });

  it("unknown fields are a 400 with kube-apiserver's wording", () => {
    expect(() => parseFieldSelector("spec.x=1", R.pods)).toThrow("field label not supported: spec.x");
    expect(() => parseFieldSelector("spec.x=1", R.configmaps)).toThrow(
      '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
  });
});
