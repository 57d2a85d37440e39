/**
 * The disruption controller: keeps every PodDisruptionBudget's status (expected, desired and
 * current healthy pods, disruptions allowed, DisruptionAllowed) as kube-controller-manager does,
 * from kube/disruption.ts; the eviction subresource reads and counts it down.
 */
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { budgetStatus, type PdbStatus } from "../../kube/disruption.js";
import { KubeError } from "../../kube/errors.js";
import type { ObjectStore } from "../../kube/objects.js";
import { R } from "../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../kube/types.js";
import { type ClusterPasses, startClusterPasses } from "./cluster-passes.js";

export interface DisruptionControllerDeps {
  objects: ObjectStore;
  clusters: () => ClusterRef[];
  clock: Clock;
  logger: Logger;
  /** How often budgets are looked at again without a change (evictions expire after 2 minutes). */
  resyncMs?: number;
}

const replicasOf = (o: KubeObject | undefined) =>
  o ? ((o.spec as { replicas?: number } | undefined)?.replicas ?? 1) : undefined;

export function startDisruptionController(deps: DisruptionControllerDeps): ClusterPasses {
  const { objects } = deps;
  const pass = (cluster: ClusterRef) => {
    const budgets = objects.list(cluster, R.poddisruptionbudgets).items;
    if (budgets.length === 0) return;
    const podsByNs = new Map<string, ReturnType<typeof objects.list>["items"]>();
    const podsOf = (ns: string) => {
      const hit = podsByNs.get(ns);
      if (hit) return hit;
      const l = objects.list(cluster, R.pods, ns).items;
      podsByNs.set(ns, l);
      return l;
    };
    // The scale a budget counts: a ReplicaSet's Deployment's, else the ReplicaSet's; a StatefulSet's.
    const scaleOf = (ns: string, kind: string, name: string) => {
      if (kind === "StatefulSet") return replicasOf(objects.get(cluster, R.statefulsets, ns, name));
      if (kind !== "ReplicaSet") return undefined;
      const rs = objects.get(cluster, R.replicasets, ns, name);
      const owner = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === "Deployment");
      return owner ? replicasOf(objects.get(cluster, R.deployments, ns, owner.name)) : replicasOf(rs);
    };
    const now = deps.clock.now().getTime();
    for (const pdb of budgets) {
      const prev = (pdb.status ?? {}) as Partial<PdbStatus>;
      const next = budgetStatus(pdb, podsOf(pdb.metadata.namespace ?? "default"), scaleOf, now, prev);
      if (JSON.stringify(next) === JSON.stringify(prev)) continue;
      try {
        objects.update(cluster, R.poddisruptionbudgets, { ...pdb, status: next }, { subresource: "status" });
      } catch (e) {
        if (!(e instanceof KubeError && (e.reason === "Conflict" || e.reason === "NotFound"))) throw e;
      }
    }
  };
  return startClusterPasses({
    name: "disruption controller",
    objects,
    clusters: deps.clusters,
    kinds: [R.poddisruptionbudgets, R.pods],
    pass,
    clock: deps.clock,
    logger: deps.logger,
    resyncMs: deps.resyncMs ?? 5000,
  });
}
