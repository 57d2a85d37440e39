import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  daemonTolerations,
  nodeMatches,
  pinToNode,
  planDaemonSet,
  shouldRunOn,
  targetNode,
  tolerates,
} from "../../src/controllers/kube/workloads/daemonset.js";
import { formatIndexes, generatedSelector, planJob } from "../../src/controllers/kube/workloads/job.js";
import { planRevision, templateOfRevision } from "../../src/controllers/kube/workloads/revisions.js";
import { ordinalOf, planStatefulSet } from "../../src/controllers/kube/workloads/statefulset.js";
import type { KubeObject } from "../../src/kube/types.js";

const NOW = Date.parse("2026-01-01T00:10:00Z");
const T0 = "2026-01-01T00:00:00Z";
const template = (image: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { app: "db" } },
  spec: { containers: [{ name: "c", image }], ...extra },
});

const sts = (extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "db", namespace: "default", uid: "sts-uid", generation: 1, ...meta },
  spec: {
    replicas: 3,
    serviceName: "db",
    selector: { matchLabels: { app: "db" } },
    template: template("db:1"),
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
    ...extra,
  },
});

/** Turns a plan's created pods into stored ones (uid, status). */
const stored = (p: KubeObject, ready: boolean, phase = "Running"): KubeObject => ({
  ...p,
  metadata: { ...p.metadata, uid: `uid-${p.metadata.name ?? Math.random()}`, creationTimestamp: T0 },
  status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: T0 }] },
});

describe("StatefulSet", () => {
  it("ordinals", () => {
    expect(ordinalOf("db", "db-0")).toBe(0);
    expect(ordinalOf("db", "db-12")).toBe(12);
    expect(ordinalOf("db", "db-01")).toBe(-1);
    expect(ordinalOf("db", "dbx-1")).toBe(-1);
    expect(ordinalOf("db", "db-x")).toBe(-1);
  });

  it("OrderedReady: db-0 first with identity; db-1 only once db-0 is Running and Ready", () => {
    const set = sts();
    const p1 = planStatefulSet(set, [], [], NOW);
    expect(p1.createRevision?.kind).toBe("ControllerRevision");
    const rev = p1.createRevision?.metadata.name as string;
    expect(p1.create.map((p) => p.metadata.name)).toEqual(["db-0"]);
    const pod0 = p1.create[0] as KubeObject;
    expect(pod0.metadata.labels).toMatchObject({
      app: "db",
      "statefulset.kubernetes.io/pod-name": "db-0",
      "controller-revision-hash": rev,
    });
    expect(pod0.spec).toMatchObject({ hostname: "db-0", subdomain: "db" });
    expect(pod0.metadata.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", controller: true });
    const revs = [{ ...(p1.createRevision as KubeObject), metadata: { ...p1.createRevision?.metadata, uid: "r1" } }];
    expect(planStatefulSet(set, [stored(pod0, false)], revs, NOW).create).toEqual([]);
    expect(planStatefulSet(set, [stored(pod0, true)], revs, NOW).create.map((p) => p.metadata.name)).toEqual(["db-1"]);
  });

  it("volumeClaimTemplates: a claim <template>-<pod> made with the pod, which mounts it; an existing one is reused", () => {
    const set = sts({
      podManagementPolicy: "Parallel",
      replicas: 2,
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    });
    const existing: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-db-0", namespace: "default" },
    };
    const plan = planStatefulSet(set, [], [], NOW, [existing]);
    expect(plan.createClaims.map((c) => [c.claim.metadata.name, c.pod])).toEqual([["data-db-1", "db-1"]]);
    expect(plan.createClaims[0]?.claim.metadata.labels).toEqual({ app: "db" });
    expect(plan.createClaims[0]?.claim.spec).toMatchObject({ accessModes: ["ReadWriteOnce"] });
    expect((plan.create[1]?.spec as { volumes: unknown[] } | undefined)?.volumes).toEqual([
      { name: "data", persistentVolumeClaim: { claimName: "data-db-1" } },
    ]);
  });

  it("Parallel creates every missing pod at once", () => {
    const plan = planStatefulSet(sts({ podManagementPolicy: "Parallel" }), [], [], NOW);
    expect(plan.create.map((p) => p.metadata.name)).toEqual(["db-0", "db-1", "db-2"]);
  });

  it("scales down from the highest ordinal, one at a time when ordered", () => {
    const set = sts({ replicas: 1 });
    const rev = planStatefulSet(set, [], [], NOW).createRevision as KubeObject;
    const pods = [0, 1, 2].map((i) =>
      stored(
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: `db-${i}`,
            namespace: "default",
            labels: { app: "db", "controller-revision-hash": rev.metadata.name as string },
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true },
            ],
          },
        },
        true,
      ),
    );
    expect(planStatefulSet(set, pods, [rev], NOW).delete).toEqual(["db-2"]);
    expect(planStatefulSet(sts({ replicas: 1, podManagementPolicy: "Parallel" }), pods, [rev], NOW).delete).toEqual([
      "db-2",
      "db-1",
    ]);
  });

  it("rolls a new template from the highest ordinal down to the partition; status tells kubectl rollout status", () => {
    const v1 = sts();
    const r1 = { ...(planStatefulSet(v1, [], [], NOW).createRevision as KubeObject) };
    r1.metadata = { ...r1.metadata, uid: "r1" };
    const mk = (i: number, rev: string) =>
      stored(
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: `db-${i}`,
            namespace: "default",
            labels: { app: "db", "controller-revision-hash": rev },
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true },
            ],
          },
        },
        true,
      );
    const r1n = r1.metadata.name as string;
    const pods = [0, 1, 2].map((i) => mk(i, r1n));
    const steady = planStatefulSet(v1, pods, [r1], NOW);
    expect(steady.status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      currentRevision: r1n,
      updateRevision: r1n,
      updatedReplicas: 3,
    });
    const v2 = sts({ template: template("db:2") }, { generation: 2 });
    v2.status = steady.status;
    const p = planStatefulSet(v2, pods, [r1], NOW);
    const r2n = p.createRevision?.metadata.name as string;
    expect(r2n).not.toBe(r1n);
    expect(p.createRevision?.revision).toBe(2);
    expect(p.delete).toEqual(["db-2"]);
    expect(p.status).toMatchObject({ currentRevision: r1n, updateRevision: r2n, observedGeneration: 2 });
    // with a partition of 2, only db-2 is rolled
    const part = sts({
      template: template("db:2"),
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } },
    });
    const r2 = { ...(p.createRevision as KubeObject), metadata: { ...p.createRevision?.metadata, uid: "r2" } };
    const rolled = [mk(0, r1n), mk(1, r1n), mk(2, r2n)];
    expect(planStatefulSet(part, rolled, [r1, r2], NOW).delete).toEqual([]);
    // all updated and ready: the update revision becomes the current one
    const done = planStatefulSet(v2, [mk(0, r2n), mk(1, r2n), mk(2, r2n)], [r1, r2], NOW);
    expect(done.status).toMatchObject({
      currentRevision: r2n,
      updateRevision: r2n,
      currentReplicas: 3,
      updatedReplicas: 3,
    });
  });

  it("a failed pod is deleted to be made again", () => {
    const set = sts({ replicas: 1 });
    const p0 = stored(planStatefulSet(set, [], [], NOW).create[0] as KubeObject, false, "Failed");
    expect(planStatefulSet(set, [p0], [], NOW).delete).toEqual(["db-0"]);
  });
});

describe("ControllerRevisions", () => {
  it("reuses an equal revision and renumbers it newest (rollback)", () => {
    const owner = sts();
    const a = planRevision(owner, template("db:1"), [], 0).create as KubeObject;
    a.metadata.uid = "a";
    const b = planRevision(owner, template("db:2"), [a], 0).create as KubeObject;
    b.metadata.uid = "b";
    expect(b.revision).toBe(2);
    const back = planRevision(owner, template("db:1"), [a, b], 0);
    expect(back.create).toBeUndefined();
    expect(back.renumber).toEqual({ name: a.metadata.name, revision: 3 });
    expect(templateOfRevision(a)).toEqual(template("db:1"));
    expect((a.data as { spec: { template: { $patch: string } } }).spec.template.$patch).toBe("replace");
  });
});

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, uid: `node-${name}`, labels: { "kubernetes.io/hostname": name, ...labels } },
  spec: taints.length ? { taints } : {},
});
const ds = (tmpl = template("agent:1"), extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "agent", namespace: "kube-system", uid: "ds-uid", generation: 1 },
  spec: { selector: { matchLabels: { app: "db" } }, template: tmpl, ...extra },
});

describe("DaemonSet", () => {
  it.each([
    ["no constraints", {}, node("a"), true],
    ["nodeSelector matches", { nodeSelector: { disk: "ssd" } }, node("a", { disk: "ssd" }), true],
    ["nodeSelector misses", { nodeSelector: { disk: "ssd" } }, node("a"), false],
    [
      "NoSchedule taint untolerated",
      {},
      node("a", {}, [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]),
      false,
    ],
    [
      "NoSchedule taint tolerated",
      { tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] },
      node("a", {}, [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]),
      true,
    ],
    ["PreferNoSchedule is no bar", {}, node("a", {}, [{ key: "x", effect: "PreferNoSchedule" }]), true],
    [
      "unschedulable taint is tolerated for daemons",
      {},
      node("a", {}, [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }]),
      true,
    ],
    [
      "not-ready NoExecute is tolerated for daemons",
      {},
      node("a", {}, [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }]),
      true,
    ],
    [
      "control-plane taint needs a toleration",
      {},
      node("a", {}, [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]),
      false,
    ],
    [
      "required node affinity",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
            },
          },
        },
      },
      node("a", { zone: "c" }),
      false,
    ],
  ])("%s", (_what, podSpec, n, expected) => {
    expect(shouldRunOn({ spec: podSpec }, n)).toBe(expected);
  });

  it("a toleration with operator Exists and no key tolerates every taint of its effect", () => {
    expect(tolerates({ operator: "Exists" }, { key: "any", effect: "NoSchedule" })).toBe(true);
    expect(tolerates({ operator: "Exists", effect: "NoExecute" }, { key: "any", effect: "NoSchedule" })).toBe(false);
  });

  it("pins each pod to its node with a metadata.name affinity term, as kube does", () => {
    const spec = pinToNode({ containers: [] } as never, "node-1");
    expect(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["node-1"] }] }],
    });
    expect(targetNode({ apiVersion: "v1", kind: "Pod", metadata: {}, spec })).toBe("node-1");
    expect(nodeMatches(spec, node("node-1"))).toBe(true);
    expect(nodeMatches(spec, node("node-2"))).toBe(false);
    expect(daemonTolerations({}).length).toBe(6);
  });

  it("one pod per eligible node; pods on nodes that no longer fit are deleted; status counts", () => {
    const d = ds(template("agent:1", { nodeSelector: { role: "worker" } }));
    const nodes = [node("a", { role: "worker" }), node("b", { role: "worker" }), node("c")];
    const p1 = planDaemonSet(d, nodes, [], [], NOW);
    expect(p1.create.map((c) => c.node)).toEqual(["a", "b"]);
    expect(p1.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 0, numberUnavailable: 2 });
    const rev = { ...(p1.createRevision as KubeObject), metadata: { ...p1.createRevision?.metadata, uid: "r" } };
    const pods = p1.create.map((c, i) => {
      const p = stored({ ...c.pod, metadata: { ...c.pod.metadata, name: `agent-${i}` } }, true);
      (p.spec as Record<string, unknown>).nodeName = c.node;
      return p;
    });
    const moved = [node("a", { role: "worker" }), node("b"), node("c")];
    const p2 = planDaemonSet(d, moved, pods, [rev], NOW);
    expect(p2.create).toEqual([]);
    expect(p2.delete).toEqual(["agent-1"]);
    expect(p2.status).toMatchObject({
      desiredNumberScheduled: 1,
      currentNumberScheduled: 1,
      numberMisscheduled: 1,
      numberReady: 1,
    });
  });

  it("rolling update replaces at most maxUnavailable pods at a time", () => {
    const nodes = [node("a"), node("b"), node("c")];
    const v1 = ds();
    const p1 = planDaemonSet(v1, nodes, [], [], NOW);
    const r1 = { ...(p1.createRevision as KubeObject), metadata: { ...p1.createRevision?.metadata, uid: "r1" } };
    const pods = p1.create.map((c, i) => {
      const p = stored({ ...c.pod, metadata: { ...c.pod.metadata, name: `agent-${i}` } }, true);
      (p.spec as Record<string, unknown>).nodeName = c.node;
      return p;
    });
    const v2 = ds(template("agent:2"));
    expect(planDaemonSet(v2, nodes, pods, [r1], NOW).delete).toHaveLength(1);
    const v2b = ds(template("agent:2"), {
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } },
    });
    expect(planDaemonSet(v2b, nodes, pods, [r1], NOW).delete).toHaveLength(2);
    const onDelete = ds(template("agent:2"), { updateStrategy: { type: "OnDelete" } });
    expect(planDaemonSet(onDelete, nodes, pods, [r1], NOW).delete).toEqual([]);
  });
});

const job = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "pi", namespace: "default", uid: "job-uid", generation: 1 },
  spec: {
    selector: { matchLabels: { "controller-uid": "job-uid" } },
    template: {
      metadata: { labels: { "controller-uid": "job-uid", "job-name": "pi" } },
      spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl" }] },
    },
    ...spec,
  },
  ...(status ? { status } : {}),
});
const jobPod = (name: string, phase: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: "default",
    uid: `uid-${name}`,
    creationTimestamp: T0,
    labels: { "controller-uid": "job-uid", "job-name": "pi" },
    ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "pi", uid: "job-uid", controller: true }],
    ...extra,
  },
  spec: {},
  status: { phase },
});

describe("Job", () => {
  it("a Job without a selector gets one from its uid, and its template the labels", () => {
    const j = job();
    delete (j.spec as Record<string, unknown>).selector;
    const spec = generatedSelector(j);
    expect(spec?.selector).toEqual({ matchLabels: { "controller-uid": "job-uid" } });
    expect(spec?.template?.metadata?.labels).toMatchObject({ "job-name": "pi", "batch.kubernetes.io/job-name": "pi" });
    expect(planJob(j, [], NOW).spec).toBeDefined();
  });

  it("runs parallelism pods until completions succeed, then Complete with completionTime", () => {
    const j = job({ parallelism: 2, completions: 3 });
    const p1 = planJob(j, [], NOW);
    expect(p1.create).toHaveLength(2);
    expect(p1.create[0]?.metadata.labels).toMatchObject({ "job-name": "pi", "controller-uid": "job-uid" });
    expect(p1.status).toMatchObject({ active: 2, startTime: "2026-01-01T00:10:00Z" });
    const p2 = planJob(j, [jobPod("a", "Succeeded"), jobPod("b", "Succeeded"), jobPod("c", "Running")], NOW);
    expect(p2.create).toHaveLength(0); // one left to complete, one running
    const p3 = planJob(j, [jobPod("a", "Succeeded"), jobPod("b", "Succeeded"), jobPod("c", "Succeeded")], NOW);
    expect(p3.status?.conditions?.[0]).toMatchObject({ type: "Complete", status: "True" });
    expect(p3.status).toMatchObject({ succeeded: 3, completionTime: "2026-01-01T00:10:00Z" });
    expect(p3.events).toEqual([{ type: "Normal", reason: "Completed", message: "Job completed" }]);
  });

  it("fails after backoffLimit failed pods, deleting what still runs", () => {
    const j = job({ backoffLimit: 1 });
    const plan = planJob(j, [jobPod("a", "Failed"), jobPod("b", "Failed"), jobPod("c", "Running")], NOW);
    expect(plan.status?.conditions?.[0]).toMatchObject({
      type: "Failed",
      reason: "BackoffLimitExceeded",
      message: "Job has reached the specified backoff limit",
    });
    expect(plan.delete).toEqual(["c"]);
    expect(plan.status).toMatchObject({ failed: 2 });
  });

  it("waits an exponential backoff before replacing a failed pod", () => {
    const j = job({ backoffLimit: 6 });
    const failed = jobPod("a", "Failed");
    (failed.status as Record<string, unknown>).containerStatuses = [
      { name: "pi", state: { terminated: { exitCode: 1, finishedAt: "2026-01-01T00:09:55Z" } } },
    ];
    const early = planJob(j, [failed], NOW, 10_000);
    expect(early.create).toHaveLength(0);
    expect(early.requeueAfterMs).toBe(5000);
    expect(planJob(j, [failed], NOW + 5000, 10_000).create).toHaveLength(1);
  });

  it("activeDeadlineSeconds fails the Job with DeadlineExceeded", () => {
    const j = job({ activeDeadlineSeconds: 60 }, { startTime: "2026-01-01T00:08:00Z", active: 1 });
    const plan = planJob(j, [jobPod("a", "Running")], NOW);
    expect(plan.status?.conditions?.[0]).toMatchObject({ type: "Failed", reason: "DeadlineExceeded" });
    expect(plan.delete).toEqual(["a"]);
  });

  it("suspend deletes active pods and says Suspended", () => {
    const plan = planJob(job({ suspend: true }), [jobPod("a", "Running")], NOW);
    expect(plan.delete).toEqual(["a"]);
    expect(plan.status?.conditions?.[0]).toMatchObject({ type: "Suspended", status: "True", reason: "JobSuspended" });
  });

  it("Indexed: one pod per index with its completion index, completedIndexes", () => {
    const j = job({ completionMode: "Indexed", completions: 3, parallelism: 3 });
    const plan = planJob(j, [], NOW);
    expect(plan.create.map((p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"])).toEqual([
      "0",
      "1",
      "2",
    ]);
    expect(plan.create[1]?.metadata.generateName).toBe("pi-1-");
    const done = jobPod("x", "Succeeded");
    done.metadata.annotations = { "batch.kubernetes.io/job-completion-index": "1" };
    const p2 = planJob(j, [done], NOW);
    expect(p2.create.map((p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"])).toEqual([
      "0",
      "2",
    ]);
    expect(p2.status?.completedIndexes).toBe("1");
  });

  it("ttlSecondsAfterFinished deletes a finished Job when it passes", () => {
    const finished = {
      succeeded: 1,
      conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2026-01-01T00:09:00Z" }],
    };
    expect(planJob(job({ ttlSecondsAfterFinished: 30 }, finished), [jobPod("a", "Succeeded")], NOW).deleteJob).toBe(
      true,
    );
    const later = planJob(job({ ttlSecondsAfterFinished: 120 }, finished), [jobPod("a", "Succeeded")], NOW);
    expect(later.deleteJob).toBeUndefined();
    expect(later.requeueAfterMs).toBe(60_000);
  });

  it("never more active pods than parallelism nor than completions left", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.constantFrom("Running", "Succeeded", "Failed", "Pending"), { maxLength: 12 }),
        (parallelism, completions, phases) => {
          const pods = phases.map((ph, i) => jobPod(`p${i}`, ph));
          const plan = planJob(job({ parallelism, completions, backoffLimit: 100 }), pods, NOW, 0);
          const succeeded = phases.filter((p) => p === "Succeeded").length;
          if (succeeded >= completions) return;
          const active = (plan.status?.active ?? 0) as number;
          expect(active).toBeLessThanOrEqual(Math.min(parallelism, completions - succeeded));
        },
      ),
    );
  });

  it("formats completed indexes as kube does", () => {
    expect(formatIndexes([0, 1, 2, 4, 6, 7])).toBe("0-2,4,6-7");
    expect(formatIndexes([])).toBe("");
  });
});

describe("workload invariants (fast-check)", () => {
  it("OrderedReady never makes or removes a pod while a lower ordinal is not Running and Ready", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.option(fc.constantFrom("ready", "unready", "failed", "terminating"), { nil: undefined }), {
          maxLength: 8,
        }),
        (replicas, states) => {
          const set = sts({ replicas });
          const revision = planStatefulSet(set, [], [], NOW).createRevision as KubeObject;
          const pods = states.flatMap((st, i) => {
            if (!st) return [];
            const p = stored(
              {
                apiVersion: "v1",
                kind: "Pod",
                metadata: {
                  name: `db-${i}`,
                  namespace: "default",
                  labels: { app: "db", "controller-revision-hash": revision.metadata.name as string },
                  ownerReferences: [
                    { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true },
                  ],
                },
              },
              st === "ready",
              st === "failed" ? "Failed" : "Running",
            );
            if (st === "terminating") p.metadata.deletionTimestamp = T0;
            return [p];
          });
          const plan = planStatefulSet(set, pods, [{ ...revision, metadata: { ...revision.metadata, uid: "r" } }], NOW);
          expect(plan.create.length + plan.delete.length).toBeLessThanOrEqual(1);
          const healthy = (i: number) => states[i] === "ready";
          for (const p of plan.create) {
            const ord = ordinalOf("db", p.metadata.name as string);
            expect(ord).toBeLessThan(replicas);
            for (let i = 0; i < ord; i++) expect(healthy(i)).toBe(true);
          }
          for (const name of plan.delete) {
            const ord = ordinalOf("db", name);
            if (states[ord] === "failed") continue;
            // scale-down takes the highest ordinal, only when every other pod is healthy
            expect(ord).toBe(states.length - 1 - [...states].reverse().findIndex((s) => s !== undefined));
          }
        },
      ),
    );
  });

  it("a DaemonSet never plans two pods for a node nor one for a node it does not fit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ worker: fc.boolean(), tainted: fc.boolean(), pods: fc.nat(2) }), { maxLength: 6 }),
        (spec) => {
          const d = ds(template("agent:1", { nodeSelector: { role: "worker" } }));
          // pods of the current template (an old one would be rolled, which is not what this checks)
          const hash = planDaemonSet(d, [], [], [], NOW).createRevision?.metadata.labels?.[
            "controller-revision-hash"
          ] as string;
          const nodes = spec.map((n, i) =>
            node(`n${i}`, n.worker ? { role: "worker" } : {}, n.tainted ? [{ key: "gpu", effect: "NoSchedule" }] : []),
          );
          const pods = spec.flatMap((n, i) =>
            Array.from({ length: n.pods }, (_, k) => {
              const p = stored(
                {
                  apiVersion: "v1",
                  kind: "Pod",
                  metadata: {
                    name: `agent-${i}-${k}`,
                    namespace: "kube-system",
                    labels: { app: "db", "controller-revision-hash": hash },
                    ownerReferences: [
                      { apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: "ds-uid", controller: true },
                    ],
                  },
                  spec: { nodeName: `n${i}` },
                },
                true,
              );
              p.metadata.creationTimestamp = `2026-01-01T00:0${k}:00Z`;
              return p;
            }),
          );
          const plan = planDaemonSet(d, nodes, pods, [], NOW);
          const created = plan.create.map((c) => c.node);
          expect(new Set(created).size).toBe(created.length);
          spec.forEach((n, i) => {
            const fits = n.worker && !n.tainted;
            const keep =
              n.pods -
              plan.delete.filter((x) => x.startsWith(`agent-${i}-`)).length +
              created.filter((c) => c === `n${i}`).length;
            expect(keep).toBe(fits ? 1 : 0);
          });
        },
      ),
    );
  });
});

describe("owners being deleted", () => {
  it("a StatefulSet or DaemonSet being deleted makes nothing, not even a revision", () => {
    const s = sts({}, { deletionTimestamp: T0, finalizers: ["foregroundDeletion"] });
    const p = planStatefulSet(s, [], [], NOW);
    expect(p.createRevision).toBeUndefined();
    expect(p.create).toEqual([]);
    const d = ds();
    d.metadata.deletionTimestamp = T0;
    const q = planDaemonSet(d, [node("a")], [], [], NOW);
    expect(q.createRevision).toBeUndefined();
    expect(q.create).toEqual([]);
  });
});
