import type { PlacementConstraint, PlacementStrategy } from "../../src/protocol/generated/types/ecs.js";

/**
 * The baseline: Berth's placement before src/scheduler, copied verbatim from
 * src/services/ecs/placement.ts (one function, hard-wired filters, only the first binpack read).
 * Kept here only as the benchmark's peer; nothing in src/ uses it.
 */

/** What a task reserves on its instance. */
export interface TaskNeeds {
  cpu: number;
  memory: number;
  /** Fixed host ports as "tcp:8080" / "udp:53" (bridge hostPort > 0, host mode every port). */
  ports: string[];
}

/** An instance as placement sees it. */
export interface InstanceRoom {
  arn: string;
  cpu: number;
  memory: number;
  ports: Set<string>;
  /** Tasks on it that are not STOPPED (spread, distinctInstance). */
  tasks: number;
}

export type PlacementFailure = "RESOURCE:CPU" | "RESOURCE:MEMORY" | "RESOURCE:PORTS";

/** Why an instance cannot take a task, in the order ECS checks, or undefined when it can. */
export function misfit(room: InstanceRoom, needs: TaskNeeds): PlacementFailure | undefined {
  if (needs.cpu > room.cpu) return "RESOURCE:CPU";
  if (needs.memory > room.memory) return "RESOURCE:MEMORY";
  if (needs.ports.some((p) => room.ports.has(p))) return "RESOURCE:PORTS";
  return undefined;
}

export interface PlacementResult {
  /** One instance ARN per placed task, in launch order. */
  placed: string[];
  /** One entry per instance that could not take a task, with the first reason it gave. */
  failures: { arn: string; reason: PlacementFailure | "DistinctInstance" }[];
}

/**
 * Places `count` tasks one after another, each taking its reservation from the chosen instance.
 * Among instances that fit, `binpack` (on memory or cpu) picks the one with the least of that
 * left, anything else spreads: the one running the fewest tasks. `distinctInstance` keeps each
 * task on an instance none of the others is on.
 */
export function placeTasks(
  instances: InstanceRoom[],
  needs: TaskNeeds,
  count: number,
  opts: { strategy?: PlacementStrategy[]; constraints?: PlacementConstraint[] } = {},
): PlacementResult {
  const rooms = instances.map((r) => ({ ...r, ports: new Set(r.ports) }));
  const distinct = opts.constraints?.some((c) => c.type === "distinctInstance") ?? false;
  const binpack = opts.strategy?.find((s) => s.type === "binpack");
  const used = new Set<string>();
  const placed: string[] = [];
  const failures = new Map<string, PlacementFailure | "DistinctInstance">();
  for (let i = 0; i < count; i++) {
    const fitting = rooms.filter((r) => {
      if (distinct && used.has(r.arn)) {
        if (!failures.has(r.arn)) failures.set(r.arn, "DistinctInstance");
        return false;
      }
      const why = misfit(r, needs);
      if (why && !failures.has(r.arn)) failures.set(r.arn, why);
      return !why;
    });
    if (fitting.length === 0) break;
    const key = (r: InstanceRoom) => (binpack ? (binpack.field?.toLowerCase() === "cpu" ? r.cpu : r.memory) : r.tasks);
    const chosen = fitting.reduce((best, r) => (key(r) < key(best) ? r : best));
    chosen.cpu -= needs.cpu;
    chosen.memory -= needs.memory;
    for (const p of needs.ports) chosen.ports.add(p);
    chosen.tasks += 1;
    used.add(chosen.arn);
    placed.push(chosen.arn);
  }
  return {
    placed,
    failures: placed.length === count ? [] : [...failures].map(([arn, reason]) => ({ arn, reason })),
  };
}
