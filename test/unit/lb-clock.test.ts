import { describe, expect, it } from "vitest";
import type { TimerClock } from "../../src/core/clock.js";
import { systemClock } from "../../src/core/clock.js";
import type { PlaneTargetGroup } from "../../src/lb/model.js";
import { TargetGroupRuntime } from "../../src/lb/target-group.js";

/** A clock whose timers fire only when the test advances it. */
function manualClock(start = 0) {
  let now = start;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const clock: TimerClock = {
    now: () => new Date(now),
    after(ms, fn) {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (;;) {
      const due = timers.filter((t) => !t.cancelled && t.at <= now).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      due.cancelled = true;
      due.fn();
    }
  };
  const pending = () => timers.filter((t) => !t.cancelled).map((t) => t.at);
  return { clock, advance, pending };
}

const spec: PlaneTargetGroup = {
  arn: "tg",
  protocol: "HTTP",
  port: 80,
  healthCheck: {
    enabled: true,
    protocol: "HTTP",
    port: "traffic-port",
    path: "/",
    intervalSeconds: 30,
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
  targets: [
    {
      key: "tg|10.0.0.1|1",
      id: "10.0.0.1",
      port: 1,
      address: "10.0.0.1",
      health: { state: "initial", reason: "Elb.RegistrationInProgress" },
      registeredAt: new Date(0),
    },
  ],
};

describe("injected clock", () => {
  it("the system clock's timers fire once and can be cancelled", async () => {
    let fired = 0;
    systemClock.after(1, () => fired++);
    const cancel = systemClock.after(1, () => fired++);
    cancel();
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(1);
  });

  it("target health checks run on the injected clock's timers, one interval apart", async () => {
    const { clock, advance, pending } = manualClock(1_000_000);
    let checks = 0;
    const rt = new TargetGroupRuntime(
      { ...spec, targets: [] },
      { health: () => undefined },
      async () => {
        checks++;
        return { ok: true };
      },
      clock,
    );
    rt.update(spec, 1_000_000);
    expect(checks).toBe(0);
    expect(pending()).toEqual([1_000_000]);
    advance(0);
    await Promise.resolve();
    await Promise.resolve();
    expect(checks).toBe(1);
    expect(pending()).toEqual([1_030_000]);
    advance(30_000);
    await Promise.resolve();
    await Promise.resolve();
    expect(checks).toBe(2);
    const t = rt.targets.get("tg|10.0.0.1|1")!;
    expect(t.state).toBe("healthy");
    expect(t.healthySince).toBe(1_000_000); // from the injected clock, not Date.now()
    rt.close();
    expect(pending()).toEqual([]);
  });
});
