/**
 * The node group controller: the applier of plan.ts, one pass per cluster (woken by node and pod
 * changes and a 1 s resync, since node groups live outside Kubernetes). It registers the nodes of
 * each managed node group (the local host's kubelet then runs them: status, Lease, pods), cordons
 * and drains surplus nodes through the eviction rules (PodDisruptionBudgets respected), removes
 * them once empty, and reports health issues back to EKS.
 */
import type { Clock } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import type { HostRegistry } from "../../../hosts/registry.js";
import { KubeError } from "../../../kube/errors.js";
import { evictPod } from "../../../kube/eviction.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef } from "../../../kube/types.js";
import { type ClusterPasses, startClusterPasses } from "../cluster-passes.js";
import { recordEvent } from "../kubelet/events.js";
import {
  DRAINING_ANNOTATION,
  instanceIdOf,
  NODEGROUP_LABELS_ANNOTATION,
  type NodegroupAction,
  planNodegroups,
} from "./plan.js";
import type { NodegroupIssue, NodegroupSource } from "./source.js";

export interface NodegroupControllerDeps {
  objects: ObjectStore;
  clusters: () => ClusterRef[];
  nodegroups: NodegroupSource;
  /** The local host runs the nodes (its id is their berth.dev/hosted-by). */
  hosts: HostRegistry;
  clock: Clock;
  logger: Logger;
  resyncMs?: number;
  /** How long a drain may be blocked (by PodDisruptionBudgets) before it is a PodEvictionFailure health issue. */
  evictionFailureAfterMs?: number;
}

const SOURCE = { component: "eks-nodegroup-controller" };

export function startNodegroupController(deps: NodegroupControllerDeps): ClusterPasses {
  const { objects, logger, clock } = deps;
  const failAfter = deps.evictionFailureAfterMs ?? 15 * 60_000;

  const pass = (cluster: ClusterRef) => {
    const groups = deps.nodegroups.nodegroups(cluster);
    const nodes = objects.list(cluster, R.nodes).items;
    if (!groups.length && !nodes.some((n) => n.metadata.annotations?.["berth.dev/nodegroup-arn"])) return;
    const host = deps.hosts.list()[0];
    const issues = new Map<string, NodegroupIssue[]>(groups.map((g) => [g.name, []]));
    const issue = (group: string, i: NodegroupIssue) => {
      const l = issues.get(group);
      if (!l) return;
      const same = l.find((x) => x.code === i.code);
      if (same) same.resourceIds = [...new Set([...same.resourceIds, ...i.resourceIds])];
      else l.push(i);
    };
    if (!host) {
      for (const g of groups)
        if (g.desiredSize > 0)
          issue(g.name, {
            code: "NodeCreationFailure",
            message: "Instances failed to join the kubernetes cluster: Berth has no host to run them.",
            resourceIds: [],
          });
    } else {
      const pods = objects.list(cluster, R.pods).items;
      const actions = planNodegroups({ groups, nodes, pods, region: cluster.scope.region, hostId: host.id });
      for (const a of actions) {
        try {
          apply(cluster, a, issue);
        } catch (e) {
          if (
            e instanceof KubeError &&
            (e.reason === "NotFound" || e.reason === "Conflict" || e.reason === "AlreadyExists")
          )
            continue;
          throw e;
        }
      }
    }
    for (const [group, list] of issues) deps.nodegroups.reportIssues(cluster, group, list);
  };

  const apply = (cluster: ClusterRef, a: NodegroupAction, issue: (group: string, i: NodegroupIssue) => void) => {
    const now = clock.now();
    switch (a.kind) {
      case "createNode":
        objects.create(cluster, R.nodes, a.node);
        logger.info(
          { cluster: cluster.name, nodegroup: a.group, node: a.node.metadata.name },
          "node group node registered",
        );
        return;
      case "syncNode":
        objects.mutate(cluster, R.nodes, undefined, a.node, (n) => {
          const labels = { ...(n.metadata.labels ?? {}), ...a.labels };
          for (const k of a.removeLabels) delete labels[k];
          const spec = { ...(n.spec as object), taints: a.taints } as { taints?: unknown[] };
          if (!a.taints.length) delete spec.taints;
          return {
            ...n,
            metadata: {
              ...n.metadata,
              labels,
              annotations: {
                ...(n.metadata.annotations ?? {}),
                [NODEGROUP_LABELS_ANNOTATION]: JSON.stringify(a.labelKeys),
              },
            },
            spec,
          };
        });
        return;
      case "drainNode": {
        const node = objects.mutate(cluster, R.nodes, undefined, a.node, (n) => ({
          ...n,
          metadata: {
            ...n.metadata,
            annotations: { ...(n.metadata.annotations ?? {}), [DRAINING_ANNOTATION]: now.toISOString() },
          },
          spec: { ...(n.spec as object), unschedulable: true },
        }));
        if (node) {
          recordEvent(
            objects,
            cluster,
            node,
            "Normal",
            "NodeNotSchedulable",
            `Node ${a.node} status is now: NodeNotSchedulable`,
            SOURCE,
            now,
          );
          logger.info(
            { cluster: cluster.name, nodegroup: a.group, node: a.node },
            "node group node cordoned and draining",
          );
        }
        return;
      }
      case "evictPod":
        try {
          evictPod(objects, cluster, a.namespace, a.pod, { uid: a.uid, now });
          logger.info({ cluster: cluster.name, node: a.node, pod: `${a.namespace}/${a.pod}` }, "pod evicted (drain)");
        } catch (e) {
          if (!(e instanceof KubeError) || e.reason === "NotFound" || e.reason === "Conflict") throw e;
          // Refused (a budget allows no disruption now): tried again on a later pass.
          const node = objects.get(cluster, R.nodes, undefined, a.node);
          const since = Date.parse(node?.metadata.annotations?.[DRAINING_ANNOTATION] ?? "") || now.getTime();
          if (node && now.getTime() - since >= failAfter)
            issue(a.group, {
              code: "PodEvictionFailure",
              message: `Reached max retries while trying to evict pods from nodes in node group ${a.group}`,
              resourceIds: [instanceIdOf(node)],
            });
        }
        return;
      case "deleteNode":
        for (const p of a.pods)
          objects.delete(cluster, R.pods, p.namespace, p.name, { uid: p.uid, gracePeriodSeconds: 0 });
        objects.delete(cluster, R.nodes, undefined, a.node);
        logger.info({ cluster: cluster.name, nodegroup: a.group, node: a.node }, "node group node removed");
        return;
      case "finishDelete":
        deps.nodegroups.finishDelete(cluster, a.group);
        return;
    }
  };

  return startClusterPasses({
    name: "node group controller",
    objects,
    clusters: deps.clusters,
    kinds: [R.nodes, R.pods],
    pass,
    clock,
    logger,
    resyncMs: deps.resyncMs ?? 1000,
  });
}
