import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import { parseStatistic, statistic } from "../../metrics/statistics.js";
import type { MetricStore } from "../../metrics/store.js";
import { metricBuckets, runQueries } from "../../metrics/query.js";
import { type AlarmRecord, type CloudWatchState, changeState } from "../../store/schema/cloudwatch.js";
import { type Comparison, type EvaluatedPoint, type Evaluation, evaluateAlarm, evaluationRange } from "./evaluate.js";

/** What an alarm hands to the action it invokes. */
export interface AlarmInvocation {
  scope: Scope;
  alarm: AlarmRecord;
  /** The datapoints the evaluation looked at, newest first (empty after SetAlarmState). */
  datapoints: { timestamp: number; value: number }[];
}

/** Something alarm actions can invoke (Application Auto Scaling policies by ARN). */
export interface AlarmActionHandler {
  matches(arn: string): boolean;
  /** Runs the action; resolves to a message for the alarm history, rejects when it failed. */
  invoke(arn: string, invocation: AlarmInvocation): Promise<string>;
  /**
   * Whether the action runs at every evaluation while the alarm stays in the state (Auto
   * Scaling actions do), not only when the alarm enters it.
   */
  repeats: boolean;
}

export interface AlarmControllerDeps {
  cw: CloudWatchState;
  metrics: MetricStore;
  clock: Clock;
  logger: Logger;
  actions: () => AlarmActionHandler[];
  /** How often alarms are checked for a newly completed period (ms). */
  tickMs: number;
  /** How long after a period ends its data is awaited before it is evaluated (ms). */
  delayMs: number;
}

const STATE_ACTIONS = {
  ALARM: "AlarmActions",
  OK: "OKActions",
  INSUFFICIENT_DATA: "InsufficientDataActions",
} as const;

/**
 * Evaluates every metric alarm once per completed period (one tick after the period's data is
 * in), records state changes in the alarm history and invokes the alarm's actions.
 */
export class AlarmController {
  private timer?: NodeJS.Timeout;
  private running = false;
  private historySwept = 0;

  constructor(private readonly d: AlarmControllerDeps) {}

  start() {
    this.timer = setInterval(() => void this.tick(), this.d.tickMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass over all alarms (tests call it directly). */
  async tick() {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.d.clock.now().getTime();
      for (const { scope, doc } of this.d.cw.alarms.listAll()) {
        try {
          await this.evaluate(scope, doc, now);
        } catch (err) {
          this.d.logger.warn({ err: (err as Error).message, alarm: doc.AlarmName }, "alarm evaluation failed");
        }
      }
      if (now - this.historySwept > 3600_000) {
        this.historySwept = now;
        this.d.cw.sweepHistory();
      }
    } finally {
      this.running = false;
    }
  }

  /** The period an alarm evaluates at. */
  private periodOf(alarm: AlarmRecord): number {
    if (alarm.Period) return alarm.Period;
    const r = alarm.Metrics?.find((q) => q.ReturnData ?? true);
    return r?.MetricStat?.Period ?? r?.Period ?? 60;
  }

  /** The alarm's value for each period of the range, oldest first. */
  points(scope: Scope, alarm: AlarmRecord, starts: number[], periodSec: number): EvaluatedPoint[] {
    const from = starts[0];
    const to = starts[starts.length - 1] + periodSec * 1000;
    const byStart = new Map<number, number>();
    if (alarm.Metrics) {
      const result = runQueries(this.d.metrics, scope, alarm.Metrics, from, to).find((r) => r.returnData);
      if (result) for (const [i, t] of result.series.timestamps.entries()) byStart.set(t, result.series.values[i]);
    } else {
      const spec = parseStatistic(alarm.ExtendedStatistic ?? alarm.Statistic ?? "Average")!;
      const key = { namespace: alarm.Namespace!, name: alarm.MetricName!, dimensions: alarm.Dimensions ?? [] };
      for (const [t, agg] of metricBuckets(this.d.metrics, scope, key, periodSec, from, to, alarm.Unit)) {
        const v = statistic(agg, spec);
        if (v !== undefined && Number.isFinite(v)) byStart.set(t, v);
      }
    }
    return starts.map((timestamp) => ({ timestamp, value: byStart.get(timestamp) }));
  }

  private async evaluate(scope: Scope, alarm: AlarmRecord, now: number) {
    const periodSec = this.periodOf(alarm);
    const starts = evaluationRange(periodSec, alarm.EvaluationPeriods, now, this.d.delayMs);
    const windowEnd = starts[starts.length - 1] + periodSec * 1000;
    if (alarm.lastWindowEnd !== undefined && alarm.lastWindowEnd >= windowEnd) return;
    const points = this.points(scope, alarm, starts, periodSec);
    const evaluation = evaluateAlarm(
      {
        periodSec,
        evaluationPeriods: alarm.EvaluationPeriods,
        datapointsToAlarm: alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods,
        threshold: alarm.Threshold ?? 0,
        comparison: alarm.ComparisonOperator as Comparison,
        treatMissingData: (alarm.TreatMissingData ?? "missing") as "missing",
      },
      points,
      alarm.StateValue,
    );
    const cw = this.d.cw;
    const updated = cw.store.transaction(() => {
      const current = cw.alarms.get(scope, alarm.AlarmName);
      // Changed or deleted meanwhile: the next tick sees the new configuration.
      if (
        !current ||
        current.AlarmConfigurationUpdatedTimestamp?.getTime() !== alarm.AlarmConfigurationUpdatedTimestamp?.getTime()
      )
        return undefined;
      if (!evaluation.changed) return cw.alarms.put(scope, { ...current, lastWindowEnd: windowEnd });
      return changeState(
        cw,
        scope,
        current,
        evaluation.state,
        evaluation.reason,
        this.reasonData(alarm, evaluation, starts, now),
        {
          lastWindowEnd: windowEnd,
        },
      );
    });
    if (!updated) return;
    await this.runActions(scope, updated, evaluation.changed, evaluation.recent);
  }

  private reasonData(alarm: AlarmRecord, e: Evaluation, starts: number[], now: number): string {
    return JSON.stringify({
      version: "1.0",
      queryDate: new Date(now).toISOString(),
      startDate: new Date(starts[0]).toISOString(),
      statistic: alarm.Statistic,
      extendedStatistic: alarm.ExtendedStatistic,
      period: this.periodOf(alarm),
      recentDatapoints: e.recent.map((p) => p.value),
      threshold: alarm.Threshold,
      evaluatedDatapoints: e.recent.map((p) => ({ timestamp: new Date(p.timestamp).toISOString(), value: p.value })),
    });
  }

  /**
   * Invokes the actions of the alarm's state: all of them when it just entered the state, the
   * repeating ones (Auto Scaling) at every evaluation it stays there.
   */
  async runActions(
    scope: Scope,
    alarm: AlarmRecord,
    entered: boolean,
    datapoints: { timestamp: number; value: number }[],
  ) {
    if (!alarm.ActionsEnabled) return;
    const handlers = this.d.actions();
    for (const arn of alarm[STATE_ACTIONS[alarm.StateValue]] ?? []) {
      const handler = handlers.find((h) => h.matches(arn));
      if (!entered && !handler?.repeats) continue;
      let summary: string;
      try {
        if (!handler) throw new Error(`Berth has no target for ${arn.split(":")[2] ?? "this"} actions`);
        const message = await handler.invoke(arn, { scope, alarm, datapoints });
        summary = `Successfully executed action ${arn}`;
        this.d.cw.record(scope, {
          AlarmName: alarm.AlarmName,
          HistoryItemType: "Action",
          HistorySummary: summary,
          HistoryData: JSON.stringify({
            actionState: "Succeeded",
            notificationResource: arn,
            stateUpdateTimestamp: alarm.StateUpdatedTimestamp,
            message,
          }),
        });
      } catch (err) {
        summary = `Failed to execute action ${arn}. Received error: "${(err as Error).message}"`;
        this.d.cw.record(scope, {
          AlarmName: alarm.AlarmName,
          HistoryItemType: "Action",
          HistorySummary: summary,
          HistoryData: JSON.stringify({
            actionState: "Failed",
            notificationResource: arn,
            error: (err as Error).message,
          }),
        });
      }
    }
  }
}
