import { randomBytes } from "node:crypto";
import { type Server, type Socket, connect, createServer } from "node:net";
import {
  CRLF2,
  ChunkedScanner,
  HttpError,
  MAX_HEAD,
  REASONS,
  type RequestHead,
  type ScannedResponse,
  elbErrorBody,
  hostOnly,
  headerValues,
  scanResponseHead,
  scanRequestHead,
  splitTarget,
} from "./http1.js";
import {
  type LoadBalancerCounters,
  type TargetGroupCounters,
  countElbStatus,
  countTargetStatus,
  recordResponseTime,
} from "./metrics.js";
import { type CompiledRule, type RequestView, selectAction } from "./rules.js";
import { pickWeighted } from "./select.js";
import type { TargetGroupRuntime, TargetRuntime } from "./target-group.js";

/**
 * The ALB data plane: an HTTP/1.1 reverse proxy on raw sockets. It parses only message heads,
 * forwards body bytes unchanged, keeps client connections alive and reuses idle connections to
 * targets, so a request costs two small parses and two writes.
 */

/** Per load balancer settings and counters, shared by its listeners. */
export interface LbRuntime {
  arn: string;
  idleTimeoutMs: number;
  xffMode: "append" | "preserve" | "remove";
  xffClientPort: boolean;
  counters: LoadBalancerCounters;
}

export interface ForwardGroup {
  tg: TargetGroupRuntime;
  counters: TargetGroupCounters;
}

export type RouteAction =
  | {
      kind: "forward";
      groups: ForwardGroup[];
      weights: number[];
      /** Smooth weighted round robin state, one per group. */
      current: number[];
      /** Forward-action target group stickiness (AWSALBTG cookie), seconds; 0 = off. */
      groupStickySeconds: number;
    }
  | {
      kind: "redirect";
      status: 301 | 302;
      protocol: string;
      host: string;
      port: string;
      path: string;
      query: string;
    }
  | { kind: "fixed"; status: number; contentType?: string; body: Buffer };

export interface Routing {
  /** In priority order. */
  rules: CompiledRule<RouteAction>[];
  fallback: RouteAction;
}

/** How long to wait for a TCP connection to a target before answering 504 (ALB: 10 s). */
const CONNECT_TIMEOUT_MS = 10_000;
/** The (shared, never written) body of a request without one. */
const NO_PARTS: Buffer[] = [];
/** Requests whose head and body fit in this many bytes can be retried once on a fresh connection. */
const REPLAY_LIMIT = 64 * 1024;

// Caches (not state): the Date header changes once a second; trace ids are a random prefix and a counter.
let dateSecond = -1;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
const tracePrefix = randomBytes(6).toString("hex");
let traceCounter = 0;
let traceSecond = -1;
let traceEpoch = "";
function traceId(): string {
  traceCounter = (traceCounter + 1) % 0x1000000000000;
  const s = Math.floor(Date.now() / 1000);
  if (s !== traceSecond) {
    traceSecond = s;
    traceEpoch = `Root=1-${s.toString(16)}-${tracePrefix}`;
  }
  return traceEpoch + traceCounter.toString(16).padStart(12, "0");
}

const STICKY_COOKIE = "AWSALB";
const GROUP_COOKIE = "AWSALBTG";

function cookieValue(head: RequestHead, name: string): string | undefined {
  for (const value of headerValues(head, "cookie")) {
    for (const part of value.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

const encodeSticky = (key: string) => Buffer.from(key).toString("base64url");
const decodeSticky = (value: string) => {
  try {
    return Buffer.from(value, "base64url").toString();
  } catch {
    return "";
  }
};

/**
 * Idle timeouts are enforced by a sweep over connections rather than per-socket timers, which
 * Node would re-arm on every read and write: the sweep runs this often (or at a quarter of the
 * idle timeout when that is shorter).
 */
const SWEEP_MS = 1000;

/** One listening socket of an Application Load Balancer. */
export class HttpListener {
  private readonly server: Server;
  readonly conns = new Set<ClientConn>();
  /** Connections to targets this listener opened (idle ones sit in their target's pool). */
  readonly upstreams = new Set<Upstream>();
  /** The X-Forwarded-Proto/Port lines every forwarded request gets. */
  readonly forwardedSuffix: string;
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    public routing: Routing,
    public lb: LbRuntime,
    readonly port: number,
  ) {
    this.forwardedSuffix = `X-Forwarded-Proto: http\r\nX-Forwarded-Port: ${port}\r\n`;
    this.server = createServer({ noDelay: true }, (socket) => {
      const conn = new ClientConn(this, socket);
      this.conns.add(conn);
    });
  }

  /** Closes what has been idle longer than the load balancer's idle timeout; answers 504 for targets that went silent. */
  sweep(now = Date.now()) {
    const idle = this.lb.idleTimeoutMs;
    for (const c of this.conns) c.sweep(now, idle);
    for (const u of this.upstreams) if (!u.ex && now - u.lastActive >= idle) u.destroy();
  }

  private armSweep() {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    const every = Math.max(50, Math.min(SWEEP_MS, Math.floor(this.lb.idleTimeoutMs / 4)));
    this.sweepTimer = setTimeout(() => {
      this.sweep();
      this.armSweep();
    }, every);
    this.sweepTimer.unref();
  }

  listen(address: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen({ host: address, port: this.port, exclusive: true, backlog: 1024 }, () => {
        this.server.off("error", onError);
        this.armSweep();
        resolve();
      });
    });
  }

  /** Stops listening and closes every client connection and every connection it opened to targets. */
  close(): Promise<void> {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.conns) c.socket.destroy();
      for (const u of this.upstreams) u.destroy();
    });
  }
}

/** A connection to a target, pooled between requests. */
class Upstream {
  ex: Exchange | null = null;
  broken = false;
  /** When it last received bytes or went back to the pool (ms). */
  lastActive = Date.now();

  constructor(
    readonly socket: Socket,
    readonly target: TargetRuntime,
    owner: HttpListener,
  ) {
    owner.upstreams.add(this);
    // In the target's set for its whole life (idle or busy): draining's end and removal close it.
    target.active.add(this);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.lastActive = Date.now();
      if (this.ex) this.ex.upstreamData(chunk);
      else this.destroy(); // a target talking out of turn cannot be reused
    });
    socket.on("error", () => {
      this.broken = true;
    });
    socket.on("close", () => {
      this.broken = true;
      owner.upstreams.delete(this);
      const i = this.target.idle.indexOf(this);
      if (i >= 0) this.target.idle.splice(i, 1);
      this.target.active.delete(this);
      if (this.ex) this.ex.upstreamClosed();
    });
  }

  park() {
    this.ex = null;
    this.lastActive = Date.now();
    this.target.idle.push(this);
  }

  destroy() {
    this.broken = true;
    this.socket.destroy();
  }
}

/** A client connection: parses requests one at a time and runs an Exchange for each. */
class ClientConn {
  buf: Buffer | null = null;
  private scanFrom = 0;
  ex: Exchange | null = null;
  closed = false;
  /** A WebSocket (or other Upgrade) tunnel replaced HTTP on this connection. */
  tunnel: Upstream | null = null;
  private parsing = false;
  /** When the client last sent bytes or an exchange ended (ms). */
  lastActive = Date.now();

  constructor(
    readonly listener: HttpListener,
    readonly socket: Socket,
  ) {
    const c = listener.lb.counters;
    c.newConnectionCount++;
    c.activeConnectionCount++;
    socket.on("data", (chunk: Buffer) => this.data(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      c.activeConnectionCount--;
      listener.conns.delete(this);
      if (this.ex) this.ex.clientClosed();
      if (this.tunnel) this.tunnel.destroy();
    });
  }

  /** Idle timeout: closes an idle connection (or tunnel); a silent target gets its exchange a 504. */
  sweep(now: number, idleMs: number) {
    if (this.ex) this.ex.sweep(now, idleMs);
    else if (this.tunnel) {
      if (now - Math.max(this.lastActive, this.tunnel.lastActive) >= idleMs) this.socket.destroy();
    } else if (now - this.lastActive >= idleMs) this.socket.destroy();
  }

  private data(chunk: Buffer) {
    this.lastActive = Date.now();
    this.listener.lb.counters.processedBytes += chunk.length;
    if (this.tunnel) {
      this.tunnel.socket.write(chunk);
      return;
    }
    const ex = this.ex;
    if (ex?.bodyOpen) {
      ex.clientBody(chunk);
      return;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!ex) this.next();
    else if (this.buf.length > MAX_HEAD) this.socket.pause(); // pipelined requests wait their turn
  }

  /** Parses and starts the next buffered request, if there is a whole head. */
  next() {
    if (this.parsing) return; // an exchange finished synchronously inside the loop below; it carries on
    this.parsing = true;
    try {
      this.parseLoop();
    } finally {
      this.parsing = false;
    }
  }

  private parseLoop() {
    while (this.buf && !this.ex && !this.closed) {
      const buf = this.buf;
      const end = buf.indexOf(CRLF2, this.scanFrom);
      if (end < 0) {
        if (buf.length > MAX_HEAD) this.reject(400);
        else this.scanFrom = Math.max(0, buf.length - 3);
        return;
      }
      this.scanFrom = 0;
      let start = 0;
      while (start < end && (buf[start] === 13 || buf[start] === 10)) start++; // stray CRLF between requests
      this.buf = end + 4 < buf.length ? buf.subarray(end + 4) : null;
      let head: RequestHead;
      try {
        head = scanRequestHead(buf, start, end);
      } catch (e) {
        this.reject(e instanceof HttpError ? e.status : 400);
        return;
      }
      const ex = new Exchange(this, head);
      this.ex = ex;
      ex.start();
    }
  }

  /** A request we cannot parse: answer and close. */
  private reject(status: number) {
    this.buf = null;
    const lb = this.listener.lb.counters;
    lb.requestCount++;
    countElbStatus(lb, status);
    writeElbResponse(this.socket, status, { close: true, body: true });
    this.closed = true;
    this.socket.end();
  }

  /** The current exchange finished. */
  done(keepAlive: boolean) {
    this.ex = null;
    this.lastActive = Date.now();
    if (!keepAlive || this.closed) {
      this.closed = true;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf) this.next();
  }
}

enum Res {
  Head,
  Body,
  Done,
}

/** One request/response exchange on a client connection. */
class Exchange {
  /** More request body bytes are expected from the client. */
  bodyOpen = false;
  private bodyRemaining = 0;
  private scanner: ChunkedScanner | null = null;
  private pending: Buffer[] | null = null;
  private replay: Buffer[] | null = null;
  private replayBytes = 0;
  private discard = false;
  /** The response is complete but the request body is still arriving (discarded). */
  private finishWhenBodyDone = false;
  private keepAliveAfter = true;

  private target: TargetRuntime | null = null;
  private group: ForwardGroup | null = null;
  private upstream: Upstream | null = null;
  private headOut: Buffer | null = null;
  private attempts = 0;
  private connecting: Socket | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private sentAt = 0;
  private sentAtMs = 0;
  private setCookies = "";

  private res = Res.Head;
  private resBuf: Buffer | null = null;
  private resHead: ScannedResponse | null = null;
  private resRemaining = 0;
  private resScanner: ChunkedScanner | null = null;
  private gotResponseBytes = false;
  private headPending: { src: Buffer; head: ScannedResponse; extra: string } | null = null;
  private finished = false;

  constructor(
    private readonly conn: ClientConn,
    readonly head: RequestHead,
  ) {}

  start() {
    const head = this.head;
    const f = head.framing;
    if (f.kind === "length") {
      this.bodyOpen = true;
      this.bodyRemaining = f.length;
    } else if (f.kind === "chunked") {
      this.bodyOpen = true;
      this.scanner = new ChunkedScanner();
    }
    const listener = this.conn.listener;
    const routing = listener.routing;
    const action =
      routing.rules.length === 0 ? routing.fallback : selectAction(routing.rules, this.view(), routing.fallback);
    if (action.kind === "forward") this.forward(action);
    else {
      this.discard = true;
      if (action.kind === "fixed") this.fixed(action);
      else this.redirect(action);
    }
    // Body bytes that arrived with the head.
    const rest = this.conn.buf;
    if (rest && this.bodyOpen) {
      this.conn.buf = null;
      this.clientBody(rest);
    }
  }

  private view(): RequestView {
    const head = this.head;
    const { path, query } = splitTarget(head.target);
    const socket = this.conn.socket;
    return {
      method: head.method,
      path,
      query,
      host: hostOnly(head.host),
      header: (name) => headerValues(head, name),
      sourceIp: socket.remoteAddress ?? "",
    };
  }

  // ---- request body -------------------------------------------------------------------------

  /** Body bytes from the client: forwards (or discards) the body part, keeps what follows for the next request. */
  clientBody(chunk: Buffer) {
    let part = chunk;
    let leftover: Buffer | null = null;
    if (this.scanner) {
      let end: number;
      try {
        end = this.scanner.scan(chunk);
      } catch {
        this.bodyOpen = false;
        this.abortBoth();
        return;
      }
      if (end >= 0) {
        this.bodyOpen = false;
        if (end < chunk.length) {
          part = chunk.subarray(0, end);
          leftover = chunk.subarray(end);
        }
      }
    } else {
      if (chunk.length >= this.bodyRemaining) {
        if (chunk.length > this.bodyRemaining) {
          part = chunk.subarray(0, this.bodyRemaining);
          leftover = chunk.subarray(this.bodyRemaining);
        }
        this.bodyRemaining = 0;
        this.bodyOpen = false;
      } else this.bodyRemaining -= chunk.length;
    }
    if (leftover) this.conn.buf = this.conn.buf ? Buffer.concat([this.conn.buf, leftover]) : leftover;
    if (!this.discard) this.sendBody(part);
    if (!this.bodyOpen && this.finishWhenBodyDone) this.complete();
  }

  private sendBody(part: Buffer) {
    if (this.replay) {
      this.replayBytes += part.length;
      if (this.replayBytes > REPLAY_LIMIT) this.replay = null;
      else this.replay.push(part);
    }
    const up = this.upstream;
    if (up) {
      if (!up.socket.write(part)) {
        const client = this.conn.socket;
        client.pause();
        up.socket.once("drain", () => client.resume());
      }
    } else {
      this.pending ??= [];
      this.pending.push(part);
    }
  }

  // ---- actions ------------------------------------------------------------------------------

  private forward(action: Extract<RouteAction, { kind: "forward" }>) {
    const now = Date.now();
    let gi = -1;
    if (action.groups.length === 1) gi = action.weights[0] > 0 ? 0 : -1;
    else {
      if (action.groupStickySeconds > 0) {
        const v = cookieValue(this.head, GROUP_COOKIE);
        if (v) {
          const arn = decodeSticky(v);
          const i = action.groups.findIndex((g) => g.tg.arn === arn);
          if (i >= 0 && action.weights[i] > 0) gi = i;
        }
      }
      if (gi < 0) gi = pickWeighted(action.weights, action.current);
      if (gi >= 0 && action.groupStickySeconds > 0)
        this.setCookies += `Set-Cookie: ${GROUP_COOKIE}=${encodeSticky(action.groups[gi].tg.arn)}; Expires=${new Date(now + action.groupStickySeconds * 1000).toUTCString()}; Path=/\r\n`;
    }
    if (gi < 0) return this.elb(503);
    const group = action.groups[gi];
    const tg = group.tg;
    let target: TargetRuntime | undefined;
    const sticky = tg.spec.stickiness;
    if (sticky.enabled) {
      const v = cookieValue(this.head, STICKY_COOKIE);
      if (v) {
        const key = decodeSticky(v);
        const t = tg.targets.get(key);
        if (t && tg.eligible.includes(t)) target = t;
      }
    }
    target ??= tg.pick(now);
    if (!target) return this.elb(503);
    if (sticky.enabled)
      this.setCookies += `Set-Cookie: ${STICKY_COOKIE}=${encodeSticky(target.key)}; Expires=${new Date(now + sticky.durationSeconds * 1000).toUTCString()}; Path=/\r\n`;
    this.group = group;
    this.target = target;
    target.inflight++;
    group.counters.requestCount++;
    this.headOut = this.forwardHead();
    // Requests whose body can be kept (none, or a Content-Length) can be retried; chunked ones stream.
    const kind = this.head.framing.kind;
    this.replay = kind === "none" ? NO_PARTS : kind === "length" ? [] : null;
    this.dispatch();
  }

  /**
   * The request head as sent to the target: the request line as HTTP/1.1, the client's header
   * lines minus hop-by-hop and X-Forwarded-* ones (copied as bytes), then X-Forwarded-For/Proto/
   * Port, Host when an HTTP/1.0 client sent none, and a trace id when the client sent none.
   */
  private forwardHead(): Buffer {
    const head = this.head;
    const listener = this.conn.listener;
    const lb = listener.lb;
    const socket = this.conn.socket;
    let xff = lb.xffMode === "remove" ? "" : head.xff;
    if (lb.xffMode === "append") {
      const client = lb.xffClientPort ? `${socket.remoteAddress}:${socket.remotePort}` : `${socket.remoteAddress}`;
      xff = xff ? `${xff}, ${client}` : client;
    }
    let extra = xff ? `X-Forwarded-For: ${xff}\r\n${listener.forwardedSuffix}` : listener.forwardedSuffix;
    if (!head.host) extra += `Host: ${socket.localAddress}:${listener.port}\r\n`;
    if (!head.trace) extra += `X-Amzn-Trace-Id: ${traceId()}\r\n`;
    extra += "\r\n";
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

  private dispatch() {
    const target = this.target!;
    this.attempts++;
    let up = target.idle.pop() as Upstream | undefined;
    while (up && (up.broken || up.socket.destroyed)) up = target.idle.pop() as Upstream | undefined;
    if (up) return this.attach(up, true);
    if (!target.address) return this.fail(502);
    const socket = connect({ host: target.address, port: target.port });
    this.connecting = socket;
    target.active.add(socket);
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      this.connecting = null;
      target.active.delete(socket);
      socket.destroy();
      this.group!.counters.targetConnectionErrorCount++;
      this.fail(504);
    }, CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.connecting = null;
      target.active.delete(socket);
      socket.removeAllListeners("error");
      if (this.finished || target.removed) {
        socket.destroy();
        return;
      }
      this.attach(new Upstream(socket, target, this.conn.listener), false);
    });
    socket.once("error", () => {
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.connecting = null;
      target.active.delete(socket);
      if (this.finished) return;
      this.group!.counters.targetConnectionErrorCount++;
      this.fail(502);
    });
  }

  private reused = false;

  private attach(up: Upstream, reused: boolean) {
    this.upstream = up;
    this.reused = reused;
    up.ex = this;
    const body = this.attempts > 1 ? this.replay : this.pending;
    this.pending = null;
    writeMessage(up.socket, this.headOut!, body);
    this.sentAt = performance.now();
    this.sentAtMs = Date.now();
  }

  // ---- response -----------------------------------------------------------------------------

  upstreamData(chunk: Buffer) {
    this.gotResponseBytes = true;
    const client = this.conn.socket;
    if (this.conn.tunnel) {
      client.write(chunk);
      return;
    }
    this.upstreamBytes(chunk);
    if (this.headPending) this.flushHead(null);
  }

  private upstreamBytes(chunk: Buffer) {
    let data: Buffer | null = chunk;
    while (data && this.res === Res.Head) {
      const buf: Buffer = this.resBuf ? Buffer.concat([this.resBuf, data]) : data;
      data = null;
      const end = buf.indexOf(CRLF2);
      if (end < 0) {
        if (buf.length > MAX_HEAD) return this.fail(502);
        this.resBuf = buf;
        return;
      }
      this.resBuf = null;
      let head: ScannedResponse;
      try {
        head = scanResponseHead(buf, end, this.head.method);
      } catch {
        return this.fail(502);
      }
      const rest = end + 4 < buf.length ? buf.subarray(end + 4) : null;
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        this.conn.socket.write(buf.subarray(0, end + 4)); // interim response (100 Continue): pass it on
        data = rest;
        continue;
      }
      this.respond(head, buf);
      if (head.status === 101) {
        this.startTunnel(rest);
        return;
      }
      data = rest;
    }
    if (data && this.res === Res.Body) this.responseBody(data);
    else if (data && this.res === Res.Done) this.upstream?.destroy(); // bytes after the response: not reusable
  }

  private respond(head: ScannedResponse, src: Buffer) {
    this.resHead = head;
    const rt = (performance.now() - this.sentAt) / 1000;
    const lb = this.conn.listener.lb.counters;
    lb.requestCount++;
    const counters = this.group!.counters;
    countTargetStatus(counters, head.status);
    recordResponseTime(counters, rt);
    const closeClient = this.head.close || head.framing.kind === "close";
    if (closeClient) this.keepAliveAfter = false;
    const tunnel = head.status === 101;
    let extra = this.setCookies;
    if (!tunnel) {
      if (closeClient) extra += "Connection: close\r\n";
      else if (this.head.minor === 0) extra += "Connection: keep-alive\r\n";
    }
    this.headPending = { src, head, extra }; // written together with the first body bytes
    const f = head.framing;
    if (f.kind === "none") this.res = Res.Done;
    else {
      this.res = Res.Body;
      if (f.kind === "length") this.resRemaining = f.length;
      else if (f.kind === "chunked") this.resScanner = new ChunkedScanner();
    }
    if (this.res === Res.Done && !tunnel) this.complete();
  }

  private responseBody(chunk: Buffer) {
    const f = this.resHead!.framing;
    let part = chunk;
    if (f.kind === "length") {
      if (chunk.length >= this.resRemaining) {
        if (chunk.length > this.resRemaining) {
          part = chunk.subarray(0, this.resRemaining);
          this.upstream!.broken = true; // the target sent more than it announced
        }
        this.resRemaining = 0;
        this.res = Res.Done;
      } else this.resRemaining -= chunk.length;
    } else if (f.kind === "chunked") {
      let end: number;
      try {
        end = this.resScanner!.scan(chunk);
      } catch {
        return this.abortBoth();
      }
      if (end >= 0) {
        this.res = Res.Done;
        if (end < chunk.length) {
          part = chunk.subarray(0, end);
          this.upstream!.broken = true;
        }
      }
    }
    const client = this.conn.socket;
    if (!this.flushHead(part) && this.res !== Res.Done) {
      const up = this.upstream!.socket;
      up.pause();
      client.once("drain", () => up.resume());
    }
    if (this.res === Res.Done) this.complete();
  }

  /**
   * Writes the pending response head (status line as HTTP/1.1, the target's header lines minus
   * hop-by-hop ones, then ours) with `body`, in one write when small. Returns write()'s result.
   */
  private flushHead(body: Buffer | null): boolean {
    const pending = this.headPending;
    this.headPending = null;
    const client = this.conn.socket;
    if (pending === null) return body ? client.write(body) : true;
    const { src, head, extra } = pending;
    const r = head.ranges;
    let size = 9 + (head.reasonEnd - 9) + 2 + extra.length + 2;
    for (let i = 0; i < r.length; i += 2) size += r[i + 1] - r[i];
    const bodyLen = body ? body.length : 0;
    const together = body !== null && size + bodyLen <= COALESCE_LIMIT;
    const out = Buffer.allocUnsafe(together ? size + bodyLen : size);
    let at = out.write("HTTP/1.1 ", 0, "latin1");
    at += src.copy(out, at, 9, head.reasonEnd); // "200 OK"
    out[at++] = 13;
    out[at++] = 10;
    for (let i = 0; i < r.length; i += 2) at += src.copy(out, at, r[i], r[i + 1]);
    if (extra) at += out.write(extra, at, "latin1");
    out[at++] = 13;
    out[at++] = 10;
    if (together) {
      body!.copy(out, at);
      return client.write(out);
    }
    if (!body) return client.write(out);
    client.cork();
    client.write(out);
    const ok = client.write(body);
    client.uncork();
    return ok;
  }

  private startTunnel(rest: Buffer | null) {
    const up = this.upstream!;
    this.conn.tunnel = up;
    this.target!.inflight--;
    this.finished = true;
    this.flushHead(rest);
    const buffered = this.conn.buf;
    this.conn.buf = null;
    if (buffered) up.socket.write(buffered);
    up.socket.once("close", () => this.conn.socket.destroy());
  }

  /** The response is complete (and so, normally, is the request). */
  private complete() {
    if (this.finished) return;
    if (this.headPending) this.flushHead(null);
    if (this.bodyOpen) {
      // The target answered before the client finished sending: discard the rest, then carry on.
      this.discard = true;
      this.finishWhenBodyDone = true;
      if (this.upstream) {
        this.releaseUpstream(false);
      }
      return;
    }
    this.finished = true;
    if (this.target) this.target.inflight--;
    if (this.upstream) this.releaseUpstream(!this.resHead?.close);
    this.conn.done(this.keepAliveAfter);
  }

  private releaseUpstream(reusable: boolean) {
    const up = this.upstream!;
    this.upstream = null;
    const target = this.target!;
    if (reusable && !up.broken && !target.draining && !target.removed && this.res === Res.Done) up.park();
    else {
      up.ex = null;
      up.destroy();
    }
  }

  /** Called by the idle sweep: a target that sent nothing for the idle timeout gets a 504 (or the exchange is cut). */
  sweep(now: number, idleMs: number) {
    const up = this.upstream;
    if (!up || this.finished) return;
    const since = this.res === Res.Head ? Math.max(this.sentAtMs, up.lastActive) : up.lastActive;
    if (now - since >= idleMs) this.upstreamTimeout();
  }

  upstreamTimeout() {
    if (this.res === Res.Head) {
      this.upstream?.destroy();
      this.fail(504);
    } else this.abortBoth();
  }

  upstreamClosed() {
    const up = this.upstream;
    if (!up || this.finished) return;
    this.upstream = null;
    if (this.res === Res.Head) {
      // A pooled connection the target had closed: retry once on a new one if the request can be replayed.
      if (this.reused && !this.gotResponseBytes && this.attempts === 1 && this.replay && !this.bodyOpen) {
        this.dispatch();
        return;
      }
      this.fail(502);
      return;
    }
    if (this.res === Res.Body && this.resHead?.framing.kind === "close") {
      this.res = Res.Done;
      this.keepAliveAfter = false;
      this.complete();
      return;
    }
    this.abortBoth();
  }

  clientClosed() {
    if (this.finished) return;
    this.finished = true;
    if (this.target) this.target.inflight--;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connecting?.destroy();
    const up = this.upstream;
    this.upstream = null;
    if (up) {
      up.ex = null;
      up.destroy();
    }
  }

  /** Something broke mid-response: close both sides. */
  private abortBoth() {
    if (this.finished) return;
    this.finished = true;
    if (this.target) this.target.inflight--;
    const up = this.upstream;
    this.upstream = null;
    if (up) {
      up.ex = null;
      up.destroy();
    }
    this.conn.closed = true;
    this.conn.socket.destroy();
  }

  /** The target could not give a response: 502 or 504 from the load balancer, if nothing was sent yet. */
  private fail(status: 502 | 504) {
    if (this.finished) return;
    if (this.res !== Res.Head) return this.abortBoth();
    const up = this.upstream;
    this.upstream = null;
    if (up) {
      up.ex = null;
      up.destroy();
    }
    if (this.target) {
      this.target.inflight--;
      this.target = null;
    }
    this.elb(status);
  }

  // ---- responses from the load balancer itself ------------------------------------------------

  private elb(status: number) {
    this.discard = true;
    this.pending = null;
    this.sendElb(status, { body: true });
  }

  private fixed(action: Extract<RouteAction, { kind: "fixed" }>) {
    this.sendElb(action.status, {
      contentType: action.contentType ?? "text/plain; charset=utf-8",
      payload: action.body,
    });
  }

  private redirect(a: Extract<RouteAction, { kind: "redirect" }>) {
    const { path, query } = splitTarget(this.head.target);
    const host = hostOnly(this.head.host);
    const port = String(this.conn.listener.port);
    const sub = (s: string) =>
      s
        .replaceAll("#{protocol}", "http")
        .replaceAll("#{host}", host)
        .replaceAll("#{port}", port)
        .replaceAll("#{path}", path.slice(1))
        .replaceAll("#{query}", query);
    const protocol = a.protocol === "#{protocol}" ? "http" : a.protocol.toLowerCase();
    const q = sub(a.query);
    const location = `${protocol}://${sub(a.host)}:${sub(a.port)}${sub(a.path)}${q ? `?${q}` : ""}`;
    this.sendElb(a.status, { location, body: true });
  }

  private sendElb(status: number, opts: { contentType?: string; payload?: Buffer; location?: string; body?: boolean }) {
    const lb = this.conn.listener.lb.counters;
    lb.requestCount++;
    countElbStatus(lb, status);
    const close = this.head.close || (this.bodyOpen && this.head.framing.kind !== "length");
    if (close) this.keepAliveAfter = false;
    writeElbResponse(this.conn.socket, status, {
      ...opts,
      close,
      head: this.head.method === "HEAD",
      extra: this.setCookies,
    });
    this.res = Res.Done;
    this.complete();
  }
}

/** Writes a response the load balancer generates (errors, redirects, fixed responses), as ALB formats them. */
function writeElbResponse(
  socket: Socket,
  status: number,
  opts: {
    contentType?: string;
    payload?: Buffer;
    location?: string;
    body?: boolean;
    close?: boolean;
    head?: boolean;
    extra?: string;
  },
) {
  const payload = opts.payload ?? (opts.body ? Buffer.from(elbErrorBody(status)) : Buffer.alloc(0));
  let out = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\nServer: awselb/2.0\r\nDate: ${httpDate()}\r\n`;
  out += `Content-Type: ${opts.contentType ?? "text/html"}\r\nContent-Length: ${payload.length}\r\n`;
  if (opts.location) out += `Location: ${opts.location}\r\n`;
  if (opts.extra) out += opts.extra;
  out += `Connection: ${opts.close ? "close" : "keep-alive"}\r\n\r\n`;
  writeMessage(socket, out, opts.head || payload.length === 0 ? null : [payload]);
}

/** Bodies up to this size are copied into the head's buffer so a small message costs one write. */
const COALESCE_LIMIT = 16 * 1024;

/** Writes a message head (latin1 text or bytes) and body parts, in one write() when they are small. */
function writeMessage(socket: Socket, head: string | Buffer, body: Buffer[] | null): boolean {
  if (!body || body.length === 0) return typeof head === "string" ? socket.write(head, "latin1") : socket.write(head);
  let size = head.length;
  for (const b of body) size += b.length;
  if (size <= COALESCE_LIMIT) {
    const out = Buffer.allocUnsafe(size);
    let at = typeof head === "string" ? out.write(head, 0, "latin1") : head.copy(out, 0);
    for (const b of body) at += b.copy(out, at);
    return socket.write(out);
  }
  socket.cork();
  if (typeof head === "string") socket.write(head, "latin1");
  else socket.write(head);
  let ok = true;
  for (const b of body) ok = socket.write(b);
  socket.uncork();
  return ok;
}
