import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  bootstrapClusterObjects,
  eventRecorder,
  startKubeControllers,
  type KubeControllers,
} from "../../src/controllers/kube/index.js";
import { createLogger } from "../../src/core/logger.js";
import { targetNode } from "../../src/controllers/kube/workloads/daemonset.js";
import { kubeErrors } from "../../src/kube/errors.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { builtin, R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject } from "../../src/kube/types.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "dev" };

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const deployment = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image }] } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    ...extra,
  },
});

describe("kube controllers on a real store", () => {
  let db: Db;
  let objects: ObjectStore;
  let ctrl: KubeControllers;
  let kubelet: ReturnType<typeof setInterval>;
  let readyPods = true;
  let clockOffsetMs = 0;
  let refusePods = false;

  beforeEach(() => {
    clockOffsetMs = 0;
    refusePods = false;
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
    bootstrapClusterObjects(objects, cluster, {
      caPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    });
    ctrl = startKubeControllers({
      objects,
      clusters: () => [cluster],
      clock: { now: () => new Date(Date.now() + clockOffsetMs) },
      logger: createLogger("silent"),
      jobBackoffBaseMs: 10,
      admission: {
        admit: (_c, _op, _type, obj) => {
          if (refusePods)
            throw kubeErrors.forbidden('pods "web" is forbidden: exceeded quota: compute, requested: pods=1');
          return obj;
        },
      },
      resyncIntervalMs: 60_000,
      caPem: () => "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    });
    readyPods = true;
    // A kubelet: binds, runs and readies pods; removes the ones being deleted.
    kubelet = setInterval(() => {
      for (const p of objects.list(cluster, R.pods).items) {
        const ns = p.metadata.namespace;
        const name = p.metadata.name ?? "";
        if (p.metadata.deletionTimestamp) {
          try {
            objects.delete(cluster, R.pods, ns, name, { gracePeriodSeconds: 0 });
          } catch {}
          continue;
        }
        if (!(p.spec as { nodeName?: string }).nodeName)
          objects.mutate(cluster, R.pods, ns, name, (cur) => ({
            ...cur,
            spec: { ...(cur.spec as object), nodeName: targetNode(cur) ?? "node-1" },
          }));
        const job = p.metadata.labels?.["job-name"];
        const phase = (p.status as { phase?: string } | undefined)?.phase;
        if (job && (phase === "Succeeded" || phase === "Failed")) continue;
        if (job) {
          const fail = p.metadata.labels?.fail === "yes";
          objects.mutate(
            cluster,
            R.pods,
            ns,
            name,
            (cur) => ({
              ...cur,
              status: {
                phase: fail ? "Failed" : "Succeeded",
                containerStatuses: [
                  {
                    name: "c",
                    state: { terminated: { exitCode: fail ? 1 : 0, finishedAt: new Date().toISOString() } },
                  },
                ],
              },
            }),
            { subresource: "status" },
          );
          continue;
        }
        if (readyPods && phase !== "Running")
          objects.mutate(
            cluster,
            R.pods,
            ns,
            name,
            (cur) => ({
              ...cur,
              status: {
                phase: "Running",
                conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString() }],
              },
            }),
            { subresource: "status" },
          );
      }
    }, 5);
  });
  afterEach(async () => {
    clearInterval(kubelet);
    await ctrl.stop();
    db.close();
  });

  const pods = (selector?: (p: KubeObject) => boolean) =>
    objects.list(cluster, R.pods, "default").items.filter((p) => !selector || selector(p));
  const status = () =>
    objects.get(cluster, R.deployments, "default", "web")?.status as
      | {
          observedGeneration?: number;
          replicas?: number;
          updatedReplicas?: number;
          availableReplicas?: number;
          conditions?: { type: string; reason: string }[];
        }
      | undefined;
  /** What `kubectl rollout status` waits for. */
  const rolledOut = () => {
    const d = objects.get(cluster, R.deployments, "default", "web");
    const s = status();
    if (!d || !s) return false;
    const n = (d.spec as { replicas: number }).replicas;
    return (
      (d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0) &&
      (s.updatedReplicas ?? 0) >= n &&
      (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
      (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0)
    );
  };

  it("bootstraps the system namespaces, default ServiceAccounts and kube-root-ca.crt", () => {
    const names = objects.list(cluster, R.namespaces).items.map((n) => n.metadata.name);
    expect(names.sort()).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    expect(objects.get(cluster, R.namespaces, undefined, "kube-system")?.metadata.labels).toEqual({
      "kubernetes.io/metadata.name": "kube-system",
    });
    for (const ns of names) {
      expect(objects.get(cluster, R.serviceaccounts, ns, "default")).toBeDefined();
      expect(
        (objects.get(cluster, R.configmaps, ns, "kube-root-ca.crt")?.data as Record<string, string> | undefined)?.[
          "ca.crt"
        ],
      ).toMatch(/BEGIN/);
    }
    bootstrapClusterObjects(objects, cluster); // idempotent
  });

  it("Deployment → ReplicaSet → pods, rolled out; a new template rolls over; events recorded", async () => {
    objects.create(cluster, R.deployments, deployment("web:1"));
    await until("first rollout", rolledOut);
    expect(pods()).toHaveLength(3);
    const rs1 = objects.list(cluster, R.replicasets, "default").items;
    expect(rs1).toHaveLength(1);
    const rsName = rs1[0]?.metadata.name as string;
    expect(pods().every((p) => p.metadata.name?.startsWith(`${rsName}-`))).toBe(true);
    expect(pods()[0]?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "ReplicaSet",
      name: rsName,
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(status()?.conditions?.find((c) => c.type === "Progressing")?.reason).toBe("NewReplicaSetAvailable");
    expect(
      objects.get(cluster, R.deployments, "default", "web")?.metadata.annotations?.[
        "deployment.kubernetes.io/revision"
      ],
    ).toBe("1");

    objects.mutate(cluster, R.deployments, "default", "web", (d) => {
      (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image =
        "web:2";
      return d;
    });
    await until(
      "second rollout",
      () => rolledOut() && objects.get(cluster, R.deployments, "default", "web")?.metadata.generation === 2,
    );
    await until(
      "old pods gone",
      () => pods().length === 3 && pods().every((p) => !p.metadata.name?.startsWith(`${rsName}-`)),
    );
    const rss = objects.list(cluster, R.replicasets, "default").items;
    expect(rss).toHaveLength(2);
    const old = rss.find((r) => r.metadata.name === rsName);
    expect((old?.spec as { replicas: number } | undefined)?.replicas).toBe(0);
    expect(
      objects.get(cluster, R.deployments, "default", "web")?.metadata.annotations?.[
        "deployment.kubernetes.io/revision"
      ],
    ).toBe("2");

    const events = objects.list(cluster, R.events, "default").items;
    const messages = events.map((e) => `${(e.source as { component: string }).component}: ${e.reason} ${e.message}`);
    expect(messages).toContain(`deployment-controller: ScalingReplicaSet Scaled up replica set ${rsName} to 3`);
    expect(messages).toContain(`deployment-controller: ScalingReplicaSet Scaled down replica set ${rsName} to 0`);
    expect(messages.some((m) => m.startsWith(`replicaset-controller: SuccessfulCreate Created pod: ${rsName}-`))).toBe(
      true,
    );
    const ev = events.find((e) => e.reason === "ScalingReplicaSet");
    expect(ev).toMatchObject({
      type: "Normal",
      count: 1,
      involvedObject: { kind: "Deployment", name: "web", namespace: "default" },
    });
    expect(ev?.firstTimestamp).toMatch(/Z$/);
  });

  it("deleting a pod gets it replaced; scaling to zero empties the ReplicaSet", async () => {
    objects.create(cluster, R.deployments, deployment("web:1"));
    await until("rollout", rolledOut);
    const victim = pods()[0]?.metadata.name as string;
    objects.delete(cluster, R.pods, "default", victim, { gracePeriodSeconds: 0 });
    await until("replacement", () => pods().length === 3 && !pods().some((p) => p.metadata.name === victim));
    objects.mutate(cluster, R.deployments, "default", "web", (d) => ({
      ...d,
      spec: { ...(d.spec as object), replicas: 0 },
    }));
    await until("scaled to zero", () => pods().length === 0 && rolledOut());
  });

  it("deleting a Deployment: background collects its ReplicaSets and pods", async () => {
    objects.create(cluster, R.deployments, deployment("web:1"));
    await until("rollout", rolledOut);
    objects.delete(cluster, R.deployments, "default", "web");
    await until(
      "collected",
      () => objects.list(cluster, R.replicasets, "default").items.length === 0 && pods().length === 0,
    );
  });

  it("foreground deletion removes dependents first, then the owner", async () => {
    objects.create(cluster, R.deployments, deployment("web:1"));
    await until("rollout", rolledOut);
    const marked = objects.delete(cluster, R.deployments, "default", "web", { finalizers: ["foregroundDeletion"] });
    expect(marked.removed).toBe(false);
    await until("owner gone", () => !objects.get(cluster, R.deployments, "default", "web"));
    expect(objects.list(cluster, R.replicasets, "default").items).toEqual([]);
    expect(pods()).toEqual([]);
  });

  it("orphan deletion keeps the ReplicaSet and its pods, without the owner reference", async () => {
    objects.create(cluster, R.deployments, deployment("web:1"));
    await until("rollout", rolledOut);
    objects.delete(cluster, R.deployments, "default", "web", { finalizers: ["orphan"] });
    await until("owner gone", () => !objects.get(cluster, R.deployments, "default", "web"));
    await ctrl.idle();
    const rss = objects.list(cluster, R.replicasets, "default").items;
    expect(rss).toHaveLength(1);
    expect(rss[0]?.metadata.ownerReferences).toBeUndefined();
    expect(pods()).toHaveLength(3);
  });

  it("a new namespace gets its default ServiceAccount; deleting it empties it, then it goes", async () => {
    objects.create(cluster, R.namespaces, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team" },
      spec: { finalizers: ["kubernetes"] },
    });
    await until("default SA", () => objects.get(cluster, R.serviceaccounts, "team", "default"));
    await until("root CA", () => objects.get(cluster, R.configmaps, "team", "kube-root-ca.crt"));
    expect(
      (objects.get(cluster, R.namespaces, undefined, "team")?.status as { phase: string } | undefined)?.phase,
    ).toBe("Active");
    objects.create(cluster, R.configmaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "team" },
    });
    objects.create(cluster, R.deployments, { ...deployment("web:1"), metadata: { name: "web", namespace: "team" } });
    await until("team pods", () => objects.list(cluster, R.pods, "team").items.length === 3);
    const marked = objects.delete(cluster, R.namespaces, undefined, "team");
    expect(marked.removed).toBe(false);
    expect((marked.object.status as { phase: string }).phase).toBe("Terminating");
    await until("namespace gone", () => !objects.get(cluster, R.namespaces, undefined, "team"), 8000);
    for (const t of [R.pods, R.configmaps, R.serviceaccounts, R.deployments, R.replicasets])
      expect(objects.list(cluster, t, "team").items).toEqual([]);
  });

  it("the default ServiceAccount comes back when deleted", async () => {
    objects.delete(cluster, R.serviceaccounts, "default", "default");
    await until("default SA back", () => objects.get(cluster, R.serviceaccounts, "default", "default"));
  });

  it("StatefulSet: ordered pods with identity, scaled down from the top, rolled from the top", async () => {
    const set = (image: string, replicas = 3): KubeObject => ({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        replicas,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "c", image }] } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      },
    });
    objects.create(cluster, R.statefulsets, set("db:1"));
    const stsStatus = () =>
      objects.get(cluster, R.statefulsets, "default", "db")?.status as
        | {
            readyReplicas?: number;
            updatedReplicas?: number;
            currentRevision?: string;
            updateRevision?: string;
            observedGeneration?: number;
          }
        | undefined;
    await until("3 ready", () => stsStatus()?.readyReplicas === 3);
    const names = pods((p) => p.metadata.labels?.app === "db")
      .map((p) => p.metadata.name)
      .sort();
    expect(names).toEqual(["db-0", "db-1", "db-2"]);
    const p0 = objects.get(cluster, R.pods, "default", "db-0");
    expect(p0?.spec).toMatchObject({ hostname: "db-0", subdomain: "db" });
    expect(p0?.metadata.labels?.["statefulset.kubernetes.io/pod-name"]).toBe("db-0");
    const rev1 = stsStatus()?.currentRevision;
    objects.mutate(cluster, R.statefulsets, "default", "db", (s) => ({ ...s, spec: set("db:2").spec }));
    await until("rolled", () => {
      const st = stsStatus();
      return (
        st?.observedGeneration === 2 &&
        st.currentRevision === st.updateRevision &&
        st.updatedReplicas === 3 &&
        st.readyReplicas === 3
      );
    });
    expect(stsStatus()?.currentRevision).not.toBe(rev1);
    expect(objects.list(cluster, R.controllerrevisions, "default").items).toHaveLength(2);
    objects.mutate(cluster, R.statefulsets, "default", "db", (s) => ({ ...s, spec: set("db:2", 1).spec }));
    await until(
      "scaled to 1",
      () =>
        pods((p) => p.metadata.labels?.app === "db")
          .map((p) => p.metadata.name)
          .join() === "db-0",
    );
  });

  it("DaemonSet: one pod per fitting node, pinned by node affinity; a new node gets one", async () => {
    const mkNode = (name: string, labels: Record<string, string> = {}) =>
      objects.create(cluster, R.nodes, { apiVersion: "v1", kind: "Node", metadata: { name, labels } });
    mkNode("n1", { role: "worker" });
    mkNode("n2");
    objects.create(cluster, R.daemonsets, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { nodeSelector: { role: "worker" }, containers: [{ name: "c", image: "agent" }] },
        },
      },
    });
    const dsStatus = () =>
      objects.get(cluster, R.daemonsets, "default", "agent")?.status as
        | { numberReady?: number; desiredNumberScheduled?: number }
        | undefined;
    await until("1 ready", () => dsStatus()?.numberReady === 1);
    const agentPods = () => pods((p) => p.metadata.labels?.app === "agent");
    expect(agentPods().map((p) => targetNode(p))).toEqual(["n1"]);
    mkNode("n3", { role: "worker" });
    await until("2 ready", () => dsStatus()?.numberReady === 2 && dsStatus()?.desiredNumberScheduled === 2);
    expect(
      agentPods()
        .map((p) => targetNode(p))
        .sort(),
    ).toEqual(["n1", "n3"]);
  });

  it("Job: completions run to Complete; a failing one stops at its backoffLimit", async () => {
    const mkJob = (name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) =>
      objects.create(cluster, R.jobs, {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name, namespace: "default" },
        spec: {
          template: {
            metadata: { labels },
            spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
          },
          ...spec,
        },
      });
    mkJob("ok", { completions: 3, parallelism: 2 });
    const jobStatus = (n: string) =>
      objects.get(cluster, R.jobs, "default", n)?.status as
        | {
            succeeded?: number;
            failed?: number;
            conditions?: { type: string; reason?: string }[];
            completionTime?: string;
          }
        | undefined;
    await until("complete", () => jobStatus("ok")?.conditions?.some((c) => c.type === "Complete"));
    expect(jobStatus("ok")).toMatchObject({ succeeded: 3 });
    expect(jobStatus("ok")?.completionTime).toBeDefined();
    const j = objects.get(cluster, R.jobs, "default", "ok");
    expect((j?.spec as { selector: unknown } | undefined)?.selector).toEqual({
      matchLabels: { "controller-uid": j?.metadata.uid },
    });
    mkJob("bad", { backoffLimit: 2 }, { fail: "yes" });
    await until("failed", () => jobStatus("bad")?.conditions?.some((c) => c.type === "Failed"));
    expect(jobStatus("bad")).toMatchObject({ failed: 3 });
    expect(jobStatus("bad")?.conditions?.find((c) => c.type === "Failed")?.reason).toBe("BackoffLimitExceeded");
  });

  it("CronJob: a missed minute starts a Job, which completes; the CronJob records it", async () => {
    objects.create(cluster, builtin("batch", "cronjobs"), {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick", namespace: "default" },
      spec: {
        schedule: "* * * * *",
        concurrencyPolicy: "Forbid",
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
        },
      },
    });
    clockOffsetMs = 61_000;
    await ctrl.resyncNow();
    const cjStatus = () =>
      objects.get(cluster, builtin("batch", "cronjobs"), "default", "tick")?.status as
        | { lastScheduleTime?: string; lastSuccessfulTime?: string; active?: unknown[] }
        | undefined;
    await until("job succeeded", () => cjStatus()?.lastSuccessfulTime && !cjStatus()?.active);
    const jobs = objects.list(cluster, R.jobs, "default").items;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.metadata.name).toMatch(/^tick-\d+$/);
    expect(jobs[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", name: "tick" });
  });

  it("settles: once rolled out, nothing writes", async () => {
    objects.create(cluster, R.deployments, deployment("web:1"));
    await until("rollout", rolledOut);
    await new Promise((r) => setTimeout(r, 50));
    await ctrl.idle();
    const head = objects.head();
    await new Promise((r) => setTimeout(r, 200));
    await ctrl.idle();
    expect(objects.head()).toBe(head);
  });

  it("pods that cannot be made: ReplicaFailure on the ReplicaSet and the Deployment, cleared when they can", async () => {
    refusePods = true;
    objects.create(cluster, R.deployments, deployment("web:1"));
    type Conds = { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
    await until("failure", () => (status() as Conds | undefined)?.conditions?.some((c) => c.type === "ReplicaFailure"));
    const cond = (status() as Conds).conditions?.find((c) => c.type === "ReplicaFailure");
    expect(cond).toMatchObject({ status: "True", reason: "FailedCreate" });
    expect(cond?.message).toMatch(/exceeded quota/);
    const rs = objects.list(cluster, R.replicasets, "default").items[0];
    expect((rs?.status as { replicas: number } | undefined)?.replicas).toBe(0);
    refusePods = false;
    await until("rollout", rolledOut, 8000);
    expect((status() as Conds).conditions?.some((c) => c.type === "ReplicaFailure")).toBe(false);
  });

  it("the event recorder aggregates repeats into one Event with a count", () => {
    const rec = eventRecorder(objects, {
      component: "kubelet",
      host: "node-1",
      clock: { now: () => new Date("2026-01-01T00:00:00Z") },
    });
    const pod: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", uid: "u1" } };
    rec.event(cluster, pod, "Warning", "BackOff", "Back-off restarting failed container");
    rec.event(cluster, pod, "Warning", "BackOff", "Back-off restarting failed container");
    rec.event(cluster, pod, "Normal", "Pulled", "Container image already present on machine");
    const evs = objects.list(cluster, R.events, "default").items;
    expect(evs).toHaveLength(2);
    const backoff = evs.find((e) => e.reason === "BackOff");
    expect(backoff).toMatchObject({
      type: "Warning",
      count: 2,
      source: { component: "kubelet", host: "node-1" },
      involvedObject: { kind: "Pod", name: "p", namespace: "default", uid: "u1", apiVersion: "v1" },
      firstTimestamp: "2026-01-01T00:00:00Z",
      lastTimestamp: "2026-01-01T00:00:00Z",
      reportingComponent: "kubelet",
    });
    expect(backoff?.metadata.name).toMatch(/^p\.[0-9a-f]{16}$/);
  });
});
