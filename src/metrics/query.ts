import { ServiceError } from "../core/errors.js";
import type { Scope } from "../core/ids.js";
import { MathError, type MathValue, type Series, asSeries, evaluate, parseExpression, referencedIds } from "./math.js";
import { type Aggregate, bucketize, parseStatistic, statistic, validQueryPeriod } from "./statistics.js";
import type { MetricKey, MetricStore } from "./store.js";
import type { MetricDataQuery, MetricStat } from "../protocol/generated/types/cloudwatch.js";

export const invalidValue = (message: string) => new ServiceError("InvalidParameterValue", message);
export const invalidCombination = (message: string) => new ServiceError("InvalidParameterCombination", message);
export const missingParameter = (message: string) => new ServiceError("MissingParameter", message);

export interface QueryResult {
  id: string;
  label: string;
  returnData: boolean;
  series: Series;
  periodSec: number;
}

const ID = /^[a-z][a-zA-Z0-9_]*$/;

/** The samples of one metric per period, filtered by unit, as aggregates. */
export function metricBuckets(
  metrics: MetricStore,
  scope: Scope,
  key: MetricKey,
  periodSec: number,
  fromMs: number,
  toMs: number,
  unit?: string,
): Map<number, Aggregate> {
  const samples = metrics.query(scope, key, fromMs - periodSec * 1000, toMs).filter((s) => !unit || s.unit === unit);
  return bucketize(samples, periodSec, fromMs, toMs);
}

/** Every period start in [fromMs, toMs), epoch-aligned. */
export function periodGrid(periodSec: number, fromMs: number, toMs: number): number[] {
  const step = periodSec * 1000;
  const out: number[] = [];
  for (let t = Math.floor(fromMs / step) * step; t < toMs && out.length < 100_800; t += step) out.push(t);
  return out;
}

export function metricStatSeries(
  metrics: MetricStore,
  scope: Scope,
  stat: MetricStat,
  fromMs: number,
  toMs: number,
): Series {
  const spec = parseStatistic(stat.Stat)!;
  const key: MetricKey = {
    namespace: stat.Metric.Namespace ?? "",
    name: stat.Metric.MetricName ?? "",
    dimensions: (stat.Metric.Dimensions ?? []).map((d) => ({ Name: d.Name, Value: d.Value })),
  };
  const series: Series = { timestamps: [], values: [] };
  for (const [t, agg] of metricBuckets(metrics, scope, key, stat.Period, fromMs, toMs, stat.Unit)) {
    const v = statistic(agg, spec);
    if (v === undefined || !Number.isFinite(v)) continue;
    series.timestamps.push(t);
    series.values.push(v);
  }
  return series;
}

/** Checks a list of metric data queries as GetMetricData and PutMetricAlarm do. */
export function checkQueries(queries: MetricDataQuery[], path: string) {
  if (queries.length === 0) throw missingParameter(`The parameter ${path} is required.`);
  const ids = new Set<string>();
  queries.forEach((q, i) => {
    const at = `${path}.member.${i + 1}`;
    if (!ID.test(q.Id))
      throw invalidValue(
        `The value ${q.Id} for parameter ${at}.Id is invalid. An id starts with a lowercase letter and holds only letters, digits and _.`,
      );
    if (ids.has(q.Id)) throw invalidValue(`The value ${q.Id} for parameter ${at}.Id is not unique.`);
    ids.add(q.Id);
    if ((q.MetricStat === undefined) === (q.Expression === undefined))
      throw invalidCombination(`Exactly one of ${at}.MetricStat and ${at}.Expression must be specified.`);
    if (q.MetricStat) {
      if (!validQueryPeriod(q.MetricStat.Period))
        throw invalidValue(
          `The value ${q.MetricStat.Period} for parameter ${at}.MetricStat.Period is invalid. Valid periods are 1, 5, 10, 20, 30, 60 and multiples of 60.`,
        );
      if (!parseStatistic(q.MetricStat.Stat))
        throw invalidValue(
          `The value ${q.MetricStat.Stat} for parameter ${at}.MetricStat.Stat is invalid. Use SampleCount, Average, Sum, Minimum, Maximum, pNN or tmNN.`,
        );
    } else {
      try {
        parseExpression(q.Expression!);
      } catch (e) {
        if (e instanceof MathError)
          throw invalidValue(`The value for parameter ${at}.Expression is invalid: ${e.message}`);
        throw e;
      }
      if (q.Period !== undefined && !validQueryPeriod(q.Period))
        throw invalidValue(`The value ${q.Period} for parameter ${at}.Period is invalid.`);
    }
  });
}

/**
 * Runs metric data queries (metric stats and math expressions, in dependency order) over
 * [fromMs, toMs). Throws InvalidParameterValue for unknown ids, cycles and bad expressions.
 */
export function runQueries(
  metrics: MetricStore,
  scope: Scope,
  queries: MetricDataQuery[],
  fromMs: number,
  toMs: number,
): QueryResult[] {
  const byId = new Map(queries.map((q) => [q.Id, q]));
  const values = new Map<string, MathValue>();
  const results = new Map<string, QueryResult>();
  const statPeriods = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Period);
  const defaultPeriod = statPeriods.length ? Math.min(...statPeriods) : 60;
  const visiting = new Set<string>();
  const metricResults: { label: string; series: Series }[] = [];

  const compute = (id: string): MathValue => {
    const done = values.get(id);
    if (done !== undefined) return done;
    const q = byId.get(id);
    if (!q) throw invalidValue(`The expression refers to ${id}, which is not the Id of any query in this request.`);
    if (visiting.has(id)) throw invalidValue(`The query ${id} refers to itself through its expression (a cycle).`);
    visiting.add(id);
    let series: Series;
    let periodSec: number;
    if (q.MetricStat) {
      periodSec = q.MetricStat.Period;
      series = metricStatSeries(metrics, scope, q.MetricStat, fromMs, toMs);
      values.set(id, series);
    } else {
      periodSec = q.Period ?? defaultPeriod;
      const node = parseExpression(q.Expression!);
      for (const ref of referencedIds(node)) if (byId.has(ref)) compute(ref);
      const grid = periodGrid(periodSec, fromMs, toMs);
      try {
        const v = evaluate(node, {
          lookup: (name) => (byId.has(name) ? compute(name) : undefined),
          metrics: () => metricResults,
          grid,
          periodSec,
        });
        values.set(id, v);
        series = asSeries(v, grid);
      } catch (e) {
        if (e instanceof MathError) throw invalidValue(`Error in expression ${id}: ${e.message}`);
        throw e;
      }
    }
    visiting.delete(id);
    results.set(id, {
      id,
      label: q.Label ?? (q.MetricStat ? (q.MetricStat.Metric.MetricName ?? id) : id),
      returnData: q.ReturnData ?? true,
      series,
      periodSec,
    });
    return values.get(id)!;
  };

  // Metric stats first, so METRICS() sees all of them.
  for (const q of queries)
    if (q.MetricStat) {
      compute(q.Id);
      metricResults.push({ label: results.get(q.Id)!.label, series: results.get(q.Id)!.series });
    }
  for (const q of queries) compute(q.Id);
  return queries.map((q) => results.get(q.Id)!);
}
