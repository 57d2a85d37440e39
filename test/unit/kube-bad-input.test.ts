import { describe, expect, it } from "vitest";
import { defaultObject, gvkOf, loadOpenApi, validateObject } from "../../src/kube/schema.js";
import type { KubeObject } from "../../src/kube/types.js";
import { kubeCasesFor } from "../support/kube-bad-input.js";
import kubectlCreated from "./fixtures/kube-kubectl-created.json" with { type: "json" };

/**
 * The Kubernetes side of the bad-input suite: every field of the objects kubectl creates, broken
 * once from the OpenAPI schemas, is a 422 Invalid whose causes name the field — never a crash in
 * defaulting or validation (which the API server would answer 500).
 */
const ix = loadOpenApi();

describe.each(Object.keys(kubectlCreated.objects))("invalid %s from the OpenAPI schema", (name) => {
  const o = (kubectlCreated.objects as unknown as Record<string, KubeObject>)[name];
  const valid = { ...o, metadata: { ...o.metadata, uid: "u1" } } as KubeObject;
  const gvk = gvkOf(valid.apiVersion, valid.kind);

  it("each broken field is named by a cause", () => {
    const cases = kubeCasesFor(ix, gvk, valid);
    const wrong: string[] = [];
    for (const c of cases) {
      let causes: { field?: string; reason?: string }[];
      try {
        const defaulted = defaultObject(ix, gvk, c.object);
        causes = validateObject(ix, gvk, defaulted, { fieldValidation: "Strict" }).causes;
        // A required field that defaulting fills back in is not an error.
        if (c.kind === "missing" && causes.length === 0) continue;
      } catch (e) {
        wrong.push(`${c.kind} ${c.field}: crashed: ${String(e).slice(0, 120)}`);
        continue;
      }
      if (
        !causes.some(
          (x) => x.field === c.field || x.field?.startsWith(`${c.field}.`) || x.field?.startsWith(`${c.field}[`),
        )
      )
        wrong.push(`${c.kind} ${c.field}: causes ${JSON.stringify(causes).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("the Kubernetes bad-input generator", () => {
  it("breaks fields of every kind across what kubectl creates", () => {
    const kinds = new Map<string, number>();
    for (const o of Object.values(kubectlCreated.objects) as unknown as KubeObject[]) {
      const valid = { ...o, metadata: { ...o.metadata, uid: "u1" } } as KubeObject;
      for (const c of kubeCasesFor(ix, gvkOf(valid.apiVersion, valid.kind), valid))
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    }
    expect([...kinds.keys()].sort()).toEqual(["enum", "missing", "type"]);
    expect([...kinds.values()].reduce((a, b) => a + b)).toBeGreaterThan(100);
  });

  it("a Deployment's strategy of the wrong type is reported, not defaulted over", () => {
    const d = (kubectlCreated.objects as unknown as Record<string, KubeObject>)["dep-132"];
    const bad = { ...d, metadata: { ...d.metadata, uid: "u1" }, spec: { ...(d.spec as object), strategy: ["x"] } };
    const gvk = gvkOf(bad.apiVersion, bad.kind);
    const { causes } = validateObject(ix, gvk, defaultObject(ix, gvk, bad as KubeObject), {
      fieldValidation: "Strict",
    });
    expect(causes).toEqual([expect.objectContaining({ field: "spec.strategy", reason: "FieldValueTypeInvalid" })]);
  });
});
