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

export interface ResponseHead extends MessageHead {
  status: number;
  reason: string;
  minor: number;
  /** The server will close the connection after this response. */
  close: boolean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\s]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

function parseFields(lines: string[], head: MessageHead) {
  let contentLength = -1;
  let chunked = false;
  let te = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HttpError(400, "malformed header line");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpError(400, "invalid header name");
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
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

/** Parses a response head; `method` is the request's (HEAD responses have no body). */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const lines = text.split("\r\n");
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) throw new HttpError(502, "malformed status line");
  const status = Number(m[2]);
  const head: ResponseHead = {
    status,
    reason: m[3] ?? "",
    minor: m[1] === "1" ? 1 : 0,
    names: [],
    lower: [],
    values: [],
    connection: [],
    framing: { kind: "none" },
    close: false,
  };
  let fields: { contentLength: number; chunked: boolean };
  try {
    fields = parseFields(lines, head);
  } catch (e) {
    throw new HttpError(502, (e as Error).message);
  }
  const bodiless = method === "HEAD" || status < 200 || status === 204 || status === 304;
  head.framing = bodiless
    ? { kind: "none" }
    : fields.chunked
      ? { kind: "chunked" }
      : fields.contentLength >= 0
        ? fields.contentLength === 0
          ? { kind: "none" }
          : { kind: "length", length: fields.contentLength }
        : { kind: "close" };
  head.close =
    head.framing.kind === "close" ||
    (head.minor === 0 ? !head.connection.includes("keep-alive") : head.connection.includes("close"));
  return head;
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
