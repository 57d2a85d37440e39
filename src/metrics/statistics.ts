/**
 * CloudWatch statistics, pure: samples (single values, value/count lists or statistic sets) are
 * aggregated per period and reduced to SampleCount, Sum, Average, Minimum, Maximum, percentiles
 * (`p90`, `p99.9`) and trimmed means (`tm90`, `tm(10%:90%)`).
 */

/** What one PutMetricData datum (or one Berth measurement) contributes at one timestamp. */
export interface Sample {
  /** Epoch milliseconds. */
  timestamp: number;
  unit: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  /**
   * Raw values with their counts, when known. Statistic sets carry none, so percentiles over
   * them are unavailable unless the set is a single repeated value (min = max).
   */
  values?: [number, number][];
}

/** Several samples folded together. `values` is undefined once any sample lacked raw values. */
export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  values?: [number, number][];
  units: Set<string>;
}

/** The raw values of a sample, when CloudWatch could compute percentiles from it. */
function rawValues(s: Sample): [number, number][] | undefined {
  if (s.values) return s.values;
  // A statistic set of one repeated value is as good as raw data (AWS's documented rule).
  if (s.min === s.max && Math.abs(s.sum - s.min * s.count) <= 1e-9 * Math.max(1, Math.abs(s.sum)))
    return [[s.min, s.count]];
  return undefined;
}

export function aggregate(samples: Sample[]): Aggregate | undefined {
  if (samples.length === 0) return undefined;
  let values: [number, number][] | undefined = [];
  const agg: Aggregate = {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    units: new Set(),
  };
  for (const s of samples) {
    agg.count += s.count;
    agg.sum += s.sum;
    agg.min = Math.min(agg.min, s.min);
    agg.max = Math.max(agg.max, s.max);
    agg.units.add(s.unit);
    const raw: [number, number][] | undefined = values && rawValues(s);
    values = raw && values ? values.concat(raw) : undefined;
  }
  agg.values = values;
  return agg;
}

export const BASIC_STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"] as const;
export type BasicStatistic = (typeof BASIC_STATISTICS)[number];

export type StatisticSpec =
  | { kind: "basic"; name: BasicStatistic }
  | { kind: "percentile"; p: number }
  | { kind: "trimmedMean"; lower: number; upper: number };

/**
 * Parses a statistic name: a basic one, `pNN[.NN]`, `tmNN` (mean of the lowest NN%) or
 * `tm(a%:b%)`. Undefined for anything else.
 */
export function parseStatistic(name: string): StatisticSpec | undefined {
  if ((BASIC_STATISTICS as readonly string[]).includes(name)) return { kind: "basic", name: name as BasicStatistic };
  let m = /^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$/i.exec(name);
  if (m) return { kind: "percentile", p: Number(m[1]) };
  m = /^tm(\d{1,2}(?:\.\d{1,10})?|100)$/i.exec(name);
  if (m) return { kind: "trimmedMean", lower: 0, upper: Number(m[1]) };
  m = /^tm\((\d{1,3}(?:\.\d+)?)?%:(\d{1,3}(?:\.\d+)?)?%\)$/i.exec(name);
  if (m) {
    const lower = m[1] === undefined ? 0 : Number(m[1]);
    const upper = m[2] === undefined ? 100 : Number(m[2]);
    if (lower <= 100 && upper <= 100 && lower < upper) return { kind: "trimmedMean", lower, upper };
  }
  return undefined;
}

/** Values sorted ascending, each with its count. */
const sorted = (values: [number, number][]) => [...values].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);

/** The nearest-rank percentile of weighted values (p0 is the minimum). */
export function percentile(values: [number, number][], p: number): number | undefined {
  const list = sorted(values);
  const total = list.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [v, c] of list) {
    seen += c;
    if (seen >= rank) return v;
  }
  return list[list.length - 1][0];
}

/** The mean of the values whose rank lies between the lower and upper percentage. */
export function trimmedMean(values: [number, number][], lower: number, upper: number): number | undefined {
  const list = sorted(values);
  const total = list.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return undefined;
  const from = (lower / 100) * total;
  const to = (upper / 100) * total;
  let seen = 0;
  let sum = 0;
  let n = 0;
  for (const [v, c] of list) {
    // The part of this value's run [seen, seen + c) inside [from, to].
    const take = Math.max(0, Math.min(seen + c, to) - Math.max(seen, from));
    sum += v * take;
    n += take;
    seen += c;
  }
  return n > 0 ? sum / n : undefined;
}

/** One statistic of an aggregate; undefined when it cannot be computed (percentiles of statistic sets). */
export function statistic(agg: Aggregate, spec: StatisticSpec): number | undefined {
  switch (spec.kind) {
    case "basic":
      switch (spec.name) {
        case "SampleCount":
          return agg.count;
        case "Sum":
          return agg.sum;
        case "Average":
          return agg.count > 0 ? agg.sum / agg.count : undefined;
        case "Minimum":
          return agg.min;
        case "Maximum":
          return agg.max;
      }
      return undefined;
    case "percentile":
      return agg.values ? percentile(agg.values, spec.p) : undefined;
    case "trimmedMean":
      return agg.values ? trimmedMean(agg.values, spec.lower, spec.upper) : undefined;
  }
}

/** Start of the period (epoch-aligned) a timestamp falls in. */
export const periodStart = (timestampMs: number, periodSec: number) =>
  Math.floor(timestampMs / (periodSec * 1000)) * periodSec * 1000;

/**
 * Samples grouped by period: every period that starts in [fromMs, toMs) and has data, keyed
 * by its start (epoch-aligned, so the same period always has the same timestamp).
 */
export function bucketize(samples: Sample[], periodSec: number, fromMs: number, toMs: number): Map<number, Aggregate> {
  const groups = new Map<number, Sample[]>();
  for (const s of samples) {
    const start = periodStart(s.timestamp, periodSec);
    if (start < periodStart(fromMs, periodSec) || start >= toMs) continue;
    let list = groups.get(start);
    if (!list) {
      list = [];
      groups.set(start, list);
    }
    list.push(s);
  }
  const out = new Map<number, Aggregate>();
  for (const start of [...groups.keys()].sort((a, b) => a - b)) out.set(start, aggregate(groups.get(start)!)!);
  return out;
}

/** Periods CloudWatch accepts for metric queries: 1, 5, 10, 20, 30, 60 and multiples of 60. */
export const validQueryPeriod = (p: number) =>
  Number.isInteger(p) && (p % 60 === 0 ? p > 0 : [1, 5, 10, 20, 30].includes(p));
