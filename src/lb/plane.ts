import { createServer } from "node:net";
import { type CancelTimer, type TimerClock, systemClock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Action } from "../protocol/generated/types/elbv2.js";
import type { CheckTarget } from "./health-check.js";
import type { CheckResult } from "./health.js";
import { HttpListener } from "./http-proxy.js";
import { type LoadBalancerMetricsSource, MetricsRegistry, type MetricsSnapshot } from "./metrics.js";
import type { PlaneListener, PlaneSnapshot, PlaneSource } from "./model.js";
import type { LbRuntime, RouteAction, Routing } from "./routing.js";
import { compileConditions } from "./rules.js";
import { TargetGroupRuntime } from "./target-group.js";
import { TcpListener } from "./tcp-proxy.js";

export interface DataPlaneDeps {
  source: PlaneSource;
  logger: Logger;
  /** Time and timers (resync, deregistration delay, health-check intervals). Default: the system clock. */
  clock?: TimerClock;
  /** How often to reconcile even without a change (retries failed binds, ends draining). Default 5 s. */
  resyncMs?: number;
  /** Replaces the real health checks (tests). */
  healthCheck?: (t: CheckTarget) => Promise<CheckResult>;
}

interface RunningListener {
  arn: string;
  loadBalancerArn: string;
  address: string;
  port: number;
  protocol: "HTTP" | "TCP";
  server: HttpListener | TcpListener;
}

/**
 * The load balancer data plane, level-based: every reconcile reads the desired state (load
 * balancers, listeners, rules, target groups, targets) and makes the listening sockets,
 * routing tables and health checks match it. It runs after every ELBv2 change, periodically,
 * and at start, so a restarted Berth listens again on everything the store holds.
 */
export class DataPlane implements LoadBalancerMetricsSource {
  private readonly lbs = new Map<string, LbRuntime>();
  private readonly tgs = new Map<string, TargetGroupRuntime>();
  private readonly listeners = new Map<string, RunningListener>();
  /** Listener ARN → why it is not listening. */
  private readonly bindErrors = new Map<string, string>();
  readonly metrics: MetricsRegistry;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private cancelResync?: CancelTimer;
  private cancelDrain?: CancelTimer;
  private readonly clock: TimerClock;

  constructor(private readonly deps: DataPlaneDeps) {
    this.clock = deps.clock ?? systemClock;
    this.metrics = new MetricsRegistry((arn) => this.tgs.get(arn)?.counts() ?? { healthy: 0, unhealthy: 0 });
  }

  async start() {
    this.unsubscribe = this.deps.source.subscribe(() => this.schedule());
    const every = this.deps.resyncMs ?? 5000;
    const resync = () => {
      this.schedule();
      this.cancelResync = this.clock.after(every, resync);
    };
    this.cancelResync = this.clock.after(every, resync);
    await this.reconcile();
  }

  async stop() {
    this.stopped = true;
    this.unsubscribe?.();
    this.cancelResync?.();
    this.cancelDrain?.();
    if (this.running) await this.running.catch(() => undefined);
    await Promise.all([...this.listeners.values()].map((l) => l.server.close()));
    this.listeners.clear();
    for (const tg of this.tgs.values()) tg.close();
    this.tgs.clear();
  }

  snapshot(): MetricsSnapshot {
    return this.metrics.snapshot();
  }

  /** Requests in flight to a target group's targets now (App Runner scales on this); 0 for an unknown group. */
  inFlight(targetGroupArn: string): number {
    return this.tgs.get(targetGroupArn)?.inFlight() ?? 0;
  }

  /** Why listeners are not listening (listener ARN → error), for diagnostics and tests. */
  errors(): Map<string, string> {
    return new Map(this.bindErrors);
  }

  /**
   * Whether a listener could bind `address:port`: free, or already held by this plane (a
   * listener being replaced). Returns a reason when another process holds it.
   */
  async probe(address: string, port: number): Promise<string | undefined> {
    for (const l of this.listeners.values()) if (l.address === address && l.port === port) return undefined;
    return new Promise((resolve) => {
      const server = createServer();
      server.once("error", (err: NodeJS.ErrnoException) =>
        resolve(
          err.code === "EACCES"
            ? "permission denied (ports below 1024 need root or net.ipv4.ip_unprivileged_port_start)"
            : err.code === "EADDRINUSE"
              ? "the address is already in use by another process"
              : err.message,
        ),
      );
      server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
  }

  /** Runs a reconcile soon; coalesces bursts of changes. */
  schedule() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.loop());
  }

  /** Reconciles now (and again while changes keep arriving). */
  async reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop();
    return this.running;
  }

  private async loop() {
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message }, "load balancer data plane reconcile failed");
    } finally {
      this.running = null;
    }
  }

  private async pass() {
    if (this.stopped) return;
    const snap = this.deps.source.read();
    const now = this.clock.now().getTime();
    this.syncLoadBalancers(snap);
    this.syncTargetGroups(snap, now);
    await this.syncListeners(snap);
    this.markProvisioned(snap);
    this.endDraining(snap, now);
    this.metrics.retain(new Set(snap.loadBalancers.map((l) => l.arn)), new Set(snap.targetGroups.map((t) => t.arn)));
  }

  private syncLoadBalancers(snap: PlaneSnapshot) {
    const seen = new Set<string>();
    for (const spec of snap.loadBalancers) {
      seen.add(spec.arn);
      let lb = this.lbs.get(spec.arn);
      if (!lb) {
        lb = {
          arn: spec.arn,
          idleTimeoutMs: spec.idleTimeoutSeconds * 1000,
          xffMode: spec.xffMode,
          xffClientPort: spec.xffClientPort,
          counters: this.metrics.loadBalancer(spec.arn),
        };
        this.lbs.set(spec.arn, lb);
      } else {
        lb.idleTimeoutMs = spec.idleTimeoutSeconds * 1000;
        lb.xffMode = spec.xffMode;
        lb.xffClientPort = spec.xffClientPort;
      }
    }
    for (const arn of this.lbs.keys()) if (!seen.has(arn)) this.lbs.delete(arn);
  }

  private syncTargetGroups(snap: PlaneSnapshot, now: number) {
    const seen = new Set<string>();
    for (const spec of snap.targetGroups) {
      seen.add(spec.arn);
      const tg = this.tgs.get(spec.arn);
      if (tg) tg.update(spec, now);
      else {
        const created = new TargetGroupRuntime(
          { ...spec, targets: [], loadBalancerArns: [] },
          { health: (tgArn, key, health) => this.deps.source.setHealth(tgArn, key, health) },
          this.deps.healthCheck,
          this.clock,
        );
        created.update(spec, now);
        this.tgs.set(spec.arn, created);
      }
    }
    for (const [arn, tg] of this.tgs)
      if (!seen.has(arn)) {
        tg.close();
        this.tgs.delete(arn);
      }
  }

  private async syncListeners(snap: PlaneSnapshot) {
    const desired = new Map(snap.listeners.map((l) => [l.arn, l]));
    // Close what is gone or moved first, so a listener moving between ports never collides with itself.
    for (const [arn, running] of this.listeners) {
      const d = desired.get(arn);
      if (!d || d.address !== running.address || d.port !== running.port || d.protocol !== running.protocol) {
        this.listeners.delete(arn);
        await running.server.close();
      }
    }
    for (const arn of this.bindErrors.keys()) if (!desired.has(arn)) this.bindErrors.delete(arn);
    for (const spec of desired.values()) {
      const lb = this.lbs.get(spec.loadBalancerArn);
      if (!lb) continue;
      const running = this.listeners.get(spec.arn);
      if (running) {
        this.configure(running.server, spec, lb);
        continue;
      }
      const server =
        spec.protocol === "HTTP"
          ? new HttpListener(this.routing(spec), lb, spec.port)
          : new TcpListener(null, lb.counters, spec.port);
      this.configure(server, spec, lb);
      try {
        await server.listen(spec.address);
        this.listeners.set(spec.arn, {
          arn: spec.arn,
          loadBalancerArn: spec.loadBalancerArn,
          address: spec.address,
          port: spec.port,
          protocol: spec.protocol,
          server,
        });
        if (this.bindErrors.delete(spec.arn))
          this.deps.logger.info({ listener: spec.arn, address: spec.address, port: spec.port }, "listener is up");
      } catch (err) {
        const message = (err as Error).message;
        if (this.bindErrors.get(spec.arn) !== message)
          this.deps.logger.warn(
            { listener: spec.arn, address: spec.address, port: spec.port, err: message },
            "cannot listen; will retry",
          );
        this.bindErrors.set(spec.arn, message);
      }
    }
  }

  private configure(server: HttpListener | TcpListener, spec: PlaneListener, lb: LbRuntime) {
    if (server instanceof HttpListener) {
      server.routing = this.routing(spec);
      server.lb = lb;
    } else {
      server.counters = lb.counters;
      const forward = this.compileAction(spec.defaultAction, spec.loadBalancerArn);
      const group = forward.kind === "forward" ? forward.groups.find((_, i) => forward.weights[i] > 0) : undefined;
      server.route = group ?? null;
    }
  }

  private routing(spec: PlaneListener): Routing {
    return {
      rules: spec.rules.map((r) => ({
        priority: r.priority,
        match: compileConditions(r.conditions),
        action: this.compileAction(r.action, spec.loadBalancerArn),
      })),
      fallback: this.compileAction(spec.defaultAction, spec.loadBalancerArn),
    };
  }

  private compileAction(action: Action, lbArn: string): RouteAction {
    if (action.Type === "redirect") {
      const c = action.RedirectConfig!;
      return {
        kind: "redirect",
        status: c.StatusCode === "HTTP_301" ? 301 : 302,
        protocol: c.Protocol ?? "#{protocol}",
        host: c.Host ?? "#{host}",
        port: c.Port ?? "#{port}",
        path: c.Path ?? "/#{path}",
        query: c.Query ?? "#{query}",
      };
    }
    if (action.Type === "fixed-response") {
      const c = action.FixedResponseConfig!;
      return {
        kind: "fixed",
        status: Number(c.StatusCode),
        contentType: c.ContentType,
        body: Buffer.from(c.MessageBody ?? ""),
      };
    }
    const tuples = action.ForwardConfig?.TargetGroups ?? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }];
    const groups = [];
    const weights = [];
    for (const t of tuples) {
      const tg = this.tgs.get(t.TargetGroupArn ?? "");
      if (!tg) continue;
      groups.push({ tg, counters: this.metrics.targetGroup(lbArn, tg.arn) });
      weights.push(t.Weight ?? 1);
    }
    const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
    return {
      kind: "forward",
      groups,
      weights,
      current: weights.map(() => 0),
      groupStickySeconds: sticky?.Enabled ? (sticky.DurationSeconds ?? 0) : 0,
    };
  }

  private markProvisioned(snap: PlaneSnapshot) {
    for (const lb of snap.loadBalancers) {
      if (lb.provisioned) continue;
      const mine = snap.listeners.filter((l) => l.loadBalancerArn === lb.arn);
      if (mine.every((l) => this.listeners.has(l.arn))) this.deps.source.markProvisioned(lb.arn);
    }
  }

  /** Removes targets whose deregistration delay is over; arms a timer for the next one. */
  private endDraining(snap: PlaneSnapshot, now: number) {
    let next = Number.POSITIVE_INFINITY;
    for (const tg of snap.targetGroups)
      for (const t of tg.targets) {
        if (!t.drainEndsAt) continue;
        const at = t.drainEndsAt.getTime();
        if (at <= now) this.deps.source.removeTarget(tg.arn, t.key);
        else next = Math.min(next, at);
      }
    this.cancelDrain?.();
    this.cancelDrain = undefined;
    if (Number.isFinite(next)) this.cancelDrain = this.clock.after(Math.max(1, next - now + 5), () => this.schedule());
  }
}
