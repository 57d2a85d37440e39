import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  bootstrapClusterObjects,
  startKubeControllers,
  type KubeControllers,
} from "../../src/controllers/kube/index.js";
import { systemClock } from "../../src/core/clock.js";
import { createLogger } from "../../src/core/logger.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
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

  beforeEach(() => {
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
    bootstrapClusterObjects(objects, cluster, {
      caPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    });
    ctrl = startKubeControllers({
      objects,
      clusters: () => [cluster],
      clock: systemClock,
      logger: createLogger("silent"),
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
            spec: { ...(cur.spec as object), nodeName: "node-1" },
          }));
        const phase = (p.status as { phase?: string } | undefined)?.phase;
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
});
