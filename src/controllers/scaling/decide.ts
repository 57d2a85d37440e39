import type { CooldownState } from "../../store/schema/application-autoscaling.js";
/**
 * Application Auto Scaling decisions, pure: target-tracking capacity, step selection and
 * adjustment, cooldowns, and clamping to the scalable target's bounds.
 */

export interface StepAdjustment {
  MetricIntervalLowerBound?: number;
  MetricIntervalUpperBound?: number;
  ScalingAdjustment: number;
}

export type AdjustmentType = "ChangeInCapacity" | "PercentChangeInCapacity" | "ExactCapacity";

/**
 * Target tracking: the capacity that brings the metric to the target, assuming the metric
 * scales inversely with capacity — ceil(capacity × metric / target). Scale-out never lowers
 * capacity and scale-in never raises it. A target at zero capacity with load gets one.
 */
export function targetTrackingCapacity(
  current: number,
  metric: number,
  target: number,
  direction: "out" | "in",
): number {
  if (current <= 0) return metric > target ? 1 : 0;
  // Guard against float noise (e.g. 3 × 50 / 50 = 3.0000000000000004).
  const raw = Math.ceil(Number(((current * metric) / target).toFixed(9)));
  return direction === "out" ? Math.max(current, raw) : Math.min(current, raw);
}

/**
 * The step whose interval holds `value - threshold`. Above the threshold the lower bound is
 * inclusive and the upper exclusive; below it the lower bound is exclusive and the upper
 * inclusive (AWS's rule). Missing bounds are infinite.
 */
export function selectStep(steps: StepAdjustment[], value: number, threshold: number): StepAdjustment | undefined {
  const diff = value - threshold;
  return steps.find((s) => {
    const lower = s.MetricIntervalLowerBound ?? Number.NEGATIVE_INFINITY;
    const upper = s.MetricIntervalUpperBound ?? Number.POSITIVE_INFINITY;
    return diff >= 0 ? lower <= diff && diff < upper : lower < diff && diff <= upper;
  });
}

/** Why a set of step adjustments is invalid, or undefined when it is valid. */
export function stepAdjustmentsProblem(steps: StepAdjustment[]): string | undefined {
  if (steps.length === 0) return "StepAdjustments must hold at least one step adjustment.";
  for (const s of steps)
    if (
      s.MetricIntervalLowerBound !== undefined &&
      s.MetricIntervalUpperBound !== undefined &&
      s.MetricIntervalLowerBound >= s.MetricIntervalUpperBound
    )
      return `A step adjustment's MetricIntervalLowerBound (${s.MetricIntervalLowerBound}) must be less than its MetricIntervalUpperBound (${s.MetricIntervalUpperBound}).`;
  if (steps.filter((s) => s.MetricIntervalLowerBound === undefined).length > 1)
    return "Only one step adjustment can have an unspecified MetricIntervalLowerBound.";
  if (steps.filter((s) => s.MetricIntervalUpperBound === undefined).length > 1)
    return "Only one step adjustment can have an unspecified MetricIntervalUpperBound.";
  const sorted = [...steps].sort(
    (a, b) =>
      (a.MetricIntervalLowerBound ?? Number.NEGATIVE_INFINITY) -
      (b.MetricIntervalLowerBound ?? Number.NEGATIVE_INFINITY),
  );
  for (let i = 1; i < sorted.length; i++) {
    const prevUpper = sorted[i - 1].MetricIntervalUpperBound ?? Number.POSITIVE_INFINITY;
    const lower = sorted[i].MetricIntervalLowerBound ?? Number.NEGATIVE_INFINITY;
    if (prevUpper > lower) return "Step adjustment intervals must not overlap.";
    if (prevUpper < lower) return "Step adjustment intervals must not have gaps between them.";
  }
  return undefined;
}

/** The capacity a step adjustment asks for (before clamping to min/max). */
export function adjustCapacity(
  current: number,
  type: AdjustmentType,
  adjustment: number,
  minAdjustmentMagnitude?: number,
): number {
  switch (type) {
    case "ExactCapacity":
      return adjustment;
    case "ChangeInCapacity":
      return current + adjustment;
    case "PercentChangeInCapacity": {
      const raw = (current * adjustment) / 100;
      // AWS: > 1 rounds down, < -1 rounds up (toward zero), between 0 and ±1 becomes ±1.
      let change = raw > 1 ? Math.floor(raw) : raw < -1 ? Math.ceil(raw) : raw > 0 ? 1 : raw < 0 ? -1 : 0;
      if (minAdjustmentMagnitude !== undefined && change !== 0 && Math.abs(change) < minAdjustmentMagnitude)
        change = Math.sign(change) * minAdjustmentMagnitude;
      return current + change;
    }
  }
}

export const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

/** Aggregates the datapoints a step policy sees (MetricAggregationType, default Average). */
export function aggregateMetric(
  values: number[],
  type: "Average" | "Minimum" | "Maximum" = "Average",
): number | undefined {
  if (values.length === 0) return undefined;
  if (type === "Minimum") return Math.min(...values);
  if (type === "Maximum") return Math.max(...values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** AWS's machine-readable reason when a policy's answer changes nothing (DescribeScalingActivities). */
export interface NotScaledReason {
  Code: "AlreadyAtMaxCapacity" | "AlreadyAtMinCapacity" | "AlreadyAtDesiredCapacity";
  MaxCapacity?: number;
  MinCapacity?: number;
  CurrentCapacity?: number;
}

export type ScalingDecision =
  | { scale: true; desired: number; direction: "out" | "in"; cooldown: CooldownState }
  | { scale: false; reason: string; notScaled?: { reason: NotScaledReason; proposed: number } };

export interface ScalingRequest {
  now: number;
  current: number;
  min: number;
  max: number;
  /** The capacity the policy wants, computed from a base capacity (current, or the cooldown's base). */
  propose: (base: number) => number;
  cooldownSec: number;
  state: CooldownState;
  suspended?: { out?: boolean; in?: boolean };
}

/**
 * Applies cooldowns as AWS documents them for Application Auto Scaling:
 * - scale-out during a scale-out cooldown counts the capacity added by the scale-out that
 *   started it: the policy's answer is computed from the capacity before that scale-out and
 *   applied only if it is larger than the current capacity ("unless a larger scale out is triggered");
 * - scale-in waits for the scale-in cooldown;
 * - a scale-out during a scale-in cooldown proceeds at once and ends that cooldown.
 */
export function decideScaling(r: ScalingRequest): ScalingDecision {
  const outCooling = r.state.scaleOutUntil !== undefined && r.now < r.state.scaleOutUntil;
  const inCooling = r.state.scaleInUntil !== undefined && r.now < r.state.scaleInUntil;
  const fromCurrent = clamp(r.propose(r.current), r.min, r.max);
  const fromBase = outCooling ? clamp(r.propose(r.state.scaleOutBase ?? r.current), r.min, r.max) : fromCurrent;

  if (fromCurrent > r.current || (outCooling && fromBase > r.current)) {
    if (r.suspended?.out) return { scale: false, reason: "Dynamic scale-out is suspended for this scalable target." };
    const desired = outCooling ? fromBase : fromCurrent;
    if (desired <= r.current)
      return {
        scale: false,
        reason: "A scale-out cooldown is in effect and the capacity it added already covers this scale-out.",
      };
    return {
      scale: true,
      desired,
      direction: "out",
      cooldown: {
        scaleOutUntil: r.now + r.cooldownSec * 1000,
        scaleOutBase: outCooling ? (r.state.scaleOutBase ?? r.current) : r.current,
        scaleInUntil: undefined,
      },
    };
  }
  if (fromCurrent < r.current) {
    if (r.suspended?.in) return { scale: false, reason: "Dynamic scale-in is suspended for this scalable target." };
    if (inCooling) return { scale: false, reason: "A scale-in cooldown is in effect." };
    return {
      scale: true,
      desired: fromCurrent,
      direction: "in",
      cooldown: { ...r.state, scaleInUntil: r.now + r.cooldownSec * 1000 },
    };
  }
  const proposed = r.propose(r.current);
  if (proposed > r.max && r.current >= r.max)
    return {
      scale: false,
      reason: `The capacity is already at the maximum (${r.max}).`,
      notScaled: { reason: { Code: "AlreadyAtMaxCapacity", MaxCapacity: r.max }, proposed },
    };
  if (proposed < r.min && r.current <= r.min)
    return {
      scale: false,
      reason: `The capacity is already at the minimum (${r.min}).`,
      notScaled: { reason: { Code: "AlreadyAtMinCapacity", MinCapacity: r.min }, proposed },
    };
  return {
    scale: false,
    reason: "The capacity already matches what the policy asks for.",
    notScaled: { reason: { Code: "AlreadyAtDesiredCapacity", CurrentCapacity: r.current }, proposed },
  };
}
