import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { schedulePass } from "../../src/controllers/kube/kubelet/binder.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject } from "../../src/kube/types.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "dev" };
const now = new Date("2026-01-01T00:00:00Z");

describe("the scheduler's binding pass", () => {
  let db: Db;
  let objects: ObjectStore;
  const node = (name: string, cpu: string, extra: object = {}) =>
    objects.create(cluster, R.nodes, {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name } },
      spec: extra,
      status: { allocatable: { cpu, memory: "4Gi", pods: "110" } },
    });
  const pod = (name: string, cpu: string, extra: object = {}) =>
    objects.create(cluster, R.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: { containers: [{ name: "c", image: "b", resources: { requests: { cpu } } }], ...extra },
    });
  const get = (name: string) =>
    objects.get(cluster, R.pods, "default", name) as KubeObject & {
      spec: { nodeName?: string };
      status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
    };
  beforeEach(() => {
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
  });
  afterEach(() => db.close());

  it("binds pending pods in creation order, counting the ones it just placed", () => {
    node("n1", "1");
    pod("a", "600m");
    pod("b", "600m");
    expect(schedulePass(objects, cluster, now)).toEqual({ bound: 1, pending: 1 });
    expect(get("a").spec.nodeName).toBe("n1");
    expect(get("a").status?.conditions).toContainEqual(
      expect.objectContaining({ type: "PodScheduled", status: "True" }),
    );
    expect(get("b").spec.nodeName).toBeUndefined();
    expect(get("b").status?.conditions?.find((c) => c.type === "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message: "0/1 nodes are available: 1 Insufficient cpu.",
    });
    const events = objects.list(cluster, R.events, "default").items;
    expect(events.map((e) => [e.reason, e.message])).toEqual(
      expect.arrayContaining([
        ["Scheduled", "Successfully assigned default/a to n1"],
        ["FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu."],
      ]),
    );
    // A second pass with nothing new changes nothing (no second event).
    schedulePass(objects, cluster, now);
    expect(objects.list(cluster, R.events, "default").items).toHaveLength(2);
    // Room appears: the pod is bound on the next pass.
    node("n2", "2");
    expect(schedulePass(objects, cluster, now).bound).toBe(1);
    expect(get("b").spec.nodeName).toBe("n2");
  });

  it("leaves pods of other schedulers, bound pods and pods being deleted alone", () => {
    node("n1", "4");
    pod("mine", "1", { schedulerName: "custom" });
    pod("pinned", "1", { nodeName: "n1" });
    expect(schedulePass(objects, cluster, now)).toEqual({ bound: 0, pending: 0 });
    expect(get("mine").spec.nodeName).toBeUndefined();
  });

  it("taints and cordoned nodes", () => {
    node("n1", "4", { unschedulable: true });
    node("n2", "4", { taints: [{ key: "gpu", value: "yes", effect: "NoSchedule" }] });
    pod("p", "1");
    schedulePass(objects, cluster, now);
    expect(get("p").status?.conditions?.[0].message).toBe(
      "0/2 nodes are available: 1 node(s) had untolerated taint {gpu: yes}, 1 node(s) were unschedulable.",
    );
    pod("t", "1", { tolerations: [{ key: "gpu", operator: "Exists" }] });
    schedulePass(objects, cluster, now);
    expect(get("t").spec.nodeName).toBe("n2");
  });
});
