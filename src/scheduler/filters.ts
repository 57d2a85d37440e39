import type { TaskNeeds } from "./reservation.js";
import type { HostRoom } from "./room.js";

/**
 * Feasibility filters: each says why a host cannot take one more task, with AWS's failure
 * reason, or undefined when it can. The planner runs them in order and keeps the first reason.
 */

export type ResourceFailure = "RESOURCE:CPU" | "RESOURCE:MEMORY" | "RESOURCE:PORTS";
export const DISTINCT_INSTANCE = "DistinctInstance";
export const MEMBER_OF = "MemberOf placement constraint unsatisfied";
export type PlacementFailure = ResourceFailure | typeof DISTINCT_INSTANCE | typeof MEMBER_OF;

/** What the filters see besides the host: the task and the hosts earlier tasks of the plan took. */
export interface FilterContext {
  needs: TaskNeeds;
  /** Hosts this plan already placed a task on. */
  used: ReadonlySet<string>;
}

export type Filter = (room: HostRoom, ctx: FilterContext) => PlacementFailure | undefined;

/** Why a host's resources cannot take a task, in the order ECS checks (CPU, memory, ports). */
export function misfit(room: HostRoom, needs: TaskNeeds): ResourceFailure | undefined {
  if (needs.cpu > room.cpu) return "RESOURCE:CPU";
  if (needs.memory > room.memory) return "RESOURCE:MEMORY";
  if (needs.ports.some((p) => room.ports.has(p))) return "RESOURCE:PORTS";
  return undefined;
}

export const resources: Filter = (room, ctx) => misfit(room, ctx.needs);

/** distinctInstance: no two tasks of one placement on the same host. */
export const distinctInstance: Filter = (room, ctx) => (ctx.used.has(room.id) ? DISTINCT_INSTANCE : undefined);

/** memberOf: the host's attributes satisfy a cluster query expression (see `memberOf` below). */
export function memberOfFilter(expression: string): Filter {
  const test = memberOf(expression);
  return (room) => (test(room) ? undefined : MEMBER_OF);
}

type Clause = (room: HostRoom) => boolean;

/**
 * A small subset of the cluster query language, enough for attribute constraints:
 * `attribute:NAME (==|!=|=~|!~) VALUE`, `attribute:NAME exists`, `attribute:NAME (in|not_in) [a, b]`,
 * clauses joined by `and` / `or` (and binds tighter; no parentheses). An expression outside this
 * subset constrains nothing, as before Berth read expressions at all.
 */
export function memberOf(expression: string): Clause {
  const any = expression.split(/\s+or\s+/i).map((part) => part.split(/\s+and\s+/i).map(clause));
  if (any.some((all) => all.some((c) => c === undefined))) return () => true;
  return (room) => any.some((all) => all.every((c) => c!(room)));
}

const CLAUSE = /^attribute:([\w.\-:/]+)\s*(==|!=|=~|!~|exists|in|not_in)\s*(.*)$/i;

function clause(text: string): Clause | undefined {
  const m = CLAUSE.exec(text.trim());
  if (!m) return undefined;
  const [, name, op, rest] = m;
  const value = (room: HostRoom) => room.attributes?.[name];
  const list = () =>
    /^\[(.*)\]$/
      .exec(rest.trim())?.[1]
      .split(",")
      .map((v) => unquote(v.trim()));
  switch (op.toLowerCase()) {
    case "exists":
      return (room) => value(room) !== undefined;
    case "==":
      return (room) => value(room) === unquote(rest.trim());
    case "!=":
      return (room) => value(room) !== unquote(rest.trim());
    case "=~":
    case "!~": {
      const re = glob(unquote(rest.trim()));
      const want = op === "=~";
      return (room) => re.test(value(room) ?? "") === want;
    }
    default: {
      const values = list();
      if (!values) return undefined;
      const want = op.toLowerCase() === "in";
      return (room) => values.includes(value(room) ?? "\u0000") === want;
    }
  }
}

const unquote = (v: string) => v.replace(/^(['"])(.*)\1$/, "$2");
const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
