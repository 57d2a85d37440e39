import type { HostRoom } from "./room.js";

/**
 * Scorers rank the hosts that passed the filters: lower is better. The planner applies the
 * strategies in the order given (the first decides, the next break its ties), as ECS does.
 */

/** A strategy's key for each candidate host (all candidates at once: spread needs them all). */
export type Scorer = (candidates: HostRoom[], all: HostRoom[]) => number[];

export interface Strategy {
  type?: string;
  field?: string;
}

/** binpack(cpu|memory): the host with the least of that left. */
export const binpack =
  (field: "cpu" | "memory"): Scorer =>
  (candidates) =>
    candidates.map((r) => r[field]);

/**
 * spread(field): the host whose value of the field carries the fewest tasks. `instanceId` (or
 * `host`) spreads over hosts; `attribute:NAME` over the values of that attribute across all hosts.
 */
export function spread(field: string | undefined): Scorer {
  const attribute = /^attribute:(.+)$/i.exec(field ?? "")?.[1];
  if (!attribute) return (candidates) => candidates.map((r) => r.tasks);
  return (candidates, all) => {
    const perValue = new Map<string | undefined, number>();
    for (const r of all) {
      const v = r.attributes?.[attribute];
      perValue.set(v, (perValue.get(v) ?? 0) + r.tasks);
    }
    return candidates.map((r) => perValue.get(r.attributes?.[attribute]) ?? 0);
  };
}

/** random: any feasible host. */
export const random =
  (rng: () => number): Scorer =>
  (candidates) =>
    candidates.map(() => rng());

/** The scorer for one ECS placement strategy; undefined for a type ECS does not have. */
export function scorerFor(s: Strategy, rng: () => number): Scorer | undefined {
  switch (s.type) {
    case "binpack":
      return binpack(s.field?.toLowerCase() === "cpu" ? "cpu" : "memory");
    case "spread":
      return spread(s.field);
    case "random":
      return random(rng);
    default:
      return undefined;
  }
}

/** ECS takes at most five strategies per placement. */
export const MAX_STRATEGIES = 5;
