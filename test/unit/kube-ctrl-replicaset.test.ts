import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planReplicaSet, podFromTemplate, podsToDelete } from "../../src/controllers/kube/workloads/replicaset.js";
import type { KubeObject } from "../../src/kube/types.js";

const NOW = Date.parse("2026-01-01T00:10:00Z");
const rs = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web-abc", namespace: "default", uid: "rs-uid", generation: 2 },
  spec: {
    replicas,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web", tier: "fe" } }, spec: { containers: [{ name: "c", image: "i" }] } },
    ...extra,
  },
});

interface PodOpts {
  owner?: string | null;
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  ready?: string;
  created?: string;
  deleting?: boolean;
  restarts?: number;
}
function pod(name: string, o: PodOpts = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      labels: o.labels ?? { app: "web", tier: "fe" },
      creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:09:00Z" } : {}),
      ...(o.owner === null
        ? {}
        : {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "ReplicaSet", name: "x", uid: o.owner ?? "rs-uid", controller: true },
            ],
          }),
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? "Running",
      ...(o.ready ? { conditions: [{ type: "Ready", status: "True", lastTransitionTime: o.ready }] } : {}),
      containerStatuses: [{ name: "c", restartCount: o.restarts ?? 0 }],
    },
  };
}

describe("planReplicaSet", () => {
  it("creates the missing pods; the status counts them as they will be", () => {
    const plan = planReplicaSet(rs(3), [pod("a", { node: "n", ready: "2026-01-01T00:00:00Z" })], NOW);
    expect(plan.create).toBe(2);
    expect(plan.delete).toEqual([]);
    expect(plan.status).toEqual({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 2,
    });
  });

  it("ignores terminating and finished pods and other controllers' pods; adopts orphans; releases non-matching", () => {
    const plan = planReplicaSet(
      rs(2),
      [
        pod("done", { phase: "Succeeded" }),
        pod("failed", { phase: "Failed" }),
        pod("going", { deleting: true }),
        pod("other", { owner: "someone-else" }),
        pod("orphan", { owner: null }),
        pod("relabelled", { labels: { app: "db" } }),
        pod("mine"),
      ],
      NOW,
    );
    expect(plan.adopt).toEqual(["orphan"]);
    expect(plan.release).toEqual(["relabelled"]);
    expect(plan.create).toBe(0);
    expect(plan.delete).toEqual([]);
  });

  it("a ReplicaSet being deleted creates nothing", () => {
    const r = rs(3);
    r.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    expect(planReplicaSet(r, [], NOW).create).toBe(0);
  });

  it("minReadySeconds: ready but not yet available, looked at again when it will be", () => {
    const plan = planReplicaSet(
      rs(1, { minReadySeconds: 30 }),
      [pod("a", { node: "n", ready: "2026-01-01T00:09:50Z" })],
      NOW,
    );
    expect(plan.status?.readyReplicas).toBe(1);
    expect(plan.status?.availableReplicas).toBeUndefined();
    expect(plan.requeueAfterMs).toBe(20_000);
  });

  it("fullyLabeledReplicas counts only pods with every template label", () => {
    const plan = planReplicaSet(rs(2), [pod("a"), pod("b", { labels: { app: "web" } })], NOW);
    expect(plan.status?.fullyLabeledReplicas).toBe(1);
  });
});

describe("podsToDelete (kube's ActivePodsWithRanks)", () => {
  it.each([
    ["unscheduled before scheduled", [pod("s", { node: "n" }), pod("u")], "u"],
    ["pending before running", [pod("r", { node: "n" }), pod("p", { node: "n", phase: "Pending" })], "p"],
    [
      "not ready before ready",
      [pod("r", { node: "n", ready: "2026-01-01T00:00:00Z" }), pod("nr", { node: "n" })],
      "nr",
    ],
    [
      "more siblings on the node first",
      [
        pod("alone", { node: "a" }),
        pod("crowd1", { node: "b" }),
        pod("crowd2", { node: "b", created: "2025-01-01T00:00:00Z" }),
      ],
      "crowd1",
    ],
    [
      "ready for less time first",
      [
        pod("old", { node: "a", ready: "2026-01-01T00:00:00Z" }),
        pod("fresh", { node: "b", ready: "2026-01-01T00:05:00Z" }),
      ],
      "fresh",
    ],
    ["more restarts first", [pod("calm", { node: "a" }), pod("flappy", { node: "b", restarts: 4 })], "flappy"],
    [
      "newer first",
      [
        pod("older", { node: "a", created: "2026-01-01T00:00:00Z" }),
        pod("newer", { node: "b", created: "2026-01-01T00:01:00Z" }),
      ],
      "newer",
    ],
  ])("%s", (_what, pods, first) => {
    expect(podsToDelete(pods, 1)).toEqual([first]);
  });

  it("deletes exactly n distinct pods of the given ones", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            node: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
            phase: fc.constantFrom("Pending", "Running", "Unknown"),
            ready: fc.boolean(),
            restarts: fc.nat(5),
          }),
          { maxLength: 12 },
        ),
        fc.nat(12),
        (specs, n) => {
          const pods = specs.map((s, i) =>
            pod(`p${i}`, {
              node: s.node,
              phase: s.phase,
              restarts: s.restarts,
              ready: s.ready ? "2026-01-01T00:00:00Z" : undefined,
            }),
          );
          const out = podsToDelete(pods, n);
          expect(out.length).toBe(Math.min(n, pods.length));
          expect(new Set(out).size).toBe(out.length);
          // a ready pod is never chosen while a not-ready one of the same scheduling and phase is spared
          const readyChosen = out.some((name) => specs[Number(name.slice(1))]?.ready);
          const unreadySpared = pods.some((p, i) => !out.includes(p.metadata.name as string) && !specs[i]?.ready);
          if (readyChosen && unreadySpared) {
            const key = (i: number) => `${specs[i]?.node ? 1 : 0}${specs[i]?.phase}`;
            for (const name of out) {
              const i = Number(name.slice(1));
              if (!specs[i]?.ready) continue;
              for (let j = 0; j < specs.length; j++)
                if (!out.includes(`p${j}`) && !specs[j]?.ready) expect(key(j)).not.toBe(key(i));
            }
          }
        },
      ),
    );
  });
});

describe("podFromTemplate", () => {
  it("copies labels, annotations and spec, sets generateName and a blocking controller reference", () => {
    const p = podFromTemplate(
      { metadata: { labels: { app: "web" }, annotations: { a: "b" } }, spec: { containers: [] } },
      rs(1),
    );
    expect(p.metadata).toEqual({
      generateName: "web-abc-",
      namespace: "default",
      labels: { app: "web" },
      annotations: { a: "b" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web-abc",
          uid: "rs-uid",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(p.spec).toEqual({ containers: [] });
  });
});
