import { type CancelTimer, type TimerClock, systemClock } from "../core/clock.js";
import { REGISTERING, type StoredHealth } from "../store/schema/elbv2.js";
import { type CheckTarget, runHealthCheck } from "./health-check.js";
import { type CheckResult, type HealthState, nextHealth, startState } from "./health.js";
import type { PlaneTarget, PlaneTargetGroup } from "./model.js";
import {
  type Cursor,
  type SelectableTarget,
  pickLeastOutstanding,
  pickRandom,
  pickRoundRobin,
  routable,
} from "./select.js";

/** Something a target holds open that draining's end or removal must close. */
export interface Closable {
  destroy(): void;
}

/** One registered target as the data plane runs it: health, in-flight count, idle connections. */
export class TargetRuntime implements SelectableTarget {
  state: "initial" | "healthy" | "unhealthy";
  draining = false;
  addressable: boolean;
  inflight = 0;
  healthySince = 0;
  health: HealthState;
  /** Idle keep-alive connections to this target (ALB), most recently used last. */
  readonly idle: Closable[] = [];
  /** Connections carrying a request or a flow right now. */
  readonly active = new Set<Closable>();
  drainEndsAt?: number;
  private cancelCheck?: CancelTimer;
  private generation = 0;
  private runningGeneration = -1;
  removed = false;

  constructor(
    readonly key: string,
    readonly id: string,
    readonly port: number,
    public address: string | undefined,
    stored: StoredHealth,
  ) {
    this.addressable = address !== undefined;
    this.health = startState(stored);
    this.state = stored.state;
  }

  /** Closes idle connections (draining, removal). */
  closeIdle() {
    for (const c of this.idle.splice(0)) c.destroy();
  }

  /** Closes everything: draining ended or the target is gone. */
  closeAll() {
    this.closeIdle();
    for (const c of [...this.active]) c.destroy();
    this.active.clear();
  }

  stopChecks() {
    this.cancelCheck?.();
    this.cancelCheck = undefined;
    this.generation++;
  }

  get checksRunning() {
    return this.runningGeneration === this.generation;
  }

  /**
   * Starts periodic checks, the first right away; `onResult` applies each result. Stopping
   * (or restarting) discards the result of a check still in flight.
   */
  startChecks(
    clock: TimerClock,
    intervalMs: () => number,
    check: () => Promise<CheckResult>,
    onResult: (r: CheckResult) => void,
  ) {
    if (this.checksRunning) return;
    const generation = this.generation;
    this.runningGeneration = generation;
    const tick = async () => {
      this.cancelCheck = undefined;
      if (this.removed || this.draining || generation !== this.generation) return;
      const started = clock.now().getTime();
      const result = await check();
      if (this.removed || this.draining || generation !== this.generation) return;
      onResult(result);
      this.cancelCheck = clock.after(Math.max(0, intervalMs() - (clock.now().getTime() - started)), tick);
    };
    this.cancelCheck = clock.after(0, tick);
  }
}

export interface TargetGroupEvents {
  /** A target's health changed (to be persisted). */
  health(targetGroupArn: string, key: string, health: StoredHealth): void;
}

/**
 * A target group in the data plane: its targets, the routable subset (recomputed whenever
 * health or registration changes, so picking a target is cheap), and health checking while
 * some load balancer uses the group.
 */
export class TargetGroupRuntime {
  readonly targets = new Map<string, TargetRuntime>();
  /** Where requests may go now (healthy, or all unhealthy when none is healthy). */
  eligible: TargetRuntime[] = [];
  private readonly cursor: Cursor = { next: 0 };
  private checksOn = false;

  constructor(
    public spec: PlaneTargetGroup,
    private readonly events: TargetGroupEvents,
    private readonly check: (t: CheckTarget) => Promise<CheckResult> = runHealthCheck,
    private readonly clock: TimerClock = systemClock,
  ) {}

  get arn() {
    return this.spec.arn;
  }

  get inUse() {
    return this.spec.loadBalancerArns.length > 0;
  }

  /** Applies a new desired state; keeps runtime state (health, connections) of targets that stay. */
  update(spec: PlaneTargetGroup, now: number) {
    const hcChanged = JSON.stringify(spec.healthCheck) !== JSON.stringify(this.spec.healthCheck);
    const wasInUse = this.inUse;
    this.spec = spec;
    const seen = new Set<string>();
    for (const p of spec.targets) {
      seen.add(p.key);
      let t = this.targets.get(p.key);
      const draining = p.drainEndsAt !== undefined;
      if (t?.draining && !draining) {
        // Registered again while draining: a fresh registration.
        this.remove(t);
        t = undefined;
      }
      if (!t) {
        // A target of a group no load balancer uses has no health yet, whatever was stored before.
        const health = this.inUse || p.health.state === "initial" ? p.health : REGISTERING;
        t = new TargetRuntime(p.key, p.id, p.port, p.address, health);
        if (t.state === "healthy") t.healthySince = now - spec.slowStartSeconds * 1000;
        this.targets.set(p.key, t);
        if (health !== p.health && !draining) this.events.health(spec.arn, p.key, health);
      }
      this.applyTarget(t, p);
    }
    for (const [key, t] of this.targets) if (!seen.has(key)) this.remove(t);
    if (wasInUse && !this.inUse) {
      // No load balancer sends traffic any more: forget health; checks start over when it is used again.
      for (const t of this.targets.values()) {
        t.stopChecks();
        t.health = startState(REGISTERING);
        t.state = "initial";
        if (!t.draining) this.events.health(spec.arn, t.key, REGISTERING);
      }
    }
    this.syncChecks(hcChanged);
    this.recompute();
  }

  private applyTarget(t: TargetRuntime, p: PlaneTarget) {
    t.address = p.address;
    t.addressable = p.address !== undefined;
    if (p.drainEndsAt !== undefined && !t.draining) {
      t.draining = true;
      t.drainEndsAt = p.drainEndsAt.getTime();
      t.stopChecks();
      t.closeIdle();
    }
  }

  private remove(t: TargetRuntime) {
    t.removed = true;
    t.stopChecks();
    // ALB always closes; NLB keeps open flows unless deregistration_delay.connection_termination is on.
    if (this.spec.connectionTermination) t.closeAll();
    else t.closeIdle();
    this.targets.delete(t.key);
  }

  private syncChecks(restart: boolean) {
    const on = this.inUse;
    for (const t of this.targets.values()) {
      if (restart) t.stopChecks();
      if (on && !t.draining && t.addressable) this.startChecks(t);
      else t.stopChecks();
    }
    this.checksOn = on;
  }

  private startChecks(t: TargetRuntime) {
    t.startChecks(
      this.clock,
      () => this.spec.healthCheck.intervalSeconds * 1000,
      () =>
        this.check({
          address: t.address!,
          trafficPort: t.port,
          settings: this.spec.healthCheck,
          groupProtocol: this.spec.protocol,
        }),
      (result) => this.applyCheck(t, result),
    );
  }

  /** Feeds one check result through the state machine; persists and reroutes on a change. */
  applyCheck(t: TargetRuntime, result: CheckResult, now = this.clock.now().getTime()) {
    if (t.removed || t.draining) return;
    const before = t.health.health;
    t.health = nextHealth(t.health, result, this.spec.healthCheck);
    const after = t.health.health;
    if (after.state !== t.state) {
      if (after.state === "healthy") t.healthySince = now;
      t.state = after.state;
      this.recompute();
    }
    if (before.state !== after.state || before.reason !== after.reason || before.description !== after.description)
      this.events.health(this.spec.arn, t.key, after);
  }

  /** Recomputes where requests may go. */
  recompute() {
    this.eligible = routable([...this.targets.values()]);
  }

  /** Picks a target for a request by the group's algorithm; undefined when none can take it. */
  pick(now: number): TargetRuntime | undefined {
    const list = this.eligible;
    if (list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    switch (this.spec.algorithm) {
      case "least_outstanding_requests":
        return pickLeastOutstanding(list, this.cursor);
      case "weighted_random":
        return pickRandom(list, Math.random);
      default:
        return pickRoundRobin(list, this.cursor, {
          now,
          slowStartMs: this.spec.slowStartSeconds * 1000,
          random: Math.random,
        });
    }
  }

  /** Requests in flight to this group's targets now (draining ones included: they still serve). */
  inFlight(): number {
    let n = 0;
    for (const t of this.targets.values()) n += t.inflight;
    return n;
  }

  counts(): { healthy: number; unhealthy: number } {
    let healthy = 0;
    let unhealthy = 0;
    for (const t of this.targets.values()) {
      if (t.draining) continue;
      if (t.state === "healthy") healthy++;
      else if (t.state === "unhealthy") unhealthy++;
    }
    return { healthy, unhealthy };
  }

  /** Stops everything (the group was deleted or the plane stops). */
  close() {
    for (const t of [...this.targets.values()]) this.remove(t);
    this.checksOn = false;
  }

  get checking() {
    return this.checksOn;
  }
}
