import type { Clock } from "../core/clock.js";
import type { Scope } from "../core/ids.js";
import { parseArn } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { ContainerRuntime, ContainerStats } from "../runtime/runtime.js";
import { taskReservation } from "../scheduler/reservation.js";
import type { EcsCollections, TaskRecord } from "../store/schema/ecs.js";
import { type TaskUsage, cpuUnitsUsed, utilization } from "./ecs-utilization.js";
import type { MetricStore } from "./store.js";
import { type Periodic, periodic } from "../core/periodic.js";

/** A source of metrics published on Berth's collection tick (the ALB data plane's counters, …). */
export interface MetricSource {
  /** Publishes what happened since the previous call. */
  collect(now: number): void | Promise<void>;
}

/**
 * Publishes AWS/ECS CPUUtilization and MemoryUtilization per ClusterName and per
 * ClusterName+ServiceName from the RUNNING tasks' container stats, every interval.
 */
export class EcsMetricsCollector implements MetricSource {
  private readonly previous = new Map<string, ContainerStats>();

  constructor(
    private readonly d: {
      ecs: EcsCollections;
      runtime: ContainerRuntime;
      /** The runtime of the host a task runs on (agent hosts); `runtime` when absent. */
      runtimeOf?: (task: TaskRecord) => ContainerRuntime;
      metrics: MetricStore;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async collect(now: number) {
    const byScope = new Map<string, { scope: Scope; usage: TaskUsage[] }>();
    const seen = new Set<string>();
    const running = this.d.ecs.tasks.listAll().filter(({ doc }) => doc.lastStatus === "RUNNING");
    await Promise.all(
      running.map(async ({ scope, doc: task }) => {
        const { cpu, memory } = taskReservation(task.spec);
        let cpuUsed: number | undefined;
        let memoryUsed: number | undefined;
        for (const c of task.containers ?? []) {
          if (!c.runtimeId || c.lastStatus !== "RUNNING") continue;
          seen.add(c.runtimeId);
          const stats = await (this.d.runtimeOf?.(task) ?? this.d.runtime).stats(c.runtimeId).catch(() => undefined);
          if (!stats) continue;
          const prev = this.previous.get(c.runtimeId);
          this.previous.set(c.runtimeId, stats);
          const units = prev ? cpuUnitsUsed(prev, stats) : undefined;
          if (units !== undefined) cpuUsed = (cpuUsed ?? 0) + units;
          memoryUsed = (memoryUsed ?? 0) + stats.memoryUsedBytes / (1024 * 1024);
        }
        const key = `${scope.account}|${scope.region}`;
        let entry = byScope.get(key);
        if (!entry) {
          entry = { scope, usage: [] };
          byScope.set(key, entry);
        }
        entry.usage.push({
          cluster: parseArn(task.clusterArn)?.resource.replace(/^cluster\//, "") ?? "default",
          service: task.group?.startsWith("service:") ? task.group.slice("service:".length) : undefined,
          cpuReserved: cpu,
          memoryReserved: memory,
          cpuUsed,
          memoryUsed,
        });
      }),
    );
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);
    for (const { scope, usage } of byScope.values()) {
      const u = utilization(usage);
      for (const [metric, samples] of [
        ["CPUUtilization", u.cpu],
        ["MemoryUtilization", u.memory],
      ] as const)
        for (const [key, s] of samples) {
          const [cluster, service] = key.split("/");
          const dimensions = [{ Name: "ClusterName", Value: cluster }];
          if (service !== undefined) dimensions.push({ Name: "ServiceName", Value: service });
          this.d.metrics.put(
            scope,
            { namespace: "AWS/ECS", name: metric, dimensions },
            [
              {
                timestamp: now,
                unit: "Percent",
                count: 1,
                sum: s.average,
                min: s.min,
                max: s.max,
                values: [[s.average, 1]],
              },
            ],
            true,
          );
        }
    }
  }
}

/** Runs metric sources every interval (one tick at a time). */
export class MetricCollection {
  private readonly loop: Periodic;

  constructor(
    private readonly sources: () => MetricSource[],
    private readonly clock: Clock,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.loop = periodic(() => this.collectAll(), { name: "metric collection", everyMs: intervalMs, logger, clock });
  }

  start() {
    void this.loop.start();
  }

  stop() {
    this.loop.stop();
  }

  /** One collection now; a collection already going is not doubled. */
  tick(): Promise<void> {
    return this.loop.runNow();
  }

  private async collectAll() {
    const now = this.clock.now().getTime();
    for (const source of this.sources()) {
      try {
        await source.collect(now);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "metric collection failed");
      }
    }
  }
}
