import { cloudwatchErrors } from "../protocol/generated/errors/cloudwatch.js";
import { commonErrors } from "../core/errors.js";
import type { Scope } from "../core/ids.js";
import {
  MathError,
  type MathValue,
  type Series,
  asSeriesList,
  evaluate,
  parseExpression,
  referencedIds,
} from "./math.js";
import { parseSearch, searchLabel, searchMatches } from "./search.js";
import { type Aggregate, bucketize, parseStatistic, statistic, validQueryPeriod } from "./statistics.js";
import type { MetricKey, MetricStore } from "./store.js";
import type { MetricDataQuery, MetricStat } from "../protocol/generated/types/cloudwatch.js";

export const invalidValue = cloudwatchErrors.InvalidParameterValueException;
export const invalidCombination = cloudwatchErrors.InvalidParameterCombinationException;
export const missingParameter = cloudwatchErrors.MissingRequiredParameterException;
/** Bad metric math is a ValidationError naming the expression's query, as CloudWatch reports it. */
const badExpression = (id: string, e: MathError) =>
  commonErrors.ValidationError(`Error in expression ${id}: ${e.message}`);

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
        if (e instanceof MathError) throw badExpression(q.Id, e);
        throw e;
      }
      if (q.Period !== undefined && !validQueryPeriod(q.Period))
        throw invalidValue(`The value ${q.Period} for parameter ${at}.Period is invalid.`);
    }
  });
}

/** SEARCH over the metrics with data in [fromMs - 2 weeks, toMs): each match as a labelled series. */
function searchSeries(
  metrics: MetricStore,
  scope: Scope,
  expression: string,
  stat: string,
  periodSec: number,
  fromMs: number,
  toMs: number,
): Series[] {
  if (!parseStatistic(stat)) throw new MathError(`SEARCH: ${stat} is not a statistic.`);
  if (!validQueryPeriod(periodSec)) throw new MathError(`SEARCH: ${periodSec} is not a valid period.`);
  const query = parseSearch(expression);
  return metrics
    .listSeries(scope, fromMs - 14 * 86_400_000)
    .filter((info) => searchMatches(query, info.key))
    .sort((a, b) => searchLabel(a.key).localeCompare(searchLabel(b.key)))
    .slice(0, 500)
    .map((info) => ({
      ...metricStatSeries(
        metrics,
        scope,
        {
          Metric: { Namespace: info.key.namespace, MetricName: info.key.name, Dimensions: info.key.dimensions },
          Period: periodSec,
          Stat: stat,
        },
        fromMs,
        toMs,
      ),
      label: searchLabel(info.key),
    }));
}

/**
 * Runs metric data queries (metric stats and math expressions, in dependency order) over
 * [fromMs, toMs). An expression giving an array (METRICS(), SEARCH()) gives one result per
 * member, all with the query's id. Throws ValidationError for unknown ids, cycles and bad
 * expressions.
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
  const results = new Map<string, QueryResult[]>();
  const statPeriods = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Period);
  const defaultPeriod = statPeriods.length ? Math.min(...statPeriods) : 60;
  const visiting = new Set<string>();
  const metricResults: { id: string; label: string; series: Series }[] = [];

  const compute = (id: string, from: string): MathValue => {
    const done = values.get(id);
    if (done !== undefined) return done;
    const q = byId.get(id);
    if (!q) throw badExpression(from, new MathError(`Unrecognized id "${id}" in the expression.`));
    if (visiting.has(id)) throw badExpression(id, new MathError(`The query ${id} refers to itself (a cycle).`));
    visiting.add(id);
    const label = q.Label ?? (q.MetricStat ? (q.MetricStat.Metric.MetricName ?? id) : id);
    if (q.MetricStat) {
      const series = metricStatSeries(metrics, scope, q.MetricStat, fromMs, toMs);
      values.set(id, series);
      results.set(id, [{ id, label, returnData: q.ReturnData ?? true, series, periodSec: q.MetricStat.Period }]);
    } else {
      const periodSec = q.Period ?? defaultPeriod;
      let node: ReturnType<typeof parseExpression>;
      try {
        node = parseExpression(q.Expression!);
      } catch (e) {
        if (e instanceof MathError) throw badExpression(id, e);
        throw e;
      }
      for (const ref of referencedIds(node)) if (byId.has(ref)) compute(ref, id);
      const grid = periodGrid(periodSec, fromMs, toMs);
      try {
        const v = evaluate(node, {
          lookup: (name) => (byId.has(name) ? compute(name, id) : undefined),
          metrics: () => metricResults,
          grid,
          periodSec,
          search: (expression, stat, period) => searchSeries(metrics, scope, expression, stat, period, fromMs, toMs),
        });
        values.set(id, v);
        const list = asSeriesList(v, grid);
        const many = Array.isArray(v);
        results.set(
          id,
          (list.length ? list : [{ timestamps: [], values: [] }]).map((series) => ({
            id,
            // Members of an array keep their own labels; the query's Label, when given, leads them.
            label: many && series.label !== undefined ? (q.Label ? `${q.Label} ${series.label}` : series.label) : label,
            returnData: q.ReturnData ?? true,
            series: { timestamps: series.timestamps, values: series.values },
            periodSec,
          })),
        );
      } catch (e) {
        if (e instanceof MathError) throw badExpression(id, e);
        throw e;
      }
    }
    visiting.delete(id);
    return values.get(id)!;
  };

  // Metric stats first, so METRICS() sees all of them.
  for (const q of queries)
    if (q.MetricStat) {
      compute(q.Id, q.Id);
      const r = results.get(q.Id)![0];
      metricResults.push({ id: q.Id, label: r.label, series: r.series });
    }
  for (const q of queries) compute(q.Id, q.Id);
  return queries.flatMap((q) => results.get(q.Id)!);
}
