import { afterEach, describe, expect, it } from "vitest";
import { failedCheck } from "../../src/lb/health.js";
import type { PlaneTarget, PlaneTargetGroup } from "../../src/lb/model.js";
import { TargetGroupRuntime } from "../../src/lb/target-group.js";
import type { StoredHealth } from "../../src/store/schema/elbv2.js";

const target = (
  port: number,
  health: StoredHealth["state"] = "initial",
  over: Partial<PlaneTarget> = {},
): PlaneTarget => ({
  key: `tg|10.0.0.1|${port}`,
  id: "10.0.0.1",
  port,
  address: "10.0.0.1",
  health: health === "initial" ? { state: "initial", reason: "Elb.RegistrationInProgress" } : { state: health },
  registeredAt: new Date(0),
  ...over,
});

const group = (targets: PlaneTarget[], over: Partial<PlaneTargetGroup> = {}): PlaneTargetGroup => ({
  arn: "tg",
  protocol: "HTTP",
  port: 80,
  healthCheck: {
    enabled: true,
    protocol: "HTTP",
    port: "traffic-port",
    path: "/",
    intervalSeconds: 300,
    timeoutSeconds: 5,
    healthyThresholdCount: 2,
    unhealthyThresholdCount: 2,
    matcher: "200",
  },
  algorithm: "round_robin",
  stickiness: { enabled: false, durationSeconds: 1 },
  slowStartSeconds: 0,
  deregistrationDelaySeconds: 0,
  connectionTermination: true,
  loadBalancerArns: ["lb"],
  targets,
  ...over,
});

describe("target group runtime", () => {
  const runtimes: TargetGroupRuntime[] = [];
  afterEach(() => {
    for (const r of runtimes.splice(0)) r.close();
  });
  const make = (spec: PlaneTargetGroup) => {
    const events: { key: string; health: StoredHealth }[] = [];
    let checks = 0;
    const rt = new TargetGroupRuntime(
      { ...spec, targets: [] },
      { health: (_tg, key, health) => events.push({ key, health }) },
      async () => {
        checks++;
        return { ok: true };
      },
    );
    rt.update(spec, 0);
    runtimes.push(rt);
    return { rt, events, checks: () => checks };
  };

  it("routes only to healthy targets, and moves targets by their check results", () => {
    const { rt, events } = make(group([target(1), target(2, "healthy")]));
    expect(rt.eligible.map((t) => t.port)).toEqual([2]);
    const t1 = rt.targets.get("tg|10.0.0.1|1")!;
    rt.applyCheck(t1, { ok: true });
    rt.applyCheck(t1, { ok: true });
    expect(rt.eligible.map((t) => t.port).sort()).toEqual([1, 2]);
    expect(events.at(-1)).toEqual({ key: "tg|10.0.0.1|1", health: { state: "healthy" } });
    const t2 = rt.targets.get("tg|10.0.0.1|2")!;
    rt.applyCheck(t2, failedCheck);
    rt.applyCheck(t2, failedCheck);
    expect(rt.eligible.map((t) => t.port)).toEqual([1]);
    expect(rt.counts()).toEqual({ healthy: 1, unhealthy: 1 });
  });

  it("checks targets only while a load balancer uses the group, and forgets health when none does", async () => {
    const { rt, events, checks } = make(group([target(1, "healthy")], { loadBalancerArns: [] }));
    // Stored as healthy, but nothing uses the group: it starts over, and says so.
    expect(rt.targets.get("tg|10.0.0.1|1")!.state).toBe("initial");
    expect(events).toEqual([
      {
        key: "tg|10.0.0.1|1",
        health: {
          state: "initial",
          reason: "Elb.RegistrationInProgress",
          description: "Target registration is in progress",
        },
      },
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(checks()).toBe(0);
    rt.update(group([target(1)]), 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(checks()).toBe(1); // the first check runs right away
    rt.applyCheck(rt.targets.get("tg|10.0.0.1|1")!, { ok: true });
    rt.applyCheck(rt.targets.get("tg|10.0.0.1|1")!, { ok: true });
    expect(rt.eligible).toHaveLength(1);
    rt.update(group([target(1, "healthy")], { loadBalancerArns: [] }), 0);
    expect(rt.eligible).toHaveLength(0);
    expect(events.at(-1)?.health.reason).toBe("Elb.RegistrationInProgress");
  });

  it("stops sending to draining targets, closes their idle connections, and closes the rest when they go", () => {
    const { rt } = make(group([target(1, "healthy"), target(2, "healthy")]));
    const t1 = rt.targets.get("tg|10.0.0.1|1")!;
    const closed: string[] = [];
    t1.idle.push({ destroy: () => closed.push("idle") });
    t1.active.add({ destroy: () => closed.push("active") });
    rt.update(group([target(1, "healthy", { drainEndsAt: new Date(5000) }), target(2, "healthy")]), 0);
    expect(rt.eligible.map((t) => t.port)).toEqual([2]);
    expect(closed).toEqual(["idle"]);
    expect(t1.draining).toBe(true);
    rt.update(group([target(2, "healthy")]), 0);
    expect(closed).toEqual(["idle", "active"]);
    expect(rt.targets.has("tg|10.0.0.1|1")).toBe(false);
  });

  it("keeps a network load balancer's open flows after draining unless connection termination is on", () => {
    const { rt } = make(group([target(1, "healthy")], { protocol: "TCP", connectionTermination: false }));
    const closed: string[] = [];
    rt.targets.get("tg|10.0.0.1|1")!.active.add({ destroy: () => closed.push("flow") });
    rt.update(group([], { protocol: "TCP", connectionTermination: false }), 0);
    expect(closed).toEqual([]);
  });

  it("treats registering again while draining as a fresh registration", () => {
    const { rt } = make(group([target(1, "healthy")]));
    rt.update(group([target(1, "healthy", { drainEndsAt: new Date(5000) })]), 0);
    const draining = rt.targets.get("tg|10.0.0.1|1")!;
    rt.update(group([target(1)]), 0);
    const fresh = rt.targets.get("tg|10.0.0.1|1")!;
    expect(fresh).not.toBe(draining);
    expect(fresh.draining).toBe(false);
    expect(draining.removed).toBe(true);
  });
});
