/**
 * The scheduler's applier: binds a cluster's pending pods to nodes with the pure placement of
 * scheduler/pods.ts (spec.nodeName, PodScheduled=True, a Scheduled event), or reports why none
 * fits (PodScheduled=False Unschedulable with kube's message, a FailedScheduling event).
 */
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import { type NodeView, type PlacedPod, schedulePod, type Taint } from "../../../scheduler/pods.js";
import { recordEvent } from "./events.js";
import { rfc3339 } from "./plan.js";
import type { Pod, PodCondition } from "./types.js";

const terminal = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
const SOURCE = { component: "default-scheduler" };

export function nodeView(n: KubeObject): NodeView {
  const spec = (n.spec ?? {}) as { taints?: Taint[]; unschedulable?: boolean };
  const status = (n.status ?? {}) as { allocatable?: Record<string, string> };
  return {
    name: n.metadata.name ?? "",
    labels: n.metadata.labels ?? {},
    allocatable: status.allocatable ?? {},
    taints: spec.taints,
    unschedulable: spec.unschedulable,
  };
}

function setScheduled(pod: Pod, cond: Omit<PodCondition, "lastTransitionTime">, now: Date): Pod | undefined {
  const conditions = pod.status?.conditions ?? [];
  const old = conditions.find((c) => c.type === "PodScheduled");
  if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message) return undefined;
  const next: PodCondition = {
    ...cond,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : rfc3339(now),
  };
  return {
    ...pod,
    status: {
      phase: "Pending",
      ...pod.status,
      conditions: [...conditions.filter((c) => c.type !== "PodScheduled"), next],
    },
  };
}

/** One scheduling pass over the cluster: every pending pod in creation order. Returns how many were bound. */
export function schedulePass(objects: ObjectStore, cluster: ClusterRef, now: Date): { bound: number; pending: number } {
  const nodes = objects.list(cluster, R.nodes).items.map(nodeView);
  const pods = objects.list(cluster, R.pods).items as Pod[];
  const placed: PlacedPod[] = pods
    .filter((p) => p.spec?.nodeName && !terminal(p))
    .map((p) => ({
      nodeName: p.spec.nodeName!,
      spec: p.spec,
      namespace: p.metadata.namespace,
      labels: p.metadata.labels,
      terminating: !!p.metadata.deletionTimestamp,
    }));
  const pending = pods
    .filter(
      (p) =>
        p.spec &&
        !p.spec.nodeName &&
        !p.metadata.deletionTimestamp &&
        !terminal(p) &&
        (p.spec.schedulerName ?? "default-scheduler") === "default-scheduler",
    )
    .sort((a, b) =>
      (a.metadata.creationTimestamp ?? "") < (b.metadata.creationTimestamp ?? "")
        ? -1
        : (a.metadata.creationTimestamp ?? "") > (b.metadata.creationTimestamp ?? "")
          ? 1
          : 0,
    );
  let bound = 0;
  for (const pod of pending) {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name ?? "";
    const r = schedulePod(pod.spec, nodes, placed, { namespace: ns, labels: pod.metadata.labels });
    if (r.node) {
      const node = r.node;
      const updated = objects.mutate(cluster, R.pods, ns, name, (p) =>
        (p as Pod).spec.nodeName || p.metadata.uid !== pod.metadata.uid
          ? undefined
          : { ...p, spec: { ...(p as Pod).spec, nodeName: node } },
      ) as Pod | undefined;
      if (!updated || updated.spec.nodeName !== node) continue;
      objects.mutate(
        cluster,
        R.pods,
        ns,
        name,
        (p) => setScheduled(p as Pod, { type: "PodScheduled", status: "True" }, now),
        { subresource: "status" },
      );
      placed.push({ nodeName: node, spec: pod.spec, namespace: ns, labels: pod.metadata.labels });
      bound++;
      recordEvent(
        objects,
        cluster,
        updated,
        "Normal",
        "Scheduled",
        `Successfully assigned ${ns}/${name} to ${node}`,
        SOURCE,
        now,
      );
      continue;
    }
    const message = r.message ?? "";
    let changed = false;
    objects.mutate(
      cluster,
      R.pods,
      ns,
      name,
      (p) => {
        const next = setScheduled(
          p as Pod,
          { type: "PodScheduled", status: "False", reason: "Unschedulable", message },
          now,
        );
        changed = next !== undefined;
        return next;
      },
      { subresource: "status" },
    );
    if (changed) recordEvent(objects, cluster, pod, "Warning", "FailedScheduling", message, SOURCE, now);
  }
  return { bound, pending: pending.length - bound };
}
