/**
 * The Fargate scheduler's decisions. PURE: (the cluster's pods, nodes and Fargate profiles) → what
 * to write. EKS runs each Fargate pod on a node of its own: a pod EKS's admission gave to the
 * `fargate-scheduler` gets a `fargate-ip-…` Node sized from its requests and is bound to it; a pod
 * Fargate cannot run stays Pending with fargate-scheduler's reason; a pod whose profile is being
 * deleted (or is gone) is deleted, so its controller makes a new one that admission places anew;
 * a node whose pod ended or is gone is removed.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../../../kube/types.js";
import { HOSTED_BY_ANNOTATION } from "../kubelet/node.js";
import type { Pod } from "../kubelet/types.js";
import { FARGATE_PROFILE_LABEL, FARGATE_SCHEDULER, type FargateProfileView } from "./profiles.js";
import { type FargateSize, podFargateSize, sizeResources } from "./size.js";

export const FARGATE_PROFILE_ANNOTATION = "eks.amazonaws.com/fargate-profile";
export const CAPACITY_ANNOTATION = "CapacityProvisioned";
export const COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type";
/** The pod a Fargate node was made for (Berth's own record, so a restart finds the pair again). */
export const FARGATE_POD_UID_ANNOTATION = "berth.dev/fargate-pod-uid";
export const FARGATE_POD_ANNOTATION = "berth.dev/fargate-pod";

export const TOO_BIG = {
  reason: "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE",
  message: "Your pod's cpu/memory requirements exceed the max Fargate configuration",
} as const;

const terminal = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

/**
 * Why Fargate cannot run a pod ("Pod not supported on Fargate: …", as fargate-scheduler words it),
 * or undefined.
 */
export function unsupportedOnFargate(pod: Pod): string | undefined {
  const spec = pod.spec;
  const sc = spec.securityContext as { hostPID?: boolean; hostIPC?: boolean } | undefined;
  const fields = [
    spec.hostNetwork ? "HostNetwork" : undefined,
    (spec as { hostPID?: boolean }).hostPID || sc?.hostPID ? "HostPID" : undefined,
    (spec as { hostIPC?: boolean }).hostIPC || sc?.hostIPC ? "HostIPC" : undefined,
  ].filter((f): f is string => f !== undefined);
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const privileged = all.some((c) => (c.securityContext as { privileged?: boolean } | undefined)?.privileged);
  const hostPorts = all.some((c) => (c.ports ?? []).some((p) => p.hostPort || p.hostIP));
  const badVolumes = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  const parts = [
    fields.length ? `fields not supported: ${fields.join(", ")}` : undefined,
    privileged ? "invalid SecurityContext fields: Privileged" : undefined,
    hostPorts ? "port contains HostIP or HostPort" : undefined,
    badVolumes.length
      ? `volumes not supported: ${badVolumes.map((n) => `${n} is of an unsupported volume Type`).join(", ")}`
      : undefined,
  ].filter((p): p is string => p !== undefined);
  return parts.length ? `Pod not supported on Fargate: ${parts.join(", ")}` : undefined;
}

const hash = (s: string) => createHash("sha256").update(s).digest();

/** EC2's private DNS domain of a region. */
export const dnsDomain = (region: string) => (region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`);

/** A node name for a pod: `fargate-ip-10-0-X-Y.<region>.compute.internal`, from its uid, not in `taken`. */
export function fargateNodeName(uid: string, region: string, taken: ReadonlySet<string>): string {
  const h = hash(uid);
  let n = ((h[0] << 8) | h[1]) % (256 * 254);
  for (let i = 0; i < 256 * 254; i++, n = (n + 1) % (256 * 254)) {
    const name = `fargate-ip-10-0-${Math.floor(n / 254)}-${(n % 254) + 1}.${dnsDomain(region)}`;
    if (!taken.has(name)) return name;
  }
  throw new Error("no free Fargate node address");
}

export interface FargateNodeArgs {
  name: string;
  pod: Pod;
  profile: string;
  size: FargateSize;
  region: string;
  zone: string;
  hostId: string;
  arch: "amd64" | "arm64";
}

/** The Node EKS registers for a Fargate pod (labels, taint, providerID, capacity as EKS shows them). */
export function fargateNode(a: FargateNodeArgs): KubeObject {
  const hostname = a.name.replace(/^fargate-/, "");
  const res = sizeResources(a.size);
  const id = hash(`${a.pod.metadata.uid}`).toString("hex");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: a.name,
      labels: {
        "beta.kubernetes.io/arch": a.arch,
        "beta.kubernetes.io/os": "linux",
        [COMPUTE_TYPE_LABEL]: "fargate",
        "failure-domain.beta.kubernetes.io/region": a.region,
        "failure-domain.beta.kubernetes.io/zone": a.zone,
        "kubernetes.io/arch": a.arch,
        "kubernetes.io/hostname": hostname,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/region": a.region,
        "topology.kubernetes.io/zone": a.zone,
      },
      annotations: {
        [HOSTED_BY_ANNOTATION]: a.hostId,
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        [FARGATE_POD_ANNOTATION]: `${a.pod.metadata.namespace ?? "default"}/${a.pod.metadata.name ?? ""}`,
        [FARGATE_POD_UID_ANNOTATION]: a.pod.metadata.uid ?? "",
        [FARGATE_PROFILE_ANNOTATION]: a.profile,
      },
    },
    spec: {
      providerID: `aws:///${a.zone}/${id.slice(0, 10)}-${id.slice(10, 42)}/${a.name}`,
      taints: [{ key: COMPUTE_TYPE_LABEL, value: "fargate", effect: "NoSchedule" }],
    },
    status: { capacity: res, allocatable: res },
  };
}

export interface FargateSnapshot {
  pods: Pod[];
  nodes: KubeObject[];
  profiles: FargateProfileView[];
  region: string;
  hostId: string;
  arch: "amd64" | "arm64";
}

export type FargateAction =
  /** Register the pod's node (unless one made for it exists), then bind the pod to it. */
  | { kind: "bind"; pod: Pod; node: string; size: FargateSize; create?: KubeObject }
  /** The pod stays Pending: PodScheduled=False with this reason and message, a FailedScheduling event. */
  | { kind: "unschedulable"; pod: Pod; reason: string; message: string }
  /** The pod's profile is being deleted or gone: the pod is deleted. */
  | { kind: "deletePod"; pod: Pod }
  /** The node's pod ended or is gone. */
  | { kind: "deleteNode"; node: string };

const isFargateNode = (n: KubeObject) =>
  n.metadata.labels?.[COMPUTE_TYPE_LABEL] === "fargate" && !!n.metadata.annotations?.[FARGATE_POD_UID_ANNOTATION];

/** One pass of the Fargate scheduler over a cluster. */
export function planFargate(s: FargateSnapshot): FargateAction[] {
  const actions: FargateAction[] = [];
  const profiles = new Map(s.profiles.map((p) => [p.name, p]));
  const podsByUid = new Map(s.pods.map((p) => [p.metadata.uid ?? "", p]));
  const nodeOfPod = new Map<string, string>();
  for (const n of s.nodes.filter(isFargateNode))
    nodeOfPod.set(n.metadata.annotations![FARGATE_POD_UID_ANNOTATION], n.metadata.name ?? "");
  const taken = new Set(s.nodes.map((n) => n.metadata.name ?? ""));

  for (const pod of s.pods) {
    if (pod.spec?.schedulerName !== FARGATE_SCHEDULER || pod.metadata.deletionTimestamp || terminal(pod)) continue;
    const profileName =
      pod.metadata.annotations?.[FARGATE_PROFILE_ANNOTATION] ?? pod.metadata.labels?.[FARGATE_PROFILE_LABEL];
    const profile = profileName ? profiles.get(profileName) : undefined;
    if (!profile || profile.status === "DELETING" || profile.status === "DELETE_FAILED") {
      actions.push({ kind: "deletePod", pod });
      continue;
    }
    if (pod.spec.nodeName) continue;
    const unsupported = unsupportedOnFargate(pod);
    if (unsupported) {
      actions.push({ kind: "unschedulable", pod, reason: "Unschedulable", message: unsupported });
      continue;
    }
    const size = podFargateSize(pod.spec);
    if (!size) {
      actions.push({ kind: "unschedulable", pod, ...TOO_BIG });
      continue;
    }
    const uid = pod.metadata.uid ?? "";
    const existing = nodeOfPod.get(uid);
    if (existing) {
      actions.push({ kind: "bind", pod, node: existing, size });
      continue;
    }
    const name = fargateNodeName(uid, s.region, taken);
    taken.add(name);
    const zones = profile.zones.length ? profile.zones : [`${s.region}a`];
    const zone = zones[hash(`zone/${uid}`)[0] % zones.length];
    const create = fargateNode({
      name,
      pod,
      profile: profile.name,
      size,
      region: s.region,
      zone,
      hostId: s.hostId,
      arch: s.arch,
    });
    actions.push({ kind: "bind", pod, node: name, size, create });
  }

  for (const n of s.nodes.filter(isFargateNode)) {
    const pod = podsByUid.get(n.metadata.annotations![FARGATE_POD_UID_ANNOTATION]);
    if (!pod || terminal(pod) || (pod.spec?.nodeName && pod.spec.nodeName !== n.metadata.name))
      actions.push({ kind: "deleteNode", node: n.metadata.name ?? "" });
  }
  return actions;
}
