/**
 * kube-scheduler's PodTopologySpread and InterPodAffinity plugins. PURE: whether a node keeps a
 * pod's topology spread constraints (DoNotSchedule) and required pod (anti-)affinity, and the
 * scores of the soft ones (ScheduleAnyway, preferred terms). Pods count by namespace and labels;
 * domains are the values of a node label (kubernetes.io/hostname, topology.kubernetes.io/zone).
 */

export interface LabelSelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway";
  labelSelector?: LabelSelectorLike;
  minDomains?: number;
  matchLabelKeys?: string[];
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelectorLike;
  topologyKey: string;
  namespaces?: string[];
}

export interface PodAffinitySpec {
  podAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: PodAffinityTerm }[];
  };
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: PodAffinityTerm }[];
  };
}

/** A pod as these plugins see it: where it is, its namespace and labels, its own constraints. */
export interface PodFacts {
  namespace: string;
  labels: Record<string, string>;
  affinity?: PodAffinitySpec;
  topologySpreadConstraints?: TopologySpreadConstraint[];
}

export interface NodeLabels {
  name: string;
  labels: Record<string, string>;
}

export const SPREAD_REASON = {
  missingLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  skew: "node(s) didn't match pod topology spread constraints",
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  affinity: "node(s) didn't match pod affinity rules",
} as const;

export function selectorMatches(sel: LabelSelectorLike | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = k(labels, e.key);
    const val = labels[e.key];
    if (e.operator === "In" && !(has && (e.values ?? []).includes(val))) return false;
    if (e.operator === "NotIn" && has && (e.values ?? []).includes(val)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
const k = (labels: Record<string, string>, key: string) => Object.hasOwn(labels, key);

/** The constraint's selector with matchLabelKeys taken from the incoming pod's labels. */
function spreadSelector(c: TopologySpreadConstraint, pod: PodFacts): LabelSelectorLike {
  const extra = Object.fromEntries(
    (c.matchLabelKeys ?? []).filter((key) => k(pod.labels, key)).map((key) => [key, pod.labels[key]]),
  );
  return { ...(c.labelSelector ?? {}), matchLabels: { ...(c.labelSelector?.matchLabels ?? {}), ...extra } };
}

/** Pods matching a selector per domain of a topology key, over the eligible nodes. */
function domainCounts(
  key: string,
  sel: LabelSelectorLike,
  namespace: string,
  eligible: NodeLabels[],
  placed: { nodeName: string; pod: PodFacts }[],
): Map<string, number> {
  const counts = new Map<string, number>();
  const domainOfNode = new Map<string, string>();
  for (const n of eligible) {
    if (!k(n.labels, key)) continue;
    counts.set(n.labels[key], counts.get(n.labels[key]) ?? 0);
    domainOfNode.set(n.name, n.labels[key]);
  }
  for (const p of placed) {
    const d = domainOfNode.get(p.nodeName);
    if (d === undefined || p.pod.namespace !== namespace || !selectorMatches(sel, p.pod.labels)) continue;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return counts;
}

/**
 * The reason a node breaks the pod's hard spread constraints, or undefined. `eligible` are the
 * nodes that pass the pod's node affinity (nodeAffinityPolicy Honor, the default).
 */
export function spreadFilter(
  pod: PodFacts,
  node: NodeLabels,
  eligible: NodeLabels[],
  placed: { nodeName: string; pod: PodFacts }[],
): string | undefined {
  for (const c of pod.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== "DoNotSchedule") continue;
    if (!k(node.labels, c.topologyKey)) return SPREAD_REASON.missingLabel;
    const sel = spreadSelector(c, pod);
    const counts = domainCounts(c.topologyKey, sel, pod.namespace, eligible, placed);
    const values = [...counts.values()];
    let min = values.length ? Math.min(...values) : 0;
    if (c.minDomains !== undefined && counts.size < c.minDomains) min = 0;
    const self = selectorMatches(sel, pod.labels) ? 1 : 0;
    const skew = (counts.get(node.labels[c.topologyKey]) ?? 0) + self - min;
    if (skew > c.maxSkew) return SPREAD_REASON.skew;
  }
  return undefined;
}

/** ScheduleAnyway constraints: fewer matching pods in the node's domain score higher (0..100 per constraint). */
export function spreadScore(
  pod: PodFacts,
  node: NodeLabels,
  eligible: NodeLabels[],
  placed: { nodeName: string; pod: PodFacts }[],
): number {
  let score = 0;
  for (const c of pod.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== "ScheduleAnyway" || !k(node.labels, c.topologyKey)) continue;
    const counts = domainCounts(c.topologyKey, spreadSelector(c, pod), pod.namespace, eligible, placed);
    const max = Math.max(1, ...counts.values());
    score += 100 * (1 - (counts.get(node.labels[c.topologyKey]) ?? 0) / (max + 1));
  }
  return score;
}

const termNamespaces = (t: PodAffinityTerm, own: string) => (t.namespaces?.length ? t.namespaces : [own]);

/** Whether a placed pod in the node's domain matches a term of `owner`. */
function termHits(
  t: PodAffinityTerm,
  owner: PodFacts,
  node: NodeLabels,
  nodes: Map<string, NodeLabels>,
  placed: { nodeName: string; pod: PodFacts }[],
): boolean {
  if (!k(node.labels, t.topologyKey)) return false;
  const domain = node.labels[t.topologyKey];
  const ns = termNamespaces(t, owner.namespace);
  return placed.some((p) => {
    const n = nodes.get(p.nodeName);
    return (
      n !== undefined &&
      n.labels[t.topologyKey] === domain &&
      ns.includes(p.pod.namespace) &&
      selectorMatches(t.labelSelector, p.pod.labels)
    );
  });
}

/** The reason required pod affinity, its anti-affinity, or placed pods' anti-affinity (kube's order) rules the node out, or undefined. */
export function affinityFilter(
  pod: PodFacts,
  node: NodeLabels,
  allNodes: NodeLabels[],
  placed: { nodeName: string; pod: PodFacts }[],
): string | undefined {
  const nodes = new Map(allNodes.map((n) => [n.name, n]));
  for (const t of pod.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (termHits(t, pod, node, nodes, placed)) continue;
    // The first pod of a group that matches its own term may go anywhere with the key.
    const anyMatch = placed.some(
      (p) =>
        termNamespaces(t, pod.namespace).includes(p.pod.namespace) && selectorMatches(t.labelSelector, p.pod.labels),
    );
    if (anyMatch || !selectorMatches(t.labelSelector, pod.labels) || !k(node.labels, t.topologyKey))
      return SPREAD_REASON.affinity;
  }
  for (const t of pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [])
    if (termHits(t, pod, node, nodes, placed)) return SPREAD_REASON.antiAffinity;
  // Placed pods whose required anti-affinity names the incoming pod, in the node's domain.
  for (const p of placed) {
    for (const t of p.pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const where = nodes.get(p.nodeName);
      if (!where || !k(where.labels, t.topologyKey) || where.labels[t.topologyKey] !== node.labels[t.topologyKey])
        continue;
      if (termNamespaces(t, p.pod.namespace).includes(pod.namespace) && selectorMatches(t.labelSelector, pod.labels))
        return SPREAD_REASON.existingAntiAffinity;
    }
  }
  return undefined;
}

/** Preferred pod affinity (+weight) and anti-affinity (−weight) terms that the node's domain meets. */
export function affinityScore(
  pod: PodFacts,
  node: NodeLabels,
  allNodes: NodeLabels[],
  placed: { nodeName: string; pod: PodFacts }[],
): number {
  const nodes = new Map(allNodes.map((n) => [n.name, n]));
  let score = 0;
  for (const w of pod.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    if (termHits(w.podAffinityTerm, pod, node, nodes, placed)) score += w.weight;
  for (const w of pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    if (termHits(w.podAffinityTerm, pod, node, nodes, placed)) score -= w.weight;
  return score;
}
