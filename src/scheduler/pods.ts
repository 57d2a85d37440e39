/**
 * Kubernetes pod placement. PURE: (pod, nodes, the pods already on them) → a node, or
 * kube-scheduler's "0/N nodes are available: …" message. Filters run in kube-scheduler's plugin
 * order (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit)
 * and a node fails at its first failing filter, then PodTopologySpread and InterPodAffinity
 * (pods-affinity.ts); scorers (LeastAllocated, BalancedAllocation, preferred node affinity,
 * PreferNoSchedule taints, soft spread and pod affinity) rank the feasible ones.
 */
import {
  affinityFilter,
  affinityScore,
  type PodAffinitySpec,
  type PodFacts,
  spreadFilter,
  spreadScore,
  type TopologySpreadConstraint,
} from "./pods-affinity.js";
import {
  type Amounts,
  type PodSpecResources,
  amountsOf,
  podNonZeroRequests,
  podRequests,
  type ResourceList,
} from "./pods-resources.js";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute" | "";
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface PodSchedulingSpec extends PodSpecResources {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
      preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
    };
  } & PodAffinitySpec;
  topologySpreadConstraints?: TopologySpreadConstraint[];
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  allocatable: ResourceList;
  taints?: Taint[];
  unschedulable?: boolean;
}

/** A pod already bound to a node (its spec counts against the node's room). */
export interface PlacedPod {
  nodeName: string;
  spec: PodSchedulingSpec;
  /** For topology spread and pod affinity (default namespace, no labels when absent). */
  namespace?: string;
  labels?: Record<string, string>;
  /** Being deleted: still holds its room, but no longer counts for spreading or pod affinity. */
  terminating?: boolean;
}

/** The incoming pod's namespace and labels (what spread constraints and pod affinity match on). */
export interface PodMeta {
  namespace?: string;
  labels?: Record<string, string>;
}

export type Placement =
  | { node: string; message?: undefined }
  | { node?: undefined; message: string; reasons: Record<string, number> };

export const REASON = {
  unschedulable: "node(s) were unschedulable",
  nodeName: "node(s) didn't match the requested node name",
  affinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: "Too many pods",
  insufficient: (r: string) => `Insufficient ${r}`,
  taint: (t: Taint) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ""}}`,
} as const;

/** Whether a toleration tolerates a taint (v1 helper ToleratesTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === "Exists") return !t.key || t.key === taint.key;
  if (t.key !== taint.key) return false;
  return (t.value ?? "") === (taint.value ?? "");
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(value);
    case "NotIn":
      return !has || !(r.values ?? []).includes(value);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      if (!has || (r.values ?? []).length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(r.values![0], 10);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return r.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A node selector term: every expression on labels and every field (metadata.name) must match; an empty term matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: NodeView): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => requirementMatches(r, node.labels[r.key])) &&
    fields.every((r) => requirementMatches(r, r.key === "metadata.name" ? node.name : undefined))
  );
}

/** nodeSelector and required node affinity (the NodeAffinity filter). */
export function matchesNodeAffinity(
  spec: Pick<PodSchedulingSpec, "nodeSelector" | "affinity">,
  node: NodeView,
): boolean {
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required?.nodeSelectorTerms) return required.nodeSelectorTerms.some((t) => termMatches(t, node));
  return true;
}

const hostPortsOf = (spec: PodSchedulingSpec) =>
  [...spec.containers, ...(spec.initContainers ?? [])].flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => p.hostPort)
      .map((p) => ({ port: p.hostPort!, protocol: p.protocol ?? "TCP", ip: p.hostIP || "0.0.0.0" })),
  );

function portsConflict(a: PodSchedulingSpec, b: PodSchedulingSpec): boolean {
  const theirs = hostPortsOf(b);
  return hostPortsOf(a).some((p) =>
    theirs.some(
      (q) =>
        q.port === p.port && q.protocol === p.protocol && (q.ip === p.ip || q.ip === "0.0.0.0" || p.ip === "0.0.0.0"),
    ),
  );
}

/** What the pods bound to a node request in total, with the pod count. */
export function nodeUsage(node: string, placed: PlacedPod[]): { requested: Amounts; pods: number } {
  const requested: Amounts = {};
  let pods = 0;
  for (const p of placed) {
    if (p.nodeName !== node) continue;
    pods++;
    for (const [k, v] of Object.entries(podRequests(p.spec))) requested[k] = (requested[k] ?? 0) + v;
  }
  return { requested, pods };
}

/** The filters in kube-scheduler's order: the reasons a node cannot take the pod (empty: it fits). */
export function filterNode(spec: PodSchedulingSpec, node: NodeView, placed: PlacedPod[]): string[] {
  const tolerations = spec.tolerations ?? [];
  if (
    node.unschedulable &&
    !tolerations.some((t) => tolerates(t, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }))
  )
    return [REASON.unschedulable];
  if (spec.nodeName && spec.nodeName !== node.name) return [REASON.nodeName];
  const untolerated = (node.taints ?? []).find(
    (taint) => taint.effect !== "PreferNoSchedule" && !tolerations.some((t) => tolerates(t, taint)),
  );
  if (untolerated) return [REASON.taint(untolerated)];
  if (!matchesNodeAffinity(spec, node)) return [REASON.affinity];
  const onNode = placed.filter((p) => p.nodeName === node.name);
  if (onNode.some((p) => portsConflict(spec, p.spec))) return [REASON.ports];
  const allocatable = amountsOf(node.allocatable);
  const { requested, pods } = nodeUsage(node.name, placed);
  const reasons: string[] = [];
  if (pods + 1 > (allocatable.pods ?? 110)) reasons.push(REASON.tooManyPods);
  const want = podRequests(spec);
  for (const [r, v] of Object.entries(want)) {
    if (v <= 0 || r === "pods") continue;
    if (v > (allocatable[r] ?? 0) - (requested[r] ?? 0)) reasons.push(REASON.insufficient(r));
  }
  return reasons;
}

/** LeastAllocated + BalancedAllocation (cpu, memory) with kube's non-zero request defaults; 0..200. */
export function resourceScore(spec: PodSchedulingSpec, node: NodeView, placed: PlacedPod[]): number {
  const alloc = amountsOf(node.allocatable);
  const used = { cpu: 0, memory: 0 };
  for (const p of placed) {
    if (p.nodeName !== node.name) continue;
    const nz = podNonZeroRequests(p.spec);
    used.cpu += nz.cpu;
    used.memory += nz.memory;
  }
  const mine = podNonZeroRequests(spec);
  const frac = (r: "cpu" | "memory") => {
    const cap = alloc[r] ?? 0;
    return cap > 0 ? Math.min(1, (used[r] + mine[r]) / cap) : 1;
  };
  const cpu = frac("cpu");
  const mem = frac("memory");
  const least = ((1 - cpu) * 100 + (1 - mem) * 100) / 2;
  const balanced = (1 - Math.abs(cpu - mem) / 2) * 100;
  return least + balanced;
}

function preferenceScore(spec: PodSchedulingSpec, node: NodeView): number {
  let score = 0;
  for (const p of spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    if (termMatches(p.preference, node)) score += p.weight;
  const tolerations = spec.tolerations ?? [];
  const soft = (node.taints ?? []).filter(
    (t) => t.effect === "PreferNoSchedule" && !tolerations.some((x) => tolerates(x, t)),
  );
  return score - soft.length * 10;
}

/** kube-scheduler's FailedScheduling text: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) …`. */
export function unschedulableMessage(total: number, reasons: Record<string, number>): string {
  if (total === 0) return "no nodes available to schedule pods";
  const parts = Object.entries(reasons)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([r, n]) => `${n} ${r}`);
  return `0/${total} nodes are available: ${parts.join(", ")}.`;
}

/** Places one pod: the best feasible node (ties: the first by name), or why none fits. */
export function schedulePod(
  spec: PodSchedulingSpec,
  nodes: NodeView[],
  placed: PlacedPod[],
  meta: PodMeta = {},
): Placement {
  const reasons: Record<string, number> = {};
  let best: { node: string; score: number } | undefined;
  const pod: PodFacts = {
    namespace: meta.namespace ?? "default",
    labels: meta.labels ?? {},
    affinity: spec.affinity,
    topologySpreadConstraints: spec.topologySpreadConstraints,
  };
  const placedFacts = placed
    .filter((p) => !p.terminating)
    .map((p) => ({
      nodeName: p.nodeName,
      pod: { namespace: p.namespace ?? "default", labels: p.labels ?? {}, affinity: p.spec.affinity },
    }));
  // Only pods with spread constraints or pod (anti-)affinity, or next to pods with anti-affinity, need these plugins.
  const interPod =
    !!spec.topologySpreadConstraints?.length ||
    !!spec.affinity?.podAffinity ||
    !!spec.affinity?.podAntiAffinity ||
    placed.some((p) => p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length);
  const eligible = interPod ? nodes.filter((n) => matchesNodeAffinity(spec, n)) : [];
  for (const node of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const why = filterNode(spec, node, placed);
    if (!why.length && interPod) {
      const r = spreadFilter(pod, node, eligible, placedFacts) ?? affinityFilter(pod, node, nodes, placedFacts);
      if (r) why.push(r);
    }
    if (why.length) {
      for (const r of why) reasons[r] = (reasons[r] ?? 0) + 1;
      continue;
    }
    const score =
      resourceScore(spec, node, placed) +
      preferenceScore(spec, node) +
      (interPod ? spreadScore(pod, node, eligible, placedFacts) + affinityScore(pod, node, nodes, placedFacts) : 0);
    if (!best || score > best.score) best = { node: node.name, score };
  }
  if (best) return { node: best.node };
  return { message: unschedulableMessage(nodes.length, reasons), reasons };
}
