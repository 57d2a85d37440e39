/**
 * Shared, PURE helpers of the Kubernetes controllers: pod readiness and availability as kube's
 * podutil computes them, controller references, conditions, intOrString scaling, stable hashes.
 */
import { type LabelSelector, matchesSelector } from "../../kube/labels.js";
import type { KubeObject, OwnerReference } from "../../kube/types.js";

export interface PodCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
  reason?: string;
  message?: string;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: Record<string, unknown>;
}

export interface PodStatus {
  phase?: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatus[];
  startTime?: string;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

export const podStatus = (p: KubeObject): PodStatus => (p.status ?? {}) as PodStatus;
export const podSpec = (p: KubeObject) => (p.spec ?? {}) as { nodeName?: string; [k: string]: unknown };
export const phaseOf = (p: KubeObject) => podStatus(p).phase ?? "Pending";

/** A pod counts toward its controller: not being deleted and not finished (kube's FilterActivePods). */
export const isPodActive = (p: KubeObject) =>
  !p.metadata.deletionTimestamp && phaseOf(p) !== "Succeeded" && phaseOf(p) !== "Failed";

export const readyCondition = (p: KubeObject) => podStatus(p).conditions?.find((c) => c.type === "Ready");

/** Ready: the pod's Ready condition is True (the kubelet writes it). */
export const isPodReady = (p: KubeObject) => readyCondition(p)?.status === "True";

/** Available: ready for at least minReadySeconds (kube's IsPodAvailable). */
export function isPodAvailable(p: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  const c = readyCondition(p);
  if (c?.status !== "True") return false;
  if (!minReadySeconds) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : Number.NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= nowMs;
}

/** When a ready pod becomes available (ms), or undefined when it is not ready or has no transition time. */
export function availableAt(p: KubeObject, minReadySeconds: number): number | undefined {
  const c = readyCondition(p);
  if (c?.status !== "True" || !c.lastTransitionTime) return undefined;
  return Date.parse(c.lastTransitionTime) + minReadySeconds * 1000;
}

export const controllerRefOf = (o: KubeObject): OwnerReference | undefined =>
  o.metadata.ownerReferences?.find((r) => r.controller === true);

export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

export type ClaimDecision = "owned" | "adopt" | "release" | "ignore";

/**
 * kube's ControllerRefManager: an object controlled by the owner stays if its labels still match
 * (else it is released); an orphan that matches is adopted (unless the owner is being deleted).
 */
export function claimDecision(owner: KubeObject, selector: LabelSelector | undefined, o: KubeObject): ClaimDecision {
  const ref = controllerRefOf(o);
  const matches = hasSelector(selector) && matchesSelectorSafe(selector, o.metadata.labels);
  if (ref) {
    if (ref.uid !== owner.metadata.uid) return "ignore";
    if (matches) return "owned";
    return owner.metadata.deletionTimestamp ? "owned" : "release";
  }
  if (!matches || owner.metadata.deletionTimestamp || o.metadata.deletionTimestamp) return "ignore";
  return "adopt";
}

const matchesSelectorSafe = (s: LabelSelector | undefined, labels?: Record<string, string>) =>
  matchesSelector(s, labels ?? {});

/** A selector that selects something: workloads refuse an empty one (kube: "SelectingAll"). */
export const hasSelector = (s: LabelSelector | undefined): s is LabelSelector =>
  !!s && (Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions ?? []).length > 0);

/** intOrString: an int, or a percentage of total rounded up or down (kube's GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: number | string) {
  const x = v ?? dflt;
  if (typeof x === "number") return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    const n = Number(x);
    return Number.isInteger(n) ? n : 0;
  }
  const p = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(p) : Math.floor(p);
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string;
}

/**
 * Sets a condition as kube's SetDeploymentCondition does: the same status and reason leaves it
 * alone; the same status keeps its lastTransitionTime.
 */
export function setCondition(conds: Condition[], c: Condition): Condition[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return conds;
  const next = { ...c };
  if (cur && cur.status === c.status && cur.lastTransitionTime) next.lastTransitionTime = cur.lastTransitionTime;
  return [...conds.filter((x) => x.type !== c.type), next];
}

export const conditionOf = (conds: Condition[] | undefined, type: string) => conds?.find((c) => c.type === type);

/** RFC 3339 seconds, as Kubernetes writes times. */
export const rfc3339 = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** Deterministic JSON: object keys sorted, undefined dropped (for template equality and hashes). */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonical(x))).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(",")}}`;
}

/**
 * An object as Kubernetes' semantic equality sees it: null and unset are the same, and so are
 * empty and missing maps and lists (a template read back from a ReplicaSet by `kubectl rollout
 * undo` carries `creationTimestamp: null`, `resources: {}`).
 */
export function semantic(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(semantic);
    return a.length ? a : undefined;
  }
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const n = semantic(x);
    if (n !== undefined) out[k] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Semantic equality (kube's apiequality.Semantic.DeepEqual, near enough for templates). */
export const semanticEqual = (a: unknown, b: unknown) => canonical(semantic(a) ?? {}) === canonical(semantic(b) ?? {});

/** 32-bit FNV-1a, the hash kube's controllers use for template hashes. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, "utf8");
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";
/** kube's rand.SafeEncodeString: each character mapped into an alphabet with no vowels or look-alikes. */
export const safeEncode = (s: string) => [...s].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join("");

/** A template's hash as a label value: FNV-1a of its canonical JSON (and the collision count), safe-encoded. */
export function templateHash(template: unknown, collisionCount?: number): string {
  const base = canonical(semantic(template) ?? {}) + (collisionCount ? `#${collisionCount}` : "");
  return safeEncode(String(fnv32a(base)));
}

/** Creation time in ms (missing: treated as newest). */
export const createdMs = (o: KubeObject) =>
  o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : Number.MAX_SAFE_INTEGER;

/** Oldest first, then by name (kube's ...ByCreationTimestamp). */
export const byCreation = (a: KubeObject, b: KubeObject) =>
  createdMs(a) - createdMs(b) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");

export const int = (v: unknown, dflt: number): number => (typeof v === "number" && Number.isFinite(v) ? v : dflt);
