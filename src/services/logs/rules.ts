import { logsErrors } from "../../protocol/generated/errors/logs.js";
import type { InputLogEvent, RejectedLogEventsInfo } from "../../protocol/generated/types/logs.js";

/** CloudWatch Logs rules and limits as pure functions: names, retention, PutLogEvents batches. */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const MAX_BATCH_BYTES = 1_048_576;
export const EVENT_OVERHEAD_BYTES = 26;
export const MAX_BATCH_SPAN = 24 * HOUR;
export const MAX_FUTURE = 2 * HOUR;
export const MAX_AGE = 14 * DAY;
/** GetLogEvents and FilterLogEvents return at most this many bytes (messages + 26 per event). */
export const MAX_RESPONSE_BYTES = 1_048_576;

const invalid = logsErrors.InvalidParameterException;

const validation = (value: string, member: string, constraint: string) =>
  invalid(`1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`);

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]+$/;
const STREAM_NAME = /^[^:*]*$/;
const TAG_KEY = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$/u;
const TAG_VALUE = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;

/**
 * For names that do not arrive as a request member of their own (the part of an ARN, the awslogs
 * driver's options): the protocol layer checks members against the model's patterns.
 */
export function checkGroupName(name: string, member = "logGroupName"): string {
  if (!GROUP_NAME.test(name))
    throw validation(
      name,
      member,
      "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ (letters, digits, and . - _ / #)",
    );
  return name;
}

export function checkStreamName(name: string, member = "logStreamName"): string {
  if (!STREAM_NAME.test(name))
    throw validation(name, member, "Member must satisfy regular expression pattern: [^:*]* (no ':' or '*')");
  return name;
}

export function checkRetention(days: number): number {
  if (!(RETENTION_DAYS as readonly number[]).includes(days))
    throw validation(
      String(days),
      "retentionInDays",
      `Member must satisfy enum value set: [${RETENTION_DAYS.join(", ")}]`,
    );
  return days;
}

export function checkTags(tags: Record<string, string>, member = "tags"): Record<string, string> {
  for (const [k, v] of Object.entries(tags)) {
    if (!TAG_KEY.test(k))
      throw validation(
        k,
        `${member}.key`,
        "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$",
      );
    if (k.startsWith("aws:")) throw invalid(`Tag keys starting with 'aws:' are reserved for AWS use: ${k}`);
    if (!TAG_VALUE.test(v))
      throw validation(
        v,
        `${member}.${k}`,
        "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$",
      );
  }
  return tags;
}

/** UTF-8 size of a batch as PutLogEvents counts it. */
export function batchBytes(events: { message: string }[]): number {
  let n = 0;
  for (const e of events) n += Buffer.byteLength(e.message, "utf8") + EVENT_OVERHEAD_BYTES;
  return n;
}

export interface BatchVerdict {
  /** Indexes [start, end) of the events to store; the rest were rejected. */
  start: number;
  end: number;
  rejected?: RejectedLogEventsInfo;
}

/**
 * Judges a PutLogEvents batch the way CloudWatch Logs does. Whole-batch problems (size, order,
 * a span over 24 hours) throw InvalidParameterException and store nothing. Events older than 14
 * days or than the group's retention, or more than 2 hours in the future, are rejected one by
 * one and reported in rejectedLogEventsInfo (tooOld/expired end indexes are exclusive, the
 * tooNew start index inclusive); the others are stored.
 */
export function judgeBatch(events: InputLogEvent[], now: number, retentionInDays?: number): BatchVerdict {
  const bytes = batchBytes(events);
  if (bytes > MAX_BATCH_BYTES)
    throw invalid(
      `Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES} (message bytes plus ${EVENT_OVERHEAD_BYTES} per event). Split the events into smaller batches.`,
    );
  for (let i = 1; i < events.length; i++)
    if (events[i].timestamp < events[i - 1].timestamp)
      throw invalid(
        `Log events in a single PutLogEvents request must be in chronological order: event ${i} (timestamp ${events[i].timestamp}) is older than event ${i - 1} (timestamp ${events[i - 1].timestamp}). Sort the events by timestamp.`,
      );
  if (events.length > 0 && events[events.length - 1].timestamp - events[0].timestamp > MAX_BATCH_SPAN)
    throw invalid(
      "The batch of log events in a single PutLogEvents request cannot span more than 24 hours. Split it into batches that each cover at most 24 hours.",
    );
  const tooOldBefore = now - MAX_AGE;
  const expiredBefore = retentionInDays ? now - retentionInDays * DAY : undefined;
  const tooNewAfter = now + MAX_FUTURE;
  let tooOldEnd = 0;
  let expiredEnd = 0;
  let tooNewStart = events.length;
  for (let i = 0; i < events.length; i++) {
    const t = events[i].timestamp;
    if (t < tooOldBefore) tooOldEnd = i + 1;
    if (expiredBefore !== undefined && t < expiredBefore) expiredEnd = i + 1;
    if (t > tooNewAfter && tooNewStart === events.length) tooNewStart = i;
  }
  const rejected: RejectedLogEventsInfo = {};
  if (tooOldEnd > 0) rejected.tooOldLogEventEndIndex = tooOldEnd;
  if (expiredEnd > 0) rejected.expiredLogEventEndIndex = expiredEnd;
  if (tooNewStart < events.length) rejected.tooNewLogEventStartIndex = tooNewStart;
  const start = Math.max(tooOldEnd, expiredEnd);
  return {
    start,
    end: Math.max(start, tooNewStart),
    rejected: Object.keys(rejected).length > 0 ? rejected : undefined,
  };
}
