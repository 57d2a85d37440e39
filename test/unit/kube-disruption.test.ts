import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { budgetStatus, EVICTION_DENIED, evictionDecision, scaled } from "../../src/kube/disruption.js";
import { evictPod } from "../../src/kube/eviction.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/types.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const NOW = Date.parse("2026-12-04T02:00:00Z");
const pod = (
  name: string,
  opts: { ready?: boolean; phase?: string; deleting?: boolean; app?: string } = {},
): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: "default",
    labels: { app: opts.app ?? "web" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "u", controller: true }],
    ...(opts.deleting ? { deletionTimestamp: "2026-12-04T01:59:00Z" } : {}),
  },
  spec: {},
  status: {
    phase: opts.phase ?? "Running",
    conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }],
  },
});
const pdb = (spec: Record<string, unknown>, status?: Record<string, unknown>, generation = 1): KubeObject => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: "web", namespace: "default", generation },
  spec: { selector: { matchLabels: { app: "web" } }, ...spec },
  ...(status ? { status } : {}),
});
const scale3 = () => 3;

describe("scaled", () => {
  it.each([
    [2, 10, 2],
    ["50%", 3, 2],
    ["10%", 10, 1],
    ["0%", 5, 0],
    ["3", 10, 3],
  ] as const)("%s of %d → %d", (v, total, want) => expect(scaled(v, total)).toBe(want));
});

describe("budgetStatus", () => {
  it.each([
    [{ minAvailable: 2 }, 3, { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 }],
    [{ minAvailable: 3 }, 3, { desiredHealthy: 3, disruptionsAllowed: 0 }],
    [{ maxUnavailable: 1 }, 3, { expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 }],
    [{ maxUnavailable: "50%" }, 3, { expectedPods: 3, desiredHealthy: 1, disruptionsAllowed: 2 }],
    [{ minAvailable: "50%" }, 3, { expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 }],
    [{ minAvailable: 1 }, 1, { currentHealthy: 1, disruptionsAllowed: 0 }],
  ])("%j with %d ready pods → %j", (spec, n, want) => {
    const pods = Array.from({ length: n }, (_, i) => pod(`p${i}`));
    expect(budgetStatus(pdb(spec), pods, scale3, NOW)).toMatchObject(want);
  });

  it("does not count unready, deleting, recently evicted or unselected pods as healthy", () => {
    const pods = [
      pod("a"),
      pod("b", { ready: false }),
      pod("c", { deleting: true }),
      pod("d"),
      pod("e", { app: "db" }),
    ];
    const st = budgetStatus(pdb({ minAvailable: 1 }), pods, scale3, NOW, {
      disruptedPods: { d: "2026-12-04T01:59:30Z" },
    });
    expect(st).toMatchObject({
      currentHealthy: 1,
      disruptionsAllowed: 0,
      disruptedPods: { d: "2026-12-04T01:59:30Z" },
    });
    expect(st.conditions?.[0]).toMatchObject({
      type: "DisruptionAllowed",
      status: "False",
      reason: "InsufficientPods",
    });
  });

  it("forgets evictions older than two minutes", () => {
    const st = budgetStatus(pdb({ minAvailable: 1 }), [pod("a"), pod("d")], scale3, NOW, {
      disruptedPods: { d: "2026-12-04T01:57:00Z" },
    });
    expect(st.disruptedPods).toBeUndefined();
    expect(st.disruptionsAllowed).toBe(1);
  });

  it("never allows more disruptions than healthy pods above the desired count", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 12 }), fc.nat(12), (ready, min) => {
        const pods = ready.map((r, i) => pod(`p${i}`, { ready: r }));
        const st = budgetStatus(pdb({ minAvailable: min }), pods, scale3, NOW);
        expect(st.disruptionsAllowed).toBe(Math.max(0, ready.filter(Boolean).length - min));
        expect(st.disruptionsAllowed).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe("evictionDecision", () => {
  const ok = { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 };
  const none = { ...ok, disruptionsAllowed: 0, currentHealthy: 2 };
  it.each([
    ["no budget", pod("a"), [], { allowed: true }],
    ["a budget with room", pod("a"), [pdb({ minAvailable: 2 }, ok)], { allowed: true, budget: "web" }],
    ["a pending pod", pod("a", { phase: "Pending" }), [pdb({ minAvailable: 2 }, none)], { allowed: true }],
    ["a finished pod", pod("a", { phase: "Succeeded" }), [pdb({ minAvailable: 2 }, none)], { allowed: true }],
    ["another app", pod("a", { app: "db" }), [pdb({ minAvailable: 2 }, none)], { allowed: true }],
    [
      "a budget without room",
      pod("a"),
      [pdb({ minAvailable: 2 }, none)],
      {
        allowed: false,
        code: 429,
        message: EVICTION_DENIED,
        cause: "The disruption budget web needs 2 healthy pods and has 2 currently",
      },
    ],
    [
      "a budget not yet processed",
      pod("a"),
      [pdb({ minAvailable: 2 }, ok, 2)],
      { allowed: false, code: 429, cause: "The disruption budget web is still being processed by the server." },
    ],
    [
      "an unready pod, budget healthy",
      pod("a", { ready: false }),
      [pdb({ minAvailable: 2 }, { ...none, currentHealthy: 2 })],
      { allowed: true },
    ],
    [
      "an unready pod, budget unhealthy",
      pod("a", { ready: false }),
      [pdb({ minAvailable: 2 }, { ...none, currentHealthy: 1 })],
      { allowed: false, code: 429 },
    ],
    [
      "an unready pod, AlwaysAllow",
      pod("a", { ready: false }),
      [pdb({ minAvailable: 2, unhealthyPodEvictionPolicy: "AlwaysAllow" }, { ...none, currentHealthy: 1 })],
      { allowed: true },
    ],
    [
      "two budgets",
      pod("a"),
      [pdb({}, ok), { ...pdb({}, ok), metadata: { name: "b", namespace: "default", generation: 1 } }],
      { allowed: false, code: 500 },
    ],
  ] as [string, KubeObject, KubeObject[], object][])("%s", (_, p, budgets, want) => {
    expect(evictionDecision(p, budgets)).toMatchObject(want);
  });

  it("a ready pod under a budget is allowed exactly when disruptionsAllowed > 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), (allowed) => {
        const d = evictionDecision(pod("a"), [pdb({ minAvailable: 1 }, { ...ok, disruptionsAllowed: allowed })]);
        expect(d.allowed).toBe(allowed > 0);
      }),
    );
  });
});

describe("evictPod on the ObjectStore", () => {
  it("counts an eviction against the budget, deletes the pod, and refuses the next with 429", () => {
    const db = openDb(":memory:");
    try {
      const objects = new ObjectStore(new DocumentStore(db));
      const cluster = { scope: { account: "000000000000", region: "us-east-1" }, name: "dev" };
      for (const n of ["a", "b"]) objects.create(cluster, R.pods, pod(n));
      const budget = objects.create(cluster, R.poddisruptionbudgets, pdb({ minAvailable: 1 }));
      objects.update(
        cluster,
        R.poddisruptionbudgets,
        { ...budget, status: budgetStatus(budget, objects.list(cluster, R.pods).items, scale3, NOW) },
        { subresource: "status" },
      );
      evictPod(objects, cluster, "default", "a", { now: new Date(NOW) });
      expect(objects.get(cluster, R.pods, "default", "a")).toBeUndefined();
      const st = objects.get(cluster, R.poddisruptionbudgets, "default", "web")?.status as Record<string, unknown>;
      expect(st).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { a: "2026-12-04T02:00:00Z" } });
      let refused: { code?: number; message?: string; details?: { causes?: { message?: string }[] } } = {};
      try {
        evictPod(objects, cluster, "default", "b", { now: new Date(NOW) });
      } catch (e) {
        refused = e as typeof refused;
      }
      expect(refused.code).toBe(429);
      expect(refused.message).toBe(EVICTION_DENIED);
      expect(refused.details?.causes?.[0]?.message).toBe(
        "The disruption budget web needs 1 healthy pods and has 2 currently",
      );
      expect(objects.get(cluster, R.pods, "default", "b")).toBeDefined();
    } finally {
      db.close();
    }
  });
});
