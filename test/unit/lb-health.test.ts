import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CheckResult,
  HEALTHY,
  INITIAL_CHECKING,
  codeMismatch,
  failedCheck,
  nextHealth,
  startState,
  timedOut,
} from "../../src/lb/health.js";
import { REGISTERING } from "../../src/store/schema/elbv2.js";
import { targetHealthView } from "../../src/services/elbv2/target-health.js";

const thresholds = { healthyThresholdCount: 3, unhealthyThresholdCount: 2 };
const ok: CheckResult = { ok: true };
const run = (results: CheckResult[], start = startState(REGISTERING)) =>
  results.reduce((s, r) => nextHealth(s, r, thresholds), start);

describe("health state machine", () => {
  it.each<[string, CheckResult[], object]>([
    ["registering → healthy after one pass (the threshold is for unhealthy targets)", [ok], HEALTHY],
    ["registering → initial checking after a failure below the threshold", [failedCheck], INITIAL_CHECKING],
    [
      "a failure resets the pass count",
      [failedCheck, failedCheck, ok, failedCheck, ok, ok],
      {
        state: "unhealthy",
        reason: "Target.FailedHealthChecks",
        description: "Health checks failed",
      },
    ],
    [
      "initial → unhealthy after the unhealthy threshold (response code)",
      [codeMismatch(404), codeMismatch(404)],
      {
        state: "unhealthy",
        reason: "Target.ResponseCodeMismatch",
        description: "Health checks failed with these codes: [404]",
      },
    ],
    [
      "timeouts",
      [timedOut, timedOut],
      { state: "unhealthy", reason: "Target.Timeout", description: "Request timed out" },
    ],
    [
      "connection failures",
      [failedCheck, failedCheck],
      { state: "unhealthy", reason: "Target.FailedHealthChecks", description: "Health checks failed" },
    ],
    ["healthy stays healthy below the unhealthy threshold", [ok, ok, ok, failedCheck], HEALTHY],
    [
      "healthy → unhealthy after the threshold",
      [ok, ok, ok, failedCheck, timedOut],
      { state: "unhealthy", reason: "Target.Timeout", description: "Request timed out" },
    ],
    [
      "unhealthy needs the healthy threshold to come back",
      [failedCheck, failedCheck, ok, ok],
      { state: "unhealthy", reason: "Target.FailedHealthChecks", description: "Health checks failed" },
    ],
    ["unhealthy → healthy", [failedCheck, failedCheck, ok, ok, ok], HEALTHY],
  ])("%s", (_, results, expected) => {
    expect(run(results).health).toEqual(expected);
  });

  it("changes state only at the thresholds, with AWS's reasons", () => {
    const result = fc.constantFrom<CheckResult>(ok, ok, failedCheck, timedOut, codeMismatch(500));
    fc.assert(
      fc.property(
        fc.array(result, { maxLength: 30 }),
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 2, max: 10 }),
        (results, h, u) => {
          const t = { healthyThresholdCount: h, unhealthyThresholdCount: u };
          let s = startState(REGISTERING);
          let passes = 0;
          let failures = 0;
          for (const r of results) {
            const before = s.health.state;
            s = nextHealth(s, r, t);
            passes = r.ok ? passes + 1 : 0;
            failures = r.ok ? 0 : failures + 1;
            if (before === "unhealthy" && s.health.state === "healthy") expect(passes).toBeGreaterThanOrEqual(h);
            if (before === "initial" && r.ok) expect(s.health.state).toBe("healthy");
            if (before !== "unhealthy" && s.health.state === "unhealthy") expect(failures).toBeGreaterThanOrEqual(u);
            if (before === "healthy" && passes > 0) expect(s.health.state).toBe("healthy");
            if (s.health.state === "healthy") expect(s.health.reason).toBeUndefined();
            if (s.health.state === "unhealthy") expect(s.health.reason).toMatch(/^Target\./);
            if (s.health.state === "initial") expect(s.health.reason).toBe("Elb.InitialHealthChecking");
          }
        },
      ),
    );
  });
});

describe("DescribeTargetHealth view", () => {
  const now = new Date("2026-01-01T00:00:10Z");
  const target = (over = {}) => ({
    targetGroupArn: "tg",
    id: "10.0.0.1",
    port: 80,
    registeredAt: new Date("2026-01-01T00:00:00Z"),
    health: HEALTHY,
    ...over,
  });

  it.each<[string, ReturnType<typeof target> | undefined, { inUse: boolean; resolvable?: boolean }, object]>([
    [
      "not registered",
      undefined,
      { inUse: true },
      { State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group" },
    ],
    [
      "not in use",
      target(),
      { inUse: false },
      {
        State: "unused",
        Reason: "Target.NotInUse",
        Description: "Target group is not configured to receive traffic from the load balancer",
      },
    ],
    [
      "draining",
      target({ drainEndsAt: new Date("2026-01-01T00:00:20Z") }),
      { inUse: true },
      {
        State: "draining",
        Reason: "Target.DeregistrationInProgress",
        Description: "Target deregistration is in progress",
      },
    ],
    [
      "draining is over",
      target({ drainEndsAt: new Date("2026-01-01T00:00:05Z") }),
      { inUse: true },
      { State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group" },
    ],
    ["healthy: no reason", target(), { inUse: true }, { State: "healthy" }],
    [
      "registering",
      target({ health: REGISTERING }),
      { inUse: true },
      { State: "initial", Reason: "Elb.RegistrationInProgress", Description: "Target registration is in progress" },
    ],
    [
      "unknown instance",
      target(),
      { inUse: true, resolvable: false },
      { State: "unused", Reason: "Target.InvalidState", Description: "Target is in the stopped or terminated state" },
    ],
  ])("%s", (_, t, opts, expected) => {
    expect(targetHealthView(t, { ...opts, now })).toEqual(expected);
  });
});
