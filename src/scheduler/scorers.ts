import type { HostRoom } from "./room.js";

/**
 * Scorers rank the hosts that passed the filters: lower is better. The planner applies the
 * strategies in the order given (the first decides, the next break its ties), as ECS does.
 */

/**
 * A strategy: given every host as it stands before this task, the key of a candidate host.
 * (Spread needs all hosts to count tasks per attribute value; the rest ignore them.)
 */
export type Scorer = (all: HostRoom[]) => (room: HostRoom) => number;

export interface Strategy {
  type?: string;
  field?: string;
}

const cpuLeft = (r: HostRoom) => r.cpu;
const memoryLeft = (r: HostRoom) => r.memory;
const tasksOn = (r: HostRoom) => r.tasks;

/** binpack(cpu|memory): the host with the least of that left. */
export const binpack =
  (field: "cpu" | "memory"): Scorer =>
  () =>
    field === "cpu" ? cpuLeft : memoryLeft;

/**
 * spread(field): the host whose value of the field carries the fewest tasks. `instanceId` (or
 * `host`) spreads over hosts; `attribute:NAME` over the values of that attribute across all hosts.
 */
export function spread(field: string | undefined): Scorer {
  const attribute = /^attribute:(.+)$/i.exec(field ?? "")?.[1];
  if (!attribute) return () => tasksOn;
  return (all) => {
    const perValue = new Map<string | undefined, number>();
    for (const r of all) {
      const v = r.attributes?.[attribute];
      perValue.set(v, (perValue.get(v) ?? 0) + r.tasks);
    }
    return (r) => perValue.get(r.attributes?.[attribute]) ?? 0;
  };
}

/** random: any feasible host. */
export const random =
  (rng: () => number): Scorer =>
  () =>
  () =>
    rng();

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
