/**
 * The DaemonSet controller (kube's daemon_controller.go and update.go), its decisions PURE: one
 * pod per node the template fits (nodeSelector, required node affinity, NoSchedule/NoExecute
 * taints against its tolerations plus the ones kube adds to daemon pods), pinned to its node by a
 * `metadata.name` node affinity term for the scheduler to bind; rolling updates by
 * maxUnavailable; status.
 */
import type { LabelSelector } from "../../../kube/labels.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import type { WorkloadContext } from "../controllers.js";
import {
  byCreation,
  claimDecision,
  hasSelector,
  int,
  isPodActive,
  isPodAvailable,
  isPodReady,
  type PodTemplate,
  phaseOf,
  scaledValue,
} from "../common.js";
import { podFromTemplate } from "./replicaset.js";
import type { WorkloadController } from "./registry.js";
import { ownedRevisions, planRevision, REVISION_HASH_LABEL, revisionsToDelete } from "./revisions.js";
import {
  matchesNodeAffinity,
  type NodeSelectorTerm,
  type Taint,
  type Toleration,
  tolerates,
} from "../../../scheduler/pods.js";

export type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from "../../../scheduler/pods.js";

interface PodSpecLike {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  hostNetwork?: boolean;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface DaemonSetSpec {
  selector?: LabelSelector;
  template?: PodTemplate;
  updateStrategy?: {
    type?: "RollingUpdate" | "OnDelete";
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

/** The tolerations kube's DaemonSet controller adds to every daemon pod (AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(spec: PodSpecLike): Toleration[] {
  const add: Toleration[] = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ];
  if (spec.hostNetwork)
    add.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  const have = spec.tolerations ?? [];
  const same = (a: Toleration, b: Toleration) =>
    a.key === b.key && a.effect === b.effect && (a.operator ?? "Equal") === (b.operator ?? "Equal");
  return [...have, ...add.filter((t) => !have.some((h) => same(h, t)))];
}

export { tolerates };

/** Whether a node satisfies a pod's nodeSelector and required node affinity (the scheduler's NodeAffinity filter). */
export const nodeMatches = (spec: PodSpecLike, node: KubeObject): boolean =>
  matchesNodeAffinity(spec, { name: node.metadata.name ?? "", labels: node.metadata.labels ?? {}, allocatable: {} });

/** Whether a daemon pod of this template should run on the node (kube's NodeShouldRunDaemonPod). */
export function shouldRunOn(template: PodTemplate | undefined, node: KubeObject): boolean {
  const spec = (template?.spec ?? {}) as PodSpecLike;
  if (!nodeMatches(spec, node)) return false;
  const taints = ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []).filter(
    (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
  );
  const tolerations = daemonTolerations(spec);
  return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

/** The node a daemon pod is for: its nodeName, or the node its metadata.name affinity names. */
export function targetNode(pod: KubeObject): string | undefined {
  const spec = (pod.spec ?? {}) as PodSpecLike;
  if (spec.nodeName) return spec.nodeName;
  for (const t of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [])
    for (const f of t.matchFields ?? [])
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
  return undefined;
}

/** kube's ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes "this node". */
export function pinToNode(spec: PodSpecLike, node: string): PodSpecLike {
  const affinity = structuredClone(spec.affinity ?? {});
  affinity.nodeAffinity = {
    ...(affinity.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] }],
    },
  };
  return { ...spec, affinity, tolerations: daemonTolerations(spec) };
}

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration?: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
  collisionCount?: number;
}

export interface DaemonSetPlan {
  adopt: string[];
  release: string[];
  createRevision?: KubeObject;
  renumberRevision?: { name: string; revision: number };
  deleteRevisions: string[];
  /** Nodes to create a daemon pod for. */
  create: { node: string; pod: KubeObject }[];
  delete: string[];
  status?: DaemonSetStatus;
  requeueAfterMs?: number;
}

const dsSpec = (ds: KubeObject) => (ds.spec ?? {}) as DaemonSetSpec;

export function planDaemonSet(
  ds: KubeObject,
  nodes: KubeObject[],
  pods: KubeObject[],
  revisions: KubeObject[],
  nowMs: number,
): DaemonSetPlan {
  const spec = dsSpec(ds);
  const plan: DaemonSetPlan = { adopt: [], release: [], deleteRevisions: [], create: [], delete: [] };
  // Being deleted: nothing new (not even a revision), its dependents go (GC).
  if (!hasSelector(spec.selector) || ds.metadata.deletionTimestamp) return plan;
  const prev = (ds.status ?? {}) as Partial<DaemonSetStatus>;
  let collisionCount = prev.collisionCount ?? 0;
  const rev = planRevision(ds, spec.template, revisions, collisionCount);
  if (rev.collision) {
    collisionCount++;
    plan.status = { ...normalize(prev), collisionCount };
    return plan;
  }
  plan.createRevision = rev.create;
  plan.renumberRevision = rev.renumber;
  const hash = rev.hash;

  const mine: KubeObject[] = [];
  for (const p of pods) {
    if (!isPodActive(p) && phaseOf(p) !== "Failed") continue;
    const d = claimDecision(ds, spec.selector, p);
    if (d === "owned") mine.push(p);
    else if (d === "adopt") {
      plan.adopt.push(p.metadata.name ?? "");
      mine.push(p);
    } else if (d === "release") plan.release.push(p.metadata.name ?? "");
  }
  const byNode = new Map<string, KubeObject[]>();
  for (const p of mine) {
    const n = targetNode(p);
    if (!n) continue;
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const minReady = int(spec.minReadySeconds, 0);
  const deleting = !!ds.metadata.deletionTimestamp;
  const del = (p: KubeObject) => {
    if (!p.metadata.deletionTimestamp && !plan.delete.includes(p.metadata.name ?? ""))
      plan.delete.push(p.metadata.name ?? "");
  };
  const status: DaemonSetStatus = {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
    observedGeneration: ds.metadata.generation,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
    collisionCount,
  };
  const newPod = (node: string) => {
    const pod = podFromTemplate(spec.template, ds, {
      labels: { [REVISION_HASH_LABEL]: hash, "pod-template-generation": String(ds.metadata.generation ?? 1) },
    });
    pod.spec = pinToNode((pod.spec ?? {}) as PodSpecLike, node);
    return pod;
  };
  /** Nodes whose daemon pod runs an old template: candidates for the rolling update. */
  const old: { node: string; pod: KubeObject; available: boolean }[] = [];
  let unavailable = 0;
  const known = new Set<string>();
  for (const node of nodes) {
    const n = node.metadata.name ?? "";
    known.add(n);
    const here = (byNode.get(n) ?? []).sort(byCreation);
    const run = shouldRunOn(spec.template, node);
    const alive = here.filter((p) => isPodActive(p));
    if (!run) {
      if (alive.length) status.numberMisscheduled++;
      for (const p of here) del(p);
      continue;
    }
    status.desiredNumberScheduled++;
    // Failed daemon pods are deleted and made again (kube: "found failed daemon pod … will try to kill it").
    for (const p of here) if (phaseOf(p) === "Failed") del(p);
    if (alive.length === 0) {
      unavailable++;
      if (!deleting && !here.some((p) => p.metadata.deletionTimestamp)) plan.create.push({ node: n, pod: newPod(n) });
      continue;
    }
    status.currentNumberScheduled++;
    // More than one: keep the oldest.
    for (const p of alive.slice(1)) del(p);
    const p = alive[0] as KubeObject;
    const ready = isPodReady(p);
    const available = isPodAvailable(p, minReady, nowMs);
    if (ready) status.numberReady++;
    if (available) status.numberAvailable++;
    else unavailable++;
    if (p.metadata.labels?.[REVISION_HASH_LABEL] === hash) status.updatedNumberScheduled++;
    else old.push({ node: n, pod: p, available });
  }
  // Pods for nodes that no longer exist.
  for (const [n, list] of byNode) if (!known.has(n)) for (const p of list) del(p);
  status.numberUnavailable = Math.max(0, status.desiredNumberScheduled - status.numberAvailable);

  if (!deleting && (spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate") {
    const maxUnavailable = Math.max(
      scaledValue(spec.updateStrategy?.rollingUpdate?.maxUnavailable, status.desiredNumberScheduled, true, 1),
      0,
    );
    // Old pods that are down anyway go first, then available ones while the budget lasts.
    for (const o of old) if (!o.available) del(o.pod);
    let budget = maxUnavailable - unavailable;
    for (const o of old) {
      if (!o.available) continue;
      if (budget <= 0) break;
      del(o.pod);
      budget--;
    }
  }
  if (JSON.stringify(status) !== JSON.stringify(normalize(prev))) plan.status = status;
  const owned = ownedRevisions(ds, revisions);
  const inUse = new Set([
    rev.update.metadata.name ?? "",
    ...mine.map((p) => `${ds.metadata.name}-${p.metadata.labels?.[REVISION_HASH_LABEL]}`),
  ]);
  plan.deleteRevisions = revisionsToDelete(owned, int(spec.revisionHistoryLimit, 10), inUse);
  if (minReady > 0 && status.numberReady > status.numberAvailable) plan.requeueAfterMs = 1000;
  return plan;
}

function normalize(p: Partial<DaemonSetStatus>): DaemonSetStatus {
  return {
    currentNumberScheduled: p.currentNumberScheduled ?? 0,
    numberMisscheduled: p.numberMisscheduled ?? 0,
    desiredNumberScheduled: p.desiredNumberScheduled ?? 0,
    numberReady: p.numberReady ?? 0,
    observedGeneration: p.observedGeneration,
    updatedNumberScheduled: p.updatedNumberScheduled ?? 0,
    numberAvailable: p.numberAvailable ?? 0,
    numberUnavailable: p.numberUnavailable ?? 0,
    collisionCount: p.collisionCount ?? 0,
  };
}

export const daemonSetController: WorkloadController = {
  name: "daemonset",
  type: R.daemonsets,
  ownsPods: true,
  watchesNodes: true,
  sync(ctx: WorkloadContext, c: ClusterRef, ns: string, name: string) {
    const { objects } = ctx;
    const ds = objects.get(c, R.daemonsets, ns, name);
    if (!ds) return undefined;
    const nodes = objects.list(c, R.nodes).items;
    const pods = objects.list(c, R.pods, ns).items;
    const revisions = objects.list(c, R.controllerrevisions, ns).items;
    const plan = planDaemonSet(ds, nodes, pods, revisions, ctx.now());
    const events = ctx.recorder("daemonset-controller");
    ctx.adoptAndRelease(c, ds, dsSpec(ds).selector, plan.adopt, plan.release);
    if (plan.createRevision) objects.create(c, R.controllerrevisions, plan.createRevision);
    if (plan.renumberRevision) {
      const r = plan.renumberRevision;
      objects.mutate(c, R.controllerrevisions, ns, r.name, (cr) => ({ ...cr, revision: r.revision }));
    }
    for (const { pod } of plan.create) {
      const made = ctx.createPod(c, pod);
      events.event(c, ds, "Normal", "SuccessfulCreate", `Created pod: ${made.metadata.name}`);
    }
    for (const p of plan.delete)
      if (ctx.deleteQuietly(c, R.pods, ns, p)) events.event(c, ds, "Normal", "SuccessfulDelete", `Deleted pod: ${p}`);
    for (const r of plan.deleteRevisions) ctx.deleteQuietly(c, R.controllerrevisions, ns, r);
    if (plan.status) ctx.writeStatus(c, R.daemonsets, ds, plan.status);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  },
};
