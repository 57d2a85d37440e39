import type { FixedAction } from "./routing.js";

/**
 * The responses the load balancer writes itself (its errors, redirects and fixed responses), as
 * ALB formats them: Server "awselb/2.0", a Date, Content-Type and Content-Length, then Location,
 * the Set-Cookie lines, and an explicit Connection. Pure.
 */

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

export interface ElbResponseOptions {
  contentType?: string;
  /** The body as given (fixed-response); otherwise `body` asks for the HTML error body. */
  payload?: Buffer;
  location?: string;
  body?: boolean;
  close?: boolean;
  /** The request was HEAD: Content-Length as for GET, no body bytes. */
  head?: boolean;
  /** Lines (each with its CRLF) to add before Connection: the Set-Cookie lines. */
  extra?: string;
}

/** A response of the load balancer: its head (latin1 text) and the body bytes to send after it, if any. */
export function elbResponse(
  status: number,
  opts: ElbResponseOptions,
  date: string,
): { head: string; body: Buffer | null } {
  const payload = opts.payload ?? (opts.body ? Buffer.from(elbErrorBody(status)) : Buffer.alloc(0));
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\nServer: awselb/2.0\r\nDate: ${date}\r\n`;
  head += `Content-Type: ${opts.contentType ?? "text/html"}\r\nContent-Length: ${payload.length}\r\n`;
  if (opts.location) head += `Location: ${opts.location}\r\n`;
  if (opts.extra) head += opts.extra;
  head += `Connection: ${opts.close ? "close" : "keep-alive"}\r\n\r\n`;
  return { head, body: opts.head || payload.length === 0 ? null : payload };
}

/** What a fixed-response action answers (its Content-Type defaults to plain UTF-8 text). */
export const fixedResponseOptions = (action: FixedAction): ElbResponseOptions => ({
  contentType: action.contentType ?? "text/plain; charset=utf-8",
  payload: action.body,
});

/**
 * Whether the load balancer must close the client connection after answering itself: the client
 * asked to, or a request body is still arriving that cannot be skipped by its length (chunked).
 */
export const elbClosesConnection = (request: { close: boolean; framing: { kind: string } }, bodyOpen: boolean) =>
  request.close || (bodyOpen && request.framing.kind !== "length");

/** The Date header's value (RFC 9110 IMF-fixdate); cached, since it changes once a second. */
export class HttpDate {
  private second = -1;
  private text = "";

  at(nowMs: number): string {
    const s = Math.floor(nowMs / 1000);
    if (s !== this.second) {
      this.second = s;
      this.text = new Date(nowMs).toUTCString();
    }
    return this.text;
  }
}
