/**
 * EC2 instance types as an EKS node sees them. PURE data and arithmetic: vCPUs, memory and the
 * VPC CNI's pod limit (ENIs × (IPv4 addresses per ENI − 1) + 2, eni-max-pods.txt), and the
 * allocatable CPU/memory the EKS AMIs' kubelet leaves after kube-reserved and the eviction
 * threshold: CPU 6% of the first core, 1% of the second, 0.5% of cores 3–4, 0.25% above;
 * memory 255 MiB + 11 MiB per pod, plus 100 MiB for eviction. A node's capacity memory is what
 * the OS reports, about 94% of the instance's (t3.medium: 3943392Ki of 4 GiB).
 */

export interface InstanceType {
  name: string;
  vcpus: number;
  memoryMiB: number;
  maxPods: number;
  arch: "amd64" | "arm64";
}

/** [size, vCPUs, memory GiB, ENIs, IPv4 per ENI] of a family generation. */
type Size = [string, number, number, number, number];

const T_SIZES: Size[] = [
  ["nano", 2, 0.5, 2, 2],
  ["micro", 2, 1, 2, 2],
  ["small", 2, 2, 3, 4],
  ["medium", 2, 4, 3, 6],
  ["large", 2, 8, 3, 12],
  ["xlarge", 4, 16, 4, 15],
  ["2xlarge", 8, 32, 4, 15],
];
/** m/c/r sizes (memory per vCPU is the family's: 4, 2 and 8 GiB). */
const GENERAL: [string, number, number, number][] = [
  ["large", 2, 3, 10],
  ["xlarge", 4, 4, 15],
  ["2xlarge", 8, 4, 15],
  ["4xlarge", 16, 8, 30],
  ["8xlarge", 32, 8, 30],
  ["12xlarge", 48, 8, 30],
  ["16xlarge", 64, 15, 50],
  ["24xlarge", 96, 15, 50],
];

const table = new Map<string, InstanceType>();
const add = (name: string, vcpus: number, memGiB: number, enis: number, ips: number, arch: "amd64" | "arm64") =>
  table.set(name, { name, vcpus, memoryMiB: memGiB * 1024, maxPods: enis * (ips - 1) + 2, arch });

for (const family of ["t3", "t3a", "t4g"])
  for (const [size, v, m, e, i] of T_SIZES) add(`${family}.${size}`, v, m, e, i, family === "t4g" ? "arm64" : "amd64");
const FAMILIES: [string[], number, "amd64" | "arm64"][] = [
  [["m5", "m5a", "m6i", "m6a", "m7i", "m7a"], 4, "amd64"],
  [["m6g", "m7g"], 4, "arm64"],
  [["c5", "c5a", "c6i", "c6a", "c7i"], 2, "amd64"],
  [["c6g", "c7g"], 2, "arm64"],
  [["r5", "r5a", "r6i", "r7i"], 8, "amd64"],
  [["r6g", "r7g"], 8, "arm64"],
];
for (const [families, perCpu, arch] of FAMILIES)
  for (const f of families) for (const [size, v, e, i] of GENERAL) add(`${f}.${size}`, v, v * perCpu, e, i, arch);

/** The instance types Berth knows, by name. */
export const INSTANCE_TYPES: ReadonlyMap<string, InstanceType> = table;

export const instanceType = (name: string): InstanceType | undefined => table.get(name);

/** kube-reserved CPU of the EKS AMIs, in millicores, for n vCPUs. */
export function reservedCpuMillis(vcpus: number): number {
  const tiers: [number, number][] = [
    [1, 60],
    [1, 10],
    [2, 5],
    [Number.POSITIVE_INFINITY, 2.5],
  ];
  let left = vcpus;
  let reserved = 0;
  for (const [cores, perCore] of tiers) {
    const n = Math.min(left, cores);
    reserved += n * perCore;
    left -= n;
    if (left <= 0) break;
  }
  return Math.floor(reserved);
}

/** The memory the OS of an instance reports (KiB). */
export const capacityMemoryKi = (t: InstanceType) => Math.floor(t.memoryMiB * 1024 * 0.9402);

/** A node's capacity and allocatable for its instance type (Kubernetes quantities). */
export function nodeResourcesOf(t: InstanceType): {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
} {
  const memKi = capacityMemoryKi(t);
  const reservedMemKi = (255 + 11 * t.maxPods + 100) * 1024;
  const common = { "ephemeral-storage": "20959212Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0" };
  return {
    capacity: { cpu: String(t.vcpus), memory: `${memKi}Ki`, pods: String(t.maxPods), ...common },
    allocatable: {
      cpu: `${t.vcpus * 1000 - reservedCpuMillis(t.vcpus)}m`,
      memory: `${Math.max(0, memKi - reservedMemKi)}Ki`,
      pods: String(t.maxPods),
      ...common,
      "ephemeral-storage": "18242267924",
    },
  };
}
