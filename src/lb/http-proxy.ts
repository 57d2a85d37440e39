import { type Server, type Socket, connect, createServer } from "node:net";
import {
  type ElbResponseOptions,
  HttpDate,
  elbClosesConnection,
  elbResponse,
  fixedResponseOptions,
} from "./elb-responses.js";
import {
  type ForwardContext,
  TraceIds,
  clientResponseHead,
  forwardRequestHead,
  forwardedLines,
  forwardedSuffix,
  responseConnectionLine,
} from "./forward-head.js";
import {
  CRLF2,
  HttpError,
  MAX_HEAD,
  type RequestHead,
  type ScannedResponse,
  hostOnly,
  headerValues,
  scanResponseHead,
  scanRequestHead,
  splitTarget,
} from "./http1.js";
import { BodyEnd } from "./body-end.js";
import { listenExclusive } from "./listen.js";
import { countElbStatus, countTargetStatus, recordResponseTime } from "./metrics.js";
import { redirectLocation } from "./redirect.js";
import type { FixedAction, ForwardAction, ForwardGroup, LbRuntime, RedirectAction, Routing } from "./routing.js";
import { type RequestView, selectAction } from "./rules.js";
import { chooseForward } from "./stickiness.js";
import type { TargetRuntime } from "./target-group.js";

/**
 * The ALB data plane: an HTTP/1.1 reverse proxy on raw sockets. It parses only message heads,
 * forwards body bytes unchanged, keeps client connections alive and reuses idle connections to
 * targets, so a request costs two small parses and two writes. What it writes is decided by pure
 * modules beside it (stickiness.ts, forward-head.ts, redirect.ts, elb-responses.ts); this file is
 * the I/O state machine.
 */

/** How long to wait for a TCP connection to a target before answering 504 (ALB: 10 s). */
const CONNECT_TIMEOUT_MS = 10_000;
/** The (shared, never written) body of a request without one. */
const NO_PARTS: Buffer[] = [];
/** Requests whose head and body fit in this many bytes can be retried once on a fresh connection. */
const REPLAY_LIMIT = 64 * 1024;

// Caches (not state): the Date header changes once a second; trace ids are a random prefix and a counter.
const httpDate = new HttpDate();
const traceIds = new TraceIds();
const nextTraceId = () => traceIds.next(Date.now());

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
    this.forwardedSuffix = forwardedSuffix(port);
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

  async listen(address: string): Promise<void> {
    await listenExclusive(this.server, address, this.port);
    this.armSweep();
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
  /** Where the request body ends (while bodyOpen). */
  private bodyEnd: BodyEnd | null = null;
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
  /** Where the response body ends (while res is Body). */
  private resEnd: BodyEnd | null = null;
  private gotResponseBytes = false;
  private headPending: { src: Buffer; head: ScannedResponse; extra: string } | null = null;
  private finished = false;

  constructor(
    private readonly conn: ClientConn,
    readonly head: RequestHead,
  ) {}

  start() {
    const head = this.head;
    if (head.framing.kind !== "none") {
      this.bodyOpen = true;
      this.bodyEnd = new BodyEnd(head.framing);
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
    let end: number;
    try {
      end = this.bodyEnd!.find(chunk);
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

  private forward(action: ForwardAction) {
    const choice = chooseForward(action, () => headerValues(this.head, "cookie"), Date.now());
    this.setCookies = choice.setCookies;
    const { group, target } = choice;
    if (!group || !target) return this.elb(503);
    this.group = group;
    this.target = target;
    target.inflight++;
    group.counters.requestCount++;
    this.headOut = forwardRequestHead(this.head, forwardedLines(this.head, this.forwardContext()));
    // Requests whose body can be kept (none, or a Content-Length) can be retried; chunked ones stream.
    const kind = this.head.framing.kind;
    this.replay = kind === "none" ? NO_PARTS : kind === "length" ? [] : null;
    this.dispatch();
  }

  private forwardContext(): ForwardContext {
    const listener = this.conn.listener;
    const socket = this.conn.socket;
    return {
      xffMode: listener.lb.xffMode,
      xffClientPort: listener.lb.xffClientPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      localAddress: socket.localAddress,
      listenerPort: listener.port,
      suffix: listener.forwardedSuffix,
      traceId: nextTraceId,
    };
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
    const extra = this.setCookies + responseConnectionLine(closeClient, tunnel, this.head.minor);
    this.headPending = { src, head, extra }; // written together with the first body bytes
    const f = head.framing;
    if (f.kind === "none") this.res = Res.Done;
    else {
      this.res = Res.Body;
      this.resEnd = new BodyEnd(f);
    }
    if (this.res === Res.Done && !tunnel) this.complete();
  }

  private responseBody(chunk: Buffer) {
    let part = chunk;
    let end: number;
    try {
      end = this.resEnd!.find(chunk);
    } catch {
      return this.abortBoth();
    }
    if (end >= 0) {
      this.res = Res.Done;
      if (end < chunk.length) {
        part = chunk.subarray(0, end);
        this.upstream!.broken = true; // the target sent more than it announced: not reusable
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
    const { bytes: out, withBody } = clientResponseHead(pending.src, pending.head, pending.extra, body, COALESCE_LIMIT);
    if (withBody || !body) return client.write(out);
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

  private fixed(action: FixedAction) {
    this.sendElb(action.status, fixedResponseOptions(action));
  }

  private redirect(a: RedirectAction) {
    const head = this.head;
    const location = redirectLocation(a, {
      target: head.target,
      host: head.host,
      listenerPort: this.conn.listener.port,
    });
    this.sendElb(a.status, { location, body: true });
  }

  private sendElb(status: number, opts: ElbResponseOptions) {
    const lb = this.conn.listener.lb.counters;
    lb.requestCount++;
    countElbStatus(lb, status);
    const close = elbClosesConnection(this.head, this.bodyOpen);
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
function writeElbResponse(socket: Socket, status: number, opts: ElbResponseOptions) {
  const { head, body } = elbResponse(status, opts, httpDate.at(Date.now()));
  writeMessage(socket, head, body ? [body] : null);
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
