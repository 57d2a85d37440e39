import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootstrapClusterObjects } from "../../src/controllers/kube/index.js";
import {
  claimMounts,
  type StorageControllers,
  startStorageControllers,
  VolumeDisks,
} from "../../src/controllers/kube/storage/index.js";
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

const claim = (name: string, storageClassName: string): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "default" },
  spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: "1Gi" } } },
});
const pod = (name: string, claimName: string, nodeName: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: {
    nodeName,
    containers: [{ name: "c", image: "x" }],
    volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
  },
});

/** The storage controllers on a real store and a real directory, without Docker. */
describe("storage controllers", () => {
  let db: Db;
  let objects: ObjectStore;
  let dir: string;
  let ctrl: StorageControllers;
  let disks: VolumeDisks;
  let installed: string[];

  beforeEach(() => {
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
    bootstrapClusterObjects(objects, cluster, {});
    dir = mkdtempSync(join(tmpdir(), "berth-storage-"));
    disks = new VolumeDisks(dir);
    installed = [];
    ctrl = startStorageControllers({
      objects,
      clusters: () => [cluster],
      disks,
      installed: { drivers: () => installed },
      clock: { now: () => new Date() },
      logger: createLogger("silent"),
      resyncMs: 200,
    });
    objects.create(cluster, R.storageclasses, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "ebs" },
      provisioner: "ebs.csi.aws.com",
      volumeBindingMode: "WaitForFirstConsumer",
      parameters: { type: "gp3" },
    });
  });
  afterEach(async () => {
    await ctrl.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (name: string) => objects.get(cluster, R.persistentvolumeclaims, "default", name);
  const phase = (o: KubeObject | undefined) => (o?.status as { phase?: string } | undefined)?.phase;
  const events = (name: string) =>
    objects
      .list(cluster, R.events, "default")
      .items.filter((e) => (e.involvedObject as { name?: string }).name === name)
      .map((e) => e.reason as string);

  it("waits for the add-on, provisions for the first consumer's node, attaches, mounts, and deletes on release", async () => {
    objects.create(cluster, R.persistentvolumeclaims, claim("data", "ebs"));
    objects.create(cluster, R.pods, pod("p", "data", "node-a"));
    await until("ExternalProvisioning", () => events("data").includes("ExternalProvisioning"));
    expect(phase(get("data"))).toBe("Pending");
    installed = ["ebs.csi.aws.com"];
    const bound = await until("the claim to bind", () => (phase(get("data")) === "Bound" ? get("data") : undefined));
    const pvName = (bound.spec as { volumeName: string }).volumeName;
    const pv = objects.get(cluster, R.persistentvolumes, undefined, pvName) as KubeObject;
    const handle = (pv.spec as { csi: { volumeHandle: string } }).csi.volumeHandle;
    expect(existsSync(disks.path(cluster.scope, handle))).toBe(true);
    expect(bound.metadata.annotations?.["volume.kubernetes.io/selected-node"]).toBe("node-a");
    await until("the attachment", () => objects.list(cluster, R.volumeattachments).items.length === 1);
    const mounts = claimMounts({ objects, disks });
    expect(await mounts.mount(cluster, "default", "data", "data", "node-a", false)).toEqual({
      hostPath: disks.path(cluster.scope, handle),
      readOnly: false,
    });
    // Another node: the Multi-Attach error, and no mount.
    objects.create(cluster, R.pods, pod("q", "data", "node-b"));
    await until("Multi-Attach", () => events("q").includes("FailedAttachVolume"));
    expect(await mounts.mount(cluster, "default", "data", "data", "node-b", false)).toHaveProperty("waiting");
    // The pods go, then the claim: the volume and its directory go (reclaimPolicy Delete).
    objects.delete(cluster, R.pods, "default", "p", { gracePeriodSeconds: 0 });
    objects.delete(cluster, R.pods, "default", "q", { gracePeriodSeconds: 0 });
    for (const name of ["p", "q"]) {
      const left = objects.get(cluster, R.pods, "default", name);
      if (left) objects.update(cluster, R.pods, { ...left, metadata: { ...left.metadata, finalizers: [] } });
    }
    objects.delete(cluster, R.persistentvolumeclaims, "default", "data");
    await until("the volume to go", () => !objects.get(cluster, R.persistentvolumes, undefined, pvName), 8000);
    expect(existsSync(disks.path(cluster.scope, handle))).toBe(false);
  });

  it("a claim of a missing class stays Pending with kube's event", async () => {
    objects.create(cluster, R.persistentvolumeclaims, claim("lost", "nope"));
    await until("ProvisioningFailed", () => events("lost").includes("ProvisioningFailed"));
    expect(phase(get("lost"))).toBe("Pending");
  });
});
