/**
 * The node group controller's decisions. PURE: (the cluster's node groups, nodes and pods) → what
 * to write, as a managed node group's Auto Scaling group and EKS's node lifecycle would: a node
 * per desired instance, spread over the node group's zones; surplus nodes (a smaller desired size,
 * a deleted node group) cordoned and drained by eviction, then removed; a version update rolled
 * one surge node at a time (a new node first, then an outdated one drained); labels and taints
 * kept as the node group says.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../../../kube/types.js";
import type { Taint } from "../../../scheduler/pods.js";
import { dnsDomain } from "../fargate/plan.js";
import { HOSTED_BY_ANNOTATION, KUBELET_VERSION_ANNOTATION } from "../kubelet/node.js";
import { instanceType, nodeResourcesOf } from "./instance-types.js";
import type { NodegroupView } from "./source.js";

export const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";
export const CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType";
export const NODEGROUP_IMAGE_LABEL = "eks.amazonaws.com/nodegroup-image";
/** Berth's own records on a node group's Node: which node group (by ARN), its release, the labels it applied, since when it drains. */
export const NODEGROUP_ARN_ANNOTATION = "berth.dev/nodegroup-arn";
export const NODEGROUP_RELEASE_ANNOTATION = "berth.dev/nodegroup-release";
export const NODEGROUP_LABELS_ANNOTATION = "berth.dev/nodegroup-labels";
export const DRAINING_ANNOTATION = "berth.dev/draining-since";

const hash = (s: string) => createHash("sha256").update(s).digest("hex");
const annotationsOf = (n: KubeObject) => n.metadata.annotations ?? {};
const zoneOf = (n: KubeObject) => n.metadata.labels?.["topology.kubernetes.io/zone"] ?? "";
const isDraining = (n: KubeObject) => DRAINING_ANNOTATION in annotationsOf(n);
const podNode = (p: KubeObject) => (p.spec as { nodeName?: string } | undefined)?.nodeName;
const phaseOf = (p: KubeObject) => (p.status as { phase?: string } | undefined)?.phase;
const terminal = (p: KubeObject) => phaseOf(p) === "Succeeded" || phaseOf(p) === "Failed";
const daemonSetPod = (p: KubeObject) =>
  !!p.metadata.ownerReferences?.some((r) => r.controller && r.kind === "DaemonSet");

/** Whether a node runs an older version or release than its node group. */
export const isOutdated = (n: KubeObject, g: NodegroupView) =>
  annotationsOf(n)[NODEGROUP_RELEASE_ANNOTATION] !== g.releaseVersion ||
  annotationsOf(n)[KUBELET_VERSION_ANNOTATION] !== kubeletVersionOf(g.version, g.releaseVersion);

/** `v1.33.4-eks-<date>`, as the EKS AMIs' kubelets report themselves. */
export const kubeletVersionOf = (version: string, release: string) =>
  `v${release.split("-")[0] || `${version}.0`}-eks-${hash(release).slice(0, 7)}`;

/** A node name for a node group's ordinal: `ip-10-0-X-Y.<region>.compute.internal`, not in `taken`. */
export function nodeName(seed: string, region: string, taken: ReadonlySet<string>): { name: string; ip: string } {
  let n = Number.parseInt(hash(seed).slice(0, 8), 16) % (256 * 254);
  for (let i = 0; i < 256 * 254; i++, n = (n + 1) % (256 * 254)) {
    const ip = `10.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
    const name = `ip-${ip.replaceAll(".", "-")}.${dnsDomain(region)}`;
    if (!taken.has(name)) return { name, ip };
  }
  throw new Error("no free node address");
}

export interface NodeArgs {
  group: NodegroupView;
  name: string;
  ip: string;
  zone: string;
  instanceType: string;
  region: string;
  hostId: string;
}

/** The labels a node group's node carries (EKS's own, then the node group's). */
export function nodegroupNodeLabels(a: Omit<NodeArgs, "ip" | "hostId">): Record<string, string> {
  const t = instanceType(a.instanceType);
  const arch = t?.arch ?? "amd64";
  return {
    "beta.kubernetes.io/arch": arch,
    "beta.kubernetes.io/instance-type": a.instanceType,
    "beta.kubernetes.io/os": "linux",
    [CAPACITY_TYPE_LABEL]: a.group.capacityType,
    [NODEGROUP_LABEL]: a.group.name,
    [NODEGROUP_IMAGE_LABEL]: `ami-${hash(`${a.group.amiType}/${a.group.releaseVersion}/${a.region}`).slice(0, 17)}`,
    "failure-domain.beta.kubernetes.io/region": a.region,
    "failure-domain.beta.kubernetes.io/zone": a.zone,
    "k8s.io/cloud-provider-aws": hash(a.group.arn.split("/")[1] ?? "").slice(0, 32),
    "kubernetes.io/arch": arch,
    "kubernetes.io/hostname": a.name,
    "kubernetes.io/os": "linux",
    "node.kubernetes.io/instance-type": a.instanceType,
    "topology.kubernetes.io/region": a.region,
    "topology.kubernetes.io/zone": a.zone,
    ...a.group.labels,
  };
}

/** The Node EKS registers for an instance of a node group (kubelet of this Berth host runs it). */
export function nodegroupNode(a: NodeArgs): KubeObject {
  const t = instanceType(a.instanceType);
  const res = t ? nodeResourcesOf(t) : undefined;
  const id = hash(`${a.group.arn}/${a.name}`).slice(0, 17);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: a.name,
      labels: nodegroupNodeLabels(a),
      annotations: {
        [HOSTED_BY_ANNOTATION]: a.hostId,
        "alpha.kubernetes.io/provided-node-ip": a.ip,
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        [NODEGROUP_ARN_ANNOTATION]: a.group.arn,
        [NODEGROUP_RELEASE_ANNOTATION]: a.group.releaseVersion,
        [KUBELET_VERSION_ANNOTATION]: kubeletVersionOf(a.group.version, a.group.releaseVersion),
        [NODEGROUP_LABELS_ANNOTATION]: JSON.stringify(Object.keys(a.group.labels).sort()),
      },
    },
    spec: {
      providerID: `aws:///${a.zone}/i-${id}`,
      ...(a.group.taints.length ? { taints: a.group.taints } : {}),
    },
    status: res ? { capacity: res.capacity, allocatable: res.allocatable } : {},
  };
}

/** The instance id in a node's providerID (`aws:///zone/i-…`). */
export const instanceIdOf = (n: KubeObject) =>
  ((n.spec as { providerID?: string } | undefined)?.providerID ?? "").split("/").pop() ?? n.metadata.name ?? "";

export interface RemovalCandidate {
  name: string;
  zone: string;
  outdated: boolean;
  pods: number;
}

/**
 * Which `count` nodes to take away: outdated nodes first (a version update replaces them), then
 * from the zone with the most nodes (an Auto Scaling group keeps its zones balanced), then the
 * node with the fewest pods, then by name.
 */
export function chooseNodesToRemove(nodes: RemovalCandidate[], count: number): string[] {
  const left = [...nodes];
  const out: string[] = [];
  while (out.length < count && left.length) {
    const perZone = new Map<string, number>();
    for (const n of left) perZone.set(n.zone, (perZone.get(n.zone) ?? 0) + 1);
    left.sort(
      (a, b) =>
        Number(b.outdated) - Number(a.outdated) ||
        (perZone.get(b.zone) ?? 0) - (perZone.get(a.zone) ?? 0) ||
        a.pods - b.pods ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    out.push(left.shift()!.name);
  }
  return out;
}

/** The zone a new node goes to: the node group's zone with the fewest of its nodes (first in order on ties). */
export function chooseZone(zones: string[], existing: string[]): string {
  const count = (z: string) => existing.filter((e) => e === z).length;
  return [...zones].sort((a, b) => count(a) - count(b) || zones.indexOf(a) - zones.indexOf(b))[0];
}

export interface NodegroupSnapshot {
  groups: NodegroupView[];
  nodes: KubeObject[];
  pods: KubeObject[];
  region: string;
  hostId: string;
}

export type NodegroupAction =
  | { kind: "createNode"; group: string; node: KubeObject }
  /** Labels and taints of a node brought to what its node group says. */
  | {
      kind: "syncNode";
      node: string;
      labels: Record<string, string>;
      removeLabels: string[];
      taints: Taint[];
      labelKeys: string[];
    }
  /** Cordon the node and mark it draining. */
  | { kind: "drainNode"; group: string; node: string }
  | { kind: "evictPod"; group: string; node: string; namespace: string; pod: string; uid: string }
  /** The node is empty (but for DaemonSet pods, deleted with it): remove it. */
  | { kind: "deleteNode"; group: string; node: string; pods: { namespace: string; name: string; uid: string }[] }
  | { kind: "finishDelete"; group: string };

const sameTaints = (a: Taint[], b: Taint[]) =>
  JSON.stringify([...a].sort((x, y) => (x.key + x.effect < y.key + y.effect ? -1 : 1))) ===
  JSON.stringify([...b].sort((x, y) => (x.key + x.effect < y.key + y.effect ? -1 : 1)));

/** One pass of the node group controller over a cluster. */
export function planNodegroups(s: NodegroupSnapshot): NodegroupAction[] {
  const actions: NodegroupAction[] = [];
  const byArn = new Map(s.groups.map((g) => [g.arn, g]));
  const taken = new Set(s.nodes.map((n) => n.metadata.name ?? ""));
  const ngNodes = s.nodes.filter((n) => annotationsOf(n)[NODEGROUP_ARN_ANNOTATION]);
  const podsOn = new Map<string, KubeObject[]>();
  for (const p of s.pods) {
    const node = podNode(p);
    if (!node) continue;
    const l = podsOn.get(node) ?? [];
    l.push(p);
    podsOn.set(node, l);
  }

  // Draining nodes: evict what runs there, then remove the node.
  const drain = (group: string, n: KubeObject) => {
    const name = n.metadata.name ?? "";
    const pods = (podsOn.get(name) ?? []).filter((p) => !terminal(p));
    const movable = pods.filter((p) => !daemonSetPod(p));
    if (movable.length === 0) {
      actions.push({
        kind: "deleteNode",
        group,
        node: name,
        pods: pods.map((p) => ({
          namespace: p.metadata.namespace ?? "",
          name: p.metadata.name ?? "",
          uid: p.metadata.uid ?? "",
        })),
      });
      return;
    }
    for (const p of movable)
      if (!p.metadata.deletionTimestamp)
        actions.push({
          kind: "evictPod",
          group,
          node: name,
          namespace: p.metadata.namespace ?? "",
          pod: p.metadata.name ?? "",
          uid: p.metadata.uid ?? "",
        });
  };

  // Nodes of node groups that are gone (or were made again under a new ARN) drain away.
  for (const n of ngNodes) {
    if (byArn.has(annotationsOf(n)[NODEGROUP_ARN_ANNOTATION])) continue;
    const group = n.metadata.labels?.[NODEGROUP_LABEL] ?? "";
    if (!isDraining(n)) actions.push({ kind: "drainNode", group, node: n.metadata.name ?? "" });
    else drain(group, n);
  }

  for (const g of s.groups) {
    const mine = ngNodes.filter((n) => annotationsOf(n)[NODEGROUP_ARN_ANNOTATION] === g.arn);
    const draining = mine.filter(isDraining);
    const active = mine.filter((n) => !isDraining(n));
    for (const n of draining) drain(g.name, n);
    if (g.status === "DELETING") {
      for (const n of active) actions.push({ kind: "drainNode", group: g.name, node: n.metadata.name ?? "" });
      if (mine.length === 0) actions.push({ kind: "finishDelete", group: g.name });
      continue;
    }
    if (g.status === "CREATE_FAILED" || g.status === "DELETE_FAILED") continue;

    const target = g.desiredSize;
    const outdated = active.filter((n) => isOutdated(n, g));
    let create = Math.max(0, target - active.length);
    // A version update: one surge batch at a time, once nothing drains.
    if (create === 0 && active.length === target && outdated.length && draining.length === 0)
      create = Math.min(g.maxUnavailable, outdated.length);
    const zones = active.map(zoneOf);
    for (let i = 0; i < create; i++) {
      const zone = chooseZone(g.zones.length ? g.zones : [`${s.region}a`], zones);
      zones.push(zone);
      const { name, ip } = nodeName(`${g.arn}/${taken.size}/${i}`, s.region, taken);
      taken.add(name);
      const type =
        g.capacityType === "SPOT" ? g.instanceTypes[(active.length + i) % g.instanceTypes.length] : g.instanceTypes[0];
      actions.push({
        kind: "createNode",
        group: g.name,
        node: nodegroupNode({ group: g, name, ip, zone, instanceType: type, region: s.region, hostId: s.hostId }),
      });
    }
    const surplus = active.length - target;
    if (surplus > 0) {
      const chosen = chooseNodesToRemove(
        active.map((n) => ({
          name: n.metadata.name ?? "",
          zone: zoneOf(n),
          outdated: isOutdated(n, g),
          pods: (podsOn.get(n.metadata.name ?? "") ?? []).filter((p) => !terminal(p)).length,
        })),
        surplus,
      );
      for (const node of chosen) actions.push({ kind: "drainNode", group: g.name, node });
    }
    // Labels and taints follow the node group (the keys it applied before are taken off when it drops them).
    for (const n of active) {
      const before: string[] = JSON.parse(annotationsOf(n)[NODEGROUP_LABELS_ANNOTATION] ?? "[]");
      const keys = Object.keys(g.labels).sort();
      const labels = n.metadata.labels ?? {};
      const removeLabels = before.filter((k) => !(k in g.labels) && k in labels);
      const changed = Object.entries(g.labels).some(([k, v]) => labels[k] !== v);
      const taints = ((n.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[];
      if (
        changed ||
        removeLabels.length ||
        JSON.stringify(before) !== JSON.stringify(keys) ||
        !sameTaints(taints, g.taints)
      )
        actions.push({
          kind: "syncNode",
          node: n.metadata.name ?? "",
          labels: g.labels,
          removeLabels,
          taints: g.taints,
          labelKeys: keys,
        });
    }
  }
  return actions;
}
