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

export interface MessageHead {
  /** Header lines as sent ("Name: value"), in order. */
  lines: string[];
  /** Header names as sent, their lowercase forms, and values (trimmed), in order. */
  names: string[];
  lower: string[];
  values: string[];
  framing: Framing;
  /** Tokens of the Connection header, lowercase. */
  connection: string[];
}

export interface RequestHead extends MessageHead {
  method: string;
  target: string;
  /** HTTP/1.x minor version: 0 or 1. */
  minor: number;
  /** The Host header as sent ("" when absent). */
  host: string;
  /** The client wants the connection closed after this exchange. */
  close: boolean;
  /** An Upgrade request (e.g. WebSocket). */
  upgrade: boolean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whether a header name is an RFC 9110 token (checked by char code: this runs for every header). */
function isToken(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Letters, digits and - are the common case; then the other token punctuation.
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45) continue;
    if (
      c === 33 ||
      (c >= 35 && c <= 39) ||
      c === 42 ||
      c === 43 ||
      c === 46 ||
      c === 94 ||
      c === 95 ||
      c === 96 ||
      c === 124 ||
      c === 126
    )
      continue;
    return false;
  }
  return name.length > 0;
}
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\s]+) HTTP\/1\.([01])$/;

function parseFields(lines: string[], head: MessageHead) {
  let contentLength = -1;
  let chunked = false;
  let te = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HttpError(400, "malformed header line");
    const name = line.slice(0, colon);
    if (!isToken(name)) throw new HttpError(400, "invalid header name");
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    head.lines.push(line);
    head.names.push(name);
    head.lower.push(lower);
    head.values.push(value);
    if (lower === "content-length") {
      if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, "invalid Content-Length");
      const n = Number(value);
      if (contentLength >= 0 && contentLength !== n) throw new HttpError(400, "conflicting Content-Length");
      contentLength = n;
    } else if (lower === "transfer-encoding") {
      te = true;
      const codings = value
        .toLowerCase()
        .split(",")
        .map((s) => s.trim());
      chunked = codings[codings.length - 1] === "chunked";
      if (!chunked) throw new HttpError(400, "unsupported Transfer-Encoding");
    } else if (lower === "connection") {
      for (const t of value.split(",")) {
        const token = t.trim().toLowerCase();
        if (token) head.connection.push(token);
      }
    }
  }
  if (te && contentLength >= 0) throw new HttpError(400, "both Transfer-Encoding and Content-Length");
  return { contentLength, chunked };
}

/** Parses a request head (the text before the blank line). Throws HttpError for bad requests. */
export function parseRequestHead(text: string): RequestHead {
  const lines = text.split("\r\n");
  const m = REQUEST_LINE.exec(lines[0]);
  if (!m) throw new HttpError(400, "malformed request line");
  const head: RequestHead = {
    method: m[1],
    target: m[2],
    minor: m[3] === "1" ? 1 : 0,
    lines: [],
    names: [],
    lower: [],
    values: [],
    connection: [],
    framing: { kind: "none" },
    host: "",
    close: false,
    upgrade: false,
  };
  const { contentLength, chunked } = parseFields(lines, head);
  head.framing = chunked
    ? { kind: "chunked" }
    : contentLength > 0
      ? { kind: "length", length: contentLength }
      : { kind: "none" };
  const hostAt = head.lower.indexOf("host");
  head.host = hostAt >= 0 ? head.values[hostAt] : "";
  if (head.minor === 1 && hostAt < 0) throw new HttpError(400, "missing Host header");
  head.close = head.minor === 0 ? !head.connection.includes("keep-alive") : head.connection.includes("close");
  head.upgrade = head.connection.includes("upgrade") && head.lower.includes("upgrade");
  return head;
}

const NO_BODY: Framing = { kind: "none" };
const NAME = (s: string) => Buffer.from(s, "latin1");
const CONTENT_LENGTH = NAME("content-length");
const TRANSFER_ENCODING = NAME("transfer-encoding");
const CONNECTION = NAME("connection");
const KEEP_ALIVE = NAME("keep-alive");
const PROXY_CONNECTION = NAME("proxy-connection");
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
    let lineEnd = colon;
    while (lineEnd < end && buf[lineEnd] !== 13) lineEnd++;
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
  if (extraHop) {
    // Connection names more hop-by-hop headers (rare): split the kept ranges into lines and drop those.
    const names = new Set(extraHop);
    const lines: number[] = [];
    for (let i = 0; i < ranges.length; i += 2) {
      let start = ranges[i];
      for (let j = start; j < ranges[i + 1]; j++)
        if (buf[j] === 10) {
          lines.push(start, j + 1);
          start = j + 1;
        }
    }
    ranges.length = 0;
    for (let i = 0; i < lines.length; i += 2) {
      const colon = buf.indexOf(58, lines[i]);
      if (!names.has(buf.toString("latin1", lines[i], colon).toLowerCase())) ranges.push(lines[i], lines[i + 1]);
    }
  }
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
  return { status, minor, framing, close, reasonStart: 12, reasonEnd: statusEnd, ranges };
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]);

/** Whether a header is hop-by-hop for this message (standard ones and those its Connection header names). */
export const isHopByHop = (lower: string, head: MessageHead) =>
  HOP_BY_HOP.has(lower) || (head.connection.length > 0 && head.connection.includes(lower));

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

/** The reason phrases ELB-generated responses use. */
export const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Payload Too Large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  460: "",
  463: "",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out",
  505: "HTTP Version Not Supported",
};

/** The HTML body ALB sends with its own error responses. */
export const elbErrorBody = (status: number) => {
  const title = `${status} ${REASONS[status] ?? ""}`.trim();
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
};
