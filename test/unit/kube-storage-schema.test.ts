import { describe, expect, it } from "vitest";
import {
  defaultObject,
  type GroupVersionKind,
  loadOpenApi,
  validateObject,
  validateUpdate,
} from "../../src/kube/schema.js";
import type { KubeObject } from "../../src/kube/types.js";

const ix = loadOpenApi();
const STS: GroupVersionKind = { group: "apps", version: "v1", kind: "StatefulSet" };
const SC: GroupVersionKind = { group: "storage.k8s.io", version: "v1", kind: "StorageClass" };
const PV: GroupVersionKind = { group: "", version: "v1", kind: "PersistentVolume" };
const check = (gvk: GroupVersionKind, obj: KubeObject) =>
  validateObject(ix, gvk, defaultObject(ix, gvk, obj), { fieldValidation: "Strict" }).causes ?? [];

const statefulSet = (claimTemplate: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "db", namespace: "default" },
  spec: {
    serviceName: "db",
    selector: { matchLabels: { app: "db" } },
    template: {
      metadata: { labels: { app: "db" } },
      spec: { containers: [{ name: "db", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }] },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: claimTemplate },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    ],
  },
});

describe("storage kinds' validation", () => {
  it("a StatefulSet's containers may mount its volumeClaimTemplates by name", () => {
    expect(check(STS, statefulSet("data"))).toEqual([]);
    expect(check(STS, statefulSet("other")).map((c) => c.field)).toEqual([
      "spec.template.spec.containers[0].volumeMounts[0].name",
    ]);
  });
  it("StorageClass: provisioner required, defaults, parameters immutable", () => {
    const sc = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "gp3" } } as KubeObject;
    expect(check(SC, sc).map((c) => c.field)).toEqual(["provisioner"]);
    const good = defaultObject(ix, SC, { ...sc, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3" } });
    expect(good).toMatchObject({ reclaimPolicy: "Delete", volumeBindingMode: "Immediate" });
    const changed = { ...good, parameters: { type: "gp2" } };
    expect(validateUpdate(ix, SC, changed, good, { fieldValidation: "Strict" }).causes?.map((c) => c.message)).toEqual([
      "Forbidden: updates to parameters are forbidden.",
    ]);
  });
  it("PersistentVolume: capacity, access modes and exactly one source", () => {
    const pv = { apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "v" }, spec: {} } as KubeObject;
    expect(check(PV, pv).map((c) => c.field)).toEqual(["spec.accessModes", "spec.capacity", "spec"]);
    const ok = {
      ...pv,
      spec: { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" }, hostPath: { path: "/x" } },
    };
    expect(check(PV, ok)).toEqual([]);
    expect(defaultObject(ix, PV, ok).spec).toMatchObject({ persistentVolumeReclaimPolicy: "Retain" });
  });
});
