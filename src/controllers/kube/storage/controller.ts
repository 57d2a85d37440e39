/**
 * The storage controllers of every cluster, in Berth's process: kube's PV controller (binding
 * claims and volumes, reclaiming released volumes), the external-provisioners of the EBS and EFS
 * CSI drivers (a directory per EBS-class volume; an EFS access point per EFS-class volume), the
 * attach/detach controller (VolumeAttachments; ReadWriteOnce on one node at a time), the
 * pvc-protection controller, and the CSIDriver objects of the installed add-ons. Level-based: one
 * keyed queue (a claim, a volume, a cluster's attachments, a cluster's drivers) fed by a watch and
 * a periodic resync; every pass re-reads the objects and asks plan.ts / attach.ts.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Clock, TimerClock } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import { periodic } from "../../../core/periodic.js";
import { KubeError } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import {
  type ClusterRef,
  clusterKey,
  type KubeObject,
  type ResourceType,
  type WatchEvent,
} from "../../../kube/types.js";
import type { Watch } from "../../../store/watch.js";
import { WorkQueue } from "../../work-queue.js";
import { eventRecorder } from "../events.js";
import type { EfsApi, InstalledDrivers } from "./api.js";
import { planAttachments } from "./attach.js";
import { claimNamesOf, claimSpec, podsUsingClaim, requestedBytes, volumeSpec } from "./binding.js";
import type { VolumeDisks } from "./disks.js";
import {
  accessPointPath,
  allocateGid,
  EBS_DRIVER,
  EFS_DRIVER,
  ebsSizeGiB,
  PROVISIONERS,
  parseEbsParameters,
  parseEfsHandle,
  parseEfsParameters,
} from "./parameters.js";
import {
  BETA_STORAGE_PROVISIONER,
  BIND_COMPLETED,
  BOUND_BY_CONTROLLER,
  boundStatus,
  PROVISIONED_BY,
  PV_PROTECTION,
  planClaim,
  planVolume,
  PVC_PROTECTION,
  SELECTED_NODE,
  STORAGE_PROVISIONER,
} from "./plan.js";

export const PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";
const MANAGED_BY = "app.kubernetes.io/managed-by";
/** How long a claim that cannot progress waits before it is looked at again. */
const WAIT_MS = 15_000;

export interface StorageControllerDeps {
  objects: ObjectStore;
  clusters: () => ClusterRef[];
  disks: VolumeDisks;
  /** EFS, for efs.csi.aws.com (none: EFS-class claims stay Pending). */
  efs?: EfsApi;
  /** The add-ons' CSI drivers; their CSIDriver objects are kept in each cluster. */
  installed?: InstalledDrivers;
  clock: Clock | TimerClock;
  logger: Logger;
  resyncMs?: number;
}

export interface StorageControllers {
  stop(): Promise<void>;
  idle(): Promise<void>;
  resyncNow(): Promise<void>;
}

const SEP = "\u0001";

/** The CSIDriver objects the EKS add-ons install (as their Helm charts do). */
const DRIVER_OBJECTS: Record<string, { addon: string; attachRequired: boolean; fsGroupPolicy?: string }> = {
  [EBS_DRIVER]: { addon: "aws-ebs-csi-driver", attachRequired: true, fsGroupPolicy: "ReadWriteOnceWithFSType" },
  [EFS_DRIVER]: { addon: "aws-efs-csi-driver", attachRequired: false, fsGroupPolicy: "ReadWriteOnceWithFSType" },
};

/** A deterministic EBS-style id for a claim's volume: a retried provisioning finds the same one. */
export const ebsVolumeIdFor = (claimUid: string) =>
  `vol-${createHash("sha256").update(claimUid).digest("hex").slice(0, 17)}`;

export function startStorageControllers(deps: StorageControllerDeps): StorageControllers {
  const { objects, logger } = deps;
  const watched = new Map<string, { ref: ClusterRef; watch: Watch }>();
  const pvEvents = eventRecorder(objects, { component: "persistentvolume-controller", clock: deps.clock, logger });
  const provisionerEvents = (driver: string) =>
    eventRecorder(objects, { component: `${driver}_berth`, clock: deps.clock, logger });
  const attachEvents = eventRecorder(objects, { component: "attachdetach-controller", clock: deps.clock, logger });

  const claimKey = (c: ClusterRef, ns: string, name: string) => [clusterKey(c), "pvc", ns, name].join(SEP);
  const volumeKey = (c: ClusterRef, name: string) => [clusterKey(c), "pv", name].join(SEP);
  const attachKey = (c: ClusterRef) => [clusterKey(c), "attach"].join(SEP);
  const driversKey = (c: ClusterRef) => [clusterKey(c), "drivers"].join(SEP);

  const queue = new WorkQueue(
    async (k) => {
      const [ck, kind, a = "", b = ""] = k.split(SEP);
      const cluster = watched.get(ck ?? "")?.ref;
      if (!cluster) return undefined;
      try {
        if (kind === "pvc") return await syncClaim(cluster, a, b);
        if (kind === "pv") return await syncVolume(cluster, a);
        if (kind === "attach") return syncAttachments(cluster);
        syncDrivers(cluster);
        return undefined;
      } catch (e) {
        if (e instanceof KubeError && e.reason === "Conflict") return { requeueAfterMs: 0 };
        throw e;
      }
    },
    4,
    (k, err) =>
      logger.warn({ key: k.replaceAll(SEP, "/"), err: (err as Error).message }, "storage reconcile failed; retrying"),
    deps.clock,
  );

  const installedDrivers = (c: ClusterRef) =>
    objects
      .list(c, R.csidrivers)
      .items.filter((d) => !d.metadata.deletionTimestamp)
      .map((d) => d.metadata.name ?? "");
  const attachRequired = (c: ClusterRef) =>
    objects
      .list(c, R.csidrivers)
      .items.filter((d) => (d.spec as { attachRequired?: boolean } | undefined)?.attachRequired !== false)
      .map((d) => d.metadata.name ?? "");

  // --- claims ----------------------------------------------------------------------------------

  const syncClaim = async (c: ClusterRef, ns: string, name: string) => {
    const claim = objects.get(c, R.persistentvolumeclaims, ns, name);
    if (!claim) return undefined;
    const pods = objects.list(c, R.pods, ns).items;
    // pvc-protection: every claim carries the finalizer; a claim being deleted keeps it while pods use it.
    if (claim.metadata.deletionTimestamp) {
      if (claim.metadata.finalizers?.includes(PVC_PROTECTION) && podsUsingClaim(pods, claim).length === 0)
        removeFinalizer(c, R.persistentvolumeclaims, claim, PVC_PROTECTION);
      return undefined;
    }
    // Claims controllers write straight to the store (volumeClaimTemplates) start Pending, as the API's do.
    if (!(claim.status as { phase?: string } | undefined)?.phase) {
      writeClaimStatus(c, claim, { phase: "Pending" });
      return { requeueAfterMs: 0 };
    }
    if (!claim.metadata.finalizers?.includes(PVC_PROTECTION)) {
      addFinalizer(c, R.persistentvolumeclaims, claim, PVC_PROTECTION);
      return { requeueAfterMs: 0 };
    }
    const decision = planClaim({
      claim,
      volumes: objects.list(c, R.persistentvolumes).items,
      classes: objects.list(c, R.storageclasses).items,
      drivers: installedDrivers(c),
      pods,
      provisioners: PROVISIONERS,
    });
    switch (decision.kind) {
      case "steady":
        if (decision.status) writeClaimStatus(c, claim, decision.status);
        return undefined;
      case "setClass":
        objects.mutate(c, R.persistentvolumeclaims, ns, name, (cur) => {
          const spec = claimSpec(cur);
          if (spec.storageClassName !== undefined || cur.metadata.uid !== claim.metadata.uid) return undefined;
          return { ...cur, spec: { ...spec, storageClassName: decision.className } };
        });
        return { requeueAfterMs: 0 };
      case "bind":
        bind(c, claim, decision.volume);
        return undefined;
      case "lost":
        writeClaimStatus(c, claim, { phase: "Lost" });
        pvEvents.event(
          c,
          claim,
          "Warning",
          "ClaimLost",
          "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        );
        return undefined;
      case "wait":
        if (decision.annotate) annotate(c, claim, decision.annotate);
        if (decision.event)
          pvEvents.event(c, claim, decision.event.type, decision.event.reason, decision.event.message);
        return { requeueAfterMs: WAIT_MS };
      case "provision":
        return provision(c, claim, decision.className, decision.provisioner, decision.selectedNode);
    }
  };

  const writeClaimStatus = (c: ClusterRef, claim: KubeObject, status: Record<string, unknown>) =>
    objects.mutate(
      c,
      R.persistentvolumeclaims,
      claim.metadata.namespace,
      claim.metadata.name ?? "",
      (cur) => {
        if (cur.metadata.uid !== claim.metadata.uid) return undefined;
        if (JSON.stringify(cur.status ?? {}) === JSON.stringify(status)) return undefined;
        return { ...cur, status };
      },
      { subresource: "status" },
    );

  const annotate = (c: ClusterRef, o: KubeObject, annotations: Record<string, string>) => {
    const type = o.kind === "PersistentVolume" ? R.persistentvolumes : R.persistentvolumeclaims;
    objects.mutate(c, type, o.metadata.namespace, o.metadata.name ?? "", (cur) => {
      const have = cur.metadata.annotations ?? {};
      if (Object.entries(annotations).every(([k, v]) => have[k] === v)) return undefined;
      cur.metadata.annotations = { ...have, ...annotations };
      return cur;
    });
  };

  /** Binds both ways: the volume's claimRef first (as kube), then the claim's volumeName, then both statuses. */
  const bind = (c: ClusterRef, claim: KubeObject, volumeName: string) => {
    const ns = claim.metadata.namespace ?? "default";
    const pv = objects.mutate(c, R.persistentvolumes, undefined, volumeName, (cur) => {
      const ref = volumeSpec(cur).claimRef;
      if (ref?.uid === claim.metadata.uid) return undefined;
      if (ref?.uid && ref.uid !== claim.metadata.uid) throw new KubeError(409, "Conflict", "volume bound meanwhile");
      cur.spec = {
        ...volumeSpec(cur),
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: ns,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
          resourceVersion: claim.metadata.resourceVersion,
        },
      };
      cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [BOUND_BY_CONTROLLER]: "yes" };
      return cur;
    });
    const volume = pv ?? objects.get(c, R.persistentvolumes, undefined, volumeName);
    if (!volume) return;
    writeVolumePhase(c, volume, "Bound");
    objects.mutate(c, R.persistentvolumeclaims, ns, claim.metadata.name ?? "", (cur) => {
      if (cur.metadata.uid !== claim.metadata.uid) return undefined;
      const spec = claimSpec(cur);
      const ann = cur.metadata.annotations ?? {};
      if (spec.volumeName === volumeName && ann[BIND_COMPLETED] === "yes") return undefined;
      cur.spec = { ...spec, volumeName };
      cur.metadata.annotations = {
        ...ann,
        [BIND_COMPLETED]: "yes",
        ...(spec.volumeName ? {} : { [BOUND_BY_CONTROLLER]: "yes" }),
      };
      return cur;
    });
    writeClaimStatus(c, claim, boundStatus(volume));
  };

  const writeVolumePhase = (c: ClusterRef, v: KubeObject, phase: string) =>
    objects.mutate(
      c,
      R.persistentvolumes,
      undefined,
      v.metadata.name ?? "",
      (cur) => {
        const status = (cur.status ?? {}) as { phase?: string };
        if (status.phase === phase) return undefined;
        return {
          ...cur,
          status: {
            ...status,
            phase,
            lastPhaseTransitionTime: new Date(deps.clock.now()).toISOString().replace(/\.\d+Z$/, "Z"),
          },
        };
      },
      { subresource: "status" },
    );

  // --- provisioning ---------------------------------------------------------------------------

  const provision = async (c: ClusterRef, claim: KubeObject, className: string, driver: string, node?: string) => {
    const cls = objects.get(c, R.storageclasses, undefined, className);
    if (!cls) return { requeueAfterMs: 0 };
    const events = provisionerEvents(driver);
    const ns = claim.metadata.namespace ?? "default";
    annotate(c, claim, {
      [STORAGE_PROVISIONER]: driver,
      [BETA_STORAGE_PROVISIONER]: driver,
      ...(node && cls.volumeBindingMode === "WaitForFirstConsumer" ? { [SELECTED_NODE]: node } : {}),
    });
    const pvName = `pvc-${claim.metadata.uid}`;
    if (objects.get(c, R.persistentvolumes, undefined, pvName)) {
      bind(c, claim, pvName);
      return undefined;
    }
    const params = (cls.parameters ?? {}) as Record<string, string>;
    const failed = (message: string) => {
      events.event(
        c,
        claim,
        "Warning",
        "ProvisioningFailed",
        `failed to provision volume with StorageClass "${className}": ${message}`,
      );
      return { requeueAfterMs: WAIT_MS };
    };
    events.event(
      c,
      claim,
      "Normal",
      "Provisioning",
      `External provisioner is provisioning volume for claim "${ns}/${claim.metadata.name}"`,
    );
    const modes = claimSpec(claim).accessModes ?? [];
    let source: { csi: Record<string, unknown>; capacity: string; nodeAffinity?: unknown };
    if (driver === EBS_DRIVER) {
      const p = parseEbsParameters(params);
      if (!p.ok) return failed(p.error);
      if (modes.some((m) => m !== "ReadWriteOnce" && m !== "ReadWriteOncePod"))
        return failed(
          `rpc error: code = InvalidArgument desc = Volume capabilities ${modes.join(", ")} not supported: ebs.csi.aws.com volumes are ReadWriteOnce`,
        );
      if (claimSpec(claim).volumeMode === "Block")
        return failed("rpc error: code = InvalidArgument desc = Block volumes are not supported by Berth");
      const volumeId = ebsVolumeIdFor(claim.metadata.uid ?? "");
      deps.disks.create(c.scope, volumeId);
      const zone = node
        ? objects.get(c, R.nodes, undefined, node)?.metadata.labels?.["topology.kubernetes.io/zone"]
        : undefined;
      source = {
        capacity: `${ebsSizeGiB(requestedBytes(claim))}Gi`,
        csi: {
          driver,
          volumeHandle: volumeId,
          fsType: p.value.fsType,
          volumeAttributes: { "storage.kubernetes.io/csiProvisionerIdentity": `berth-${EBS_DRIVER}` },
        },
        ...(zone
          ? {
              nodeAffinity: {
                required: {
                  nodeSelectorTerms: [
                    { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: [zone] }] },
                  ],
                },
              },
            }
          : {}),
      };
    } else {
      const p = parseEfsParameters(params);
      if (!p.ok) return failed(p.error);
      if (!deps.efs) return failed("rpc error: code = Unavailable desc = EFS is not available");
      let handle: string;
      try {
        handle = await createAccessPoint(c, p.value, pvName, claim);
      } catch (e) {
        return failed(
          `rpc error: code = Internal desc = Failed to create Access point in File System ${p.value.fileSystemId} : ${(e as { code?: string }).code ?? "Error"}: ${(e as Error).message}`,
        );
      }
      source = {
        capacity: String(claimSpec(claim).resources?.requests?.storage ?? "5Gi"),
        csi: {
          driver,
          volumeHandle: handle,
          volumeAttributes: { "storage.kubernetes.io/csiProvisionerIdentity": `berth-${EFS_DRIVER}` },
        },
      };
    }
    const pv: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: {
        name: pvName,
        annotations: {
          [PROVISIONED_BY]: driver,
          "volume.kubernetes.io/provisioner-deletion-secret-name": "",
          "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
        },
        finalizers: [PV_PROTECTION, PROVISIONER_FINALIZER],
      },
      spec: {
        accessModes: modes,
        capacity: { storage: source.capacity },
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: ns,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
          resourceVersion: claim.metadata.resourceVersion,
        },
        csi: source.csi,
        persistentVolumeReclaimPolicy: String(cls.reclaimPolicy ?? "Delete"),
        storageClassName: className,
        volumeMode: claimSpec(claim).volumeMode ?? "Filesystem",
        ...(Array.isArray(cls.mountOptions) ? { mountOptions: cls.mountOptions } : {}),
        ...(source.nodeAffinity ? { nodeAffinity: source.nodeAffinity } : {}),
      },
    };
    try {
      objects.create(c, R.persistentvolumes, pv);
    } catch (e) {
      if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
    }
    events.event(c, claim, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${pvName}`);
    bind(c, claim, pvName);
    return undefined;
  };

  /** The EFS CSI driver's efs-ap mode: an access point per volume (ClientToken: the volume's name). */
  const createAccessPoint = async (
    c: ClusterRef,
    p: NonNullable<ReturnType<typeof parseEfsParameters> & { ok: true }>["value"],
    pvName: string,
    claim: KubeObject,
  ): Promise<string> => {
    const efs = deps.efs as EfsApi;
    await efs.send(c.scope, "DescribeFileSystems", { FileSystemId: p.fileSystemId });
    const aps = (await efs.send(c.scope, "DescribeAccessPoints", { FileSystemId: p.fileSystemId })).AccessPoints ?? [];
    const mine = aps.find((a) => a.ClientToken === pvName);
    if (mine) return `${p.fileSystemId}::${mine.AccessPointId}`;
    const gid =
      p.gid ??
      allocateGid(
        p,
        aps.map((a) => a.PosixUser?.Gid ?? -1),
      );
    if (gid === undefined)
      throw Object.assign(new Error("Failed to locate a free GID for given file system"), { code: "Internal" });
    const uid = p.uid ?? gid;
    const path = accessPointPath(
      p,
      { pv: pvName, pvc: claim.metadata.name ?? "", namespace: claim.metadata.namespace ?? "default" },
      randomUUID(),
    );
    const out = await efs.send(c.scope, "CreateAccessPoint", {
      ClientToken: pvName,
      FileSystemId: p.fileSystemId,
      PosixUser: { Uid: uid, Gid: gid },
      RootDirectory: { Path: path, CreationInfo: { OwnerUid: uid, OwnerGid: gid, Permissions: p.directoryPerms } },
      Tags: [
        { Key: "efs.csi.aws.com/cluster", Value: "true" },
        { Key: "Name", Value: pvName },
      ],
    });
    return `${p.fileSystemId}::${out.AccessPointId}`;
  };

  // --- volumes ----------------------------------------------------------------------------------

  const syncVolume = async (c: ClusterRef, name: string) => {
    const pv = objects.get(c, R.persistentvolumes, undefined, name);
    if (!pv) return undefined;
    const claims = objects.list(c, R.persistentvolumeclaims).items;
    if (pv.metadata.deletionTimestamp) {
      const d = planVolume({ ...pv, metadata: { ...pv.metadata, deletionTimestamp: undefined } }, claims);
      // pv-protection: held while a claim is bound to it.
      if (d.kind === "steady" && (d.phase ?? (pv.status as { phase?: string } | undefined)?.phase) === "Bound")
        return undefined;
      if (
        pv.metadata.finalizers?.includes(PROVISIONER_FINALIZER) &&
        volumeSpec(pv).persistentVolumeReclaimPolicy === "Delete"
      )
        await deleteBacking(c, pv);
      removeFinalizer(c, R.persistentvolumes, pv, PROVISIONER_FINALIZER);
      removeFinalizer(c, R.persistentvolumes, pv, PV_PROTECTION);
      return undefined;
    }
    const d = planVolume(pv, claims);
    switch (d.kind) {
      case "steady":
        if (d.phase) writeVolumePhase(c, pv, d.phase);
        return undefined;
      case "release":
        writeVolumePhase(c, pv, "Released");
        return { requeueAfterMs: 0 };
      case "retain":
        return undefined;
      case "delete": {
        const ours = [EBS_DRIVER, EFS_DRIVER].includes(pv.metadata.annotations?.[PROVISIONED_BY] ?? "");
        if (!ours) {
          writeVolumePhase(c, pv, "Failed");
          pvEvents.event(
            c,
            pv,
            "Warning",
            "VolumeFailedDelete",
            "error getting deleter volume plugin for volume: no deletable volume plugin matched",
          );
          return undefined;
        }
        // Still attached somewhere: wait for the detach.
        const attached = objects
          .list(c, R.volumeattachments)
          .items.some(
            (a) => (a.spec as { source?: { persistentVolumeName?: string } }).source?.persistentVolumeName === name,
          );
        if (attached) return { requeueAfterMs: 2000 };
        await deleteBacking(c, pv);
        removeFinalizer(c, R.persistentvolumes, pv, PROVISIONER_FINALIZER);
        removeFinalizer(c, R.persistentvolumes, pv, PV_PROTECTION);
        try {
          objects.delete(c, R.persistentvolumes, undefined, name, { uid: pv.metadata.uid });
        } catch (e) {
          if (!(e instanceof KubeError && (e.reason === "NotFound" || e.reason === "Conflict"))) throw e;
        }
        return undefined;
      }
    }
  };

  /** Deletes what a provisioned volume stands for: its directory, or its access point. */
  const deleteBacking = async (c: ClusterRef, pv: KubeObject) => {
    const csi = volumeSpec(pv).csi;
    if (csi?.driver === EBS_DRIVER && csi.volumeHandle && /^vol-[0-9a-f]+$/.test(csi.volumeHandle))
      deps.disks.remove(c.scope, csi.volumeHandle);
    if (csi?.driver === EFS_DRIVER && deps.efs) {
      const h = parseEfsHandle(csi.volumeHandle ?? "");
      if (!h.accessPointId) return;
      try {
        await deps.efs.send(c.scope, "DeleteAccessPoint", { AccessPointId: h.accessPointId });
      } catch (e) {
        if ((e as { code?: string }).code !== "AccessPointNotFound") throw e;
      }
    }
  };

  // --- attachments ---------------------------------------------------------------------------

  const syncAttachments = (c: ClusterRef) => {
    const attachments = objects.list(c, R.volumeattachments).items;
    const plan = planAttachments({
      pods: objects.list(c, R.pods).items,
      claims: objects.list(c, R.persistentvolumeclaims).items,
      volumes: objects.list(c, R.persistentvolumes).items,
      attachRequired: attachRequired(c),
      attachments,
    });
    for (const name of plan.delete)
      try {
        objects.delete(c, R.volumeattachments, undefined, name);
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "NotFound")) throw e;
      }
    for (const a of plan.create) {
      try {
        objects.create(c, R.volumeattachments, {
          apiVersion: "storage.k8s.io/v1",
          kind: "VolumeAttachment",
          metadata: { name: a.name },
          spec: { attacher: a.attacher, nodeName: a.node, source: { persistentVolumeName: a.volume } },
        });
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
      }
      // The attacher's answer: a directory needs no attaching, so at once.
      objects.mutate(
        c,
        R.volumeattachments,
        undefined,
        a.name,
        (cur) =>
          (cur.status as { attached?: boolean } | undefined)?.attached
            ? undefined
            : { ...cur, status: { attached: true } },
        { subresource: "status" },
      );
      const pods = objects.list(c, R.pods).items.filter((p) => (p.spec as { nodeName?: string }).nodeName === a.node);
      for (const p of pods)
        if (
          claimNamesOf(p).some(
            (n) =>
              claimSpec(objects.get(c, R.persistentvolumeclaims, p.metadata.namespace, n) ?? p).volumeName === a.volume,
          )
        )
          attachEvents.event(
            c,
            p,
            "Normal",
            "SuccessfulAttachVolume",
            `AttachVolume.Attach succeeded for volume "${a.volume}"`,
          );
    }
    for (const m of plan.multiAttach) {
      const others = m.otherNodes.length;
      attachEvents.event(
        c,
        m.pod,
        "Warning",
        "FailedAttachVolume",
        `Multi-Attach error for volume "${m.volume}" Volume is already exclusively attached to ${others} node(s) and can't be attached to another`,
      );
    }
    return plan.multiAttach.length ? { requeueAfterMs: 5000 } : undefined;
  };

  // --- the add-ons' CSIDriver objects ------------------------------------------------------------

  const syncDrivers = (c: ClusterRef) => {
    if (!deps.installed) return;
    const want = new Set(deps.installed.drivers(c));
    const have = objects.list(c, R.csidrivers).items;
    for (const name of want) {
      const d = DRIVER_OBJECTS[name];
      if (!d || have.some((x) => x.metadata.name === name)) continue;
      try {
        objects.create(c, R.csidrivers, {
          apiVersion: "storage.k8s.io/v1",
          kind: "CSIDriver",
          metadata: { name, labels: { "app.kubernetes.io/name": d.addon, [MANAGED_BY]: "EKS" } },
          spec: {
            attachRequired: d.attachRequired,
            podInfoOnMount: false,
            ...(d.fsGroupPolicy ? { fsGroupPolicy: d.fsGroupPolicy } : {}),
            volumeLifecycleModes: ["Persistent"],
          },
        });
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
      }
    }
    for (const x of have)
      if (
        x.metadata.labels?.[MANAGED_BY] === "EKS" &&
        DRIVER_OBJECTS[x.metadata.name ?? ""] &&
        !want.has(x.metadata.name ?? "")
      )
        try {
          objects.delete(c, R.csidrivers, undefined, x.metadata.name ?? "");
        } catch (e) {
          if (!(e instanceof KubeError && e.reason === "NotFound")) throw e;
        }
  };

  // --- finalizers -------------------------------------------------------------------------------

  const addFinalizer = (c: ClusterRef, type: ResourceType, o: KubeObject, finalizer: string) =>
    objects.mutate(c, type, o.metadata.namespace, o.metadata.name ?? "", (cur) => {
      if (
        cur.metadata.uid !== o.metadata.uid ||
        cur.metadata.finalizers?.includes(finalizer) ||
        cur.metadata.deletionTimestamp
      )
        return undefined;
      cur.metadata.finalizers = [...(cur.metadata.finalizers ?? []), finalizer];
      return cur;
    });

  const removeFinalizer = (c: ClusterRef, type: ResourceType, o: KubeObject, finalizer: string) =>
    objects.mutate(c, type, o.metadata.namespace, o.metadata.name ?? "", (cur) => {
      if (cur.metadata.uid !== o.metadata.uid || !cur.metadata.finalizers?.includes(finalizer)) return undefined;
      const kept = cur.metadata.finalizers.filter((f) => f !== finalizer);
      if (kept.length) cur.metadata.finalizers = kept;
      else delete cur.metadata.finalizers;
      return cur;
    });

  // --- what wakes what -----------------------------------------------------------------------------

  const enqueueAll = (c: ClusterRef) => {
    for (const pvc of objects.list(c, R.persistentvolumeclaims).items)
      queue.add(claimKey(c, pvc.metadata.namespace ?? "default", pvc.metadata.name ?? ""));
    for (const pv of objects.list(c, R.persistentvolumes).items) queue.add(volumeKey(c, pv.metadata.name ?? ""));
    queue.add(attachKey(c));
    queue.add(driversKey(c));
  };

  const onEvents = (c: ClusterRef, events: WatchEvent[]) => {
    let claimsAll = false;
    for (const { object: o } of events) {
      const ns = o.metadata.namespace ?? "default";
      switch (o.kind) {
        case "PersistentVolumeClaim": {
          queue.add(claimKey(c, ns, o.metadata.name ?? ""));
          const vn = claimSpec(o).volumeName;
          if (vn) queue.add(volumeKey(c, vn));
          for (const pv of objects.list(c, R.persistentvolumes).items)
            if (volumeSpec(pv).claimRef?.name === o.metadata.name) queue.add(volumeKey(c, pv.metadata.name ?? ""));
          queue.add(attachKey(c));
          break;
        }
        case "PersistentVolume": {
          queue.add(volumeKey(c, o.metadata.name ?? ""));
          const ref = volumeSpec(o).claimRef;
          if (ref?.name) queue.add(claimKey(c, ref.namespace ?? "default", ref.name));
          if (!ref) claimsAll = true;
          break;
        }
        case "Pod":
          for (const n of claimNamesOf(o)) queue.add(claimKey(c, ns, n));
          if (claimNamesOf(o).length) queue.add(attachKey(c));
          break;
        case "VolumeAttachment": {
          const pvName = (o.spec as { source?: { persistentVolumeName?: string } } | undefined)?.source
            ?.persistentVolumeName;
          if (pvName) queue.add(volumeKey(c, pvName));
          queue.add(attachKey(c));
          break;
        }
        case "StorageClass":
        case "CSIDriver":
          claimsAll = true;
          queue.add(attachKey(c));
          break;
      }
    }
    if (claimsAll)
      for (const pvc of objects.list(c, R.persistentvolumeclaims).items)
        if ((pvc.status as { phase?: string } | undefined)?.phase !== "Bound")
          queue.add(claimKey(c, pvc.metadata.namespace ?? "default", pvc.metadata.name ?? ""));
  };

  const discover = (all: boolean) => {
    const want = new Map(deps.clusters().map((c) => [clusterKey(c), c] as const));
    for (const [k, entry] of watched)
      if (!want.has(k)) {
        entry.watch.stop();
        watched.delete(k);
      }
    for (const [k, ref] of want) {
      if (!watched.has(k)) {
        const watch = objects.watch(
          ref,
          [R.persistentvolumeclaims, R.persistentvolumes, R.pods, R.storageclasses, R.csidrivers, R.volumeattachments],
          { from: objects.head() },
          (events) => onEvents(ref, events),
        );
        watched.set(k, { ref, watch });
        enqueueAll(ref);
      } else if (all) enqueueAll(ref);
      // The add-ons change outside the cluster's objects: looked at every tick.
      queue.add(driversKey(ref));
    }
  };

  const discovery = periodic(() => discover(false), {
    name: "storage controllers cluster discovery",
    everyMs: 2000,
    logger,
    clock: deps.clock,
  });
  const resync = periodic(() => discover(true), {
    name: "storage controllers resync",
    everyMs: deps.resyncMs ?? 30_000,
    logger,
    clock: deps.clock,
    runAtStart: true,
  });
  void resync.start();
  void discovery.start();

  return {
    async stop() {
      resync.stop();
      discovery.stop();
      for (const { watch } of watched.values()) watch.stop();
      watched.clear();
      queue.close();
      await queue.idle();
    },
    idle: () => queue.idle(),
    async resyncNow() {
      await resync.runNow();
    },
  };
}
