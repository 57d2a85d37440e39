import { describe, expect, it } from "vitest";
import { FOREGROUND, ORPHAN, planGarbageCollection, planOrphanedPods } from "../../src/controllers/kube/gc.js";
import { planNamespace } from "../../src/controllers/kube/namespaces.js";
import type { KubeObject, OwnerReference } from "../../src/kube/types.js";

const known = (group: string, kind: string) =>
  ["apps/Deployment", "apps/ReplicaSet", "/Pod", "/ConfigMap"].includes(`${group}/${kind}`);
const obj = (
  kind: string,
  name: string,
  o: { owners?: OwnerReference[]; deleting?: boolean; finalizers?: string[]; ns?: string } = {},
): KubeObject => ({
  apiVersion: kind === "Pod" || kind === "ConfigMap" ? "v1" : "apps/v1",
  kind,
  metadata: {
    name,
    namespace: o.ns ?? "default",
    uid: `uid-${name}`,
    ...(o.owners ? { ownerReferences: o.owners } : {}),
    ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    ...(o.finalizers ? { finalizers: o.finalizers } : {}),
  },
});
const ref = (kind: string, name: string, block = true): OwnerReference => ({
  apiVersion: kind === "Pod" ? "v1" : "apps/v1",
  kind,
  name,
  uid: `uid-${name}`,
  controller: true,
  blockOwnerDeletion: block,
});

describe("planGarbageCollection", () => {
  it("deletes dependents whose owner is gone (background), not those whose owner lives", () => {
    const plan = planGarbageCollection(
      [
        obj("ReplicaSet", "live"),
        obj("Pod", "a", { owners: [ref("ReplicaSet", "live")] }),
        obj("Pod", "b", { owners: [ref("ReplicaSet", "gone")] }),
      ],
      known,
    );
    expect(plan.delete.map((d) => [d.ref.name, d.propagation])).toEqual([["b", "Background"]]);
  });

  it("an owner of the same uid but another name or namespace is not the owner", () => {
    const rs = obj("ReplicaSet", "x", { ns: "other" });
    const plan = planGarbageCollection([rs, obj("Pod", "a", { owners: [ref("ReplicaSet", "x")] })], known);
    expect(plan.delete.map((d) => d.ref.name)).toEqual(["a"]);
  });

  it("references to unknown kinds are left alone; a dangling reference next to a live owner is dropped", () => {
    const plan = planGarbageCollection(
      [
        obj("ReplicaSet", "live"),
        obj("Pod", "a", { owners: [{ apiVersion: "example.com/v1", kind: "Widget", name: "w", uid: "w" }] }),
        obj("Pod", "b", { owners: [ref("ReplicaSet", "live"), { ...ref("ReplicaSet", "gone"), controller: false }] }),
      ],
      known,
    );
    expect(plan.delete).toEqual([]);
    expect(plan.removeOwnerRefs).toEqual([{ ref: expect.objectContaining({ name: "b" }), uids: ["uid-gone"] }]);
  });

  it("foreground: dependents go first (those with dependents in the foreground too); the finalizer stays while a blocking one remains", () => {
    const d = obj("Deployment", "web", { deleting: true, finalizers: [FOREGROUND] });
    const rs = obj("ReplicaSet", "web-1", { owners: [ref("Deployment", "web")] });
    const pod = obj("Pod", "p", { owners: [ref("ReplicaSet", "web-1")] });
    const plan = planGarbageCollection([d, rs, pod], known);
    expect(plan.delete.map((x) => [x.ref.name, x.propagation])).toEqual([["web-1", "Foreground"]]);
    expect(plan.removeFinalizer).toEqual([]);
    // once the ReplicaSet is gone the Deployment's finalizer is done
    const done = planGarbageCollection([d], known);
    expect(done.removeFinalizer).toEqual([{ ref: expect.objectContaining({ name: "web" }), finalizer: FOREGROUND }]);
    // a dependent that does not block (blockOwnerDeletion false) does not hold it
    const nonBlocking = obj("ReplicaSet", "web-2", { owners: [ref("Deployment", "web", false)], deleting: true });
    expect(planGarbageCollection([d, nonBlocking], known).removeFinalizer).toHaveLength(1);
  });

  it("orphan: references are stripped from dependents, then the finalizer removed", () => {
    const d = obj("Deployment", "web", { deleting: true, finalizers: [ORPHAN] });
    const rs = obj("ReplicaSet", "web-1", { owners: [ref("Deployment", "web")] });
    const plan = planGarbageCollection([d, rs], known);
    expect(plan.delete).toEqual([]);
    expect(plan.removeOwnerRefs).toEqual([{ ref: expect.objectContaining({ name: "web-1" }), uids: ["uid-web"] }]);
    expect(plan.removeFinalizer).toEqual([]);
    const after = planGarbageCollection([d, obj("ReplicaSet", "web-1")], known);
    expect(after.removeFinalizer).toEqual([{ ref: expect.objectContaining({ name: "web" }), finalizer: ORPHAN }]);
  });

  it("an owner marked for deletion without a GC finalizer still owns (its other finalizers are pending)", () => {
    const d = obj("Deployment", "web", { deleting: true, finalizers: ["example.com/hold"] });
    const rs = obj("ReplicaSet", "web-1", { owners: [ref("Deployment", "web")] });
    expect(planGarbageCollection([d, rs], known).delete).toEqual([]);
  });
});

describe("planNamespace", () => {
  const ns = (deleting: boolean, phase = "Active"): KubeObject => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "team", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { finalizers: ["kubernetes"] },
    status: { phase },
  });
  it("a live namespace: nothing", () => {
    expect(planNamespace(ns(false), [obj("Pod", "a", { ns: "team" })])).toEqual({
      terminating: false,
      delete: [],
      finalize: false,
    });
  });
  it("terminating: every object not yet going is deleted; the finalizer waits for them", () => {
    const plan = planNamespace(ns(true), [
      obj("Pod", "a", { ns: "team" }),
      obj("Pod", "b", { ns: "team", deleting: true }),
    ]);
    expect(plan.terminating).toBe(true);
    expect(plan.delete.map((o) => o.metadata.name)).toEqual(["a"]);
    expect(plan.finalize).toBe(false);
  });
  it("empty: the kubernetes finalizer is removed", () => {
    expect(planNamespace(ns(true, "Terminating"), [])).toEqual({ terminating: false, delete: [], finalize: true });
  });
});

describe("planOrphanedPods", () => {
  it("pods bound to a node that does not exist; unbound pods and pods on live nodes stay", () => {
    const pod = (name: string, nodeName?: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", uid: name },
      spec: nodeName ? { nodeName } : {},
    });
    const node: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } };
    expect(planOrphanedPods([pod("a", "n1"), pod("b", "gone"), pod("c")], [node]).map((p) => p.metadata.name)).toEqual([
      "b",
    ]);
  });
});
