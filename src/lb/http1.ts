/**
 * HTTP/1.1 message heads and body framing for the ALB proxy, pure. The proxy forwards body
 * bytes unchanged; it only needs to know where each message ends (RFC 9112 §6).
 */

export const CRLF2 = Buffer.from("\r\n\r\n");
/** ALB's limit on a request's header block. */
export const MAX_HEAD = 64 * 1024;

export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  /** Response bodies without length or chunking end when the server closes. */
  | { kind: "close" };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A request head scanned in place. Like responses, requests are never split into strings header by
 * header: the proxy copies `forward` (byte ranges of the header lines to pass on) and adds its own.
 */
export interface RequestHead {
  /** The bytes the head was scanned from; the head is buf[start, end), `end` where CRLFCRLF starts. */
  buf: Buffer;
  start: number;
  end: number;
  method: string;
  target: string;
  /** HTTP/1.x minor version: 0 or 1. */
  minor: number;
  /** The Host header as sent, trimmed ("" when absent). */
  host: string;
  framing: Framing;
  /** The client wants the connection closed after this exchange. */
  close: boolean;
  /** An Upgrade request (e.g. WebSocket): Connection and Upgrade are forwarded. */
  upgrade: boolean;
  /** [start, end) pairs of header lines to forward, each with its CRLF: all but hop-by-hop and X-Forwarded-*. */
  forward: number[];
  /** The X-Forwarded-For values sent, joined with ", " ("" when none). */
  xff: string;
  /** An X-Amzn-Trace-Id was sent (it is forwarded as is). */
  trace: boolean;
}

/** RFC 9110 token characters, for header names and methods. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN[c.charCodeAt(0)] = 1;

const trimmed = (buf: Buffer, from: number, to: number) => {
  let a = from;
  let b = to;
  while (a < b && (buf[a] === 32 || buf[a] === 9)) a++;
  while (b > a && (buf[b - 1] === 32 || buf[b - 1] === 9)) b--;
  return buf.toString("latin1", a, b);
};

/** Comma-separated tokens of a header value, lowercase. */
const tokens = (buf: Buffer, from: number, to: number) =>
  buf
    .toString("latin1", from, to)
    .toLowerCase()
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);

const bad400 = (why: string) => new HttpError(400, why);

/**
 * Scans a request head in buf[start, end) (`end` is where the blank line's CRLFCRLF starts).
 * Throws HttpError(400) for requests ALB would refuse: malformed lines, bad header names,
 * ambiguous framing (both Content-Length and Transfer-Encoding, conflicting lengths), a missing
 * or repeated Host on HTTP/1.1.
 */
export function scanRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  // Request line: METHOD SP TARGET SP HTTP/1.x
  let i = start;
  while (i < end && TOKEN[buf[i]]) i++;
  if (i === start || buf[i] !== 32) throw bad400("malformed request line");
  const method = buf.toString("latin1", start, i);
  const targetStart = ++i;
  while (i < end && buf[i] > 32 && buf[i] !== 127) i++;
  if (i === targetStart || buf[i] !== 32) throw bad400("malformed request line");
  const target = buf.toString("latin1", targetStart, i);
  i++;
  if (
    i + 8 > end ||
    buf[i] !== 72 ||
    buf[i + 1] !== 84 ||
    buf[i + 2] !== 84 ||
    buf[i + 3] !== 80 ||
    buf[i + 4] !== 47 ||
    buf[i + 5] !== 49 ||
    buf[i + 6] !== 46 ||
    (buf[i + 7] !== 48 && buf[i + 7] !== 49) ||
    (i + 8 < end && (buf[i + 8] !== 13 || buf[i + 9] !== 10))
  )
    throw bad400("malformed request line");
  const minor = buf[i + 7] - 48;
  let pos = i + 10; // past CRLF
  const forward: number[] = [];
  let host: string | undefined;
  let contentLength = -1;
  let chunked = false;
  let te = false;
  let connection: string[] = [];
  let upgradeHeader = false;
  let xff = "";
  let trace = false;
  /** Lines kept only if this is an upgrade request (Connection, Upgrade). */
  const upgradeLines: number[] = [];
  while (pos < end) {
    let colon = pos;
    while (colon < end && TOKEN[buf[colon]]) colon++;
    if (colon === pos || buf[colon] !== 58) throw bad400("malformed header line");
    const lineEnd = headerLineEnd(buf, colon, end, bad400);
    const len = colon - pos;
    let keep = true;
    switch (len) {
      case 2:
        if (nameIs(buf, pos, len, TE)) keep = false;
        break;
      case 4:
        if (nameIs(buf, pos, len, HOST)) {
          if (host !== undefined) throw bad400("more than one Host header");
          host = trimmed(buf, colon + 1, lineEnd);
        }
        break;
      case 7:
        if (nameIs(buf, pos, len, TRAILER)) keep = false;
        else if (nameIs(buf, pos, len, UPGRADE)) {
          keep = false;
          upgradeHeader = true;
          upgradeLines.push(pos, lineEnd + 2);
        }
        break;
      case 10:
        if (nameIs(buf, pos, len, CONNECTION)) {
          keep = false;
          connection = connection.concat(tokens(buf, colon + 1, lineEnd));
          upgradeLines.push(pos, lineEnd + 2);
        } else if (nameIs(buf, pos, len, KEEP_ALIVE)) keep = false;
        break;
      case 14:
        if (nameIs(buf, pos, len, CONTENT_LENGTH)) {
          const v = trimmed(buf, colon + 1, lineEnd);
          if (!/^\d{1,15}$/.test(v)) throw bad400("invalid Content-Length");
          const n = Number(v);
          if (contentLength >= 0 && contentLength !== n) throw bad400("conflicting Content-Length");
          contentLength = n;
        }
        break;
      case 15:
        if (nameIs(buf, pos, len, X_FORWARDED_FOR)) {
          keep = false;
          const v = trimmed(buf, colon + 1, lineEnd);
          if (v) xff = xff ? `${xff}, ${v}` : v;
        } else if (nameIs(buf, pos, len, X_AMZN_TRACE_ID)) trace = true;
        break;
      case 16:
        if (nameIs(buf, pos, len, PROXY_CONNECTION) || nameIs(buf, pos, len, X_FORWARDED_PORT)) keep = false;
        break;
      case 17:
        if (nameIs(buf, pos, len, TRANSFER_ENCODING)) {
          te = true;
          const codings = tokens(buf, colon + 1, lineEnd);
          chunked = codings[codings.length - 1] === "chunked";
          if (!chunked) throw bad400("unsupported Transfer-Encoding");
        } else if (nameIs(buf, pos, len, X_FORWARDED_PROTO)) keep = false;
        break;
    }
    if (keep) {
      if (forward.length > 0 && forward[forward.length - 1] === pos) forward[forward.length - 1] = lineEnd + 2;
      else forward.push(pos, lineEnd + 2);
    }
    pos = lineEnd + 2;
  }
  if (te && contentLength >= 0) throw bad400("both Transfer-Encoding and Content-Length");
  if (minor === 1 && host === undefined) throw bad400("missing Host header");
  const upgrade = upgradeHeader && connection.includes("upgrade");
  const head: RequestHead = {
    buf,
    start,
    end,
    method,
    target,
    minor,
    host: host ?? "",
    framing: chunked ? { kind: "chunked" } : contentLength > 0 ? { kind: "length", length: contentLength } : NO_BODY,
    close: minor === 0 ? !connection.includes("keep-alive") : connection.includes("close"),
    upgrade,
    forward,
    xff,
    trace,
  };
  if (upgrade) {
    // Keep Connection and Upgrade, in their places.
    const all = [...splitRanges(buf, forward), ...splitRanges(buf, upgradeLines)].sort((x, y) => x[0] - y[0]);
    head.forward = all.flat();
  }
  const extra = connection.filter((t) => t !== "close" && t !== "keep-alive" && t !== "upgrade");
  // Connection names more hop-by-hop headers (rare): drop those lines too.
  if (extra.length) head.forward = withoutNamedLines(buf, head.forward, new Set(extra));
  return head;
}

/**
 * Where the header line whose name ends at `colon` ends (its CR, or `end`). Throws `fail(why)`
 * for a bare LF or NUL, which could make the next hop read the head differently, or a bare CR.
 */
function headerLineEnd(buf: Buffer, colon: number, end: number, fail: (why: string) => HttpError): number {
  let lineEnd = colon;
  while (lineEnd < end && buf[lineEnd] !== 13) {
    if (buf[lineEnd] === 10 || buf[lineEnd] === 0) throw fail("invalid character in a header line");
    lineEnd++;
  }
  if (lineEnd < end && buf[lineEnd + 1] !== 10) throw fail("bare CR in a header line");
  return lineEnd;
}

/** Header line ranges minus the lines whose (lowercase) name is in `names`, one range per line. */
function withoutNamedLines(buf: Buffer, ranges: number[], names: Set<string>): number[] {
  return splitRanges(buf, ranges)
    .filter(([a]) => !names.has(buf.toString("latin1", a, buf.indexOf(58, a)).toLowerCase()))
    .flat();
}

/** Ranges that may hold several lines → one [start, end) per line. */
function splitRanges(buf: Buffer, ranges: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    let from = ranges[i];
    for (let j = from; j < ranges[i + 1]; j++)
      if (buf[j] === 10) {
        out.push([from, j + 1]);
        from = j + 1;
      }
  }
  return out;
}

/** Every value of a header in a scanned request (name lowercase), in order, trimmed. */
export function headerValues(head: RequestHead, name: string): string[] {
  const { buf, end } = head;
  const out: string[] = [];
  let pos = buf.indexOf(10, head.start) + 1;
  while (pos > 0 && pos < end) {
    let colon = pos;
    while (colon < end && buf[colon] !== 58) colon++;
    let lineEnd = colon;
    while (lineEnd < end && buf[lineEnd] !== 13) lineEnd++;
    if (colon - pos === name.length && buf.toString("latin1", pos, colon).toLowerCase() === name)
      out.push(trimmed(buf, colon + 1, lineEnd));
    pos = lineEnd + 2;
  }
  return out;
}

const NO_BODY: Framing = { kind: "none" };
const NAME = (s: string) => Buffer.from(s, "latin1");
const CONTENT_LENGTH = NAME("content-length");
const TRANSFER_ENCODING = NAME("transfer-encoding");
const CONNECTION = NAME("connection");
const KEEP_ALIVE = NAME("keep-alive");
const PROXY_CONNECTION = NAME("proxy-connection");
const HOST = NAME("host");
const X_FORWARDED_FOR = NAME("x-forwarded-for");
const X_FORWARDED_PROTO = NAME("x-forwarded-proto");
const X_FORWARDED_PORT = NAME("x-forwarded-port");
const X_AMZN_TRACE_ID = NAME("x-amzn-trace-id");
const TE = NAME("te");
const TRAILER = NAME("trailer");
const UPGRADE = NAME("upgrade");

/** Whether buf[at, at + name.length) equals `name` (lowercase ASCII) ignoring case. */
function nameIs(buf: Buffer, at: number, len: number, name: Buffer): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) if ((buf[at + i] | 0x20) !== name[i]) return false;
  return true;
}

const bad = (why: string) => new HttpError(502, why);

/**
 * A response head scanned in place: what the proxy needs to forward it. The head is never turned
 * into strings header by header; `ranges` are the byte ranges of the header lines to pass on
 * (each with its CRLF), so forwarding is a copy of those ranges.
 */
export interface ScannedResponse {
  status: number;
  minor: number;
  framing: Framing;
  /** The server will close the connection after this response. */
  close: boolean;
  /** Byte range of the status line's reason phrase (after "HTTP/1.x NNN"), to keep it. */
  reasonStart: number;
  reasonEnd: number;
  /** [start, end) pairs of header lines to forward: all but hop-by-hop ones. */
  ranges: number[];
}

/**
 * Scans a response head in `buf` ending at `end` (where the blank line's CRLFCRLF starts);
 * `method` is the request's (HEAD responses have no body). Throws HttpError(502) when malformed.
 */
export function scanResponseHead(buf: Buffer, end: number, method: string): ScannedResponse {
  // Plain loops, not Buffer#indexOf: each native call costs more than scanning a short line.
  let statusEnd = 0;
  while (statusEnd < end && buf[statusEnd] !== 13) statusEnd++;
  // "HTTP/1.x NNN[ reason]"
  if (
    statusEnd < 12 ||
    buf[0] !== 72 ||
    buf[1] !== 84 ||
    buf[2] !== 84 ||
    buf[3] !== 80 ||
    buf[4] !== 47 ||
    buf[5] !== 49 ||
    buf[6] !== 46 ||
    (buf[7] !== 48 && buf[7] !== 49) ||
    buf[8] !== 32
  )
    throw bad("malformed status line");
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) throw bad("malformed status code");
    status = status * 10 + d;
  }
  if (statusEnd > 12 && buf[12] !== 32) throw bad("malformed status line");
  if (statusEnd < end && buf[statusEnd + 1] !== 10) throw bad("malformed status line");
  const minor = buf[7] - 48;
  const tunnel = status === 101;
  const ranges: number[] = [];
  let contentLength = -1;
  let chunked = false;
  let te = false;
  let closeToken = false;
  let keepAliveToken = false;
  let extraHop: string[] | null = null;
  let pos = statusEnd + 2;
  while (pos < end) {
    const first = buf[pos];
    if (first === 32 || first === 9) throw bad("folded header line");
    let colon = pos;
    while (colon < end && buf[colon] !== 58 && buf[colon] !== 13) colon++;
    if (colon === pos || buf[colon] !== 58) throw bad("malformed header line");
    const lineEnd = headerLineEnd(buf, colon, end, bad);
    const len = colon - pos;
    if (buf[colon - 1] === 32 || buf[colon - 1] === 9) throw bad("whitespace before a colon");
    let keep = true;
    switch (len) {
      case 2:
        if (nameIs(buf, pos, len, TE)) keep = false;
        break;
      case 7:
        if (nameIs(buf, pos, len, TRAILER)) keep = false;
        else if (nameIs(buf, pos, len, UPGRADE)) keep = tunnel;
        break;
      case 10:
        if (nameIs(buf, pos, len, CONNECTION)) {
          keep = tunnel;
          for (const t of buf.toString("latin1", colon + 1, lineEnd).split(",")) {
            const token = t.trim().toLowerCase();
            if (token === "close") closeToken = true;
            else if (token === "keep-alive") keepAliveToken = true;
            else if (token && token !== "upgrade") {
              extraHop ??= [];
              extraHop.push(token);
            }
          }
        } else if (nameIs(buf, pos, len, KEEP_ALIVE)) keep = false;
        break;
      case 14:
        if (nameIs(buf, pos, len, CONTENT_LENGTH)) {
          let n = 0;
          let digits = 0;
          for (let i = colon + 1; i < lineEnd; i++) {
            const c = buf[i];
            if (c === 32 || c === 9) {
              if (digits > 0) {
                for (let j = i; j < lineEnd; j++)
                  if (buf[j] !== 32 && buf[j] !== 9) throw bad("invalid Content-Length");
                break;
              }
              continue;
            }
            const d = c - 48;
            if (d < 0 || d > 9 || ++digits > 15) throw bad("invalid Content-Length");
            n = n * 10 + d;
          }
          if (digits === 0) throw bad("invalid Content-Length");
          if (contentLength >= 0 && contentLength !== n) throw bad("conflicting Content-Length");
          contentLength = n;
        }
        break;
      case 16:
        if (nameIs(buf, pos, len, PROXY_CONNECTION)) keep = false;
        break;
      case 17:
        if (nameIs(buf, pos, len, TRANSFER_ENCODING)) {
          te = true;
          const codings = buf
            .toString("latin1", colon + 1, lineEnd)
            .toLowerCase()
            .split(",");
          chunked = codings[codings.length - 1].trim() === "chunked";
        }
        break;
    }
    if (keep) {
      // Adjacent kept lines become one range: forwarding copies as few pieces as possible.
      if (ranges.length > 0 && ranges[ranges.length - 1] === pos) ranges[ranges.length - 1] = lineEnd + 2;
      else ranges.push(pos, lineEnd + 2);
    }
    pos = lineEnd + 2;
  }
  // Connection names more hop-by-hop headers (rare): drop those lines too.
  const kept = extraHop ? withoutNamedLines(buf, ranges, new Set(extraHop)) : ranges;
  if (te && contentLength >= 0) throw bad("both Transfer-Encoding and Content-Length");
  if (te && !chunked) throw bad("unsupported Transfer-Encoding");
  const bodiless = method === "HEAD" || status < 200 || status === 204 || status === 304;
  const framing: Framing = bodiless
    ? { kind: "none" }
    : chunked
      ? { kind: "chunked" }
      : contentLength >= 0
        ? contentLength === 0
          ? NO_BODY
          : { kind: "length", length: contentLength }
        : { kind: "close" };
  const close = framing.kind === "close" || (minor === 0 ? !keepAliveToken : closeToken);
  return { status, minor, framing, close, reasonStart: 12, reasonEnd: statusEnd, ranges: kept };
}

/** The path and query of a request target ("/a/b?x=1" → ["/a/b", "x=1"]); absolute-form is reduced to its path. */
export function splitTarget(target: string): { path: string; query: string } {
  let t = target;
  if (t[0] !== "/") {
    const scheme = t.indexOf("://");
    if (scheme > 0) {
      const slash = t.indexOf("/", scheme + 3);
      t = slash < 0 ? "/" : t.slice(slash);
    }
  }
  const q = t.indexOf("?");
  const hash = t.indexOf("#");
  const end = hash < 0 ? t.length : hash;
  return q < 0 || q > end ? { path: t.slice(0, end), query: "" } : { path: t.slice(0, q), query: t.slice(q + 1, end) };
}

/** The host part of a Host header ("example.com:8080" → "example.com", "[::1]:80" → "[::1]"). */
export function hostOnly(host: string): string {
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    return close < 0 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}

enum Chunk {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerLine,
  TrailerLf,
  FinalLf,
  Done,
}

/**
 * Finds where a chunked body ends while its bytes stream through unchanged. Feed it each piece
 * of the body; `scan` returns the offset just past the body's last byte, or -1 when more is
 * needed. Throws HttpError on malformed chunking.
 */
export class ChunkedScanner {
  private state = Chunk.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;

  get done() {
    return this.state === Chunk.Done;
  }

  scan(buf: Buffer, from = 0): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case Chunk.Size: {
          const c = buf[i++];
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) {
            if (++this.digits > 12) throw new HttpError(400, "chunk size too large");
            this.size = this.size * 16 + d;
          } else if (this.digits === 0) throw new HttpError(400, "malformed chunk size");
          else if (c === 13) this.state = Chunk.SizeLf;
          else if (c === 59 || c === 32 || c === 9) this.state = Chunk.Ext;
          else throw new HttpError(400, "malformed chunk size");
          break;
        }
        case Chunk.Ext:
          if (buf[i++] === 13) this.state = Chunk.SizeLf;
          break;
        case Chunk.SizeLf:
          if (buf[i++] !== 10) throw new HttpError(400, "malformed chunk size line");
          if (this.size === 0) this.state = Chunk.TrailerStart;
          else {
            this.remaining = this.size;
            this.state = Chunk.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case Chunk.Data: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = Chunk.DataCr;
          break;
        }
        case Chunk.DataCr:
          if (buf[i++] !== 13) throw new HttpError(400, "chunk data not followed by CRLF");
          this.state = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          if (buf[i++] !== 10) throw new HttpError(400, "chunk data not followed by CRLF");
          this.state = Chunk.Size;
          break;
        case Chunk.TrailerStart:
          this.state = buf[i++] === 13 ? Chunk.FinalLf : Chunk.TrailerLine;
          break;
        case Chunk.TrailerLine:
          if (buf[i++] === 13) this.state = Chunk.TrailerLf;
          break;
        case Chunk.TrailerLf:
          if (buf[i++] !== 10) throw new HttpError(400, "malformed trailer");
          this.state = Chunk.TrailerStart;
          break;
        case Chunk.FinalLf:
          if (buf[i++] !== 10) throw new HttpError(400, "malformed end of chunked body");
          this.state = Chunk.Done;
          return i;
        case Chunk.Done:
          return i;
      }
    }
    return -1;
  }
}
