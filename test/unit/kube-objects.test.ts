import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KubeError } from "../../src/kube/errors.js";
import { matchesSelector } from "../../src/kube/labels.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject, WatchEvent } from "../../src/kube/types.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "dev" };
const other: ClusterRef = { scope: cluster.scope, name: "other" };
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data,
});

describe("kube ObjectStore", () => {
  let db: Db;
  let objects: ObjectStore;
  beforeEach(() => {
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
  });
  afterEach(() => db.close());

  it("creates with uid, generation and resourceVersion; refuses a second create", () => {
    const a = objects.create(cluster, R.configmaps, cm("a"));
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.generation).toBe(1);
    expect(Number(a.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(() => objects.create(cluster, R.configmaps, cm("a"))).toThrow(/already exists/);
    expect(objects.create(other, R.configmaps, cm("a")).metadata.uid).not.toBe(a.metadata.uid);
  });

  it("update with a stale resourceVersion is a 409 Conflict; generation follows spec changes only", () => {
    const a = objects.create(cluster, R.deployments, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: { replicas: 1 },
    });
    const b = objects.update(cluster, R.deployments, { ...a, spec: { replicas: 2 } });
    expect(b.metadata.generation).toBe(2);
    const c = objects.update(cluster, R.deployments, { ...b, metadata: { ...b.metadata, labels: { x: "y" } } });
    expect(c.metadata.generation).toBe(2);
    const err = (() => {
      try {
        objects.update(cluster, R.deployments, { ...a, spec: { replicas: 3 } });
      } catch (e) {
        return e as KubeError;
      }
    })();
    expect(err?.code).toBe(409);
    expect(err?.reason).toBe("Conflict");
    // status is kept on a main update and written only through the subresource
    const s = objects.update(cluster, R.deployments, { ...c, status: { replicas: 9 } }, { subresource: "status" });
    expect(s.status).toEqual({ replicas: 9 });
    const m = objects.update(cluster, R.deployments, { ...s, status: { replicas: 1 } });
    expect(m.status).toEqual({ replicas: 9 });
  });

  it("lists per namespace and per cluster", () => {
    objects.create(cluster, R.configmaps, cm("a"));
    objects.create(cluster, R.configmaps, { ...cm("b"), metadata: { name: "b", namespace: "kube-system" } });
    objects.create(other, R.configmaps, cm("c"));
    expect(objects.list(cluster, R.configmaps, "default").items.map((o) => o.metadata.name)).toEqual(["a"]);
    expect(objects.list(cluster, R.configmaps).items.map((o) => o.metadata.name)).toEqual(["a", "b"]);
  });

  it("finalizers hold a deletion until removed; a bound pod is deleted gracefully", () => {
    const a = objects.create(cluster, R.configmaps, { ...cm("a"), metadata: { name: "a", finalizers: ["x/y"] } });
    const d = objects.delete(cluster, R.configmaps, "default", "a");
    expect(d.removed).toBe(false);
    expect(d.object.metadata.deletionTimestamp).toBeTruthy();
    const cur = objects.get(cluster, R.configmaps, "default", "a") as KubeObject;
    objects.update(cluster, R.configmaps, { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
    expect(objects.get(cluster, R.configmaps, "default", "a")).toBeUndefined();
    expect(a.metadata.name).toBe("a");

    const pod = objects.create(cluster, R.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { nodeName: "n1", containers: [] },
    });
    expect(objects.delete(cluster, R.pods, "default", pod.metadata.name as string).removed).toBe(false);
    expect(objects.delete(cluster, R.pods, "default", "p", { gracePeriodSeconds: 0 }).removed).toBe(true);
    const unbound = objects.create(cluster, R.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "q" },
      spec: { containers: [] },
    });
    expect(objects.delete(cluster, R.pods, "default", unbound.metadata.name as string).removed).toBe(true);
  });

  it("watch delivers ADDED, MODIFIED, DELETED of its cluster from a resourceVersion", async () => {
    const start = objects.head();
    const seen: WatchEvent[] = [];
    const w = objects.watch(cluster, [R.configmaps], { from: start }, (events) => {
      seen.push(...events);
    });
    const a = objects.create(cluster, R.configmaps, cm("a"));
    objects.create(other, R.configmaps, cm("a"));
    objects.update(cluster, R.configmaps, { ...a, data: { k: "v" } });
    objects.delete(cluster, R.configmaps, "default", "a");
    await w.caughtUp();
    w.stop();
    expect(seen.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    const rvs = seen.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
  });

  it("mutate retries a read-modify-write", () => {
    objects.create(cluster, R.configmaps, cm("a"));
    const out = objects.mutate(cluster, R.configmaps, "default", "a", (o) => ({ ...o, data: { n: "1" } }));
    expect(out?.data).toEqual({ n: "1" });
  });

  it("label selectors: matchLabels and expressions", () => {
    expect(matchesSelector({ matchLabels: { app: "web" } }, { app: "web", x: "1" })).toBe(true);
    expect(
      matchesSelector({ matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] }, { tier: "c" }),
    ).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, {})).toBe(true);
    expect(matchesSelector({}, { any: "thing" })).toBe(true);
    expect(matchesSelector(undefined, { any: "thing" })).toBe(false);
  });
});
