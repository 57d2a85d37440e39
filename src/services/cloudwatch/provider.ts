import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { MetricStore } from "../../metrics/store.js";
import type { Operations } from "../../protocol/generated/types/cloudwatch.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { type AlarmWriter, alarmOperations, alarmWriter } from "./alarms.js";
import { metricOperations } from "./metrics.js";
import { type AlarmRecord, CloudWatchState } from "../../store/schema/cloudwatch.js";

export interface CloudWatchDeps {
  store: DocumentStore;
  metrics: MetricStore;
  clock: Clock;
  /** Runs an alarm's actions after SetAlarmState changed its state (the alarm controller does this). */
  onStateSet?: (scope: Scope, alarm: AlarmRecord, previous: AlarmRecord["StateValue"]) => void;
}

/**
 * CloudWatch (`monitoring`): metrics and metric alarms, served in awsJson1_0 with
 * query-compatible errors (current SDKs and CLIs) and in awsQuery (older ones).
 */
export function cloudwatchService(deps: CloudWatchDeps) {
  const state = new CloudWatchState(deps.store, deps.clock);
  const alarms: AlarmWriter = alarmWriter(state);
  let onStateSet = deps.onStateSet ?? (() => {});
  const provider: Provider<Operations> = {
    ...metricOperations(state, deps.metrics),
    ...alarmOperations(state, alarms, (scope, alarm, previous) => onStateSet(scope, alarm, previous)),
  };
  return {
    service: defineService("cloudwatch", provider, { validationCode: "InvalidParameterValue" }),
    state,
    alarms,
    /** Sets what runs after SetAlarmState (wired once the alarm controller exists). */
    setOnStateSet(fn: NonNullable<CloudWatchDeps["onStateSet"]>) {
      onStateSet = fn;
    },
  };
}
