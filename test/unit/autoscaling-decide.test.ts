import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Member,
  adjustedCapacity,
  capacityProblem,
  launchZones,
  pickForTermination,
  planCapacity,
} from "../../src/services/autoscaling/decide.js";
import { groupPolicyActionHandler, policyCapacity } from "../../src/services/autoscaling/policies.js";
import { policyActionHandler } from "../../src/controllers/scaling/executor.js";
import type { GroupPolicyRecord } from "../../src/store/schema/autoscaling.js";

const m = (id: string, zone: string, launchedAt: number, prot = false): Member => ({
  id,
  zone,
  launchedAt,
  protected: prot,
});

describe("launchZones", () => {
  it.each([
    { zones: ["a", "b"], members: [], n: 3, want: ["a", "b", "a"] },
    { zones: ["a", "b"], members: [m("1", "a", 0)], n: 1, want: ["b"] },
    { zones: ["a", "b", "c"], members: [m("1", "a", 0), m("2", "b", 0)], n: 2, want: ["c", "a"] },
    { zones: [], members: [], n: 2, want: [] },
  ])("$zones + $n", ({ zones, members, n, want }) => expect(launchZones(zones, members, n)).toEqual(want));

  it("keeps zones within one instance of each other", () =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 20 }), (z, n) => {
        const zones = ["a", "b", "c", "d"].slice(0, z);
        const out = launchZones(zones, [], n);
        const counts = zones.map((x) => out.filter((o) => o === x).length);
        expect(out).toHaveLength(n);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    ));
});

describe("pickForTermination", () => {
  it.each([
    { name: "oldest first", members: [m("new", "a", 2), m("old", "a", 1)], n: 1, want: ["old"] },
    {
      name: "the fuller zone first",
      members: [m("a1", "a", 1), m("b1", "b", 0), m("b2", "b", 5)],
      n: 1,
      want: ["b1"],
    },
    { name: "never a protected one", members: [m("p", "a", 0, true), m("q", "a", 9)], n: 2, want: ["q"] },
    { name: "none when all are protected", members: [m("p", "a", 0, true)], n: 1, want: [] },
  ])("$name", ({ members, n, want }) => expect(pickForTermination(members, n)).toEqual(want));

  const members = fc
    .array(fc.record({ zone: fc.constantFrom("a", "b", "c"), launchedAt: fc.nat(100), protected: fc.boolean() }), {
      maxLength: 12,
    })
    .map((list) => list.map((x, i) => ({ ...x, id: `i-${i}` })));

  it("picks distinct unprotected members, as many as it can", () =>
    fc.assert(
      fc.property(members, fc.nat(15), (list, n) => {
        const out = pickForTermination(list, n);
        expect(new Set(out).size).toBe(out.length);
        const free = list.filter((x) => !x.protected).length;
        expect(out.length).toBe(Math.min(n, free));
        for (const id of out) expect(list.find((x) => x.id === id)?.protected).toBe(false);
      }),
    ));
});

describe("planCapacity", () => {
  it("launches the difference or terminates the excess, never both", () =>
    fc.assert(
      fc.property(fc.nat(10), fc.nat(10), (desired, have) => {
        const live = Array.from({ length: have }, (_, i) => m(`i-${i}`, i % 2 ? "b" : "a", i));
        const plan = planCapacity(desired, ["a", "b"], live);
        expect(plan.launch.length).toBe(Math.max(0, desired - have));
        expect(plan.terminate.length).toBe(Math.max(0, have - desired));
      }),
    ));
});

describe("capacityProblem", () => {
  it.each([
    { min: 0, max: 3, desired: 2, want: undefined },
    { min: 2, max: 1, desired: 1, want: "Max bound, 1, must be greater than or equal to min bound, 2" },
    { min: 0, max: 3, desired: 4, want: "Desired capacity:4 must be between the specified min size:0 and max size:3" },
  ])("$min $max $desired", ({ min, max, desired, want }) => expect(capacityProblem(min, max, desired)).toBe(want));
});

describe("adjustedCapacity", () => {
  const b = { min: 0, max: 10 };
  it.each([
    { current: 2, type: "ChangeInCapacity", adj: 1, want: 3 },
    { current: 2, type: "ChangeInCapacity", adj: -5, want: 0 },
    { current: 2, type: "ExactCapacity", adj: 12, want: 10 },
    { current: 4, type: "PercentChangeInCapacity", adj: 50, want: 6 },
    { current: 1, type: "PercentChangeInCapacity", adj: 10, want: 2 },
  ])("$type $adj from $current", ({ current, type, adj, want }) =>
    expect(adjustedCapacity(current, type, adj, b)).toBe(want),
  );

  it("stays within the bounds", () =>
    fc.assert(
      fc.property(
        fc.nat(20),
        fc.constantFrom("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"),
        fc.integer({ min: -300, max: 300 }),
        (current, type, adj) => {
          const n = adjustedCapacity(current, type, adj, { min: 1, max: 8 });
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(8);
        },
      ),
    ));
});

describe("alarm action dispatch", () => {
  const groupArn =
    "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:6d8ffa3d-1111-2222-3333-444444444444:autoScalingGroupName/web:policyName/cpu";
  const serviceArn =
    "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:6d8ffa3d-1111-2222-3333-444444444444:resource/ecs/service/c/s:policyName/cpu";
  const aas = policyActionHandler({} as never, {} as never);
  const asg = groupPolicyActionHandler({} as never, () => ({ skip: "" }));
  it.each([
    { arn: groupArn, aas: false, asg: true },
    { arn: serviceArn, aas: true, asg: false },
    { arn: "arn:aws:sns:us-east-1:000000000000:topic", aas: false, asg: false },
  ])("$arn", ({ arn, aas: a, asg: g }) => {
    expect(aas.matches(arn)).toBe(a);
    expect(asg.matches(arn)).toBe(g);
  });
});

describe("policyCapacity", () => {
  const policy = (p: Partial<GroupPolicyRecord>): GroupPolicyRecord => ({
    AutoScalingGroupName: "g",
    PolicyName: "p",
    PolicyARN: "arn",
    ownedAlarms: [],
    ...p,
  });
  const g = { DesiredCapacity: 2, MinSize: 1, MaxSize: 5 };
  it.each([
    {
      name: "simple +1",
      p: { PolicyType: "SimpleScaling", AdjustmentType: "ChangeInCapacity", ScalingAdjustment: 1 },
      run: {},
      want: 3,
    },
    {
      name: "step: the step the breach falls in",
      p: {
        PolicyType: "StepScaling",
        AdjustmentType: "ChangeInCapacity",
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 10, ScalingAdjustment: 3 },
        ],
      },
      run: { metric: 75, threshold: 60 },
      want: 5,
    },
    {
      name: "target tracking out",
      p: { PolicyType: "TargetTrackingScaling", TargetTrackingConfiguration: { TargetValue: 50 } },
      run: { metric: 100, direction: "out" as const },
      want: 4,
    },
    {
      name: "target tracking in, disabled",
      p: {
        PolicyType: "TargetTrackingScaling",
        TargetTrackingConfiguration: { TargetValue: 50, DisableScaleIn: true },
      },
      run: { metric: 10, direction: "in" as const },
      want: { skip: "Scale-in is disabled for this policy." },
    },
  ])("$name", ({ p, run, want }) => expect(policyCapacity(policy(p), g, run)).toEqual(want));
});
