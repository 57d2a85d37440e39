import type { ContainerRuntime } from "../runtime/runtime.js";
import type { HostCapacity } from "../scheduler/room.js";

/**
 * A place that runs containers: the local Docker host today; agent hosts, EC2 instances, EKS
 * nodes and Fargate micro-hosts next. What it offers is here; what is in use on it is derived
 * from the tasks placed on it (scheduler/room.ts), never kept as a counter that could drift.
 */
export interface Host {
  /** Stable across restarts: a host's memberships (ECS container instances) are keyed by it. */
  id: string;
  kind: HostKind;
  resources: HostResources;
  /** Host ports nothing placed may bind: "22", "2375", … per protocol. */
  reservedPorts: { tcp: string[]; udp: string[] };
  platform: { os: "linux"; arch: "x86_64" | "arm64"; instanceType: string };
  /** Custom attributes (name, optional value) constraints can match. */
  attributes: { name: string; value?: string }[];
  /** Where its containers run. */
  runtime: ContainerRuntime;
  /** The address its published ports bind to and load balancers reach it at. */
  publishHost?: string;
}

/** The Docker Engine Berth runs beside, or a host whose `berth agent` connected over its channel. */
export type HostKind = "local-docker" | "agent";

/** CPU units (1024 per core) and memory (MiB) a host offers to tasks. */
export interface HostResources {
  cpuUnits: number;
  memoryMiB: number;
}

/** What a host offers placement before any task (scheduler/room.ts derives what is left from its tasks). */
export function hostCapacity(host: Host): HostCapacity {
  return {
    id: host.id,
    cpu: host.resources.cpuUnits,
    memory: host.resources.memoryMiB,
    reservedPorts: [...host.reservedPorts.tcp.map((p) => `tcp:${p}`), ...host.reservedPorts.udp.map((p) => `udp:${p}`)],
    attributes: Object.fromEntries(host.attributes.map((a) => [a.name, a.value ?? ""])),
  };
}
