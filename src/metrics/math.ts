/**
 * CloudWatch metric math, the basics, pure: numbers, metric ids, + - * / ^, unary minus,
 * parentheses, arrays `[m1, m2]`, and the functions ABS, AVG, CEIL, DIFF, FILL, FLOOR, MAX,
 * METRICS, MIN, RATE and SUM.
 *
 * A time series is a list of (timestamp, value) in ascending time. Operators between two series
 * keep the timestamps both have; a series with a scalar applies the scalar at every timestamp;
 * results that are not finite (x / 0) are dropped, as CloudWatch drops them.
 */

export interface Series {
  timestamps: number[];
  values: number[];
}

export type MathValue = number | Series | Series[];

export class MathError extends Error {}

type Node =
  | { t: "num"; v: number }
  | { t: "id"; name: string }
  | { t: "str"; v: string }
  | { t: "neg"; e: Node }
  | { t: "bin"; op: string; l: Node; r: Node }
  | { t: "call"; fn: string; args: Node[] }
  | { t: "arr"; items: Node[] };

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*")|(\S))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(start))) break;
      throw new MathError(`Unexpected character at position ${start + 1} of the expression.`);
    }
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  }
  return out;
}

/** Parses an expression; throws MathError with a message a person can act on. */
export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i];
    if (want !== undefined && t !== want)
      throw new MathError(`Expected "${want}" but found ${t === undefined ? "the end of the expression" : `"${t}"`}.`);
    i++;
    return t;
  };
  const expr = (): Node => {
    let l = term();
    while (peek() === "+" || peek() === "-") {
      const op = take();
      l = { t: "bin", op, l, r: term() };
    }
    return l;
  };
  const term = (): Node => {
    let l = power();
    while (peek() === "*" || peek() === "/") {
      const op = take();
      l = { t: "bin", op, l, r: power() };
    }
    return l;
  };
  const power = (): Node => {
    const l = unary();
    if (peek() === "^") {
      take();
      return { t: "bin", op: "^", l, r: power() };
    }
    return l;
  };
  const unary = (): Node => {
    if (peek() === "-") {
      take();
      return { t: "neg", e: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const t = take();
    if (t === undefined) throw new MathError("The expression ends too early.");
    if (/^[\d.]/.test(t)) return { t: "num", v: Number(t) };
    if (t.startsWith('"')) return { t: "str", v: JSON.parse(t) as string };
    if (t === "(") {
      const e = expr();
      take(")");
      return e;
    }
    if (t === "[") {
      const items: Node[] = [];
      if (peek() !== "]") {
        items.push(expr());
        while (peek() === ",") {
          take();
          items.push(expr());
        }
      }
      take("]");
      return { t: "arr", items };
    }
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === "(") {
        take();
        const args: Node[] = [];
        if (peek() !== ")") {
          args.push(expr());
          while (peek() === ",") {
            take();
            args.push(expr());
          }
        }
        take(")");
        return { t: "call", fn: t.toUpperCase(), args };
      }
      return { t: "id", name: t };
    }
    throw new MathError(`Unexpected "${t}" in the expression.`);
  };
  const node = expr();
  if (i < tokens.length) throw new MathError(`Unexpected "${tokens[i]}" in the expression.`);
  return node;
}

/** Ids an expression refers to (so callers can order evaluation and detect cycles). */
export function referencedIds(node: Node): string[] {
  switch (node.t) {
    case "id":
      return [node.name];
    case "neg":
      return referencedIds(node.e);
    case "bin":
      return [...referencedIds(node.l), ...referencedIds(node.r)];
    case "call":
    case "arr":
      return (node.t === "call" ? node.args : node.items).flatMap(referencedIds);
    default:
      return [];
  }
}

export interface MathContext {
  /** A value by query id (metric results and earlier expressions). */
  lookup(id: string): MathValue | undefined;
  /** Every metric (MetricStat) result with its label, for METRICS(). */
  metrics(): { label: string; series: Series }[];
  /** Every period start in the query range (FILL fills these). */
  grid: number[];
  /** Period in seconds (RATE divides by it when neighbours are one period apart). */
  periodSec: number;
}

const isSeries = (v: MathValue): v is Series => typeof v === "object" && !Array.isArray(v);

const mapSeries = (s: Series, f: (v: number, i: number) => number): Series => {
  const timestamps: number[] = [];
  const values: number[] = [];
  s.values.forEach((v, i) => {
    const r = f(v, i);
    if (Number.isFinite(r)) {
      timestamps.push(s.timestamps[i]);
      values.push(r);
    }
  });
  return { timestamps, values };
};

function zip(a: Series, b: Series, f: (x: number, y: number) => number): Series {
  const at = new Map(b.timestamps.map((t, i) => [t, b.values[i]]));
  const timestamps: number[] = [];
  const values: number[] = [];
  a.timestamps.forEach((t, i) => {
    const y = at.get(t);
    if (y === undefined) return;
    const r = f(a.values[i], y);
    if (Number.isFinite(r)) {
      timestamps.push(t);
      values.push(r);
    }
  });
  return { timestamps, values };
}

function apply(l: MathValue, r: MathValue, f: (x: number, y: number) => number): MathValue {
  if (Array.isArray(l)) return l.map((s) => apply(s, r, f) as Series);
  if (Array.isArray(r)) return r.map((s) => apply(l, s, f) as Series);
  if (typeof l === "number" && typeof r === "number") return f(l, r);
  if (typeof l === "number") return mapSeries(r as Series, (v) => f(l, v));
  if (typeof r === "number") return mapSeries(l, (v) => f(v, r));
  return zip(l, r as Series, f);
}

const unaryMap = (v: MathValue, f: (x: number) => number): MathValue =>
  typeof v === "number" ? f(v) : Array.isArray(v) ? v.map((s) => mapSeries(s, f)) : mapSeries(v, f);

/** Per timestamp over the union of timestamps of several series. */
function across(list: Series[], reduce: (xs: number[]) => number): Series {
  const byTime = new Map<number, number[]>();
  for (const s of list)
    s.timestamps.forEach((t, i) => {
      let xs = byTime.get(t);
      if (!xs) {
        xs = [];
        byTime.set(t, xs);
      }
      xs.push(s.values[i]);
    });
  const timestamps = [...byTime.keys()].sort((a, b) => a - b);
  return { timestamps, values: timestamps.map((t) => reduce(byTime.get(t)!)) };
}

const REDUCERS: Record<string, (xs: number[]) => number> = {
  SUM: (xs) => xs.reduce((a, b) => a + b, 0),
  AVG: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  MIN: (xs) => Math.min(...xs),
  MAX: (xs) => Math.max(...xs),
};

export function evaluate(node: Node, ctx: MathContext): MathValue {
  switch (node.t) {
    case "num":
      return node.v;
    case "str":
      throw new MathError(`A string ("${node.v}") can only be an argument of METRICS().`);
    case "id": {
      const v = ctx.lookup(node.name);
      if (v === undefined) throw new MathError(`Unrecognized id "${node.name}" in the expression.`);
      return v;
    }
    case "neg":
      return unaryMap(evaluate(node.e, ctx), (x) => -x);
    case "arr": {
      const items = node.items.map((n) => evaluate(n, ctx));
      return items.flatMap((v) => {
        if (typeof v === "number") throw new MathError("An array may hold time series only, not numbers.");
        return Array.isArray(v) ? v : [v];
      });
    }
    case "bin": {
      const l = evaluate(node.l, ctx);
      const r = evaluate(node.r, ctx);
      const f =
        node.op === "+"
          ? (x: number, y: number) => x + y
          : node.op === "-"
            ? (x: number, y: number) => x - y
            : node.op === "*"
              ? (x: number, y: number) => x * y
              : node.op === "/"
                ? (x: number, y: number) => x / y
                : (x: number, y: number) => x ** y;
      return apply(l, r, f);
    }
    case "call":
      return call(node.fn, node.args, ctx);
  }
}

function arity(fn: string, args: Node[], min: number, max = min) {
  if (args.length < min || args.length > max)
    throw new MathError(
      `${fn} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}; got ${args.length}.`,
    );
}

function call(fn: string, args: Node[], ctx: MathContext): MathValue {
  switch (fn) {
    case "SUM":
    case "AVG":
    case "MIN":
    case "MAX": {
      arity(fn, args, 1);
      const v = evaluate(args[0], ctx);
      if (typeof v === "number") return v;
      // One series reduces to a scalar; an array reduces per timestamp to one series.
      if (isSeries(v)) return v.values.length ? REDUCERS[fn](v.values) : Number.NaN;
      return across(v, REDUCERS[fn]);
    }
    case "ABS":
      arity(fn, args, 1);
      return unaryMap(evaluate(args[0], ctx), Math.abs);
    case "CEIL":
      arity(fn, args, 1);
      return unaryMap(evaluate(args[0], ctx), Math.ceil);
    case "FLOOR":
      arity(fn, args, 1);
      return unaryMap(evaluate(args[0], ctx), Math.floor);
    case "METRICS": {
      arity(fn, args, 0, 1);
      const filter = args[0];
      if (filter && filter.t !== "str") throw new MathError('METRICS takes an optional string: METRICS("label part").');
      return ctx
        .metrics()
        .filter((m) => !filter || (filter.t === "str" && m.label.includes(filter.v)))
        .map((m) => m.series);
    }
    case "FILL": {
      arity(fn, args, 2);
      const v = evaluate(args[0], ctx);
      const with_ = evaluate(args[1], ctx);
      if (typeof with_ !== "number") throw new MathError("FILL's second argument must be a number.");
      const fill = (s: Series): Series => {
        const at = new Map(s.timestamps.map((t, i) => [t, s.values[i]]));
        return { timestamps: [...ctx.grid], values: ctx.grid.map((t) => at.get(t) ?? with_) };
      };
      if (typeof v === "number") throw new MathError("FILL's first argument must be a time series.");
      return Array.isArray(v) ? v.map(fill) : fill(v);
    }
    case "DIFF":
    case "RATE": {
      arity(fn, args, 1);
      const v = evaluate(args[0], ctx);
      if (typeof v === "number") throw new MathError(`${fn} needs a time series.`);
      const step = (s: Series): Series => {
        const timestamps: number[] = [];
        const values: number[] = [];
        for (let i = 1; i < s.values.length; i++) {
          const d = s.values[i] - s.values[i - 1];
          const r = fn === "DIFF" ? d : d / ((s.timestamps[i] - s.timestamps[i - 1]) / 1000);
          if (Number.isFinite(r)) {
            timestamps.push(s.timestamps[i]);
            values.push(r);
          }
        }
        return { timestamps, values };
      };
      return Array.isArray(v) ? v.map(step) : step(v);
    }
    default:
      throw new MathError(
        `Berth does not support the metric math function ${fn}. Supported: ABS, AVG, CEIL, DIFF, FILL, FLOOR, MAX, METRICS, MIN, RATE, SUM.`,
      );
  }
}

/** A value as one time series: scalars are broadcast over the query's periods. */
export function asSeries(v: MathValue, grid: number[]): Series {
  if (typeof v === "number")
    return Number.isFinite(v) ? { timestamps: [...grid], values: grid.map(() => v) } : { timestamps: [], values: [] };
  if (Array.isArray(v)) {
    if (v.length === 1) return v[0];
    throw new MathError(`The expression returns ${v.length} time series; it must return one.`);
  }
  return v;
}
