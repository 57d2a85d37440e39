/**
 * Evicting a pod (the pods/eviction subresource; drains use it too): the pure decision of
 * disruption.ts, then the budget's status counted down (disruptionsAllowed - 1, the pod in
 * disruptedPods) with compare-and-put on its resourceVersion, then the pod deleted gracefully.
 * A budget that allows nothing answers 429 TooManyRequests with kube-apiserver's cause.
 */
import { evictionDecision, type PdbStatus } from "./disruption.js";
import { KubeError, kubeErrors } from "./errors.js";
import type { ObjectStore } from "./objects.js";
import { R } from "./resources.js";
import type { ClusterRef, KubeObject } from "./types.js";

export interface EvictOptions {
  gracePeriodSeconds?: number;
  uid?: string;
  now: Date;
}

/** Evicts the pod, or throws the KubeError kube-apiserver answers (404, 429, 403, 500). */
export function evictPod(
  objects: ObjectStore,
  cluster: ClusterRef,
  namespace: string,
  name: string,
  opts: EvictOptions,
) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const pod = objects.get(cluster, R.pods, namespace, name);
    if (!pod) throw kubeErrors.notFound("", "pods", name);
    const budgets = objects.list(cluster, R.poddisruptionbudgets, namespace).items;
    const d = evictionDecision(pod, budgets);
    if (!d.allowed) throw denied(d.code, d.message, d.cause);
    if (d.budget) {
      const pdb = budgets.find((b) => b.metadata.name === d.budget)!;
      try {
        objects.update(cluster, R.poddisruptionbudgets, counted(pdb, name, opts.now), { subresource: "status" });
      } catch (e) {
        if (e instanceof KubeError && e.reason === "Conflict") continue; // decide again on the new budget
        throw e;
      }
    }
    return objects.delete(cluster, R.pods, namespace, name, {
      gracePeriodSeconds: opts.gracePeriodSeconds,
      uid: opts.uid ?? pod.metadata.uid,
    });
  }
  throw denied(429, "Cannot evict pod: its disruption budget keeps changing; try again.");
}

function counted(pdb: KubeObject, pod: string, now: Date): KubeObject {
  const st = (pdb.status ?? {}) as PdbStatus;
  return {
    ...pdb,
    status: {
      ...st,
      disruptionsAllowed: st.disruptionsAllowed - 1,
      disruptedPods: { ...(st.disruptedPods ?? {}), [pod]: `${now.toISOString().slice(0, 19)}Z` },
    },
  };
}

function denied(code: 429 | 403 | 500, message: string, cause?: string): KubeError {
  const details = cause ? { causes: [{ reason: "DisruptionBudget", message: cause }] } : undefined;
  if (code === 429) return new KubeError(429, "TooManyRequests", message, { ...details, retryAfterSeconds: 10 });
  if (code === 403) return new KubeError(403, "Forbidden", message, details);
  return kubeErrors.internal(message);
}
