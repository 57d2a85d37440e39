import type { PolicyRecord } from "../../src/store/schema/application-autoscaling.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type StepAdjustment,
  adjustCapacity,
  decideScaling,
  selectStep,
  stepAdjustmentsProblem,
  targetTrackingCapacity,
} from "../../src/controllers/scaling/decide.js";
import { planPolicy } from "../../src/controllers/scaling/executor.js";
import { cpuUnitsUsed, utilization } from "../../src/metrics/ecs-utilization.js";
import type { AlarmRecord } from "../../src/store/schema/cloudwatch.js";

describe("target tracking capacity", () => {
  it.each([
    [1, 100, 50, "out", 2],
    [2, 100, 50, "out", 4],
    [3, 60, 50, "out", 4],
    [4, 10, 50, "in", 1],
    [4, 40, 50, "in", 4],
    [3, 0, 50, "in", 0],
    [0, 80, 50, "out", 1],
    [3, 50, 50, "out", 3],
    [10, 50.1, 50, "out", 11],
  ] as const)("%d tasks at %d%% with target %d scaling %s → %d", (current, metric, target, dir, want) =>
    expect(targetTrackingCapacity(current, metric, target, dir)).toBe(want),
  );

  it("property: scale-out never lowers, scale-in never raises, and the answer brings the metric to the target", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        (current, metric, target) => {
          const out = targetTrackingCapacity(current, metric, target, "out");
          const inn = targetTrackingCapacity(current, metric, target, "in");
          expect(out).toBeGreaterThanOrEqual(current);
          expect(inn).toBeLessThanOrEqual(current);
          // With the new capacity the per-task metric is at or below the target (up to float noise).
          if (out > current) expect((current * metric) / out).toBeLessThanOrEqual(target * (1 + 1e-9));
        },
      ),
    );
  });
});

describe("step scaling", () => {
  const out: StepAdjustment[] = [
    { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
    { MetricIntervalLowerBound: 10, MetricIntervalUpperBound: 20, ScalingAdjustment: 2 },
    { MetricIntervalLowerBound: 20, ScalingAdjustment: 3 },
  ];
  const scaleIn: StepAdjustment[] = [
    { MetricIntervalUpperBound: -10, ScalingAdjustment: -2 },
    { MetricIntervalLowerBound: -10, MetricIntervalUpperBound: 0, ScalingAdjustment: -1 },
  ];
  it.each([
    [out, 50, 50, 1],
    [out, 59.9, 50, 1],
    [out, 60, 50, 2],
    [out, 70, 50, 3],
    [out, 500, 50, 3],
    [scaleIn, 41, 50, -1],
    [scaleIn, 40, 50, -2],
    [scaleIn, 49, 50, -1],
    [scaleIn, 39.9, 50, -2],
  ])("case %#: value %d vs threshold %d", (steps, value, threshold, want) =>
    expect(selectStep(steps as StepAdjustment[], value as number, threshold as number)?.ScalingAdjustment).toBe(want),
  );

  it.each([
    [[], /at least one/],
    [
      [{ ScalingAdjustment: 1 }, { ScalingAdjustment: 2 }],
      /Only one step adjustment can have an unspecified MetricIntervalLowerBound/,
    ],
    [
      [
        { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
        { MetricIntervalLowerBound: 5, ScalingAdjustment: 2 },
      ],
      /overlap/,
    ],
    [
      [
        { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
        { MetricIntervalLowerBound: 15, ScalingAdjustment: 2 },
      ],
      /gaps/,
    ],
    [[{ MetricIntervalLowerBound: 10, MetricIntervalUpperBound: 5, ScalingAdjustment: 1 }], /must be less than/],
  ])("rejects %j", (steps, message) => expect(stepAdjustmentsProblem(steps as StepAdjustment[])).toMatch(message));
  it("accepts valid steps", () => {
    expect(stepAdjustmentsProblem(out)).toBeUndefined();
    expect(stepAdjustmentsProblem(scaleIn)).toBeUndefined();
  });

  it.each([
    [4, "ChangeInCapacity", 2, undefined, 6],
    [4, "ChangeInCapacity", -3, undefined, 1],
    [4, "ExactCapacity", 7, undefined, 7],
    [10, "PercentChangeInCapacity", 25, undefined, 12],
    [10, "PercentChangeInCapacity", -25, undefined, 8],
    [2, "PercentChangeInCapacity", 10, undefined, 3],
    [2, "PercentChangeInCapacity", -10, undefined, 1],
    [10, "PercentChangeInCapacity", 10, 3, 13],
  ] as const)("%d with %s %d (min magnitude %s) → %d", (current, type, adj, minMag, want) =>
    expect(adjustCapacity(current, type, adj, minMag)).toBe(want),
  );
});

describe("cooldowns", () => {
  const base = { now: 1000_000, min: 1, max: 10, cooldownSec: 60 };
  it("scales out and starts a scale-out cooldown", () => {
    const d = decideScaling({ ...base, current: 2, propose: (b) => b + 2, state: {} });
    expect(d).toEqual({
      scale: true,
      desired: 4,
      direction: "out",
      cooldown: { scaleOutUntil: 1060_000, scaleOutBase: 2, scaleInUntil: undefined },
    });
  });
  it("counts the capacity added during a scale-out cooldown: +2 then +3 adds only 1", () => {
    const state = { scaleOutUntil: 1030_000, scaleOutBase: 2 };
    const d = decideScaling({ ...base, current: 4, propose: (b) => b + 3, state });
    expect(d).toMatchObject({ scale: true, desired: 5, direction: "out" });
    const same = decideScaling({ ...base, current: 4, propose: (b) => b + 2, state });
    expect(same).toMatchObject({ scale: false, reason: expect.stringMatching(/cooldown/) });
  });
  it("blocks scale-in during a scale-in cooldown, but scale-out proceeds at once and ends it", () => {
    const state = { scaleInUntil: 1030_000 };
    expect(decideScaling({ ...base, current: 4, propose: (b) => b - 1, state })).toMatchObject({ scale: false });
    const out = decideScaling({ ...base, current: 4, propose: (b) => b + 1, state });
    expect(out).toMatchObject({ scale: true, desired: 5, cooldown: { scaleInUntil: undefined } });
  });
  it("scales in after the cooldown and clamps to min/max", () => {
    expect(decideScaling({ ...base, current: 4, propose: () => 0, state: { scaleInUntil: 999_000 } })).toMatchObject({
      scale: true,
      desired: 1,
      direction: "in",
    });
    expect(decideScaling({ ...base, current: 10, propose: () => 20, state: {} })).toMatchObject({
      scale: false,
      reason: expect.stringMatching(/maximum \(10\)/),
    });
  });
  it.each<[string, number, number, object]>([
    ["at the maximum", 10, 20, { Code: "AlreadyAtMaxCapacity", MaxCapacity: 10 }],
    ["at the minimum", 1, 0, { Code: "AlreadyAtMinCapacity", MinCapacity: 1 }],
    ["already what the policy asks", 4, 4, { Code: "AlreadyAtDesiredCapacity", CurrentCapacity: 4 }],
  ])("names AWS's not-scaled reason when %s", (_, current, proposed, reason) => {
    expect(decideScaling({ ...base, current, propose: () => proposed, state: {} })).toEqual({
      scale: false,
      reason: expect.any(String),
      notScaled: { reason, proposed },
    });
  });
  it("a cooldown or a suspension is not a not-scaled reason AWS names", () => {
    const cooling = decideScaling({ ...base, current: 4, propose: (b) => b - 1, state: { scaleInUntil: 1030_000 } });
    expect(cooling).toMatchObject({ scale: false });
    expect("notScaled" in cooling).toBe(false);
  });
  it("respects suspension", () => {
    expect(decideScaling({ ...base, current: 2, propose: () => 5, state: {}, suspended: { out: true } })).toMatchObject(
      { scale: false, reason: expect.stringMatching(/suspended/) },
    );
  });
  it("property: the result stays within [min, max] and moves in the proposed direction", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: -30, max: 30 }),
        fc.record({
          scaleOutUntil: fc.option(fc.integer({ min: 900_000, max: 1_100_000 }), { nil: undefined }),
          scaleOutBase: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
          scaleInUntil: fc.option(fc.integer({ min: 900_000, max: 1_100_000 }), { nil: undefined }),
        }),
        (a, b, current, delta, state) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const d = decideScaling({
            now: 1000_000,
            min,
            max,
            cooldownSec: 60,
            current,
            propose: (x) => x + delta,
            state,
          });
          if (!d.scale) return;
          expect(d.desired).toBeGreaterThanOrEqual(min);
          expect(d.desired).toBeLessThanOrEqual(max);
          if (d.direction === "out") expect(d.desired).toBeGreaterThan(current);
          else {
            expect(d.desired).toBeLessThan(current);
            expect(state.scaleInUntil === undefined || state.scaleInUntil <= 1000_000).toBe(true);
          }
        },
      ),
    );
  });
});

describe("policy plans", () => {
  const alarm = (over: Partial<AlarmRecord>) =>
    ({ Threshold: 50, ComparisonOperator: "GreaterThanThreshold", ...over }) as AlarmRecord;
  const tt = {
    PolicyType: "TargetTrackingScaling",
    TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, ScaleOutCooldown: 10, ScaleInCooldown: 20 },
  } as PolicyRecord;
  it("target tracking follows the alarm's direction and latest datapoint", () => {
    const high = planPolicy(tt, { alarm: alarm({}), datapoints: [{ timestamp: 0, value: 100 }] });
    expect("propose" in high && high.propose(2)).toBe(4);
    expect("cooldownSec" in high && high.cooldownSec).toBe(10);
    const low = planPolicy(tt, {
      alarm: alarm({ ComparisonOperator: "LessThanThreshold", Threshold: 45 }),
      datapoints: [{ timestamp: 0, value: 5 }],
    });
    expect("propose" in low && low.propose(4)).toBe(1);
    expect("cooldownSec" in low && low.cooldownSec).toBe(20);
    const disabled = { ...tt, TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, DisableScaleIn: true } };
    expect(
      planPolicy(disabled, { alarm: alarm({ ComparisonOperator: "LessThanThreshold" }), datapoints: [] }),
    ).toHaveProperty("skip");
  });
  it("step scaling picks the step for the aggregated datapoints (threshold when SetAlarmState gave none)", () => {
    const step = {
      PolicyType: "StepScaling",
      StepScalingPolicyConfiguration: {
        AdjustmentType: "ChangeInCapacity",
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 20, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 20, ScalingAdjustment: 3 },
        ],
      },
    } as PolicyRecord;
    const big = planPolicy(step, {
      alarm: alarm({}),
      datapoints: [
        { timestamp: 0, value: 90 },
        { timestamp: 0, value: 70 },
      ],
    });
    expect("propose" in big && big.propose(1)).toBe(4);
    const set = planPolicy(step, { alarm: alarm({}), datapoints: [] });
    expect("propose" in set && set.propose(1)).toBe(2);
    expect("cooldownSec" in set && set.cooldownSec).toBe(300);
  });
});

describe("ECS utilization as AWS computes it", () => {
  it("service = Σ used / Σ reserved; cluster over all its tasks; min/max over tasks", () => {
    const u = utilization([
      { cluster: "c", service: "web", cpuReserved: 256, memoryReserved: 512, cpuUsed: 256, memoryUsed: 128 },
      { cluster: "c", service: "web", cpuReserved: 256, memoryReserved: 512, cpuUsed: 0, memoryUsed: 256 },
      { cluster: "c", service: "api", cpuReserved: 1024, memoryReserved: 2048, cpuUsed: 512, memoryUsed: 1024 },
      { cluster: "c", cpuReserved: 0, memoryReserved: 0, cpuUsed: 10, memoryUsed: 10 },
    ]);
    expect(u.cpu.get("c/web")).toEqual({ average: 50, min: 0, max: 100, tasks: 2 });
    expect(u.memory.get("c/web")).toEqual({ average: 37.5, min: 25, max: 50, tasks: 2 });
    expect(u.cpu.get("c")).toEqual({ average: (768 / 1536) * 100, min: 0, max: 100, tasks: 3 });
    expect(u.cpu.get("c/api")!.average).toBe(50);
  });
  it("CPU units from two readings of cumulative CPU time", () => {
    expect(cpuUnitsUsed({ readAt: 0, cpuTotalNs: 0 }, { readAt: 1000, cpuTotalNs: 250_000_000 })).toBe(256);
    expect(cpuUnitsUsed({ readAt: 1000, cpuTotalNs: 5 }, { readAt: 1000, cpuTotalNs: 10 })).toBeUndefined();
  });
});
