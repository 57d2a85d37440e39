import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admitFargatePod } from "../../src/controllers/kube/fargate/admission.js";
import {
  chooseProfile,
  type FargateProfileView,
  selectorMatches,
  wildcardMatch,
} from "../../src/controllers/kube/fargate/profiles.js";
import { checkSelectors } from "../../src/services/eks/fargate-validate.js";

const profile = (
  name: string,
  selectors: FargateProfileView["selectors"],
  status: FargateProfileView["status"] = "ACTIVE",
) => ({ name, status, selectors, zones: [] }) as FargateProfileView;

describe("Fargate profile selectors", () => {
  it.each([
    ["prod", "prod", true],
    ["prod", "prod-1", false],
    ["prod*", "prod", true],
    ["prod*", "prod-eu-1", true],
    ["*-eu", "prod-eu", true],
    ["*-eu", "prod-us", false],
    ["prod-?", "prod-1", true],
    ["prod-?", "prod-12", false],
    ["?", "", false],
    ["*", "", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
  ])("wildcard %j against %j → %s", (pattern, value, want) => {
    expect(wildcardMatch(pattern, value)).toBe(want);
  });

  it("property: a pattern without wildcards matches only itself; `*` matches anything", () => {
    const plain = fc.stringMatching(/^[a-z0-9-]{0,12}$/);
    fc.assert(
      fc.property(plain, plain, (a, b) => wildcardMatch(a, b) === (a === b) && wildcardMatch("*", b)),
      { numRuns: 500 },
    );
  });

  it.each([
    [{ namespace: "game" }, "game", {}, true],
    [{ namespace: "game" }, "other", {}, false],
    [{ namespace: "game", labels: { app: "web" } }, "game", { app: "web", tier: "x" }, true],
    [{ namespace: "game", labels: { app: "web" } }, "game", { app: "api" }, false],
    [{ namespace: "game", labels: { app: "web", tier: "front" } }, "game", { app: "web" }, false],
    [{ namespace: "game", labels: { "app*": "w?b" } }, "game", { application: "web" }, true],
    [{ namespace: "g*", labels: { app: "*" } }, "games", { app: "" }, true],
  ])("selector %j, pod in %s with %j → %s", (sel, ns, labels, want) => {
    expect(selectorMatches(sel, ns, labels)).toBe(want);
  });

  it("a pod matching several profiles goes to the first by name, or the one its label names", () => {
    const ps = [
      profile("zeta", [{ namespace: "default" }]),
      profile("alpha", [{ namespace: "default", labels: { app: "web" } }]),
      profile("beta", [{ namespace: "default" }]),
      profile("aaa-creating", [{ namespace: "default" }], "CREATING"),
      profile("aab-deleting", [{ namespace: "default" }], "DELETING"),
    ];
    expect(chooseProfile(ps, "default", { app: "web" })?.name).toBe("alpha");
    expect(chooseProfile(ps, "default", {})?.name).toBe("beta");
    expect(chooseProfile(ps, "default", { "eks.amazonaws.com/fargate-profile": "zeta" })?.name).toBe("zeta");
    // The named profile must match the pod too; a profile not ACTIVE places nothing.
    expect(chooseProfile(ps, "default", { "eks.amazonaws.com/fargate-profile": "alpha" })).toBeUndefined();
    expect(chooseProfile(ps, "default", { "eks.amazonaws.com/fargate-profile": "aaa-creating" })).toBeUndefined();
    expect(chooseProfile(ps, "kube-system", {})).toBeUndefined();
  });

  it.each([
    [undefined, /at least one selector/],
    [[], /at least one selector/],
    [Array.from({ length: 6 }, () => ({ namespace: "a" })), /at most 5 selectors/],
    [[{ labels: { a: "b" } }], /no namespace/],
    [[{ namespace: "" }], /no namespace/],
    [[{ namespace: "Bad_NS" }], /namespace "Bad_NS" of selector 1 is invalid/],
    [
      [{ namespace: "a", labels: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, "v"])) }],
      /at most 5/,
    ],
    [[{ namespace: "a", labels: { "-bad": "v" } }], /label key "-bad" is invalid/],
    [[{ namespace: "a", labels: { ok: "bad value" } }], /value "bad value" of label "ok" is invalid/],
  ])("selectors %j are refused (%s)", (selectors, message) => {
    expect(checkSelectors(selectors as never)).toMatch(message);
  });

  it.each([
    [[{ namespace: "default" }]],
    [[{ namespace: "prod-*", labels: { "app.kubernetes.io/name": "web", tier: "" } }]],
    [[{ namespace: "a" }, { namespace: "b" }, { namespace: "c" }, { namespace: "d" }, { namespace: "e?" }]],
  ])("selectors %j are accepted", (selectors) => {
    expect(checkSelectors(selectors)).toBeUndefined();
  });
});

describe("Fargate admission", () => {
  const profiles = [profile("fp-game", [{ namespace: "game" }])];
  const pod = (extra: { spec?: object; metadata?: object } = {}) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "game", labels: { app: "web" }, ...(extra.metadata ?? {}) },
    spec: { containers: [{ name: "c", image: "i" }], ...(extra.spec ?? {}) },
  });

  it("hands a matching pod to fargate-scheduler with the profile's label and annotation", () => {
    const out = admitFargatePod(pod(), profiles);
    expect(out.spec).toMatchObject({ schedulerName: "fargate-scheduler" });
    expect(out.metadata.labels).toEqual({ app: "web", "eks.amazonaws.com/fargate-profile": "fp-game" });
    expect(out.metadata.annotations).toMatchObject({ "eks.amazonaws.com/fargate-profile": "fp-game" });
  });

  it.each([
    ["another namespace", { metadata: { namespace: "other" } }],
    ["a node of its own", { spec: { nodeName: "n1" } }],
    ["a scheduler of its own", { spec: { schedulerName: "my-scheduler" } }],
    ["compute-type ec2", { metadata: { annotations: { "eks.amazonaws.com/compute-type": "ec2" } } }],
    [
      "a DaemonSet's pod",
      {
        metadata: {
          ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "d", uid: "u", controller: true }],
        },
      },
    ],
  ])("leaves a pod with %s alone", (_what, extra) => {
    const p = pod(extra);
    expect(admitFargatePod(p, profiles)).toBe(p);
  });

  it("takes the default scheduler name as asking for none", () => {
    expect(admitFargatePod(pod({ spec: { schedulerName: "default-scheduler" } }), profiles).spec).toMatchObject({
      schedulerName: "fargate-scheduler",
    });
  });
});
