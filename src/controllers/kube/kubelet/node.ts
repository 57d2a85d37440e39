/** A host as a cluster's Node, and its heartbeat Lease. PURE builders; the kubelet writes them. */
import { release } from "node:os";
import type { Host } from "../../../hosts/host.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";
export const LEASE_DURATION_SEC = 40;
export const MAX_PODS = 110;
/**
 * On a Node: the id of the Berth host whose kubelet runs it. Whoever makes such a node (a node
 * group, the Fargate scheduler, a self-managed node) sets its labels, spec and capacity; the
 * kubelet keeps those and adds conditions, addresses, nodeInfo and heartbeats.
 */
export const HOSTED_BY_ANNOTATION = "berth.dev/hosted-by";

/** On a hosted Node: the kubelet version it reports (a node group's nodes run their node group's version). */
export const KUBELET_VERSION_ANNOTATION = "berth.dev/kubelet-version";

/** The host id a node is hosted by, if it is a hosted node. */
export const hostedByOf = (node: KubeObject) => node.metadata.annotations?.[HOSTED_BY_ANNOTATION];

/** The node name of a host: stable across restarts, the same in every cluster. */
export const nodeNameOf = (host: Host) => `berth-${host.id}`.toLowerCase().replace(/[^a-z0-9.-]/g, "-");

const arch = (host: Host) => (host.platform.arch === "arm64" ? "arm64" : "amd64");

export interface NodeFacts {
  host: Host;
  cluster: ClusterRef;
  kubeletVersion: string;
  runtimeVersion: string;
  hostIP: string;
  /** The container runtime answered at the last check (Ready is False otherwise). */
  runtimeUp?: boolean;
  /** A hosted node: its name and the capacity its maker gave it (the stand-in node is the host's own). */
  hosted?: { name: string; capacity?: Record<string, string>; allocatable?: Record<string, string> };
}

const nameOf = (f: NodeFacts) => f.hosted?.name ?? nodeNameOf(f.host);

export function nodeLabels(f: NodeFacts): Record<string, string> {
  const name = nodeNameOf(f.host);
  return {
    "beta.kubernetes.io/arch": arch(f.host),
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": arch(f.host),
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "node.kubernetes.io/instance-type": f.host.platform.instanceType,
    "topology.kubernetes.io/region": f.cluster.scope.region,
    "topology.kubernetes.io/zone": `${f.cluster.scope.region}a`,
  };
}

/** capacity = allocatable: the host's cores, memory and kube's 110 pods. */
export function nodeResources(host: Host): Record<string, string> {
  const cpu = host.resources.cpuUnits / 1024;
  return {
    cpu: Number.isInteger(cpu) ? String(cpu) : `${Math.floor(cpu * 1000)}m`,
    memory: `${host.resources.memoryMiB * 1024}Ki`,
    pods: String(MAX_PODS),
    "ephemeral-storage": "20959212Ki",
  };
}

type Condition = {
  type: string;
  status: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
};

const CONDITIONS: [string, string, string, string][] = [
  ["MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
  ["DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
  ["PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
  ["Ready", "True", "KubeletReady", "kubelet is posting ready status"],
];

/** The node's status now (conditions keep their transition times from `prev`). */
export function nodeStatus(f: NodeFacts, now: string, prev?: { conditions?: Condition[] }): Record<string, unknown> {
  const res = nodeResources(f.host);
  const capacity = f.hosted?.capacity ?? f.hosted?.allocatable ?? res;
  return {
    capacity,
    allocatable: f.hosted?.allocatable ?? capacity,
    conditions: CONDITIONS.map(([type, ok, why, text]) => {
      const down = type === "Ready" && f.runtimeUp === false;
      const status = down ? "False" : ok;
      const reason = down ? "KubeletNotReady" : why;
      const message = down ? "container runtime is down" : text;
      const old = prev?.conditions?.find((c) => c.type === type);
      return {
        type,
        status,
        lastHeartbeatTime: now,
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
        reason,
        message,
      };
    }),
    addresses: [
      { type: "InternalIP", address: f.hostIP },
      { type: "Hostname", address: nameOf(f) },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: f.hosted ? f.hosted.name : f.host.id,
      systemUUID: f.hosted ? f.hosted.name : f.host.id,
      bootID: "",
      kernelVersion: release(),
      osImage: "Berth",
      containerRuntimeVersion: f.runtimeVersion,
      kubeletVersion: f.kubeletVersion,
      kubeProxyVersion: f.kubeletVersion,
      operatingSystem: "linux",
      architecture: arch(f.host),
    },
  };
}

export function nodeObject(f: NodeFacts, now: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: nodeNameOf(f.host),
      labels: nodeLabels(f),
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: { providerID: `berth:///${f.cluster.scope.region}a/${f.host.id}` },
    status: nodeStatus(f, now),
  };
}

/** Micro-second RFC 3339, as Lease.spec.renewTime is. */
export const microTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}000Z`;

export function leaseObject(node: KubeObject, nowMs: number): KubeObject {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: node.metadata.name,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: [
        { apiVersion: "v1", kind: "Node", name: node.metadata.name ?? "", uid: node.metadata.uid ?? "" },
      ],
    },
    spec: { holderIdentity: node.metadata.name, leaseDurationSeconds: LEASE_DURATION_SEC, renewTime: microTime(nowMs) },
  };
}

/** kubeletVersion for a cluster version ("1.27" → "v1.27.0-eks-berth"). */
export const kubeletVersionOf = (version: string | undefined) => {
  const v = version ?? "1.27";
  return `v${/^\d+\.\d+$/.test(v) ? `${v}.0` : v}-eks-berth`;
};
