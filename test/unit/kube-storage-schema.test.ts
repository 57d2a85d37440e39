import { describe, expect, it } from "vitest";
import {
  defaultObject,
  type GroupVersionKind,
  loadOpenApi,
  validateObject,
  validateUpdate,
} from "../../src/kube/schema.js";
import { R } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/types.js";
import { toTable } from "../../src/kube-api/tables.js";

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

describe("kubectl get of the storage kinds", () => {
  const now = Date.parse("2025-01-01T12:00:00Z");
  const created = "2025-01-01T11:55:00Z";
  const cells = (resource: keyof typeof R, o: KubeObject) =>
    (toTable(R[resource], [o], { now }).rows[0] as { cells: unknown[] }).cells;
  it("pvc, pv, storage classes and attachments print kubectl's columns", () => {
    expect(
      cells("persistentvolumeclaims", {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data", creationTimestamp: created },
        spec: { volumeName: "pvc-1", storageClassName: "gp3", volumeMode: "Filesystem" },
        status: { phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce", "ReadWriteMany"] },
      }),
    ).toEqual(["data", "Bound", "pvc-1", "1Gi", "RWO,RWX", "gp3", "5m", "Filesystem"]);
    expect(
      cells("persistentvolumes", {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "pvc-1", creationTimestamp: created },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Delete",
          claimRef: { namespace: "default", name: "data" },
          storageClassName: "gp3",
          volumeMode: "Filesystem",
        },
        status: { phase: "Bound" },
      }),
    ).toEqual(["pvc-1", "1Gi", "RWO", "Delete", "Bound", "default/data", "gp3", "", "5m", "Filesystem"]);
    expect(
      cells("storageclasses", {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
          name: "gp3",
          creationTimestamp: created,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        reclaimPolicy: "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
      }),
    ).toEqual(["gp3 (default)", "ebs.csi.aws.com", "Delete", "WaitForFirstConsumer", false, "5m"]);
    expect(
      cells("volumeattachments", {
        apiVersion: "storage.k8s.io/v1",
        kind: "VolumeAttachment",
        metadata: { name: "csi-1", creationTimestamp: created },
        spec: { attacher: "ebs.csi.aws.com", nodeName: "n1", source: { persistentVolumeName: "pvc-1" } },
        status: { attached: true },
      }),
    ).toEqual(["csi-1", "ebs.csi.aws.com", "pvc-1", "n1", true, "5m"]);
  });
});
