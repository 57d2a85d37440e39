import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { controllerRefOf } from "../../src/controllers/kube/common.js";
import {
  type DeploymentPlan,
  fenceposts,
  maxUnavailable,
  planDeployment,
  REVISION,
  REVISION_HISTORY,
} from "../../src/controllers/kube/workloads/deployment.js";
import { planReplicaSet, podFromTemplate } from "../../src/controllers/kube/workloads/replicaset.js";
import type { KubeObject } from "../../src/kube/types.js";

const NOW = Date.parse("2026-01-01T00:10:00Z");
let uidSeq = 0;
const uid = () => `uid-${++uidSeq}`;

const template = (image: string) => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "web", image }] },
});

function deployment(over: Partial<Record<string, unknown>> = {}, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: "d-uid", generation: 1, ...over },
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: template("web:1"), ...spec },
  };
}

/** Applies a plan's ReplicaSet changes to a list, as the applier would. */
function applyToReplicaSets(rss: KubeObject[], plan: DeploymentPlan): KubeObject[] {
  let out = rss.map((rs) => {
    const ch = plan.update.find((c) => c.name === rs.metadata.name);
    if (!ch) return rs;
    const next = structuredClone(rs);
    const spec = next.spec as Record<string, unknown>;
    if (ch.replicas !== undefined && ch.replicas !== spec.replicas) {
      spec.replicas = ch.replicas;
      next.metadata.generation = (next.metadata.generation ?? 1) + 1;
    }
    if (ch.annotations) next.metadata.annotations = { ...next.metadata.annotations, ...ch.annotations };
    return next;
  });
  if (plan.create)
    out.push({
      ...structuredClone(plan.create),
      metadata: {
        ...structuredClone(plan.create.metadata),
        uid: uid(),
        generation: 1,
        creationTimestamp: new Date(NOW + out.length * 1000).toISOString(),
      },
      status: { replicas: 0 },
    });
  out = out.filter((rs) => !plan.delete.includes(rs.metadata.name ?? ""));
  return out;
}

/** A ReplicaSet as the Deployment controller made it, with `available` ready pods. */
function replicaSetOf(d: KubeObject, replicas: number, available: number, created: string): KubeObject {
  const plan = planDeployment({ deployment: d, replicaSets: [], pods: [], nowMs: NOW });
  const rs = structuredClone(plan.create as KubeObject);
  rs.metadata.uid = uid();
  rs.metadata.generation = 1;
  rs.metadata.creationTimestamp = created;
  (rs.spec as Record<string, unknown>).replicas = replicas;
  rs.metadata.annotations = {
    ...rs.metadata.annotations,
    "deployment.kubernetes.io/desired-replicas": String((d.spec as { replicas: number }).replicas),
  };
  rs.status = {
    replicas,
    readyReplicas: available,
    availableReplicas: available,
    observedGeneration: 1,
  };
  return rs;
}

describe("deployment fenceposts (kube's ResolveFenceposts)", () => {
  it.each([
    // replicas, maxSurge, maxUnavailable → surge, unavailable
    [3, undefined, undefined, 1, 0],
    [4, undefined, undefined, 1, 1],
    [10, "25%", "25%", 3, 2],
    [10, 0, 0, 0, 1],
    [10, "0%", "0%", 0, 1],
    [5, 2, "50%", 2, 2],
    [1, "100%", 0, 1, 0],
    [3, "0%", "100%", 0, 3],
  ])("replicas %s surge %s unavailable %s → %s / %s", (replicas, surge, unavailable, es, eu) => {
    const d = deployment(
      {},
      {
        replicas,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
      },
    );
    expect(fenceposts(d)).toEqual({ surge: es, unavailable: eu });
  });

  it("Recreate has no unavailability budget", () => {
    expect(maxUnavailable(deployment({}, { strategy: { type: "Recreate" } }))).toBe(0);
  });
});

describe("planDeployment", () => {
  it("a new Deployment gets a ReplicaSet named by its template hash, revision 1, scaled to replicas", () => {
    const plan = planDeployment({ deployment: deployment(), replicaSets: [], pods: [], nowMs: NOW });
    const rs = plan.create as KubeObject;
    const hash = rs.metadata.labels?.["pod-template-hash"] as string;
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.annotations).toMatchObject({
      [REVISION]: "1",
      "deployment.kubernetes.io/desired-replicas": "3",
      "deployment.kubernetes.io/max-replicas": "4",
    });
    expect(rs.spec).toMatchObject({
      replicas: 3,
      selector: { matchLabels: { app: "web", "pod-template-hash": hash } },
      template: { metadata: { labels: { app: "web", "pod-template-hash": hash } } },
    });
    expect(controllerRefOf(rs)).toMatchObject({
      kind: "Deployment",
      name: "web",
      uid: "d-uid",
      blockOwnerDeletion: true,
    });
    expect(plan.annotations?.[REVISION]).toBe("1");
    expect(plan.events).toEqual([
      { type: "Normal", reason: "ScalingReplicaSet", message: `Scaled up replica set web-${hash} to 3` },
    ]);
    const conds = plan.status?.conditions ?? [];
    expect(conds.find((c) => c.type === "Available")).toMatchObject({
      status: "False",
      reason: "MinimumReplicasUnavailable",
    });
    expect(conds.find((c) => c.type === "Progressing")).toMatchObject({
      status: "True",
      reason: "NewReplicaSetCreated",
      message: `Created new replica set "web-${hash}"`,
    });
    expect(plan.status?.observedGeneration).toBe(1);
  });

  it("the hash is stable and follows the template", () => {
    const a = planDeployment({ deployment: deployment(), replicaSets: [], pods: [], nowMs: NOW }).create;
    const b = planDeployment({ deployment: deployment(), replicaSets: [], pods: [], nowMs: NOW + 5 }).create;
    const c = planDeployment({
      deployment: deployment({}, { template: template("web:2") }),
      replicaSets: [],
      pods: [],
      nowMs: NOW,
    }).create;
    expect(a?.metadata.name).toBe(b?.metadata.name);
    expect(c?.metadata.name).not.toBe(a?.metadata.name);
  });

  it("a complete rollout reports NewReplicaSetAvailable and changes nothing", () => {
    const d = deployment();
    const rs = replicaSetOf(d, 3, 3, "2026-01-01T00:00:00Z");
    const plan = planDeployment({ deployment: d, replicaSets: [rs], pods: [], nowMs: NOW });
    expect(plan.create).toBeUndefined();
    expect(plan.update).toEqual([]);
    expect(plan.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(plan.status?.unavailableReplicas).toBeUndefined();
    const progressing = plan.status?.conditions?.find((c) => c.type === "Progressing");
    expect(progressing).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
    expect(progressing?.message).toBe(`ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
    // Applied, the next pass is a no-op.
    const again = planDeployment({
      deployment: { ...d, status: plan.status, metadata: { ...d.metadata, annotations: plan.annotations } },
      replicaSets: [rs],
      pods: [],
      nowMs: NOW + 1000,
    });
    expect(again.status).toBeUndefined();
    expect(again.annotations).toBeUndefined();
    expect(again.update).toEqual([]);
  });

  it("a new template surges one new pod, then scales the old ReplicaSet down as the new one becomes available", () => {
    const v1 = deployment();
    const old = replicaSetOf(v1, 3, 3, "2026-01-01T00:00:00Z");
    const v2 = deployment({ generation: 2, annotations: { [REVISION]: "1" } }, { template: template("web:2") });
    const p1 = planDeployment({ deployment: v2, replicaSets: [old], pods: [], nowMs: NOW });
    expect(p1.create?.spec).toMatchObject({ replicas: 1 });
    expect(p1.create?.metadata.annotations?.[REVISION]).toBe("2");
    expect(p1.annotations?.[REVISION]).toBe("2");
    expect(p1.update).toEqual([]); // maxUnavailable 0: nothing old goes before a new pod is available
    let rss = applyToReplicaSets([old], p1);
    const created = rss[1] as KubeObject;
    created.status = { replicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 };
    const p2 = planDeployment({ deployment: v2, replicaSets: rss, pods: [], nowMs: NOW });
    expect(p2.update).toEqual([expect.objectContaining({ name: old.metadata.name, replicas: 2 })]);
    expect(p2.events[0]?.message).toBe(`Scaled down replica set ${old.metadata.name} to 2`);
    rss = applyToReplicaSets(rss, p2);
    expect(p2.status?.conditions?.find((c) => c.type === "Progressing")?.reason).toBe("ReplicaSetUpdated");
  });

  it("Recreate scales every old ReplicaSet to zero and creates the new one only when their pods are gone", () => {
    const strategy = { type: "Recreate" };
    const v1 = deployment({}, { strategy });
    const old = replicaSetOf(v1, 3, 3, "2026-01-01T00:00:00Z");
    const v2 = deployment({ generation: 2 }, { strategy, template: template("web:2") });
    const p1 = planDeployment({ deployment: v2, replicaSets: [old], pods: [], nowMs: NOW });
    expect(p1.create).toBeUndefined();
    expect(p1.update).toEqual([expect.objectContaining({ replicas: 0 })]);
    const scaled = {
      ...old,
      spec: { ...(old.spec as object), replicas: 0 },
      status: { replicas: 0, observedGeneration: 2 },
    };
    scaled.metadata = { ...old.metadata, generation: 2 };
    const pod = podFromTemplate((old.spec as { template: never }).template, old);
    pod.metadata.name = "web-old-1";
    pod.metadata.deletionTimestamp = "2026-01-01T00:09:00Z";
    pod.status = { phase: "Running" };
    const p2 = planDeployment({ deployment: v2, replicaSets: [scaled], pods: [pod], nowMs: NOW });
    expect(p2.create).toBeUndefined(); // a terminating old pod still runs
    const p3 = planDeployment({ deployment: v2, replicaSets: [scaled], pods: [], nowMs: NOW });
    expect(p3.create?.spec).toMatchObject({ replicas: 3 });
  });

  it("a replicas change scales the only active ReplicaSet (a scaling event, not a rollout)", () => {
    const d = deployment({ generation: 2 }, { replicas: 6 });
    const rs = replicaSetOf(deployment(), 3, 3, "2026-01-01T00:00:00Z");
    const plan = planDeployment({ deployment: d, replicaSets: [rs], pods: [], nowMs: NOW });
    expect(plan.update).toEqual([
      expect.objectContaining({
        replicas: 6,
        annotations: expect.objectContaining({
          "deployment.kubernetes.io/desired-replicas": "6",
          "deployment.kubernetes.io/max-replicas": "8",
        }),
      }),
    ]);
    expect(plan.events[0]?.message).toMatch(/^Scaled up replica set web-\w+ to 6$/);
  });

  it("scaling mid-rollout shares the new replicas in proportion (kube's proportional scaling)", () => {
    const v1 = deployment();
    const old = replicaSetOf(v1, 2, 2, "2026-01-01T00:00:00Z");
    const v2 = deployment({}, { template: template("web:2") });
    const cur = replicaSetOf(v2, 2, 0, "2026-01-01T00:01:00Z");
    for (const rs of [old, cur])
      rs.metadata.annotations = {
        ...rs.metadata.annotations,
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
      };
    old.metadata.annotations = { ...old.metadata.annotations, [REVISION]: "1" };
    cur.metadata.annotations = { ...cur.metadata.annotations, [REVISION]: "2" };
    const scaled = deployment({ generation: 3 }, { template: template("web:2"), replicas: 6 });
    const plan = planDeployment({ deployment: scaled, replicaSets: [old, cur], pods: [], nowMs: NOW });
    const sizes = Object.fromEntries(plan.update.map((u) => [u.name, u.replicas]));
    expect(sizes).toEqual({ [old.metadata.name as string]: 4, [cur.metadata.name as string]: 4 });
  });

  it("keeps revisionHistoryLimit old ReplicaSets, deleting the oldest revisions that run nothing", () => {
    const d = deployment({}, { revisionHistoryLimit: 1, template: template("web:4") });
    const rss = [1, 2, 3].map((rev) => {
      const rs = replicaSetOf(deployment({}, { template: template(`web:${rev}`) }), 0, 0, `2026-01-01T00:0${rev}:00Z`);
      rs.metadata.annotations = { ...rs.metadata.annotations, [REVISION]: String(rev) };
      return rs;
    });
    const cur = replicaSetOf(d, 3, 3, "2026-01-01T00:05:00Z");
    cur.metadata.annotations = { ...cur.metadata.annotations, [REVISION]: "4" };
    const plan = planDeployment({ deployment: d, replicaSets: [...rss, cur], pods: [], nowMs: NOW });
    expect(plan.delete).toEqual([rss[0]?.metadata.name, rss[1]?.metadata.name]);
  });

  it("a paused Deployment rolls nothing out and says so", () => {
    const v1 = deployment();
    const old = replicaSetOf(v1, 3, 3, "2026-01-01T00:00:00Z");
    const v2 = deployment({ generation: 2 }, { template: template("web:2"), paused: true });
    const plan = planDeployment({ deployment: v2, replicaSets: [old], pods: [], nowMs: NOW });
    expect(plan.create).toBeUndefined();
    expect(plan.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({
      status: "Unknown",
      reason: "DeploymentPaused",
      message: "Deployment is paused",
    });
  });

  it("no progress for progressDeadlineSeconds → ProgressDeadlineExceeded", () => {
    const v1 = deployment();
    const old = replicaSetOf(v1, 3, 3, "2026-01-01T00:00:00Z");
    const v2 = deployment({ generation: 2 }, { template: template("web:2"), progressDeadlineSeconds: 60 });
    const cur = replicaSetOf(v2, 1, 0, "2026-01-01T00:01:00Z");
    const stuck = structuredClone(v2);
    const t = "2026-01-01T00:05:00Z";
    stuck.status = {
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 1,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 1,
      conditions: [
        { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", lastUpdateTime: t, lastTransitionTime: t },
      ],
    };
    const early = planDeployment({
      deployment: stuck,
      replicaSets: [old, cur],
      pods: [],
      nowMs: Date.parse(t) + 30_000,
    });
    expect(early.requeueAfterMs).toBeGreaterThan(29_000);
    const late = planDeployment({
      deployment: stuck,
      replicaSets: [old, cur],
      pods: [],
      nowMs: Date.parse(t) + 61_000,
    });
    expect(late.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "${cur.metadata.name}" has timed out progressing.`,
    });
  });

  it("rollout undo: the template of an old ReplicaSet makes it the new one with the next revision and a history", () => {
    const v1 = deployment();
    const r1 = replicaSetOf(v1, 0, 0, "2026-01-01T00:00:00Z");
    r1.metadata.annotations = { ...r1.metadata.annotations, [REVISION]: "1" };
    const v2 = deployment({}, { template: template("web:2") });
    const r2 = replicaSetOf(v2, 3, 3, "2026-01-01T00:01:00Z");
    r2.metadata.annotations = { ...r2.metadata.annotations, [REVISION]: "2" };
    // kubectl rollout undo patches the Deployment's template back to r1's (without pod-template-hash)
    const undone = deployment({ generation: 3, annotations: { [REVISION]: "2" } });
    const plan = planDeployment({ deployment: undone, replicaSets: [r1, r2], pods: [], nowMs: NOW });
    expect(plan.create).toBeUndefined();
    const r1Change = plan.update.find((u) => u.name === r1.metadata.name);
    expect(r1Change?.annotations).toMatchObject({ [REVISION]: "3", [REVISION_HISTORY]: "1" });
    expect(plan.annotations?.[REVISION]).toBe("3");
  });

  it("rollout undo with a template as kubectl reads it back (creationTimestamp: null, empty maps) still finds the old ReplicaSet", () => {
    const r1 = replicaSetOf(deployment(), 0, 0, "2026-01-01T00:00:00Z");
    r1.metadata.annotations = { ...r1.metadata.annotations, [REVISION]: "1" };
    const r2 = replicaSetOf(deployment({}, { template: template("web:2") }), 3, 3, "2026-01-01T00:01:00Z");
    r2.metadata.annotations = { ...r2.metadata.annotations, [REVISION]: "2" };
    const back = {
      metadata: { creationTimestamp: null, labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "web:1", resources: {} }] },
    };
    const plan = planDeployment({
      deployment: deployment({ generation: 3 }, { template: back }),
      replicaSets: [r1, r2],
      pods: [],
      nowMs: NOW,
    });
    expect(plan.create).toBeUndefined();
    expect(plan.update.find((u) => u.name === r1.metadata.name)?.annotations?.[REVISION]).toBe("3");
  });

  it("a selector-less Deployment is refused with a SelectingAll warning", () => {
    const d = deployment({}, { selector: {} });
    const plan = planDeployment({ deployment: d, replicaSets: [], pods: [], nowMs: NOW });
    expect(plan.create).toBeUndefined();
    expect(plan.events[0]?.reason).toBe("SelectingAll");
  });

  it("adopts an orphan ReplicaSet that matches its selector", () => {
    const d = deployment();
    const rs = replicaSetOf(d, 3, 3, "2026-01-01T00:00:00Z");
    rs.metadata.ownerReferences = undefined;
    const plan = planDeployment({ deployment: d, replicaSets: [rs], pods: [], nowMs: NOW });
    expect(plan.update).toEqual([expect.objectContaining({ name: rs.metadata.name, adopt: true })]);
    expect(plan.create).toBeUndefined();
  });
});

/**
 * A small cluster in memory: the Deployment and ReplicaSet planners, a "kubelet" that makes pods
 * ready and removes terminating ones, run in any order.
 */
describe("rolling update invariants (fast-check)", () => {
  type Step =
    | { kind: "deploy" }
    | { kind: "rs"; i: number }
    | { kind: "ready"; i: number }
    | { kind: "gone"; i: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.constant({ kind: "deploy" } as Step),
    fc.nat(5).map((i) => ({ kind: "rs", i }) as Step),
    fc.nat(20).map((i) => ({ kind: "ready", i }) as Step),
    fc.nat(20).map((i) => ({ kind: "gone", i }) as Step),
  );

  it("never more than replicas+maxSurge pods wanted, never fewer than replicas−maxUnavailable available; converges", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom("0%", "25%", "50%", "100%")),
        fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom("0%", "25%", "50%")),
        fc.array(step, { maxLength: 120 }),
        (replicas, maxSurge, maxUnav, steps) => {
          const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable: maxUnav } };
          let nameSeq = 0;
          // Start from a finished rollout of v1.
          let d = deployment({}, { replicas, strategy });
          let rss: KubeObject[] = [];
          let pods: KubeObject[] = [];
          const runDeploy = () => {
            const plan = planDeployment({ deployment: d, replicaSets: rss, pods, nowMs: NOW });
            rss = applyToReplicaSets(rss, plan);
            if (plan.status) d = { ...d, status: plan.status };
            if (plan.annotations) d = { ...d, metadata: { ...d.metadata, annotations: plan.annotations } };
          };
          const runRs = (rs: KubeObject) => {
            const plan = planReplicaSet(rs, pods, NOW);
            for (let k = 0; k < plan.create; k++) {
              const p = podFromTemplate((rs.spec as { template: never }).template, rs);
              p.metadata.name = `p${++nameSeq}`;
              p.metadata.uid = uid();
              p.metadata.creationTimestamp = new Date(NOW + nameSeq).toISOString();
              p.spec = { ...(p.spec as object), nodeName: "n1" };
              p.status = { phase: "Pending" };
              pods.push(p);
            }
            for (const n of plan.delete) {
              const p = pods.find((x) => x.metadata.name === n);
              if (p) p.metadata.deletionTimestamp = new Date(NOW).toISOString();
            }
            if (plan.status) rss = rss.map((x) => (x === rs ? { ...x, status: plan.status } : x));
          };
          const makeReady = (p: KubeObject) => {
            p.status = {
              phase: "Running",
              conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date(NOW).toISOString() }],
            };
          };
          const settle = () => {
            for (let round = 0; round < 60; round++) {
              const before = JSON.stringify([d, rss, pods]);
              runDeploy();
              for (const rs of [...rss]) runRs(rs);
              for (const p of pods) if (!p.metadata.deletionTimestamp) makeReady(p);
              pods = pods.filter((p) => !p.metadata.deletionTimestamp);
              for (const rs of [...rss]) runRs(rs);
              if (JSON.stringify([d, rss, pods]) === before) return;
            }
            throw new Error("did not settle");
          };
          settle();
          const n = replicas;
          const { surge, unavailable } = fenceposts(d);
          const minAvailable = n - Math.min(unavailable, n);
          // Now roll out v2 with the random interleaving.
          d = {
            ...d,
            metadata: { ...d.metadata, generation: 2 },
            spec: { ...(d.spec as object), template: template("web:2") },
          };
          const available = () =>
            pods.filter(
              (p) => !p.metadata.deletionTimestamp && p.status && (p.status as { phase: string }).phase === "Running",
            ).length;
          const wanted = () => rss.reduce((s, rs) => s + ((rs.spec as { replicas: number }).replicas ?? 0), 0);
          for (const s of steps) {
            if (s.kind === "deploy") runDeploy();
            else if (s.kind === "rs") {
              const rs = rss[s.i % Math.max(1, rss.length)];
              if (rs) runRs(rs);
            } else if (s.kind === "ready") {
              const pending = pods.filter(
                (p) => !p.metadata.deletionTimestamp && (p.status as { phase: string }).phase === "Pending",
              );
              const p = pending[s.i % Math.max(1, pending.length)];
              if (p) makeReady(p);
            } else {
              const going = pods.filter((p) => p.metadata.deletionTimestamp);
              const p = going[s.i % Math.max(1, going.length)];
              if (p) pods = pods.filter((x) => x !== p);
            }
            expect(wanted()).toBeLessThanOrEqual(n + surge);
            expect(available()).toBeGreaterThanOrEqual(minAvailable);
          }
          settle();
          expect(pods.filter((p) => !p.metadata.deletionTimestamp).length).toBe(n);
          const status = d.status as { updatedReplicas?: number; availableReplicas?: number; replicas?: number };
          expect(status.updatedReplicas).toBe(n);
          expect(status.availableReplicas).toBe(n);
          expect(status.replicas).toBe(n);
          expect(
            (d.status as { conditions: { type: string; reason: string }[] }).conditions.find(
              (c) => c.type === "Progressing",
            )?.reason,
          ).toBe("NewReplicaSetAvailable");
          expect(d.metadata.annotations?.[REVISION]).toBe("2");
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);
});
