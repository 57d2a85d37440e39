import { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Operations } from "../../protocol/generated/types/logs.js";
import type { Boundary, EventQuery, StoredLogEvent } from "../../store/log-events.js";
import type { Provider } from "../../protocol/service.js";
import { FilterPatternError, compileFilterPattern } from "./filter-pattern.js";
import {
  after,
  at,
  decodeFilterToken,
  decodeStreamToken,
  encodeFilterToken,
  encodeStreamToken,
  eventId,
} from "./paging.js";
import { EVENT_OVERHEAD_BYTES, MAX_RESPONSE_BYTES, checkGroupName, checkStreamName, judgeBatch } from "./rules.js";
import { type LogsState, type StreamDoc, sequenceToken } from "./state.js";

const DEFAULT_EVENTS_LIMIT = 10_000;
/** FilterLogEvents reads the group in chunks of this many events… */
const FILTER_CHUNK = 1_000;
/** …and returns a nextToken (possibly with few or no events) once it has scanned this many, as AWS does. */
const FILTER_SCAN_BUDGET = 100_000;

const MIN_TIME = Number.MIN_SAFE_INTEGER;
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/**
 * Stores events (already validated, in timestamp order) in a stream and updates the stream's
 * statistics, in one transaction. `upload` counts a PutLogEvents call for the sequence token.
 */
export function ingest(
  state: LogsState,
  scope: Scope,
  group: string,
  stream: string,
  events: { timestamp: number; message: string }[],
  upload: boolean,
): StreamDoc {
  const now = state.now();
  return state.store.transaction(() => {
    const s = state.requireStream(scope, group, stream);
    const stored = state.events.append(scope, group, stream, events, now);
    const next: StreamDoc = { ...s, uploads: s.uploads + (upload ? 1 : 0) };
    if (stored.length > 0) {
      const first = stored[0].timestamp;
      const last = stored[stored.length - 1].timestamp;
      next.firstEventTimestamp = Math.min(s.firstEventTimestamp ?? first, first);
      next.lastEventTimestamp = Math.max(s.lastEventTimestamp ?? last, last);
      next.lastIngestionTime = now;
    }
    if (stored.length > 0 || upload) state.streams.put(scope, next);
    return next;
  });
}

/** Keeps events while their bytes (message + 26 each) fit in one response; at least one. */
function capBytes(events: StoredLogEvent[]): StoredLogEvent[] {
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    bytes += events[i].size + EVENT_OVERHEAD_BYTES;
    if (bytes > MAX_RESPONSE_BYTES && i > 0) return events.slice(0, i);
  }
  return events;
}

/** Log events: PutLogEvents, GetLogEvents, FilterLogEvents. */
export function eventOperations(state: LogsState): Provider<Operations> {
  return {
    PutLogEvents: (input, ctx) => {
      const groupName = checkGroupName(input.logGroupName);
      const streamName = checkStreamName(input.logStreamName);
      // The sequence token is accepted and ignored, as AWS has done since January 2023.
      return state.store.transaction(() => {
        const group = state.requireGroup(ctx, groupName);
        state.requireStream(ctx, groupName, streamName);
        const verdict = judgeBatch(input.logEvents, state.now(), group.retentionInDays);
        const accepted = input.logEvents
          .slice(verdict.start, verdict.end)
          .map((e) => ({ timestamp: e.timestamp, message: e.message }));
        const s = ingest(state, ctx, groupName, streamName, accepted, true);
        return { nextSequenceToken: sequenceToken(s.uploads), rejectedLogEventsInfo: verdict.rejected };
      });
    },

    GetLogEvents: (input, ctx) => {
      const group = state.resolveGroup(ctx, input);
      const streamName = checkStreamName(input.logStreamName);
      state.requireStream(ctx, group.name, streamName);
      const limit = input.limit ?? DEFAULT_EVENTS_LIMIT;
      const base: EventQuery = {
        group: group.name,
        streams: { name: streamName },
        from: Math.max(input.startTime ?? MIN_TIME, state.retentionCutoff(group)),
        to: input.endTime ?? MAX_TIME,
        limit,
      };
      const token = input.nextToken !== undefined ? decodeStreamToken(input.nextToken) : undefined;
      const direction = token?.direction ?? (input.startFromHead ? "forward" : "backward");
      const events =
        direction === "forward"
          ? capBytes(state.events.query(ctx, { ...base, after: token?.boundary }))
          : capBytes(state.events.query(ctx, { ...base, before: token?.boundary, descending: true })).reverse();
      let forward: string;
      let backward: string;
      if (events.length > 0) {
        forward = encodeStreamToken("forward", after(events[events.length - 1]));
        backward = encodeStreamToken("backward", at(events[0]));
      } else {
        // Nothing (more) to read: the same place comes back, so callers can poll with it.
        const here: Boundary = token?.boundary ?? { time: Math.max(0, input.startTime ?? 0), seq: 0 };
        forward = encodeStreamToken("forward", here);
        backward = encodeStreamToken("backward", here);
      }
      return {
        events: events.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
        nextForwardToken: forward,
        nextBackwardToken: backward,
      };
    },

    FilterLogEvents: (input, ctx) => {
      const group = state.resolveGroup(ctx, input);
      if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined)
        throw new ServiceError(
          "InvalidParameterException",
          "logStreamNames and logStreamNamePrefix are mutually exclusive parameters: pass one of them.",
        );
      const streams: EventQuery["streams"] =
        input.logStreamNames !== undefined
          ? { names: input.logStreamNames.map((n) => checkStreamName(n, "logStreamNames")) }
          : input.logStreamNamePrefix !== undefined
            ? { prefix: input.logStreamNamePrefix }
            : undefined;
      let matches: (message: string) => boolean;
      try {
        matches = compileFilterPattern(input.filterPattern ?? "");
      } catch (e) {
        if (!(e instanceof FilterPatternError)) throw e;
        throw new ServiceError("InvalidParameterException", `Invalid filter pattern: ${e.message}.`);
      }
      const limit = input.limit ?? DEFAULT_EVENTS_LIMIT;
      const query = {
        group: group.name,
        streams,
        from: Math.max(input.startTime ?? MIN_TIME, state.retentionCutoff(group)),
        // endTime is inclusive here (GetLogEvents' is exclusive).
        to: input.endTime !== undefined ? input.endTime + 1 : MAX_TIME,
        limit: FILTER_CHUNK,
      };
      let boundary: Boundary | undefined =
        input.nextToken !== undefined ? decodeFilterToken(input.nextToken) : undefined;
      const found: StoredLogEvent[] = [];
      let bytes = 0;
      let scanned = 0;
      let more = false;
      scan: for (;;) {
        const rows = state.events.query(ctx, { ...query, after: boundary });
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i];
          if (matches(row.message)) {
            const size = row.size + EVENT_OVERHEAD_BYTES;
            if (found.length > 0 && bytes + size > MAX_RESPONSE_BYTES) {
              more = true; // resume at this event
              break scan;
            }
            found.push(row);
            bytes += size;
          }
          boundary = after(row);
          scanned++;
          if (found.length >= limit) {
            more = i < rows.length - 1 || rows.length === FILTER_CHUNK;
            break scan;
          }
        }
        if (rows.length < FILTER_CHUNK) break;
        if (scanned >= FILTER_SCAN_BUDGET) {
          more = true;
          break;
        }
      }
      return {
        events: found.map((e) => ({
          logStreamName: e.stream,
          timestamp: e.timestamp,
          message: e.message,
          ingestionTime: e.ingestionTime,
          eventId: eventId(at(e)),
        })),
        // Deprecated by AWS in 2020; always empty.
        searchedLogStreams: [],
        nextToken: more && boundary ? encodeFilterToken(boundary) : undefined,
      };
    },
  };
}
