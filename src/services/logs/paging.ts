import type { Boundary } from "../../store/log-events.js";
import { invalidToken } from "../../core/paginate.js";

/** CloudWatch Logs event positions and tokens (the generic list paging is core/paginate.ts). */

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
