import { cloudwatchErrors } from "../../protocol/generated/errors/cloudwatch.js";
import { decodeKey, encodeKey, pageByOffset } from "../../core/paginate.js";
import { type Sample, parseStatistic, statistic, validQueryPeriod } from "../../metrics/statistics.js";
import type { MetricKey, MetricStore } from "../../metrics/store.js";
import type { Datapoint, MetricDatum, Operations } from "../../protocol/generated/types/cloudwatch.js";
import type { Provider } from "../../protocol/service.js";
import {
  checkQueries,
  invalidCombination,
  invalidValue,
  metricBuckets,
  missingParameter,
  runQueries,
} from "../../metrics/query.js";
import type { CloudWatchState } from "../../store/schema/cloudwatch.js";

const TWO_WEEKS_MS = 14 * 24 * 3600 * 1000;
const TWO_HOURS_MS = 2 * 3600 * 1000;

/** One PutMetricData datum → a sample, or the AWS error for it. */
export function datumSample(d: MetricDatum, at: string, now: number): Sample {
  const ts = d.Timestamp ? d.Timestamp.getTime() : now;
  if (ts < now - TWO_WEEKS_MS)
    throw invalidValue(`The parameter ${at}.Timestamp must specify a time no more than two weeks in the past.`);
  if (ts > now + TWO_HOURS_MS)
    throw invalidValue(`The parameter ${at}.Timestamp must specify a time no more than two hours in the future.`);
  if (d.StorageResolution !== undefined && d.StorageResolution !== 1 && d.StorageResolution !== 60)
    throw invalidValue(
      `The value ${d.StorageResolution} for parameter ${at}.StorageResolution is invalid. Use 1 (high resolution) or 60.`,
    );
  const unit = d.Unit ?? "None";
  const given = [d.Value !== undefined, d.StatisticValues !== undefined, d.Values !== undefined].filter(Boolean).length;
  if (given > 1)
    throw invalidCombination(
      `The parameters ${at}.Value, ${at}.StatisticValues and ${at}.Values are mutually exclusive and you have specified more than one.`,
    );
  const finite = (v: number, name: string) => {
    if (!Number.isFinite(v)) throw invalidValue(`The value ${v} for parameter ${at}.${name} is invalid.`);
    return v;
  };
  if (d.Counts !== undefined && d.Values === undefined)
    throw invalidCombination(`The parameter ${at}.Counts needs ${at}.Values.`);
  if (d.Value !== undefined) {
    const v = finite(d.Value, "Value");
    return { timestamp: ts, unit, count: 1, sum: v, min: v, max: v, values: [[v, 1]] };
  }
  if (d.StatisticValues) {
    const s = d.StatisticValues;
    for (const k of ["SampleCount", "Sum", "Minimum", "Maximum"] as const) finite(s[k], `StatisticValues.${k}`);
    if (s.SampleCount <= 0)
      throw invalidValue(`The value for parameter ${at}.StatisticValues.SampleCount must be positive.`);
    if (s.Minimum > s.Maximum)
      throw invalidValue(`The parameter ${at}.StatisticValues.Minimum must not be greater than its Maximum.`);
    return { timestamp: ts, unit, count: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum };
  }
  if (d.Values !== undefined) {
    if (d.Counts !== undefined && d.Counts.length !== d.Values.length)
      throw invalidValue(`The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
    if (d.Values.length === 0) throw missingParameter(`The parameter ${at}.Values must hold at least one value.`);
    const values: [number, number][] = d.Values.map((v, i) => [
      finite(v, `Values.member.${i + 1}`),
      finite(d.Counts?.[i] ?? 1, `Counts.member.${i + 1}`),
    ]);
    const count = values.reduce((n, [, c]) => n + c, 0);
    return {
      timestamp: ts,
      unit,
      count,
      sum: values.reduce((n, [v, c]) => n + v * c, 0),
      min: Math.min(...values.map(([v]) => v)),
      max: Math.max(...values.map(([v]) => v)),
      values,
    };
  }
  throw missingParameter(`The parameter ${at}.Value is required (or StatisticValues, or Values).`);
}

const keyOf = (namespace: string, name: string, dims: { Name: string; Value: string }[] | undefined): MetricKey => ({
  namespace,
  name,
  dimensions: (dims ?? []).map((d) => ({ Name: d.Name, Value: d.Value })),
});

function checkDimensions(dims: { Name: string; Value: string }[] | undefined, at: string) {
  const seen = new Set<string>();
  for (const d of dims ?? []) {
    if (seen.has(d.Name))
      throw invalidValue(`The dimension ${d.Name} appears more than once in ${at}.Dimensions; names must be unique.`);
    seen.add(d.Name);
  }
}

export function metricOperations(cw: CloudWatchState, metrics: MetricStore): Provider<Operations> {
  return {
    PutMetricData(input, ctx) {
      if (input.Namespace.startsWith("AWS/"))
        throw invalidValue(
          `The value ${input.Namespace} for parameter Namespace is invalid. Namespaces starting with "AWS/" are reserved for AWS services.`,
        );
      const data = input.MetricData ?? [];
      if (data.length === 0) throw missingParameter("The parameter MetricData is required.");
      const now = cw.clock.now().getTime();
      // Validate everything first: a bad datum changes nothing.
      const prepared = data.map((d, i) => {
        const at = `MetricData.member.${i + 1}`;
        checkDimensions(d.Dimensions, at);
        return {
          key: keyOf(input.Namespace, d.MetricName, d.Dimensions),
          sample: datumSample(d, at, now),
          hires: d.StorageResolution === 1,
        };
      });
      cw.store.transaction(() => {
        for (const p of prepared) metrics.put(ctx, p.key, [p.sample], p.hires);
      });
      return {};
    },

    GetMetricStatistics(input, ctx) {
      const stats = input.Statistics ?? [];
      const extended = input.ExtendedStatistics ?? [];
      if (stats.length === 0 && extended.length === 0)
        throw missingParameter("Either the Statistics or the ExtendedStatistics parameter must be specified.");
      if (stats.length > 0 && extended.length > 0)
        throw invalidCombination("The parameters Statistics and ExtendedStatistics are mutually exclusive.");
      if (!validQueryPeriod(input.Period))
        throw invalidValue(
          `The value ${input.Period} for parameter Period is invalid. Valid periods are 1, 5, 10, 20, 30, 60 and multiples of 60.`,
        );
      const specs = extended.map((name, i) => {
        const spec = parseStatistic(name);
        if (!spec || spec.kind === "basic")
          throw invalidValue(
            `The value ${name} for parameter ExtendedStatistics.member.${i + 1} is invalid. Use pNN.NN or tmNN.`,
          );
        return { name, spec };
      });
      const from = input.StartTime.getTime();
      const to = input.EndTime.getTime();
      if (from >= to) throw invalidValue("The parameter StartTime must be less than the parameter EndTime.");
      const requested = Math.ceil((to - from) / (input.Period * 1000));
      if (requested > 1440)
        throw invalidCombination(
          `You have requested up to ${requested} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
        );
      checkDimensions(input.Dimensions, "");
      const key = keyOf(input.Namespace, input.MetricName, input.Dimensions);
      const datapoints: Datapoint[] = [];
      for (const [t, agg] of metricBuckets(metrics, ctx, key, input.Period, from, to, input.Unit)) {
        const dp: Datapoint = {
          Timestamp: new Date(t),
          Unit: (input.Unit ?? (agg.units.size === 1 ? [...agg.units][0] : "None")) as Datapoint["Unit"],
        };
        for (const name of stats) (dp as Record<string, unknown>)[name] = statistic(agg, { kind: "basic", name });
        if (specs.length) {
          dp.ExtendedStatistics = {};
          for (const { name, spec } of specs) {
            const v = statistic(agg, spec);
            if (v !== undefined) dp.ExtendedStatistics[name] = v;
          }
        }
        datapoints.push(dp);
      }
      return { Label: input.MetricName, Datapoints: datapoints };
    },

    GetMetricData(input, ctx) {
      const queries = input.MetricDataQueries ?? [];
      if (queries.length > 500) throw invalidValue("GetMetricData takes at most 500 MetricDataQueries.");
      checkQueries(queries, "MetricDataQueries");
      if (!queries.some((q) => q.ReturnData ?? true))
        throw invalidValue("At least one of the MetricDataQueries must have ReturnData set to true.");
      const from = input.StartTime.getTime();
      const to = input.EndTime.getTime();
      if (from >= to) throw invalidValue("The parameter StartTime must be less than the parameter EndTime.");
      const descending = (input.ScanBy ?? "TimestampDescending") === "TimestampDescending";
      const max = input.MaxDatapoints ?? 100_800;
      // The token is how many datapoints of the whole answer earlier pages returned.
      let skip = 0;
      if (input.NextToken !== undefined) {
        const key = (() => {
          try {
            return decodeKey(input.NextToken!);
          } catch {
            throw cloudwatchErrors.InvalidNextToken("The service returned an invalid NextToken.");
          }
        })();
        if (typeof key[0] !== "number") throw cloudwatchErrors.InvalidNextToken("The NextToken is not valid.");
        skip = key[0];
      }
      let budget = max;
      let position = 0;
      let truncated = false;
      const results = runQueries(metrics, ctx, queries, from, to)
        .filter((r) => r.returnData)
        .map((r) => {
          let points = r.series.timestamps.map((t, i) => [t, r.series.values[i]] as const);
          if (descending) points = [...points].reverse();
          const start = Math.max(0, skip - position);
          position += points.length;
          const page = points.slice(start, start + budget);
          budget -= page.length;
          if (start + page.length < points.length) truncated = true;
          return {
            Id: r.id,
            Label: r.label,
            Timestamps: page.map(([t]) => new Date(t)),
            Values: page.map(([, v]) => v),
            StatusCode: start + page.length < points.length ? ("PartialData" as const) : ("Complete" as const),
          };
        });
      return {
        MetricDataResults: results,
        Messages: [],
        NextToken: truncated ? encodeKey([skip + max]) : undefined,
      };
    },

    ListMetrics(input, ctx) {
      const since =
        input.RecentlyActive === "PT3H"
          ? cw.clock.now().getTime() - 3 * 3600_000
          : cw.clock.now().getTime() - TWO_WEEKS_MS;
      const filters = input.Dimensions ?? [];
      const matches = metrics.listSeries(ctx, since).filter(({ key }) => {
        if (input.Namespace !== undefined && key.namespace !== input.Namespace) return false;
        if (input.MetricName !== undefined && key.name !== input.MetricName) return false;
        return filters.every((f) =>
          key.dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || d.Value === f.Value)),
        );
      });
      const { page, nextToken } = pageByOffset(matches, {
        nextToken: input.NextToken,
        limit: 500,
        invalidToken: () => cloudwatchErrors.InvalidNextToken("The NextToken is not valid."),
      });
      return {
        Metrics: page.map(({ key }) => ({
          Namespace: key.namespace,
          MetricName: key.name,
          Dimensions: key.dimensions,
        })),
        NextToken: nextToken,
      };
    },
  };
}
