import type { Clock } from "../../core/clock.js";
import { type Scope, arn, uuid } from "../../core/ids.js";
import type { AlarmHistoryItem, MetricAlarm, Tag } from "../../protocol/generated/types/cloudwatch.js";
import type { Collection, DocumentStore } from "../documents.js";

export const ALARM_KIND = "cloudwatch.alarm";
export const ALARM_HISTORY_KIND = "cloudwatch.alarmHistory";

/** A metric alarm as stored: the MetricAlarm shape plus tags and evaluation bookkeeping. */
export interface AlarmRecord extends MetricAlarm {
  AlarmName: string;
  AlarmArn: string;
  StateValue: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  EvaluationPeriods: number;
  ComparisonOperator: NonNullable<MetricAlarm["ComparisonOperator"]>;
  ActionsEnabled: boolean;
  AlarmActions: string[];
  OKActions: string[];
  InsufficientDataActions: string[];
  Tags: Tag[];
  /** Start of the newest period the last evaluation looked at (epoch ms). */
  lastWindowEnd?: number;
}

export interface AlarmHistoryRecord extends AlarmHistoryItem {
  id: string;
  AlarmName: string;
  Timestamp: Date;
}

/** History is kept 30 days, as CloudWatch keeps it, and at most this many items per alarm. */
export const HISTORY_RETENTION_MS = 30 * 24 * 3600 * 1000;
export const HISTORY_MAX_PER_ALARM = 1000;

/** The alarm records the CloudWatch operations and the alarm controller share (metrics live in metrics/). */
export class CloudWatchState {
  readonly alarms: Collection<AlarmRecord>;
  readonly history: Collection<AlarmHistoryRecord>;
  private seq = 0;

  constructor(
    readonly store: DocumentStore,
    readonly clock: Clock,
  ) {
    this.alarms = store.collection<AlarmRecord>(ALARM_KIND, { id: (a) => a.AlarmName, arn: (a) => a.AlarmArn });
    this.history = store.collection<AlarmHistoryRecord>(ALARM_HISTORY_KIND, {
      id: (h) => h.id,
      parent: (h) => h.AlarmName,
    });
  }

  alarmArn(scope: Scope, name: string) {
    return arn("cloudwatch", scope, `alarm:${name}`);
  }

  /** Appends a history item (ids sort by time), trimming the alarm's oldest items past the cap. */
  record(scope: Scope, item: Omit<AlarmHistoryRecord, "id" | "Timestamp" | "AlarmType"> & { Timestamp?: Date }) {
    const at = item.Timestamp ?? this.clock.now();
    this.seq = (this.seq + 1) % 1_000_000;
    const id = `${item.AlarmName}/${String(at.getTime()).padStart(15, "0")}-${String(this.seq).padStart(6, "0")}-${uuid().slice(0, 8)}`;
    this.history.put(scope, { ...item, id, Timestamp: at, AlarmType: "MetricAlarm" });
    const all = this.history.children(scope, item.AlarmName);
    for (const old of all.slice(0, Math.max(0, all.length - HISTORY_MAX_PER_ALARM))) this.history.delete(scope, old.id);
  }

  /** Deletes history older than the retention. */
  sweepHistory() {
    const cutoff = this.clock.now().getTime() - HISTORY_RETENTION_MS;
    for (const { scope, doc } of this.history.listAll())
      if (doc.Timestamp.getTime() < cutoff) this.history.delete(scope, doc.id);
  }
}

/** Records a state change (history item, new state) and returns the updated alarm. */
export function changeState(
  cw: CloudWatchState,
  scope: Scope,
  alarm: AlarmRecord,
  state: AlarmRecord["StateValue"],
  reason: string,
  reasonData: string | undefined,
  extra: Partial<AlarmRecord> = {},
): AlarmRecord {
  const now = cw.clock.now();
  const updated: AlarmRecord = {
    ...alarm,
    ...extra,
    StateValue: state,
    StateReason: reason,
    StateReasonData: reasonData,
    StateUpdatedTimestamp: now,
    StateTransitionedTimestamp: state !== alarm.StateValue ? now : alarm.StateTransitionedTimestamp,
  };
  cw.alarms.put(scope, updated);
  if (state !== alarm.StateValue)
    cw.record(scope, {
      AlarmName: alarm.AlarmName,
      HistoryItemType: "StateUpdate",
      HistorySummary: `Alarm updated from ${alarm.StateValue} to ${state}`,
      HistoryData: JSON.stringify({
        version: "1.0",
        oldState: { stateValue: alarm.StateValue, stateReason: alarm.StateReason },
        newState: {
          stateValue: state,
          stateReason: reason,
          stateReasonData: reasonData ? (JSON.parse(reasonData) as unknown) : undefined,
        },
      }),
    });
  return updated;
}
