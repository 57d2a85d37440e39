import { randomBytes } from "node:crypto";
import type { RequestHead, ScannedResponse } from "./http1.js";

/**
 * The message heads the ALB passes on, pure: a request head as the target gets it and a response
 * head as the client gets it. Both copy the scanned header lines as bytes (hop-by-hop ones were
 * left out by the scanner) and add the load balancer's own lines.
 */

/** The X-Forwarded-Proto/Port lines every request forwarded by a listener on `port` gets. */
export const forwardedSuffix = (port: number) => `X-Forwarded-Proto: http\r\nX-Forwarded-Port: ${port}\r\n`;

/** What the load balancer adds to a request, besides the client's own lines. */
export interface ForwardContext {
  xffMode: "append" | "preserve" | "remove";
  /** routing.http.xff_client_port.enabled: append the client's port too. */
  xffClientPort: boolean;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Host for an HTTP/1.0 request that sent none: the listener's address and port. */
  localAddress: string | undefined;
  listenerPort: number;
  /** forwardedSuffix(listenerPort), built once per listener. */
  suffix: string;
  /** A fresh X-Amzn-Trace-Id value, asked only when the client sent none. */
  traceId: () => string;
}

/** The lines the load balancer adds to a forwarded request, ending with the blank line. */
export function forwardedLines(head: RequestHead, ctx: ForwardContext): string {
  let xff = ctx.xffMode === "remove" ? "" : head.xff;
  if (ctx.xffMode === "append") {
    const client = ctx.xffClientPort ? `${ctx.remoteAddress}:${ctx.remotePort}` : `${ctx.remoteAddress}`;
    xff = xff ? `${xff}, ${client}` : client;
  }
  let extra = xff ? `X-Forwarded-For: ${xff}\r\n${ctx.suffix}` : ctx.suffix;
  if (!head.host) extra += `Host: ${ctx.localAddress}:${ctx.listenerPort}\r\n`;
  if (!head.trace) extra += `X-Amzn-Trace-Id: ${ctx.traceId()}\r\n`;
  return `${extra}\r\n`;
}

/**
 * The request head as sent to the target: the request line as HTTP/1.1, the client's header
 * lines minus hop-by-hop and X-Forwarded-* ones (copied as bytes), then `extra` (forwardedLines).
 */
export function forwardRequestHead(head: RequestHead, extra: string): Buffer {
  const { buf, forward } = head;
  const line = head.method.length + 1 + head.target.length; // "METHOD TARGET", as sent
  let size = line + 11 + extra.length;
  for (let i = 0; i < forward.length; i += 2) size += forward[i + 1] - forward[i];
  const out = Buffer.allocUnsafe(size);
  let at = buf.copy(out, 0, head.start, head.start + line);
  at += out.write(" HTTP/1.1\r\n", at, "latin1");
  for (let i = 0; i < forward.length; i += 2) at += buf.copy(out, at, forward[i], forward[i + 1]);
  out.write(extra, at, "latin1");
  return out;
}

/**
 * The lines the load balancer adds to a target's response (after the Set-Cookie lines): whether
 * the client connection stays open, said explicitly when it closes or the client speaks HTTP/1.0.
 * A 101 (Upgrade) response keeps the target's own Connection line.
 */
export function responseConnectionLine(closeClient: boolean, tunnel: boolean, clientMinor: number): string {
  if (tunnel) return "";
  if (closeClient) return "Connection: close\r\n";
  return clientMinor === 0 ? "Connection: keep-alive\r\n" : "";
}

/**
 * The response head as the client gets it: the status line as HTTP/1.1 with the target's code
 * and reason, the target's header lines minus hop-by-hop ones (copied from `src`), `extra`, the
 * blank line; followed by `body` in the same buffer when the whole fits in `coalesceLimit` bytes.
 */
export function clientResponseHead(
  src: Buffer,
  head: ScannedResponse,
  extra: string,
  body: Buffer | null,
  coalesceLimit: number,
): { bytes: Buffer; withBody: boolean } {
  const r = head.ranges;
  let size = 9 + (head.reasonEnd - 9) + 2 + extra.length + 2;
  for (let i = 0; i < r.length; i += 2) size += r[i + 1] - r[i];
  const bodyLen = body ? body.length : 0;
  const withBody = body !== null && size + bodyLen <= coalesceLimit;
  const out = Buffer.allocUnsafe(withBody ? size + bodyLen : size);
  let at = out.write("HTTP/1.1 ", 0, "latin1");
  at += src.copy(out, at, 9, head.reasonEnd); // "200 OK"
  out[at++] = 13;
  out[at++] = 10;
  for (let i = 0; i < r.length; i += 2) at += src.copy(out, at, r[i], r[i + 1]);
  if (extra) at += out.write(extra, at, "latin1");
  out[at++] = 13;
  out[at++] = 10;
  if (withBody) body!.copy(out, at);
  return { bytes: out, withBody };
}

/**
 * X-Amzn-Trace-Id values as ALB writes them, "Root=1-{epoch seconds, 8 hex}-{24 hex}": a random
 * per-process prefix and a counter, so ids are unique without a random draw per request. The
 * epoch part is rebuilt once a second.
 */
export class TraceIds {
  private counter = 0;
  private second = -1;
  private epoch = "";

  constructor(private readonly prefix = randomBytes(6).toString("hex")) {}

  next(nowMs: number): string {
    this.counter = (this.counter + 1) % 0x1000000000000;
    const s = Math.floor(nowMs / 1000);
    if (s !== this.second) {
      this.second = s;
      this.epoch = `Root=1-${s.toString(16)}-${this.prefix}`;
    }
    return this.epoch + this.counter.toString(16).padStart(12, "0");
  }
}
