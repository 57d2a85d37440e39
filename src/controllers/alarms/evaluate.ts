/**
 * CloudWatch alarm evaluation, pure: the datapoints of the last EvaluationPeriods periods →
 * the alarm's state, with AWS's reason text.
 */

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export type Comparison =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";

export type TreatMissingData = "breaching" | "notBreaching" | "ignore" | "missing";

export interface AlarmRule {
  periodSec: number;
  evaluationPeriods: number;
  /** M of "M out of N"; defaults to evaluationPeriods. */
  datapointsToAlarm: number;
  threshold: number;
  comparison: Comparison;
  treatMissingData: TreatMissingData;
}

/** One period of the evaluation range: its start and value, undefined when no data arrived. */
export interface EvaluatedPoint {
  timestamp: number;
  value: number | undefined;
}

export interface Evaluation {
  state: AlarmState;
  /** Whether the new state differs from the current one. */
  changed: boolean;
  reason: string;
  breaching: number;
  missing: number;
  /** The present datapoints, newest first. */
  recent: { timestamp: number; value: number }[];
}

export const COMPARISON_TEXT: Record<Comparison, string> = {
  GreaterThanOrEqualToThreshold: "greater than or equal to",
  GreaterThanThreshold: "greater than",
  LessThanThreshold: "less than",
  LessThanOrEqualToThreshold: "less than or equal to",
};

export function breaches(value: number, threshold: number, comparison: Comparison): boolean {
  switch (comparison) {
    case "GreaterThanOrEqualToThreshold":
      return value >= threshold;
    case "GreaterThanThreshold":
      return value > threshold;
    case "LessThanThreshold":
      return value < threshold;
    case "LessThanOrEqualToThreshold":
      return value <= threshold;
  }
}

const pad = (n: number) => String(n).padStart(2, "0");
/** AWS's reason-text date: dd/MM/yy HH:mm:ss in UTC. */
export const reasonDate = (ms: number) => {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};

const fmt = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));

/**
 * Evaluates "M out of N": `points` are the last N periods, oldest first. Missing periods count
 * as breaching or not breaching per treatMissingData; with `missing` and `ignore` they are left
 * out. ALARM when at least M periods breach; OK when some data is present and fewer breach;
 * with no data at all INSUFFICIENT_DATA (`missing`) or the current state (`ignore`).
 */
export function evaluateAlarm(rule: AlarmRule, points: EvaluatedPoint[], current: AlarmState): Evaluation {
  const m = Math.min(rule.datapointsToAlarm, rule.evaluationPeriods);
  const present = points.filter((p): p is { timestamp: number; value: number } => p.value !== undefined);
  const missing = points.length - present.length;
  let breaching = present.filter((p) => breaches(p.value, rule.threshold, rule.comparison)).length;
  if (rule.treatMissingData === "breaching") breaching += missing;
  const recent = [...present].reverse();
  const list = `[${recent.map((p) => `${fmt(p.value)} (${reasonDate(p.timestamp)})`).join(", ")}]`;
  const op = COMPARISON_TEXT[rule.comparison];
  const n = points.length;

  let state: AlarmState;
  let reason: string;
  if (breaching >= m) {
    state = "ALARM";
    reason =
      present.length === 0
        ? `Threshold Crossed: no datapoints were received for ${missing} period${missing === 1 ? "" : "s"} and ${missing} missing datapoint${missing === 1 ? " was" : "s were"} treated as [Breaching].`
        : `Threshold Crossed: ${breaching} out of the last ${n} datapoints ${list} ${breaching === 1 ? "was" : "were"} ${op} the threshold (${fmt(rule.threshold)}) (minimum ${m} datapoint${m === 1 ? "" : "s"} for OK -> ALARM transition).`;
  } else if (present.length === 0 && rule.treatMissingData !== "notBreaching") {
    if (rule.treatMissingData === "ignore") {
      state = current;
      reason = `Insufficient Data: ${missing} datapoint${missing === 1 ? " was" : "s were"} unknown; the state is kept (TreatMissingData ignore).`;
    } else {
      state = "INSUFFICIENT_DATA";
      reason = `Insufficient Data: ${missing} datapoint${missing === 1 ? " was" : "s were"} unknown.`;
    }
  } else {
    state = "OK";
    const notBreaching = n - breaching - (rule.treatMissingData === "notBreaching" ? 0 : missing);
    reason =
      present.length === 0
        ? `Threshold Crossed: no datapoints were received for ${missing} period${missing === 1 ? "" : "s"} and ${missing} missing datapoint${missing === 1 ? " was" : "s were"} treated as [NonBreaching].`
        : `Threshold Crossed: ${notBreaching} out of the last ${n} datapoints ${list} ${notBreaching === 1 ? "was" : "were"} not ${op} the threshold (${fmt(rule.threshold)}) (minimum 1 datapoint for ALARM -> OK transition).`;
  }
  return { state, changed: state !== current, reason, breaching, missing, recent };
}

/** The evaluation range ending at the last complete period before `nowMs - delayMs`: N period starts, oldest first. */
export function evaluationRange(periodSec: number, evaluationPeriods: number, nowMs: number, delayMs = 0): number[] {
  const step = periodSec * 1000;
  const end = Math.floor((nowMs - delayMs) / step) * step;
  return Array.from({ length: evaluationPeriods }, (_, i) => end - (evaluationPeriods - i) * step);
}
