/**
 * The PV controller's decisions (kube's pkg/controller/volume/persistentvolume syncClaim /
 * syncVolume, and the external-provisioner's), over plain objects. PURE: the applier in
 * controller.ts does what they say.
 */
import type { KubeObject } from "../../../kube/types.js";
import {
  claimClass,
  claimSpec,
  defaultClass,
  findMatchingVolume,
  phaseOf,
  podsUsingClaim,
  volumeSpec,
} from "./binding.js";

export const BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
export const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
export const STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
export const SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const PVC_PROTECTION = "kubernetes.io/pvc-protection";
export const PV_PROTECTION = "kubernetes.io/pv-protection";

export interface PlannedEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export type ClaimDecision =
  /** Bound, or being deleted: nothing to do but keep the status right. */
  | { kind: "steady"; status?: Record<string, unknown> }
  /** No class asked for and the cluster has a default: the claim gets it (DefaultStorageClass). */
  | { kind: "setClass"; className: string }
  /** Bind claim and volume (both sides). */
  | { kind: "bind"; volume: string }
  /** Make a volume for the claim (the class's provisioner is installed). */
  | { kind: "provision"; className: string; provisioner: string; selectedNode?: string }
  /** Nothing can happen yet; say why (an event) and look again later. */
  | { kind: "wait"; event?: PlannedEvent; annotate?: Record<string, string> }
  /** Its volume vanished. */
  | { kind: "lost" };

export interface ClaimInputs {
  claim: KubeObject;
  volumes: KubeObject[];
  classes: KubeObject[];
  /** The CSI drivers installed in the cluster (CSIDriver objects). */
  drivers: string[];
  /** The namespace's pods (WaitForFirstConsumer waits for one). */
  pods: KubeObject[];
  /** Provisioners Berth can run (ebs.csi.aws.com, efs.csi.aws.com). */
  provisioners: readonly string[];
}

const classNamed = (classes: KubeObject[], name: string) => classes.find((s) => s.metadata.name === name);

export function planClaim(i: ClaimInputs): ClaimDecision {
  const { claim } = i;
  if (claim.metadata.deletionTimestamp) return { kind: "steady" };
  const spec = claimSpec(claim);
  const bound = spec.volumeName ? i.volumes.find((v) => v.metadata.name === spec.volumeName) : undefined;
  if (phaseOf(claim) === "Bound" || claim.metadata.annotations?.[BIND_COMPLETED]) {
    if (!spec.volumeName) return { kind: "steady" };
    if (!bound) return phaseOf(claim) === "Lost" ? { kind: "steady" } : { kind: "lost" };
    const ref = volumeSpec(bound).claimRef;
    if (ref?.uid && ref.uid !== claim.metadata.uid)
      return phaseOf(claim) === "Lost" ? { kind: "steady" } : { kind: "lost" };
    if (!ref) return { kind: "bind", volume: bound.metadata.name ?? "" };
    return { kind: "steady", status: boundStatus(bound) };
  }
  let className = claimClass(claim);
  if (className === undefined) {
    const def = defaultClass(i.classes);
    if (def) return { kind: "setClass", className: def.metadata.name ?? "" };
    className = "";
  }
  const match = findMatchingVolume(claim, i.volumes, className);
  const cls = className ? classNamed(i.classes, className) : undefined;
  const delayed = (cls as { volumeBindingMode?: string } | undefined)?.volumeBindingMode === "WaitForFirstConsumer";
  const consumers = podsUsingClaim(i.pods, claim);
  if (match && (!delayed || consumers.length || spec.volumeName))
    return { kind: "bind", volume: match.metadata.name ?? "" };
  if (spec.volumeName)
    return {
      kind: "wait",
      event: {
        type: "Warning",
        reason: "FailedBinding",
        message: `volume "${spec.volumeName}" not found or not available for this claim`,
      },
    };
  if (!className)
    return {
      kind: "wait",
      event: {
        type: "Normal",
        reason: "FailedBinding",
        message: "no persistent volumes available for this claim and no storage class is set",
      },
    };
  if (!cls)
    return {
      kind: "wait",
      event: {
        type: "Warning",
        reason: "ProvisioningFailed",
        message: `storageclass.storage.k8s.io "${className}" not found`,
      },
    };
  const provisioner = String((cls as { provisioner?: string }).provisioner ?? "");
  const selectedNode = claim.metadata.annotations?.[SELECTED_NODE];
  if (delayed && !selectedNode) {
    const node = consumers.map((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName).find(Boolean);
    if (!consumers.length)
      return {
        kind: "wait",
        event: {
          type: "Normal",
          reason: "WaitForFirstConsumer",
          message: "waiting for first consumer to be created before binding",
        },
      };
    // A consumer exists: provision for its node when it has one (the scheduler's choice), else anywhere.
    if (!i.provisioners.includes(provisioner) || !i.drivers.includes(provisioner))
      return waitForProvisioner(provisioner);
    return { kind: "provision", className, provisioner, ...(node ? { selectedNode: node } : {}) };
  }
  if (provisioner === "kubernetes.io/no-provisioner")
    return {
      kind: "wait",
      event: {
        type: "Normal",
        reason: "FailedBinding",
        message: "no persistent volumes available for this claim and no storage class is set",
      },
    };
  if (!i.provisioners.includes(provisioner) || !i.drivers.includes(provisioner)) return waitForProvisioner(provisioner);
  return { kind: "provision", className, provisioner, ...(selectedNode ? { selectedNode } : {}) };
}

/** kube's ExternalProvisioning event: nobody has provisioned the volume yet. */
function waitForProvisioner(provisioner: string): ClaimDecision {
  return {
    kind: "wait",
    annotate: { [STORAGE_PROVISIONER]: provisioner, [BETA_STORAGE_PROVISIONER]: provisioner },
    event: {
      type: "Normal",
      reason: "ExternalProvisioning",
      message: `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    },
  };
}

/** A bound claim's status: the volume's access modes and capacity. */
export function boundStatus(v: KubeObject): Record<string, unknown> {
  const vs = volumeSpec(v);
  return {
    phase: "Bound",
    accessModes: vs.accessModes ?? [],
    capacity: { storage: vs.capacity?.storage ?? "0" },
  };
}

export type VolumeDecision =
  | { kind: "steady"; phase?: string }
  /** The claim it was bound to is gone: Released, then its reclaim policy. */
  | { kind: "release" }
  | { kind: "delete" }
  /** Released with Retain: stays until an administrator deletes it. */
  | { kind: "retain" };

export function planVolume(v: KubeObject, claims: KubeObject[]): VolumeDecision {
  if (v.metadata.deletionTimestamp) return { kind: "steady" };
  const vs = volumeSpec(v);
  const ref = vs.claimRef;
  const phase = phaseOf(v);
  if (!ref) return phase === "Available" ? { kind: "steady" } : { kind: "steady", phase: "Available" };
  const claim = claims.find(
    (c) => c.metadata.name === ref.name && (c.metadata.namespace ?? "default") === (ref.namespace ?? "default"),
  );
  const alive = claim && (!ref.uid || claim.metadata.uid === ref.uid);
  if (alive) {
    // Pre-bound by an administrator and not yet taken up by the claim: Available until then.
    if (claimSpec(claim).volumeName !== v.metadata.name)
      return phase === "Available" ? { kind: "steady" } : { kind: "steady", phase: "Available" };
    return phase === "Bound" ? { kind: "steady" } : { kind: "steady", phase: "Bound" };
  }
  // A claimRef without a uid is a pre-binding to a claim not yet made: it stays Available.
  if (!ref.uid) return phase === "Available" ? { kind: "steady" } : { kind: "steady", phase: "Available" };
  if (phase !== "Released" && phase !== "Failed") return { kind: "release" };
  const policy = vs.persistentVolumeReclaimPolicy ?? "Retain";
  if (policy === "Delete") return { kind: "delete" };
  return { kind: "retain" };
}

/** kube's pvc-protection: a claim being deleted is held while a pod uses it. */
export function claimProtectionDone(claim: KubeObject, pods: KubeObject[]): boolean {
  return podsUsingClaim(pods, claim).length === 0;
}
