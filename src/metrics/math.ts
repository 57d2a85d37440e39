/**
 * CloudWatch metric math, pure: numbers, metric ids, strings ('…' or "…"), + - * / ^, unary
 * minus, comparisons (== != < <= > >=, 1 or 0), AND / && , OR / ||, NOT, parentheses, arrays
 * `[m1, m2]`, and the functions of FUNCTIONS below (SEARCH through the context).
 *
 * A time series is a list of (timestamp, value) in ascending time. Operators between two series
 * keep the timestamps both have; a series with a scalar applies the scalar at every timestamp;
 * results that are not finite (x / 0) are dropped, as CloudWatch drops them.
 */

export interface Series {
  timestamps: number[];
  values: number[];
  /** The label of a member of an array (METRICS(), SEARCH()); results of one query use the query's. */
  label?: string;
}

export type MathValue = number | Series | Series[];

export class MathError extends Error {}

export type Node =
  | { t: "num"; v: number }
  | { t: "id"; name: string }
  | { t: "str"; v: string }
  | { t: "neg"; e: Node }
  | { t: "not"; e: Node }
  | { t: "bin"; op: string; l: Node; r: Node }
  | { t: "call"; fn: string; args: Node[] }
  | { t: "arr"; items: Node[] };

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(==|!=|<=|>=|&&|\|\||\S))/y;

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

const unquote = (t: string) => t.slice(1, -1).replace(/\\(.)/g, "$1");
const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);

/** Parses an expression; throws MathError with a message a person can act on. */
export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new MathError("The expression is empty.");
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i];
    if (want !== undefined && t !== want)
      throw new MathError(`Expected "${want}" but found ${t === undefined ? "the end of the expression" : `"${t}"`}.`);
    i++;
    return t;
  };
  const binary = (ops: (t: string | undefined) => string | undefined, next: () => Node) => (): Node => {
    let l = next();
    for (let op = ops(peek()); op; op = ops(peek())) {
      take();
      l = { t: "bin", op, l, r: next() };
    }
    return l;
  };
  const unary = (): Node => {
    if (peek() === "-") {
      take();
      return { t: "neg", e: unary() };
    }
    if (peek() === "NOT" || peek() === "!") {
      take();
      return { t: "not", e: unary() };
    }
    return primary();
  };
  const power = (): Node => {
    const l = unary();
    if (peek() === "^") {
      take();
      return { t: "bin", op: "^", l, r: power() };
    }
    return l;
  };
  const term = binary((t) => (t === "*" || t === "/" ? t : undefined), power);
  const sum = binary((t) => (t === "+" || t === "-" ? t : undefined), term);
  const compare = binary((t) => (t !== undefined && COMPARISONS.has(t) ? t : undefined), sum);
  const and = binary((t) => (t === "AND" || t === "&&" ? "AND" : undefined), compare);
  const expr = binary((t) => (t === "OR" || t === "||" ? "OR" : undefined), and);
  const list = (close: string): Node[] => {
    const items: Node[] = [];
    if (peek() !== close) {
      items.push(expr());
      while (peek() === ",") {
        take();
        items.push(expr());
      }
    }
    take(close);
    return items;
  };
  const primary = (): Node => {
    const t = take();
    if (t === undefined) throw new MathError("The expression ends too early.");
    if (/^[\d.]/.test(t)) return { t: "num", v: Number(t) };
    if (t.startsWith('"') || t.startsWith("'")) return { t: "str", v: unquote(t) };
    if (t === "(") {
      const e = expr();
      take(")");
      return e;
    }
    if (t === "[") return { t: "arr", items: list("]") };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === "(") {
        take();
        return { t: "call", fn: t.toUpperCase(), args: list(")") };
      }
      return { t: "id", name: t };
    }
    throw new MathError(`Unexpected "${t}" in the expression.`);
  };
  const node = expr();
  if (i < tokens.length) throw new MathError(`Unexpected "${tokens[i]}" in the expression.`);
  checkFunctions(node);
  return node;
}

/** Every function name used exists (so a bad name is refused before anything runs). */
function checkFunctions(node: Node) {
  if (node.t === "call" && !FUNCTIONS.includes(node.fn))
    throw new MathError(
      `Berth does not support the metric math function ${node.fn}. Supported: ${FUNCTIONS.join(", ")}.`,
    );
  const kids = node.t === "call" ? node.args : node.t === "arr" ? node.items : node.t === "bin" ? [node.l, node.r] : [];
  for (const k of node.t === "neg" || node.t === "not" ? [node.e] : kids) checkFunctions(k);
}

/** Ids an expression refers to (so callers can order evaluation and detect cycles). */
export function referencedIds(node: Node): string[] {
  switch (node.t) {
    case "id":
      return [node.name];
    case "neg":
    case "not":
      return referencedIds(node.e);
    case "bin":
      return [...referencedIds(node.l), ...referencedIds(node.r)];
    case "call":
      // FILL(m, REPEAT), SORT(m, SUM, DESC): keywords are not ids.
      return node.args.filter((a) => !(a.t === "id" && KEYWORDS.has(a.name))).flatMap(referencedIds);
    case "arr":
      return node.items.flatMap(referencedIds);
    default:
      return [];
  }
}

/** Whether an expression uses METRICS() (it then depends on every metric query). */
export const usesMetrics = (node: Node): boolean =>
  node.t === "call"
    ? node.fn === "METRICS" || node.args.some(usesMetrics)
    : node.t === "arr"
      ? node.items.some(usesMetrics)
      : node.t === "bin"
        ? usesMetrics(node.l) || usesMetrics(node.r)
        : node.t === "neg" || node.t === "not"
          ? usesMetrics(node.e)
          : false;

const KEYWORDS = new Set(["REPEAT", "LINEAR", "SUM", "AVG", "MIN", "MAX", "ASC", "DESC"]);

export interface MathContext {
  /** A value by query id (metric results and earlier expressions). */
  lookup(id: string): MathValue | undefined;
  /** Every metric (MetricStat) result with its id and label, for METRICS(). */
  metrics(): { id: string; label: string; series: Series }[];
  /** Every period start in the query range (FILL and TIME_SERIES fill these). */
  grid: number[];
  /** Period in seconds (PERIOD answers it). */
  periodSec: number;
  /** SEARCH(expression, stat, period): the matching metrics' series, labelled. */
  search?(expression: string, stat: string, periodSec: number): Series[];
}

const isSeries = (v: MathValue): v is Series => typeof v === "object" && !Array.isArray(v);

function mapSeries(s: Series, f: (v: number, i: number) => number): Series {
  const timestamps: number[] = [];
  const values: number[] = [];
  s.values.forEach((v, i) => {
    const r = f(v, i);
    if (Number.isFinite(r)) {
      timestamps.push(s.timestamps[i]);
      values.push(r);
    }
  });
  return withLabel({ timestamps, values }, s);
}

const withLabel = (out: Series, from: Series): Series =>
  from.label === undefined ? out : { ...out, label: from.label };

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
  return withLabel({ timestamps, values }, a);
}

function apply(l: MathValue, r: MathValue, f: (x: number, y: number) => number): MathValue {
  if (Array.isArray(l) && Array.isArray(r))
    throw new MathError("An operator cannot combine two arrays of time series; reduce one first (SUM, AVG, …).");
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
  const out: Series = { timestamps: [], values: [] };
  for (const t of timestamps) {
    const v = reduce(byTime.get(t)!);
    if (Number.isFinite(v)) {
      out.timestamps.push(t);
      out.values.push(v);
    }
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const REDUCERS: Record<string, (xs: number[]) => number> = {
  SUM: (xs) => xs.reduce((a, b) => a + b, 0),
  AVG: mean,
  MIN: (xs) => xs.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
  MAX: (xs) => xs.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
  // Population standard deviation.
  STDDEV: (xs) => {
    const m = mean(xs);
    return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
  },
};

const BINARY: Record<string, (x: number, y: number) => number> = {
  "+": (x, y) => x + y,
  "-": (x, y) => x - y,
  "*": (x, y) => x * y,
  "/": (x, y) => x / y,
  "^": (x, y) => x ** y,
  "==": (x, y) => Number(x === y),
  "!=": (x, y) => Number(x !== y),
  "<": (x, y) => Number(x < y),
  "<=": (x, y) => Number(x <= y),
  ">": (x, y) => Number(x > y),
  ">=": (x, y) => Number(x >= y),
  AND: (x, y) => Number(x !== 0 && y !== 0),
  OR: (x, y) => Number(x !== 0 || y !== 0),
};

export function evaluate(node: Node, ctx: MathContext): MathValue {
  switch (node.t) {
    case "num":
      return node.v;
    case "str":
      throw new MathError(`A string ('${node.v}') can only be an argument of METRICS() or SEARCH().`);
    case "id": {
      if (KEYWORDS.has(node.name)) throw new MathError(`${node.name} can only be an argument of FILL or SORT.`);
      const v = ctx.lookup(node.name);
      if (v === undefined) throw new MathError(`Unrecognized id "${node.name}" in the expression.`);
      return v;
    }
    case "neg":
      return unaryMap(evaluate(node.e, ctx), (x) => -x);
    case "not":
      return unaryMap(evaluate(node.e, ctx), (x) => Number(x === 0));
    case "arr": {
      const items = node.items.map((n) => evaluate(n, ctx));
      return items.flatMap((v) => {
        if (typeof v === "number") throw new MathError("An array may hold time series only, not numbers.");
        return Array.isArray(v) ? v : [v];
      });
    }
    case "bin":
      return apply(evaluate(node.l, ctx), evaluate(node.r, ctx), BINARY[node.op]);
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

const seriesArg = (fn: string, v: MathValue): Series | Series[] => {
  if (typeof v === "number") throw new MathError(`${fn} needs a time series or an array of time series.`);
  return v;
};
const arrayArg = (fn: string, v: MathValue): Series[] => {
  if (typeof v === "number") throw new MathError(`${fn} needs an array of time series.`);
  return Array.isArray(v) ? v : [v];
};
const eachSeries = (v: Series | Series[], f: (s: Series) => Series): Series | Series[] =>
  Array.isArray(v) ? v.map(f) : f(v);
const keyword = (fn: string, n: Node | undefined, allowed: string[]): string | undefined => {
  if (n === undefined) return undefined;
  if (n.t === "id" && allowed.includes(n.name)) return n.name;
  throw new MathError(`${fn} takes ${allowed.join(" or ")} here.`);
};
const literalString = (fn: string, n: Node): string => {
  if (n.t !== "str") throw new MathError(`${fn} takes a quoted string here.`);
  return n.v;
};
const literalNumber = (fn: string, n: Node): number => {
  if (n.t !== "num") throw new MathError(`${fn} takes a number here.`);
  return n.v;
};

/** FILL's modes: a number, REPEAT (the last value before the gap) or LINEAR (interpolated). */
function fill(s: Series, grid: number[], mode: number | "REPEAT" | "LINEAR"): Series {
  const at = new Map(s.timestamps.map((t, i) => [t, s.values[i]]));
  const out: Series = withLabel({ timestamps: [], values: [] }, s);
  grid.forEach((t, i) => {
    let v = at.get(t);
    if (v === undefined && typeof mode === "number") v = mode;
    else if (v === undefined) {
      let before = i - 1;
      while (before >= 0 && !at.has(grid[before])) before--;
      let after = i + 1;
      while (after < grid.length && !at.has(grid[after])) after++;
      if (mode === "REPEAT" && before >= 0) v = at.get(grid[before]);
      else if (mode === "LINEAR" && before >= 0 && after < grid.length) {
        const a = at.get(grid[before])!;
        const b = at.get(grid[after])!;
        v = a + ((b - a) * (i - before)) / (after - before);
      }
    }
    if (v !== undefined) {
      out.timestamps.push(t);
      out.values.push(v);
    }
  });
  return out;
}

function call(fn: string, args: Node[], ctx: MathContext): MathValue {
  switch (fn) {
    case "SUM":
    case "AVG":
    case "MIN":
    case "MAX":
    case "STDDEV": {
      arity(fn, args, 1);
      const v = evaluate(args[0], ctx);
      if (typeof v === "number") return fn === "STDDEV" ? 0 : v;
      // One series reduces to a scalar; an array reduces per timestamp to one series.
      if (isSeries(v)) return v.values.length ? REDUCERS[fn](v.values) : Number.NaN;
      return across(v, REDUCERS[fn]);
    }
    case "ABS":
    case "CEIL":
    case "FLOOR":
    case "LOG":
    case "LOG10": {
      arity(fn, args, 1);
      const f = { ABS: Math.abs, CEIL: Math.ceil, FLOOR: Math.floor, LOG: Math.log, LOG10: Math.log10 }[fn];
      return unaryMap(evaluate(args[0], ctx), f);
    }
    case "METRICS": {
      arity(fn, args, 0, 1);
      const filter = args[0] && literalString("METRICS", args[0]);
      // METRICS('x'): the metrics whose Id contains x.
      return ctx
        .metrics()
        .filter((m) => filter === undefined || m.id.includes(filter))
        .map((m) => ({ ...m.series, label: m.label }));
    }
    case "SEARCH": {
      arity(fn, args, 3);
      const expression = literalString(fn, args[0]);
      const stat = literalString(fn, args[1]);
      const period = literalNumber(fn, args[2]);
      if (!ctx.search) throw new MathError("SEARCH is not available here.");
      return ctx.search(expression, stat, period);
    }
    case "FILL": {
      arity(fn, args, 2);
      const v = seriesArg(fn, evaluate(args[0], ctx));
      let mode: number | "REPEAT" | "LINEAR";
      if (args[1].t === "id" && (args[1].name === "REPEAT" || args[1].name === "LINEAR")) mode = args[1].name;
      else {
        const with_ = evaluate(args[1], ctx);
        if (typeof with_ !== "number")
          throw new MathError("FILL's second argument must be a number, REPEAT or LINEAR.");
        mode = with_;
      }
      return eachSeries(v, (s) => fill(s, ctx.grid, mode));
    }
    case "DIFF":
    case "RATE":
    case "DIFF_TIME": {
      arity(fn, args, 1);
      const v = seriesArg(fn, evaluate(args[0], ctx));
      const step = (s: Series): Series => {
        const out: Series = withLabel({ timestamps: [], values: [] }, s);
        for (let i = 1; i < s.values.length; i++) {
          const d = s.values[i] - s.values[i - 1];
          const secs = (s.timestamps[i] - s.timestamps[i - 1]) / 1000;
          const r = fn === "DIFF" ? d : fn === "RATE" ? d / secs : secs;
          if (Number.isFinite(r)) {
            out.timestamps.push(s.timestamps[i]);
            out.values.push(r);
          }
        }
        return out;
      };
      return eachSeries(v, step);
    }
    case "RUNNING_SUM": {
      arity(fn, args, 1);
      const v = seriesArg(fn, evaluate(args[0], ctx));
      return eachSeries(v, (s) => {
        let total = 0;
        return mapSeries(s, (x) => {
          total += x;
          return total;
        });
      });
    }
    case "EPOCH": {
      arity(fn, args, 1);
      const v = seriesArg(fn, evaluate(args[0], ctx));
      return eachSeries(v, (s) => mapSeries(s, (_, i) => Math.floor(s.timestamps[i] / 1000)));
    }
    case "DATAPOINT_COUNT": {
      arity(fn, args, 1);
      const v = seriesArg(fn, evaluate(args[0], ctx));
      return Array.isArray(v) ? across(v, (xs) => xs.length) : v.values.length;
    }
    case "METRIC_COUNT": {
      arity(fn, args, 1);
      return arrayArg(fn, evaluate(args[0], ctx)).length;
    }
    case "PERIOD": {
      arity(fn, args, 1);
      seriesArg(fn, evaluate(args[0], ctx));
      return ctx.periodSec;
    }
    case "TIME_SERIES": {
      arity(fn, args, 1);
      const v = evaluate(args[0], ctx);
      if (typeof v !== "number") throw new MathError("TIME_SERIES takes a number.");
      return asSeries(v, ctx.grid);
    }
    case "FIRST":
    case "LAST": {
      arity(fn, args, 1);
      const list = arrayArg(fn, evaluate(args[0], ctx));
      const s = fn === "FIRST" ? list[0] : list[list.length - 1];
      return s ?? { timestamps: [], values: [] };
    }
    case "REMOVE_EMPTY": {
      arity(fn, args, 1);
      return arrayArg(fn, evaluate(args[0], ctx)).filter((s) => s.values.length > 0);
    }
    case "SORT": {
      arity(fn, args, 3, 4);
      const list = arrayArg(fn, evaluate(args[0], ctx));
      const by = keyword(fn, args[1], ["SUM", "AVG", "MIN", "MAX"])!;
      const order = keyword(fn, args[2], ["ASC", "DESC"])!;
      const limit = args[3] === undefined ? list.length : literalNumber(fn, args[3]);
      const score = (s: Series) => (s.values.length ? REDUCERS[by](s.values) : Number.NEGATIVE_INFINITY);
      const sorted = [...list].sort((a, b) => (order === "ASC" ? score(a) - score(b) : score(b) - score(a)));
      return sorted.slice(0, Math.max(0, limit));
    }
    case "IF": {
      arity(fn, args, 2, 3);
      const cond = evaluate(args[0], ctx);
      const yes = evaluate(args[1], ctx);
      const no = args[2] === undefined ? undefined : evaluate(args[2], ctx);
      return ifThen(cond, yes, no);
    }
    default:
      throw new MathError(`Berth does not support the metric math function ${fn}.`);
  }
}

const valueAt = (v: MathValue | undefined, t: number): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === "number") return v;
  if (Array.isArray(v)) throw new MathError("IF takes time series or numbers, not arrays.");
  const i = v.timestamps.indexOf(t);
  return i < 0 ? undefined : v.values[i];
};

/** IF(condition, a[, b]): per timestamp of the condition, a where it is not 0, else b (or nothing). */
function ifThen(cond: MathValue, yes: MathValue, no: MathValue | undefined): MathValue {
  if (Array.isArray(cond)) return cond.map((c) => ifThen(c, yes, no) as Series);
  if (typeof cond === "number") {
    const v = cond !== 0 ? yes : no;
    return v ?? Number.NaN;
  }
  const out: Series = { timestamps: [], values: [] };
  cond.timestamps.forEach((t, i) => {
    const v = cond.values[i] !== 0 ? valueAt(yes, t) : valueAt(no, t);
    if (v !== undefined && Number.isFinite(v)) {
      out.timestamps.push(t);
      out.values.push(v);
    }
  });
  return out;
}

export const FUNCTIONS = [
  "ABS",
  "AVG",
  "CEIL",
  "DATAPOINT_COUNT",
  "DIFF",
  "DIFF_TIME",
  "EPOCH",
  "FILL",
  "FIRST",
  "FLOOR",
  "IF",
  "LAST",
  "LOG",
  "LOG10",
  "MAX",
  "METRIC_COUNT",
  "METRICS",
  "MIN",
  "PERIOD",
  "RATE",
  "REMOVE_EMPTY",
  "RUNNING_SUM",
  "SEARCH",
  "SORT",
  "STDDEV",
  "SUM",
  "TIME_SERIES",
];

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

/** A value as the list of time series GetMetricData returns for it (arrays give one per member). */
export function asSeriesList(v: MathValue, grid: number[]): Series[] {
  return Array.isArray(v) ? v : [asSeries(v, grid)];
}
