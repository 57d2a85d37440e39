/**
 * The ReplicaSet controller's decisions (kube's replica_set.go), PURE: which pods to adopt and
 * release, how many to create, which surplus pods to delete, and the status.
 */
import type { LabelSelector } from "../../../kube/labels.js";
import type { KubeObject } from "../../../kube/types.js";
import {
  availableAt,
  claimDecision,
  controllerRef,
  createdMs,
  hasSelector,
  int,
  isPodActive,
  isPodAvailable,
  isPodReady,
  phaseOf,
  type PodTemplate,
  podSpec,
  podStatus,
  readyCondition,
} from "../common.js";

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: unknown[];
}

export const rsSpec = (rs: KubeObject) => (rs.spec ?? {}) as ReplicaSetSpec;
export const rsStatus = (rs: KubeObject) => (rs.status ?? { replicas: 0 }) as ReplicaSetStatus;
export const rsReplicas = (rs: KubeObject) => int(rsSpec(rs).replicas, 1);

export interface ReplicaSetPlan {
  /** Orphan pods matching the selector: get a controller reference to the ReplicaSet. */
  adopt: string[];
  /** Owned pods that no longer match: lose the reference. */
  release: string[];
  /** Pods to create from the template. */
  create: number;
  /** Surplus pods, the cheapest to lose first. */
  delete: string[];
  /** The new status, when it differs from the stored one. */
  status?: ReplicaSetStatus;
  /** Look again then (a ready pod becomes available after minReadySeconds). */
  requeueAfterMs?: number;
}

/** The pods a ReplicaSet counts (active, and its own or adopted), from the namespace's pods. */
export function claimedPods(rs: KubeObject, pods: KubeObject[]) {
  const owned: KubeObject[] = [];
  const adopt: string[] = [];
  const release: string[] = [];
  for (const p of pods) {
    if (!isPodActive(p)) continue;
    const d = claimDecision(rs, rsSpec(rs).selector, p);
    if (d === "owned") owned.push(p);
    else if (d === "adopt") {
      adopt.push(p.metadata.name ?? "");
      owned.push(p);
    } else if (d === "release") release.push(p.metadata.name ?? "");
  }
  return { owned, adopt, release };
}

export function planReplicaSet(rs: KubeObject, pods: KubeObject[], nowMs: number): ReplicaSetPlan {
  const spec = rsSpec(rs);
  const { owned, adopt, release } = hasSelector(spec.selector)
    ? claimedPods(rs, pods)
    : { owned: [], adopt: [], release: [] };
  const replicas = rsReplicas(rs);
  let create = 0;
  let del: string[] = [];
  if (!rs.metadata.deletionTimestamp && hasSelector(spec.selector)) {
    const diff = owned.length - replicas;
    if (diff < 0) create = -diff;
    else if (diff > 0) del = podsToDelete(owned, diff);
  }
  const minReady = int(spec.minReadySeconds, 0);
  // The status after this pass: deleted pods gone, created ones counted (not yet ready).
  const gone = new Set(del);
  const status = replicaSetStatus(
    rs,
    owned.filter((p) => !gone.has(p.metadata.name ?? "")),
    nowMs,
    create,
  );
  const changed = JSON.stringify(status) !== JSON.stringify(normalizeRsStatus(rs.status));
  let requeueAfterMs: number | undefined;
  if (minReady > 0) {
    const next = owned
      .map((p) => availableAt(p, minReady))
      .filter((t): t is number => t !== undefined && t > nowMs)
      .sort((a, b) => a - b)[0];
    if (next !== undefined) requeueAfterMs = next - nowMs;
  }
  return { adopt, release, create, delete: del, status: changed ? status : undefined, requeueAfterMs };
}

/** kube's calculateStatus for a ReplicaSet: the counts of its active pods. */
export function replicaSetStatus(rs: KubeObject, owned: KubeObject[], nowMs: number, creating = 0): ReplicaSetStatus {
  const spec = rsSpec(rs);
  const tl = spec.template?.metadata?.labels ?? {};
  const minReady = int(spec.minReadySeconds, 0);
  const fully = owned.filter((p) => Object.entries(tl).every(([k, v]) => p.metadata.labels?.[k] === v)).length;
  const ready = owned.filter(isPodReady).length;
  const available = owned.filter((p) => isPodAvailable(p, minReady, nowMs)).length;
  const prev = (rs.status ?? {}) as ReplicaSetStatus;
  return normalizeRsStatus({
    replicas: owned.length + creating,
    fullyLabeledReplicas: fully + creating,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation,
    conditions: prev.conditions,
  });
}

/** Drops zero and empty fields (they are omitempty in kube's JSON, except replicas). */
export function normalizeRsStatus(s: unknown): ReplicaSetStatus {
  const x = (s ?? {}) as ReplicaSetStatus;
  const out: ReplicaSetStatus = { replicas: x.replicas ?? 0 };
  if (x.fullyLabeledReplicas) out.fullyLabeledReplicas = x.fullyLabeledReplicas;
  if (x.readyReplicas) out.readyReplicas = x.readyReplicas;
  if (x.availableReplicas) out.availableReplicas = x.availableReplicas;
  if (x.observedGeneration) out.observedGeneration = x.observedGeneration;
  if (x.conditions?.length) out.conditions = x.conditions;
  return out;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const restarts = (p: KubeObject) =>
  Math.max(0, ...(podStatus(p).containerStatuses ?? []).map((c) => c.restartCount ?? 0));

/**
 * The `n` pods to delete, cheapest first, as kube's ActivePodsWithRanks orders them: unscheduled
 * before scheduled, pending before running, not ready before ready, pods sharing a node with more
 * of their siblings first, ready for less time first, more restarts first, newer first.
 */
export function podsToDelete(pods: KubeObject[], n: number): string[] {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = podSpec(p).nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: KubeObject) => {
    const node = podSpec(p).nodeName;
    return node ? (perNode.get(node) ?? 0) : 0;
  };
  const sorted = [...pods].sort((a, b) => {
    const na = podSpec(a).nodeName ? 1 : 0;
    const nb = podSpec(b).nodeName ? 1 : 0;
    if (na !== nb) return na - nb;
    const pa = PHASE_RANK[phaseOf(a)] ?? 0;
    const pb = PHASE_RANK[phaseOf(b)] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ra && rb) {
      const ta = Date.parse(readyCondition(a)?.lastTransitionTime ?? "") || 0;
      const tb = Date.parse(readyCondition(b)?.lastTransitionTime ?? "") || 0;
      if (ta !== tb) return tb - ta;
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    return createdMs(b) - createdMs(a) || (b.metadata.name ?? "").localeCompare(a.metadata.name ?? "");
  });
  return sorted.slice(0, n).map((p) => p.metadata.name ?? "");
}

/**
 * A pod from a controller's template (kube's GetPodFromTemplate): the template's labels,
 * annotations, finalizers and spec, `generateName` `<owner>-` (or a fixed name), a controller
 * reference to the owner.
 */
export function podFromTemplate(
  template: PodTemplate | undefined,
  owner: KubeObject,
  opts: { name?: string; generateName?: string; labels?: Record<string, string> } = {},
): KubeObject {
  const meta = structuredClone(template?.metadata ?? {}) as Record<string, unknown>;
  const labels = { ...((meta.labels as Record<string, string> | undefined) ?? {}), ...(opts.labels ?? {}) };
  const metadata: KubeObject["metadata"] = {
    ...(opts.name
      ? { name: opts.name }
      : { generateName: opts.generateName ?? `${podsPrefix(owner.metadata.name ?? "")}` }),
    namespace: owner.metadata.namespace,
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(meta.annotations ? { annotations: meta.annotations as Record<string, string> } : {}),
    ...(meta.finalizers ? { finalizers: meta.finalizers as string[] } : {}),
    ownerReferences: [controllerRef(owner)],
  };
  return { apiVersion: "v1", kind: "Pod", metadata, spec: structuredClone(template?.spec ?? {}) };
}

/** `<name>-`, shortened so a generated name stays within 63 characters (kube's getPodsPrefix). */
export const podsPrefix = (name: string) => {
  const prefix = `${name}-`;
  return prefix.length > 58 ? prefix.slice(0, 58) : prefix;
};
