import {
  type Filter,
  type FilterContext,
  type PlacementFailure,
  distinctInstance,
  memberOfFilter,
  resources,
} from "./filters.js";
import type { TaskNeeds } from "./reservation.js";
import { type HostRoom, copyRoom, take } from "./room.js";
import { MAX_STRATEGIES, type Scorer, type Strategy, scorerFor, spread } from "./scorers.js";

/**
 * Placement as a pure function: (hosts' rooms, the task, how many, strategies and constraints) →
 * a plain-data plan. Each task goes through the feasibility filters, then the scorers pick among
 * the hosts left; the chosen host's room shrinks before the next task. Nothing here reads or
 * writes the store: the caller snapshots rooms, and an applier re-validates the plan.
 */

export interface Constraint {
  type?: string;
  expression?: string;
}

export interface PlacementOptions {
  /** ECS placementStrategy: in order of priority, at most five are read. Default: spread over hosts. */
  strategy?: Strategy[];
  placementConstraints?: Constraint[];
  /** The source of `random` placement (tests pass a seeded one). */
  random?: () => number;
}

export interface Placement {
  taskIndex: number;
  hostId: string;
}

export interface PlacementPlan {
  /** One per placed task, in launch order. */
  placements: Placement[];
  /**
   * When some task was not placed: one entry per host that refused one, with the first reason it
   * gave (planOnHosts: one per refused task, with its index).
   */
  failures: { hostId: string; reason: PlacementFailure; taskIndex?: number }[];
}

/** The filter chain for a placement: resources first, then the constraints in the order given. */
export function filtersFor(constraints: Constraint[] = []): Filter[] {
  const chain: Filter[] = [];
  for (const c of constraints) {
    if (c.type === "distinctInstance") chain.push(distinctInstance);
    else if (c.type === "memberOf" && c.expression) chain.push(memberOfFilter(c.expression));
  }
  // Constraints before resources: a host a constraint rules out reports that, as ECS does.
  return [...chain, resources];
}

/** The scorers for a placement, in priority order. */
export function scorersFor(strategy: Strategy[] | undefined, rng: () => number): Scorer[] {
  const scorers = (strategy ?? []).slice(0, MAX_STRATEGIES).flatMap((s) => scorerFor(s, rng) ?? []);
  return scorers.length > 0 ? scorers : [spread("instanceId")];
}

/** The first filter's reason a host cannot take the task, or undefined. */
const refusal = (filters: Filter[], room: HostRoom, ctx: FilterContext) => {
  for (const f of filters) {
    const why = f(room, ctx);
    if (why) return why;
  }
  return undefined;
};

/**
 * The candidate the scorers rank first: lexicographic over the scorers' keys, ties keep input
 * order. Each key is computed at most once per candidate (random keys must not change mid-comparison).
 */
function best(candidates: HostRoom[], all: HostRoom[], scorers: Scorer[]): number {
  const keyOf = scorers.map((s) => s(all));
  let w = 0;
  let winner = candidates[0];
  let winnerKeys = keyOf.map((k) => k(winner));
  for (let i = 1; i < candidates.length; i++) {
    const c = candidates[i];
    for (let j = 0; j < keyOf.length; j++) {
      const k = keyOf[j](c);
      if (k === winnerKeys[j]) continue;
      if (k < winnerKeys[j]) {
        w = i;
        winner = c;
        winnerKeys = [...winnerKeys.slice(0, j), k, ...keyOf.slice(j + 1).map((f) => f(c))];
      }
      break;
    }
  }
  return w;
}

/** Places `count` tasks one after another; stops at the first that no host can take. */
export function planPlacement(
  hosts: HostRoom[],
  needs: TaskNeeds,
  count: number,
  opts: PlacementOptions = {},
): PlacementPlan {
  // Copy on write: only the hosts the plan takes from are copied, never the caller's rooms.
  const rooms = hosts.slice();
  const copied = new Set<number>();
  const filters = filtersFor(opts.placementConstraints);
  const scorers = scorersFor(opts.strategy, opts.random ?? Math.random);
  const used = new Set<string>();
  const placements: Placement[] = [];
  const failures = new Map<string, PlacementFailure>();
  const ctx: FilterContext = { needs, used };
  for (let taskIndex = 0; taskIndex < count; taskIndex++) {
    const fitting: HostRoom[] = [];
    const at: number[] = [];
    for (let i = 0; i < rooms.length; i++) {
      const why = refusal(filters, rooms[i], ctx);
      if (!why) {
        fitting.push(rooms[i]);
        at.push(i);
      } else if (!failures.has(rooms[i].id)) failures.set(rooms[i].id, why);
    }
    if (fitting.length === 0) break;
    const index = at[best(fitting, rooms, scorers)];
    if (!copied.has(index)) {
      rooms[index] = copyRoom(rooms[index]);
      copied.add(index);
    }
    const chosen = rooms[index];
    take(chosen, needs);
    used.add(chosen.id);
    placements.push({ taskIndex, hostId: chosen.id });
  }
  return {
    placements,
    failures: placements.length === count ? [] : [...failures].map(([hostId, reason]) => ({ hostId, reason })),
  };
}

/**
 * One task on each named host, in order (ECS StartTask): resources only, no strategy. A host named
 * twice takes the second task from what the first left. Unknown hosts are the caller's to report.
 */
export function planOnHosts(hosts: HostRoom[], needs: TaskNeeds, hostIds: string[]): PlacementPlan {
  const rooms = new Map(hosts.map((r) => [r.id, copyRoom(r)]));
  const placements: Placement[] = [];
  const failures: PlacementPlan["failures"] = [];
  hostIds.forEach((hostId, taskIndex) => {
    const room = rooms.get(hostId);
    if (!room) return;
    const why = resources(room, { needs, used: new Set() });
    if (why) failures.push({ hostId, reason: why, taskIndex });
    else {
      take(room, needs);
      placements.push({ taskIndex, hostId });
    }
  });
  return { placements, failures };
}

/**
 * Re-validates a plan against the hosts as they are now (the applier calls this inside its write
 * transaction): the first placement that no longer fits, with its reason, or undefined when all do.
 */
export function revalidate(
  plan: PlacementPlan,
  hosts: HostRoom[],
  needs: TaskNeeds,
  constraints: Constraint[] = [],
): { placement: Placement; reason: PlacementFailure | "MISSING" } | undefined {
  const rooms = new Map(hosts.map((r) => [r.id, copyRoom(r)]));
  const filters = filtersFor(constraints);
  const used = new Set<string>();
  for (const placement of plan.placements) {
    const room = rooms.get(placement.hostId);
    if (!room) return { placement, reason: "MISSING" };
    const why = refusal(filters, room, { needs, used });
    if (why) return { placement, reason: why };
    take(room, needs);
    used.add(room.id);
  }
  return undefined;
}
