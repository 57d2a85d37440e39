import { ServiceError } from "../../core/errors.js";
import { type Scope, parseArn } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import { parseStatistic } from "../../metrics/statistics.js";
import { dimensionsKey } from "../../metrics/store.js";
import type { Operations, PutMetricAlarmInput } from "../../protocol/generated/types/cloudwatch.js";
import type { Provider } from "../../protocol/service.js";
import { checkQueries, invalidCombination, invalidValue, missingParameter } from "../../metrics/query.js";
import {
  type AlarmHistoryRecord,
  type AlarmRecord,
  type CloudWatchState,
  changeState,
} from "../../store/schema/cloudwatch.js";

const validationError = (message: string) => new ServiceError("ValidationError", message);
const notFound = (message: string) => new ServiceError("ResourceNotFound", message, 404);

/** Alarm periods: 10, 20, 30 or a multiple of 60 seconds. */
export const validAlarmPeriod = (p: number) => Number.isInteger(p) && (p % 60 === 0 ? p > 0 : [10, 20, 30].includes(p));

const ANOMALY = ["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"];

/**
 * Checks a PutMetricAlarm request as CloudWatch does (pure). Returns the period the alarm
 * evaluates at (the metric's, or the returned query's for metric math alarms).
 */
export function checkAlarmInput(input: PutMetricAlarmInput): number {
  if (input.EvaluationCriteria !== undefined || input.EvaluationInterval !== undefined)
    throw invalidValue("Berth supports metric alarms on metrics and metric math; EvaluationCriteria is not supported.");
  if (input.ThresholdMetricId !== undefined || (input.ComparisonOperator && ANOMALY.includes(input.ComparisonOperator)))
    throw invalidValue(
      "Berth does not support anomaly detection alarms (ThresholdMetricId and the LowerThreshold/UpperThreshold operators).",
    );
  if (input.EvaluationPeriods === undefined) throw missingParameter("The parameter EvaluationPeriods is required.");
  if (input.ComparisonOperator === undefined) throw missingParameter("The parameter ComparisonOperator is required.");
  if (input.Threshold === undefined) throw missingParameter("The parameter Threshold is required.");
  if (!Number.isFinite(input.Threshold))
    throw invalidValue(`The value ${input.Threshold} for parameter Threshold is invalid.`);
  let period: number;
  if (input.Metrics !== undefined) {
    for (const name of [
      "MetricName",
      "Namespace",
      "Statistic",
      "ExtendedStatistic",
      "Dimensions",
      "Period",
      "Unit",
    ] as const)
      if (input[name] !== undefined)
        throw invalidCombination(
          `The parameters Metrics and ${name} are mutually exclusive and you have specified both.`,
        );
    checkQueries(input.Metrics, "Metrics");
    const returning = input.Metrics.filter((q) => q.ReturnData ?? true);
    if (returning.length !== 1) throw validationError("Exactly one element of the metrics list should return data.");
    const r = returning[0];
    period = r.MetricStat?.Period ?? r.Period ?? 0;
    if (!period) throw missingParameter("The metric math expression that returns data needs a Period.");
  } else {
    if (input.MetricName === undefined) throw missingParameter("The parameter MetricName is required.");
    if (input.Namespace === undefined) throw missingParameter("The parameter Namespace is required.");
    if (input.Period === undefined) throw missingParameter("The parameter Period is required.");
    if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined))
      throw invalidCombination("Exactly one of the parameters Statistic and ExtendedStatistic must be specified.");
    if (input.ExtendedStatistic !== undefined) {
      const spec = parseStatistic(input.ExtendedStatistic);
      if (!spec || spec.kind === "basic")
        throw invalidValue(`The value ${input.ExtendedStatistic} for parameter ExtendedStatistic is invalid.`);
    }
    const names = new Set<string>();
    for (const d of input.Dimensions ?? []) {
      if (names.has(d.Name)) throw invalidValue(`The dimension ${d.Name} appears more than once in Dimensions.`);
      names.add(d.Name);
    }
    period = input.Period;
  }
  if (!validAlarmPeriod(period))
    throw invalidValue(
      `The value ${period} for parameter Period is invalid. Alarm periods are 10, 20 or 30 seconds, or a multiple of 60 seconds.`,
    );
  const span = period * input.EvaluationPeriods;
  if (span > (period >= 3600 ? 7 * 86400 : 86400))
    throw validationError(
      period >= 3600
        ? `Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800; it is ${span}).`
        : `Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400; it is ${span}).`,
    );
  if (input.DatapointsToAlarm !== undefined && input.DatapointsToAlarm > input.EvaluationPeriods)
    throw validationError(
      `DatapointsToAlarm (${input.DatapointsToAlarm}) must be less than or equal to EvaluationPeriods (${input.EvaluationPeriods}).`,
    );
  if (
    input.TreatMissingData !== undefined &&
    !["breaching", "notBreaching", "ignore", "missing"].includes(input.TreatMissingData)
  )
    throw invalidValue(
      `The value ${input.TreatMissingData} for parameter TreatMissingData is invalid. Use breaching, notBreaching, ignore or missing.`,
    );
  if (
    input.EvaluateLowSampleCountPercentile !== undefined &&
    !["evaluate", "ignore"].includes(input.EvaluateLowSampleCountPercentile)
  )
    throw invalidValue(
      `The value ${input.EvaluateLowSampleCountPercentile} for parameter EvaluateLowSampleCountPercentile is invalid. Use evaluate or ignore.`,
    );
  for (const [list, name] of [
    [input.AlarmActions, "AlarmActions"],
    [input.OKActions, "OKActions"],
    [input.InsufficientDataActions, "InsufficientDataActions"],
  ] as const)
    (list ?? []).forEach((action, i) => {
      if (!parseArn(action)) throw validationError(`Invalid arn syntax: ${action} (${name}.member.${i + 1}).`);
    });
  return period;
}

/** The alarm a PutMetricAlarm stores (state kept when the alarm already exists, as CloudWatch does). */
export function alarmFromInput(
  cw: CloudWatchState,
  scope: Scope,
  input: PutMetricAlarmInput,
  existing: AlarmRecord | undefined,
  now: Date,
): AlarmRecord {
  return {
    AlarmName: input.AlarmName,
    AlarmArn: cw.alarmArn(scope, input.AlarmName),
    AlarmDescription: input.AlarmDescription,
    AlarmConfigurationUpdatedTimestamp: now,
    ActionsEnabled: input.ActionsEnabled ?? true,
    OKActions: input.OKActions ?? [],
    AlarmActions: input.AlarmActions ?? [],
    InsufficientDataActions: input.InsufficientDataActions ?? [],
    StateValue: existing?.StateValue ?? "INSUFFICIENT_DATA",
    StateReason: existing?.StateReason ?? "Unchecked: Initial alarm creation",
    StateReasonData: existing?.StateReasonData,
    StateUpdatedTimestamp: existing?.StateUpdatedTimestamp ?? now,
    StateTransitionedTimestamp: existing?.StateTransitionedTimestamp ?? now,
    MetricName: input.MetricName,
    Namespace: input.Namespace,
    Statistic: input.Statistic,
    ExtendedStatistic: input.ExtendedStatistic,
    Dimensions: input.Metrics ? undefined : (input.Dimensions ?? []),
    Period: input.Period,
    Unit: input.Unit,
    EvaluationPeriods: input.EvaluationPeriods!,
    DatapointsToAlarm: input.DatapointsToAlarm,
    Threshold: input.Threshold,
    ComparisonOperator: input.ComparisonOperator!,
    TreatMissingData: input.TreatMissingData,
    EvaluateLowSampleCountPercentile: input.EvaluateLowSampleCountPercentile,
    Metrics: input.Metrics,
    Tags: existing?.Tags ?? input.Tags ?? [],
  };
}

/** The alarm as DescribeAlarms shows it (bookkeeping dropped by the serializer). */
const describe = (a: AlarmRecord) => a;

export interface AlarmWriter {
  /** Creates or replaces an alarm, recording history; used by PutMetricAlarm and Application Auto Scaling. */
  put(scope: Scope, input: PutMetricAlarmInput): AlarmRecord;
  /** Deletes alarms that exist; returns the names deleted. */
  delete(scope: Scope, names: string[]): string[];
}

export function alarmWriter(cw: CloudWatchState): AlarmWriter {
  return {
    put(scope, input) {
      checkAlarmInput(input);
      return cw.store.transaction(() => {
        const existing = cw.alarms.get(scope, input.AlarmName);
        const now = cw.clock.now();
        const alarm = cw.alarms.put(scope, alarmFromInput(cw, scope, input, existing, now));
        const { lastWindowEnd: _, ...config } = alarm;
        cw.record(scope, {
          AlarmName: alarm.AlarmName,
          HistoryItemType: "ConfigurationUpdate",
          HistorySummary: `Alarm "${alarm.AlarmName}" ${existing ? "updated" : "created"}`,
          HistoryData: JSON.stringify({
            version: "1.0",
            type: existing ? "Update" : "Create",
            [existing ? "updatedAlarm" : "createdAlarm"]: config,
          }),
        });
        return alarm;
      });
    },
    delete(scope, names) {
      return cw.store.transaction(() => {
        const deleted: string[] = [];
        for (const name of names) {
          if (!cw.alarms.get(scope, name)) continue;
          cw.alarms.delete(scope, name);
          for (const h of cw.history.children(scope, name)) cw.history.delete(scope, h.id);
          deleted.push(name);
        }
        return deleted;
      });
    },
  };
}

const tagsNotFound = (arn: string) =>
  new ServiceError(
    "ResourceNotFoundException",
    `The resource ${arn} does not exist. Alarms are tagged by their AlarmArn.`,
    404,
  );

/** Alarm operations. `onStateSet` runs after SetAlarmState changed an alarm's state (to run its actions). */
export function alarmOperations(
  cw: CloudWatchState,
  writer: AlarmWriter,
  onStateSet: (scope: Scope, alarm: AlarmRecord, previous: AlarmRecord["StateValue"]) => void,
): Provider<Operations> {
  const alarmByArn = (scope: Scope, arn: string) => {
    const found = cw.alarms.byArn(arn);
    if (!found || found.scope.account !== scope.account || found.scope.region !== scope.region) throw tagsNotFound(arn);
    return found.doc;
  };
  return {
    PutMetricAlarm(input, ctx) {
      writer.put(ctx, input);
      return {};
    },

    DescribeAlarms(input, ctx) {
      if (input.AlarmNames?.length && input.AlarmNamePrefix !== undefined)
        throw invalidCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.");
      const types = input.AlarmTypes ?? ["MetricAlarm"];
      if (input.ChildrenOfAlarmName !== undefined || input.ParentsOfAlarmName !== undefined)
        return { MetricAlarms: [], CompositeAlarms: [] };
      let alarms = types.includes("MetricAlarm") ? cw.alarms.list(ctx) : [];
      if (input.AlarmNames?.length) alarms = alarms.filter((a) => input.AlarmNames!.includes(a.AlarmName));
      if (input.AlarmNamePrefix !== undefined)
        alarms = alarms.filter((a) => a.AlarmName.startsWith(input.AlarmNamePrefix!));
      if (input.StateValue !== undefined) alarms = alarms.filter((a) => a.StateValue === input.StateValue);
      if (input.ActionPrefix !== undefined)
        alarms = alarms.filter((a) =>
          [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].some((x) =>
            x.startsWith(input.ActionPrefix!),
          ),
        );
      let page: AlarmRecord[];
      let nextToken: string | undefined;
      try {
        ({ page, nextToken } = pageByKey(alarms, (a) => [a.AlarmName], {
          nextToken: input.NextToken,
          limit: input.MaxRecords ?? 50,
        }));
      } catch {
        throw new ServiceError("InvalidNextToken", "The NextToken is not valid.");
      }
      return { MetricAlarms: page.map(describe), CompositeAlarms: [], NextToken: nextToken };
    },

    DescribeAlarmsForMetric(input, ctx) {
      const dims = input.Dimensions ? dimensionsKey(input.Dimensions) : undefined;
      const alarms = cw.alarms
        .list(ctx)
        .filter(
          (a) =>
            a.MetricName === input.MetricName &&
            a.Namespace === input.Namespace &&
            (input.Statistic === undefined || a.Statistic === input.Statistic) &&
            (input.ExtendedStatistic === undefined || a.ExtendedStatistic === input.ExtendedStatistic) &&
            (dims === undefined || dimensionsKey(a.Dimensions ?? []) === dims) &&
            (input.Period === undefined || a.Period === input.Period) &&
            (input.Unit === undefined || a.Unit === input.Unit),
        );
      return { MetricAlarms: alarms.map(describe) };
    },

    DeleteAlarms(input, ctx) {
      const names = input.AlarmNames ?? [];
      const missing = names.filter((n) => !cw.alarms.get(ctx, n));
      if (missing.length)
        throw notFound(
          `${missing.length} of the alarms to delete ${missing.length === 1 ? "was" : "were"} not found: ${missing.join(", ")}.`,
        );
      writer.delete(ctx, names);
      return {};
    },

    SetAlarmState(input, ctx) {
      if (input.StateReasonData !== undefined) {
        try {
          JSON.parse(input.StateReasonData);
        } catch {
          throw new ServiceError("InvalidFormat", "The StateReasonData is not valid JSON.");
        }
      }
      const { alarm, previous } = cw.store.transaction(() => {
        const found = cw.alarms.get(ctx, input.AlarmName);
        if (!found) throw notFound(`The alarm ${input.AlarmName} does not exist.`);
        return {
          alarm: changeState(cw, ctx, found, input.StateValue, input.StateReason, input.StateReasonData),
          previous: found.StateValue,
        };
      });
      if (alarm.StateValue !== previous) onStateSet(ctx, alarm, previous);
      return {};
    },

    EnableAlarmActions(input, ctx) {
      cw.store.transaction(() => {
        for (const name of input.AlarmNames ?? []) {
          const a = cw.alarms.get(ctx, name);
          if (a) cw.alarms.put(ctx, { ...a, ActionsEnabled: true });
        }
      });
      return {};
    },

    DisableAlarmActions(input, ctx) {
      cw.store.transaction(() => {
        for (const name of input.AlarmNames ?? []) {
          const a = cw.alarms.get(ctx, name);
          if (a) cw.alarms.put(ctx, { ...a, ActionsEnabled: false });
        }
      });
      return {};
    },

    DescribeAlarmHistory(input, ctx) {
      if (input.AlarmTypes && !input.AlarmTypes.includes("MetricAlarm")) return { AlarmHistoryItems: [] };
      const items = (
        input.AlarmName !== undefined ? cw.history.children(ctx, input.AlarmName) : cw.history.list(ctx)
      ).filter(
        (h) =>
          (input.HistoryItemType === undefined || h.HistoryItemType === input.HistoryItemType) &&
          (input.StartDate === undefined || h.Timestamp >= input.StartDate) &&
          (input.EndDate === undefined || h.Timestamp <= input.EndDate),
      );
      const descending = (input.ScanBy ?? "TimestampDescending") === "TimestampDescending";
      let page: AlarmHistoryRecord[];
      let nextToken: string | undefined;
      try {
        ({ page, nextToken } = pageByKey(items, (h) => [h.Timestamp.getTime(), h.id], {
          descending,
          nextToken: input.NextToken,
          limit: input.MaxRecords ?? 50,
        }));
      } catch {
        throw new ServiceError("InvalidNextToken", "The NextToken is not valid.");
      }
      return {
        AlarmHistoryItems: page.map(({ id: _, ...h }) => h),
        NextToken: nextToken,
      };
    },

    ListTagsForResource(input, ctx) {
      return { Tags: alarmByArn(ctx, input.ResourceARN).Tags };
    },

    TagResource(input, ctx) {
      cw.store.transaction(() => {
        const a = alarmByArn(ctx, input.ResourceARN);
        const tags = new Map(a.Tags.map((t) => [t.Key, t.Value]));
        for (const t of input.Tags ?? []) tags.set(t.Key, t.Value);
        if (tags.size > 50) throw new ServiceError("LimitExceededException", "An alarm can have at most 50 tags.");
        cw.alarms.put(ctx, { ...a, Tags: [...tags].map(([Key, Value]) => ({ Key, Value })) });
      });
      return {};
    },

    UntagResource(input, ctx) {
      cw.store.transaction(() => {
        const a = alarmByArn(ctx, input.ResourceARN);
        cw.alarms.put(ctx, { ...a, Tags: a.Tags.filter((t) => !(input.TagKeys ?? []).includes(t.Key)) });
      });
      return {};
    },
  };
}
