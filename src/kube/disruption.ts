/**
 * PodDisruptionBudgets. PURE: a budget's status from its pods and their controllers' scale (the
 * disruption controller's arithmetic), and whether an eviction may go ahead (the eviction
 * subresource's rules), both as kube-controller-manager and kube-apiserver do them.
 */
import { type LabelSelector, matchesSelector } from "./labels.js";
import type { KubeObject } from "./types.js";

/** How long an eviction counts against a budget before the pod is seen gone (kube: 2 minutes). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;
/** At most this many evictions not yet confirmed by the controller (kube's MaxDisruptedPodSize). */
export const MAX_DISRUPTED_PODS = 2000;

export interface PdbSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  selector?: LabelSelector | null;
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
}

export interface PdbStatus {
  observedGeneration: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: {
    type: string;
    status: string;
    reason: string;
    message: string;
    observedGeneration: number;
    lastTransitionTime: string;
  }[];
}

const phaseOf = (p: KubeObject) => (p.status as { phase?: string } | undefined)?.phase;
const isReady = (p: KubeObject) =>
  ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === "Ready" && c.status === "True",
  );

/** The pods of the budget's namespace its selector picks (an empty selector picks all, a missing one none). */
export function podsOfBudget(pdb: KubeObject, pods: KubeObject[]): KubeObject[] {
  const spec = (pdb.spec ?? {}) as PdbSpec;
  return pods.filter(
    (p) => p.metadata.namespace === pdb.metadata.namespace && matchesSelector(spec.selector, p.metadata.labels),
  );
}

/** An int-or-percent against a total; percentages round up (GetScaledValueFromIntOrPercent(…, true)). */
export function scaled(v: number | string, total: number): number | undefined {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  if (/^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** A pod's controller (kind/name), if it has one. */
const controllerOf = (p: KubeObject) => p.metadata.ownerReferences?.find((r) => r.controller);

/**
 * The budget's status: expected pods (the controllers' scale for maxUnavailable and percentages,
 * else the matching pods), desired and current healthy (ready, not deleting, not just evicted),
 * disruptions allowed, the DisruptionAllowed condition. `scaleOf` answers a controller's replicas
 * (undefined: unknown, so the budget cannot be computed and allows nothing).
 */
export function budgetStatus(
  pdb: KubeObject,
  pods: KubeObject[],
  scaleOf: (namespace: string, kind: string, name: string) => number | undefined,
  nowMs: number,
  prev?: Partial<PdbStatus>,
): PdbStatus {
  const spec = (pdb.spec ?? {}) as PdbSpec;
  const mine = podsOfBudget(pdb, pods);
  const generation = pdb.metadata.generation ?? 1;
  // Evictions not yet seen through: the pod is still there, not deleting, and the eviction recent.
  const disrupted: Record<string, string> = {};
  for (const [name, at] of Object.entries(prev?.disruptedPods ?? {})) {
    const pod = mine.find((p) => p.metadata.name === name);
    if (pod && !pod.metadata.deletionTimestamp && Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS > nowMs)
      disrupted[name] = at;
  }
  const currentHealthy = mine.filter(
    (p) => !p.metadata.deletionTimestamp && isReady(p) && !((p.metadata.name ?? "") in disrupted),
  ).length;
  let expected = mine.length;
  let desired = 0;
  let failed: string | undefined;
  const controllersScale = () => {
    const seen = new Map<string, number>();
    for (const p of mine) {
      const ref = controllerOf(p);
      if (!ref) {
        failed = `found no controllers for pod "${p.metadata.name}"`;
        return 0;
      }
      const key = `${ref.kind}/${ref.name}`;
      if (seen.has(key)) continue;
      const n = scaleOf(p.metadata.namespace ?? "", ref.kind, ref.name);
      if (n === undefined) {
        failed = `found no controller for ${ref.kind} "${ref.name}"`;
        return 0;
      }
      seen.set(key, n);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  };
  if (spec.maxUnavailable !== undefined) {
    expected = controllersScale();
    desired = Math.max(0, expected - (scaled(spec.maxUnavailable, expected) ?? 0));
  } else if (spec.minAvailable !== undefined) {
    if (typeof spec.minAvailable === "number" || /^\d+$/.test(spec.minAvailable)) {
      expected = mine.length;
      desired = Number(spec.minAvailable);
    } else {
      expected = controllersScale();
      desired = scaled(spec.minAvailable, expected) ?? 0;
    }
  }
  const allowed = failed ? 0 : Math.max(0, currentHealthy - desired);
  const status = allowed > 0 ? "True" : "False";
  const reason = failed ? "SyncFailed" : allowed > 0 ? "SufficientPods" : "InsufficientPods";
  const old = prev?.conditions?.find((c) => c.type === "DisruptionAllowed");
  const now = `${new Date(nowMs).toISOString().slice(0, 19)}Z`;
  return {
    observedGeneration: generation,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: [
      {
        type: "DisruptionAllowed",
        status,
        reason,
        message: failed ?? "",
        observedGeneration: generation,
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
      },
    ],
  };
}

export type EvictionDecision =
  /** Delete the pod; with `budget`, first count the eviction against it (disruptionsAllowed - 1, disruptedPods). */
  { allowed: true; budget?: string } | { allowed: false; code: 429 | 403 | 500; message: string; cause?: string };

export const EVICTION_DENIED = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Whether the eviction subresource lets a pod go, given the budgets of its namespace (kube-apiserver's rules). */
export function evictionDecision(pod: KubeObject, budgets: KubeObject[]): EvictionDecision {
  const phase = phaseOf(pod);
  // Pods that do not count toward any budget (canIgnorePDB).
  if (phase === "Succeeded" || phase === "Failed" || phase === "Pending" || pod.metadata.deletionTimestamp)
    return { allowed: true };
  const mine = budgets.filter(
    (b) =>
      b.metadata.namespace === pod.metadata.namespace &&
      matchesSelector(((b.spec ?? {}) as PdbSpec).selector, pod.metadata.labels),
  );
  if (mine.length === 0) return { allowed: true };
  if (mine.length > 1)
    return {
      allowed: false,
      code: 500,
      message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    };
  const pdb = mine[0];
  const name = pdb.metadata.name ?? "";
  const spec = (pdb.spec ?? {}) as PdbSpec;
  const st = (pdb.status ?? {}) as Partial<PdbStatus>;
  if (!isReady(pod)) {
    if (spec.unhealthyPodEvictionPolicy === "AlwaysAllow") return { allowed: true };
    if ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0) return { allowed: true };
  }
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1))
    return {
      allowed: false,
      code: 429,
      message: EVICTION_DENIED,
      cause: `The disruption budget ${name} is still being processed by the server.`,
    };
  const allowed = st.disruptionsAllowed ?? 0;
  if (allowed < 0) return { allowed: false, code: 403, message: "pdb disruptions allowed is negative" };
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS)
    return {
      allowed: false,
      code: 403,
      message: "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
    };
  if (allowed === 0)
    return {
      allowed: false,
      code: 429,
      message: EVICTION_DENIED,
      cause: `The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
    };
  return { allowed: true, budget: name };
}
