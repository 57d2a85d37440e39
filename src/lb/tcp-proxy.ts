import { type Server, type Socket, connect, createServer } from "node:net";
import { listenExclusive } from "./listen.js";
import type { LoadBalancerCounters, TargetGroupCounters } from "./metrics.js";
import type { TargetGroupRuntime, TargetRuntime } from "./target-group.js";

/**
 * The NLB data plane: TCP pass-through. Each client connection (a flow) goes to one target
 * picked by round robin among routable targets (source_ip stickiness: by a hash of the client
 * address), and bytes are piped both ways unchanged.
 */

export interface TcpRoute {
  tg: TargetGroupRuntime;
  counters: TargetGroupCounters;
}

/** NLB's fixed idle timeout for TCP flows. */
const TCP_IDLE_MS = 350_000;
const CONNECT_TIMEOUT_MS = 10_000;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A flow: the client socket and its upstream, closed together. */
class Flow {
  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
  ) {}
  destroy() {
    this.client.destroy();
    this.upstream.destroy();
  }
}

export interface SpliceHooks {
  /** Idle timeout of the flow once connected (ms). */
  idleMs: number;
  connectTimeoutMs?: number;
  /** The upstream could not be reached (refused, unreachable, timed out). */
  onConnectError?(): void;
  /** Bytes passed either way. */
  onBytes?(n: number): void;
  /** The flow ended (called once, before both sockets are destroyed). */
  onEnd?(): void;
}

/**
 * Connects a (paused) client socket to host:port and pipes bytes both ways unchanged until either
 * side closes or the flow idles out. Returns the flow, to close it early.
 */
export function spliceTcp(client: Socket, host: string, port: number, hooks: SpliceHooks): { destroy(): void } {
  const upstream = connect({ host, port, allowHalfOpen: true });
  upstream.setNoDelay(true);
  const flow = new Flow(client, upstream);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    hooks.onEnd?.();
    flow.destroy();
  };
  const timer = setTimeout(() => {
    hooks.onConnectError?.();
    finish();
  }, hooks.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  upstream.once("connect", () => {
    clearTimeout(timer);
    client.setTimeout(hooks.idleMs, finish);
    const onBytes = hooks.onBytes;
    if (onBytes) {
      client.on("data", (d: Buffer) => onBytes(d.length));
      upstream.on("data", (d: Buffer) => onBytes(d.length));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on("error", () => {
    if (upstream.connecting) hooks.onConnectError?.();
    clearTimeout(timer);
    finish();
  });
  upstream.on("close", finish);
  client.on("close", finish);
  return flow;
}

export class TcpListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    public route: TcpRoute | null,
    public counters: LoadBalancerCounters,
    readonly port: number,
  ) {
    this.server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (client) =>
      this.accept(client),
    );
  }

  listen(address: string): Promise<void> {
    return listenExclusive(this.server, address, this.port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private pick(client: Socket): TargetRuntime | undefined {
    const route = this.route;
    if (!route) return undefined;
    const tg = route.tg;
    if (tg.spec.stickiness.enabled) {
      const list = tg.eligible;
      return list.length ? list[hash(client.remoteAddress ?? "") % list.length] : undefined;
    }
    return tg.pick(Date.now());
  }

  private accept(client: Socket) {
    this.sockets.add(client);
    client.on("close", () => this.sockets.delete(client));
    client.on("error", () => {});
    const c = this.counters;
    c.newConnectionCount++;
    const target = this.pick(client);
    if (!target?.address) {
      client.destroy(); // no routable target: the connection is reset
      return;
    }
    const route = this.route!;
    c.activeConnectionCount++;
    target.inflight++;
    const flow = spliceTcp(client, target.address, target.port, {
      idleMs: TCP_IDLE_MS,
      onBytes: (n) => {
        c.processedBytes += n;
      },
      onConnectError: () => {
        route.counters.targetConnectionErrorCount++;
      },
      onEnd: () => {
        c.activeConnectionCount--;
        target.inflight--;
        target.active.delete(flow);
      },
    });
    target.active.add(flow);
  }
}
