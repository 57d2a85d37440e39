/**
 * ECS CPUUtilization and MemoryUtilization as AWS computes them, pure:
 * service (or cluster) utilization = Σ used by its tasks / Σ reserved by its tasks × 100, with
 * CPU in units (1024 per vCPU) and memory in MiB. Minimum and Maximum are the extremes over the
 * tasks; Average is the ratio of the sums.
 */

/** One RUNNING task's reservation and measured use over the last interval. */
export interface TaskUsage {
  cluster: string;
  /** The service the task belongs to (its group `service:<name>`), if any. */
  service?: string;
  /** Reserved CPU units (task cpu, else the sum of container cpu); 0 when nothing is reserved. */
  cpuReserved: number;
  /** Reserved memory MiB (task memory, else the containers' memory or memoryReservation). */
  memoryReserved: number;
  /** CPU units used on average over the interval. */
  cpuUsed?: number;
  /** Memory in use now (MiB). */
  memoryUsed?: number;
}

/** A utilization sample: Average (ratio of sums) with Minimum/Maximum over tasks. */
export interface UtilizationSample {
  average: number;
  min: number;
  max: number;
  tasks: number;
}

export interface Utilization {
  /** Dimension sets as [ClusterName] or [ClusterName, ServiceName]. */
  cpu: Map<string, UtilizationSample>;
  memory: Map<string, UtilizationSample>;
}

/** Key of a dimension set: the cluster, or cluster and service joined by a slash. */
export const groupKey = (cluster: string, service?: string) =>
  service === undefined ? cluster : `${cluster}/${service}`;

function sample(parts: { used: number; reserved: number }[]): UtilizationSample | undefined {
  const usable = parts.filter((p) => p.reserved > 0);
  if (usable.length === 0) return undefined;
  const used = usable.reduce((n, p) => n + p.used, 0);
  const reserved = usable.reduce((n, p) => n + p.reserved, 0);
  const each = usable.map((p) => (p.used / p.reserved) * 100);
  return { average: (used / reserved) * 100, min: Math.min(...each), max: Math.max(...each), tasks: usable.length };
}

export function utilization(tasks: TaskUsage[]): Utilization {
  const groups = new Map<string, TaskUsage[]>();
  for (const t of tasks)
    for (const key of t.service === undefined
      ? [groupKey(t.cluster)]
      : [groupKey(t.cluster), groupKey(t.cluster, t.service)]) {
      let list = groups.get(key);
      if (!list) {
        list = [];
        groups.set(key, list);
      }
      list.push(t);
    }
  const out: Utilization = { cpu: new Map(), memory: new Map() };
  for (const [key, list] of groups) {
    const cpu = sample(
      list.filter((t) => t.cpuUsed !== undefined).map((t) => ({ used: t.cpuUsed!, reserved: t.cpuReserved })),
    );
    const mem = sample(
      list.filter((t) => t.memoryUsed !== undefined).map((t) => ({ used: t.memoryUsed!, reserved: t.memoryReserved })),
    );
    if (cpu) out.cpu.set(key, cpu);
    if (mem) out.memory.set(key, mem);
  }
  return out;
}

/** CPU units used between two readings of cumulative CPU time: 1024 units per core busy. */
export const cpuUnitsUsed = (
  prev: { readAt: number; cpuTotalNs: number },
  next: { readAt: number; cpuTotalNs: number },
) => {
  const wallNs = (next.readAt - prev.readAt) * 1e6;
  if (wallNs <= 0 || next.cpuTotalNs < prev.cpuTotalNs) return undefined;
  return ((next.cpuTotalNs - prev.cpuTotalNs) / wallNs) * 1024;
};
