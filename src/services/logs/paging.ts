import { ServiceError } from "../../core/errors.js";
import type { Boundary } from "../../store/log-events.js";

/**
 * Pagination tokens for CloudWatch Logs: pure encoding and decoding, no I/O. Every token names a
 * position, not an offset, so a page stays correct while items are added or removed.
 */

export type SortKey = (string | number)[];

const invalidToken = () =>
  new ServiceError(
    "InvalidParameterException",
    "The specified nextToken is not valid. Pass the nextToken from the previous response unchanged, with the same other parameters.",
  );

export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === "number" && typeof y === "number") return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/**
 * One page of `items` in key order (reversed when `descending`), starting after the item the
 * token names. The token is the last returned item's key, so it stays valid across writes.
 */
export function pageByKey<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  opts: { descending?: boolean; nextToken?: string; limit: number },
): { page: T[]; nextToken?: string } {
  const sign = opts.descending ? -1 : 1;
  const sorted = [...items].sort((a, b) => sign * compareKeys(keyOf(a), keyOf(b)));
  let start = 0;
  if (opts.nextToken !== undefined) {
    const after = decodeKey(opts.nextToken);
    start = sorted.findIndex((item) => sign * compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + opts.limit);
  const more = start + page.length < sorted.length;
  return { page, nextToken: more ? encodeKey(keyOf(page[page.length - 1])) : undefined };
}

function encodeKey(key: SortKey): string {
  return Buffer.from(JSON.stringify(["k1", ...key]), "utf8").toString("base64url");
}

function decodeKey(token: string): SortKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidToken();
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== "k1" ||
    !parsed.slice(1).every((p) => typeof p === "string" || typeof p === "number")
  )
    throw invalidToken();
  return parsed.slice(1) as SortKey;
}

// ---- event positions ------------------------------------------------------------------------

const TIME_DIGITS = 20;
const SEQ_DIGITS = 36;

/**
 * A 56-digit event id, the shape AWS uses: the timestamp then the sequence number, zero-padded,
 * so ids sort like (timestamp, seq).
 */
export function eventId(e: Boundary): string {
  return String(Math.max(0, e.time)).padStart(TIME_DIGITS, "0") + String(e.seq).padStart(SEQ_DIGITS, "0");
}

function parsePosition(digits: string): Boundary | undefined {
  if (!/^\d{56}$/.test(digits)) return undefined;
  const time = Number(digits.slice(0, TIME_DIGITS));
  const seq = Number(digits.slice(TIME_DIGITS));
  if (!Number.isSafeInteger(time) || !Number.isSafeInteger(seq)) return undefined;
  return { time, seq };
}

/** The boundary just after an event (every later event lies at or above it). */
export const after = (e: { timestamp: number; seq: number }): Boundary => ({ time: e.timestamp, seq: e.seq + 1 });
/** The boundary at an event (the event itself and later ones lie at or above it). */
export const at = (e: { timestamp: number; seq: number }): Boundary => ({ time: e.timestamp, seq: e.seq });

/** GetLogEvents tokens: `f/<56 digits>` reads forward from a boundary, `b/<56 digits>` backward. */
export type StreamToken = { direction: "forward" | "backward"; boundary: Boundary };

export function encodeStreamToken(direction: "forward" | "backward", boundary: Boundary): string {
  return `${direction === "forward" ? "f" : "b"}/${eventId(boundary)}`;
}

export function decodeStreamToken(token: string): StreamToken {
  const m = /^([fb])\/(\d{56})$/.exec(token);
  const boundary = m ? parsePosition(m[2]) : undefined;
  if (!m || !boundary) throw invalidToken();
  return { direction: m[1] === "f" ? "forward" : "backward", boundary };
}

/** FilterLogEvents tokens: opaque text naming the boundary to resume from. */
export function encodeFilterToken(boundary: Boundary): string {
  return Buffer.from(`fle1:${eventId(boundary)}`, "utf8").toString("base64url");
}

export function decodeFilterToken(token: string): Boundary {
  const text = Buffer.from(token, "base64url").toString("utf8");
  const boundary = text.startsWith("fle1:") ? parsePosition(text.slice(5)) : undefined;
  if (!boundary) throw invalidToken();
  return boundary;
}
