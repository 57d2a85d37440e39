/**
 * How big a pod's Fargate node is, as EKS sizes it (user guide, "Fargate Pod configuration").
 * PURE. The pod's request is the larger of its largest init container and the sum of its
 * containers (cpu and memory separately); Fargate adds 256 MiB for the Kubernetes components
 * (kubelet, kube-proxy, containerd) and rounds up to the smallest vCPU/memory combination that
 * holds both. A pod asking for more than the largest combination does not fit Fargate.
 */
import { type PodSpecResources, podRequests } from "../../../scheduler/pods-resources.js";

export interface FargateSize {
  /** vCPU in millicores (250 = .25 vCPU). */
  cpuMilli: number;
  memoryMiB: number;
}

/** Memory EKS adds to every pod for the Kubernetes components. */
export const KUBE_COMPONENTS_MIB = 256;

const GB = 1024;
const range = (from: number, to: number, step = GB) => {
  const out: number[] = [];
  for (let m = from; m <= to; m += step) out.push(m);
  return out;
};

/** EKS Fargate's vCPU and memory combinations, smallest first. */
export const FARGATE_SIZES: readonly FargateSize[] = [
  ...[512, 1 * GB, 2 * GB].map((m) => ({ cpuMilli: 250, memoryMiB: m })),
  ...range(1 * GB, 4 * GB).map((m) => ({ cpuMilli: 500, memoryMiB: m })),
  ...range(2 * GB, 8 * GB).map((m) => ({ cpuMilli: 1000, memoryMiB: m })),
  ...range(4 * GB, 16 * GB).map((m) => ({ cpuMilli: 2000, memoryMiB: m })),
  ...range(8 * GB, 30 * GB).map((m) => ({ cpuMilli: 4000, memoryMiB: m })),
];

/** The combination a request (the 256 MiB not yet added) is provisioned with, or undefined when none holds it. */
export function fargateSize(request: { cpuMilli: number; memoryBytes: number }): FargateSize | undefined {
  const cpu = Math.max(0, request.cpuMilli);
  const memMiB = Math.max(0, request.memoryBytes) / 2 ** 20 + KUBE_COMPONENTS_MIB;
  return FARGATE_SIZES.find((s) => s.cpuMilli >= cpu && s.memoryMiB >= memMiB);
}

/** A pod's Fargate size from its spec's requests (a limit stands in for a missing request, as kube defaults it). */
export function podFargateSize(spec: PodSpecResources): FargateSize | undefined {
  const r = podRequests({ containers: spec.containers ?? [], initContainers: spec.initContainers });
  return fargateSize({ cpuMilli: r.cpu ?? 0, memoryBytes: r.memory ?? 0 });
}

const trim = (n: number) => String(Number(n.toFixed(3)));

/** The pod's `CapacityProvisioned` annotation: "0.25vCPU 0.5GB". */
export const capacityProvisioned = (s: FargateSize) => `${trim(s.cpuMilli / 1000)}vCPU ${trim(s.memoryMiB / GB)}GB`;

/** The node's capacity (= allocatable) for a size: one pod. */
export function sizeResources(s: FargateSize): Record<string, string> {
  return {
    cpu: s.cpuMilli % 1000 === 0 ? String(s.cpuMilli / 1000) : `${s.cpuMilli}m`,
    memory: `${s.memoryMiB * 1024}Ki`,
    pods: "1",
    "ephemeral-storage": `${20 * 1024 * 1024}Ki`,
  };
}
