/**
 * Which PersistentVolume a PersistentVolumeClaim binds to, as kube's PV controller decides it
 * (pkg/controller/volume/persistentvolume/index.go findMatchingVolume): class, access modes,
 * volume mode, capacity, selector, pre-binding in either direction; the smallest volume that
 * fits wins. PURE.
 */
import { matchesSelector, type LabelSelector } from "../../../kube/labels.js";
import type { KubeObject } from "../../../kube/types.js";
import { parseQuantity } from "../../../scheduler/pods-resources.js";

export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
export const BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class";

export interface ClaimSpec {
  accessModes?: string[];
  resources?: { requests?: { storage?: string | number } };
  selector?: LabelSelector;
  storageClassName?: string;
  volumeName?: string;
  volumeMode?: string;
}

export interface VolumeSpec {
  capacity?: { storage?: string | number };
  accessModes?: string[];
  storageClassName?: string;
  volumeMode?: string;
  persistentVolumeReclaimPolicy?: string;
  claimRef?: { namespace?: string; name?: string; uid?: string; kind?: string; apiVersion?: string };
  csi?: { driver?: string; volumeHandle?: string; readOnly?: boolean; volumeAttributes?: Record<string, string> };
  hostPath?: { path?: string };
  local?: { path?: string };
  nfs?: { path?: string };
}

export const claimSpec = (c: KubeObject) => (c.spec ?? {}) as ClaimSpec;
export const volumeSpec = (v: KubeObject) => (v.spec ?? {}) as VolumeSpec;
export const phaseOf = (o: KubeObject) => (o.status as { phase?: string } | undefined)?.phase;

/** The class a claim asks for: the beta annotation wins, as in kube; "" is "no class". */
export function claimClass(c: KubeObject): string | undefined {
  const beta = c.metadata.annotations?.[BETA_CLASS_ANNOTATION];
  return beta ?? claimSpec(c).storageClassName;
}

export function volumeClass(v: KubeObject): string {
  return v.metadata.annotations?.[BETA_CLASS_ANNOTATION] ?? volumeSpec(v).storageClassName ?? "";
}

/** Bytes a claim requests (0 when unset or malformed). */
export const requestedBytes = (c: KubeObject) => {
  const n = parseQuantity(claimSpec(c).resources?.requests?.storage);
  return Number.isFinite(n) ? n : 0;
};
export const capacityBytes = (v: KubeObject) => {
  const n = parseQuantity(volumeSpec(v).capacity?.storage);
  return Number.isFinite(n) ? n : 0;
};

/** Whether every access mode the claim asks for is one the volume offers. */
export function accessModesContain(offered: string[] | undefined, wanted: string[] | undefined): boolean {
  const have = new Set(offered ?? []);
  return (wanted ?? []).every((m) => have.has(m));
}

/** The volume is pre-bound (claimRef) to this claim. */
export function boundTo(v: KubeObject, c: KubeObject): boolean {
  const ref = volumeSpec(v).claimRef;
  if (!ref) return false;
  return (
    ref.name === c.metadata.name &&
    (ref.namespace ?? "default") === (c.metadata.namespace ?? "default") &&
    (!ref.uid || ref.uid === c.metadata.uid)
  );
}

/**
 * Why a volume cannot serve a claim, or undefined when it can (the claim's class already
 * resolved: "" means no class). A volume bound to another claim, or released, never matches.
 */
export function mismatch(v: KubeObject, c: KubeObject, className: string): string | undefined {
  const vs = volumeSpec(v);
  const cs = claimSpec(c);
  if (v.metadata.deletionTimestamp) return "being deleted";
  if (vs.claimRef && !boundTo(v, c)) return "bound to another claim";
  if (phaseOf(v) === "Released" || phaseOf(v) === "Failed") return `phase ${phaseOf(v)}`;
  if (volumeClass(v) !== className) return "storage class differs";
  if ((vs.volumeMode ?? "Filesystem") !== (cs.volumeMode ?? "Filesystem")) return "volume mode differs";
  if (!accessModesContain(vs.accessModes, cs.accessModes)) return "access modes not offered";
  if (capacityBytes(v) < requestedBytes(c)) return "too small";
  if (cs.selector && !matchesSelector(cs.selector, v.metadata.labels)) return "selector does not match";
  return undefined;
}

/**
 * The volume a claim binds to: the one pre-bound to it (spec.volumeName or a claimRef) when it
 * matches, else the smallest matching unbound volume (ties by name). Undefined when none.
 */
export function findMatchingVolume(c: KubeObject, volumes: KubeObject[], className: string): KubeObject | undefined {
  const want = claimSpec(c).volumeName;
  if (want) {
    const v = volumes.find((x) => x.metadata.name === want);
    return v && !mismatch(v, c, volumeClass(v)) && (!volumeSpec(v).claimRef || boundTo(v, c)) ? v : undefined;
  }
  const fits = volumes.filter((v) => !mismatch(v, c, className));
  const pre = fits.find((v) => boundTo(v, c));
  if (pre) return pre;
  // Claims with a selector never get a volume some other claim is pre-bound to; nor do others.
  return fits
    .filter((v) => !volumeSpec(v).claimRef)
    .sort(
      (a, b) => capacityBytes(a) - capacityBytes(b) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    )[0];
}

/** The default class of a cluster: the newest annotated one, as kube picks among several. */
export function defaultClass(classes: KubeObject[]): KubeObject | undefined {
  return classes
    .filter((s) => s.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true" && !s.metadata.deletionTimestamp)
    .sort(
      (a, b) =>
        (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "") ||
        (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    )[0];
}

/** The pods (not finished) that use a claim, by volume. */
export function podsUsingClaim(pods: KubeObject[], c: KubeObject): KubeObject[] {
  return pods.filter(
    (p) =>
      (p.metadata.namespace ?? "default") === (c.metadata.namespace ?? "default") &&
      !["Succeeded", "Failed"].includes(phaseOf(p) ?? "") &&
      claimNamesOf(p).includes(c.metadata.name ?? ""),
  );
}

/** The claim names a pod's volumes refer to. */
export function claimNamesOf(p: KubeObject): string[] {
  const vols = ((p.spec as { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } | undefined)?.volumes ??
    []) as { persistentVolumeClaim?: { claimName?: string } }[];
  return vols.map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => !!n);
}
