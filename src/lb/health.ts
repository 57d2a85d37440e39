import type { StoredHealth } from "../store/schema/elbv2.js";

/**
 * The target health state machine, pure. A target starts `initial`; one passing check makes it
 * `healthy` (AWS: "after your target is registered, it must pass one health check to be
 * considered healthy"), UnhealthyThresholdCount consecutive failing ones make it `unhealthy` (from
 * initial or healthy); an unhealthy target needs HealthyThresholdCount passes to come back. Draining and unused are not health states here: they come from the
 * registration (see services/elbv2/target-health.ts).
 */

export type FailureReason = "Target.ResponseCodeMismatch" | "Target.Timeout" | "Target.FailedHealthChecks";

export type CheckResult = { ok: true } | { ok: false; reason: FailureReason; description: string };

export interface HealthState {
  health: StoredHealth;
  /** Consecutive passes / failures since the last change of direction. */
  passes: number;
  failures: number;
}

export interface Thresholds {
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
}

export const INITIAL_CHECKING: StoredHealth = {
  state: "initial",
  reason: "Elb.InitialHealthChecking",
  description: "Initial health checks in progress",
};

export const HEALTHY: StoredHealth = { state: "healthy" };

export const startState = (health: StoredHealth): HealthState => ({ health, passes: 0, failures: 0 });

export function nextHealth(current: HealthState, result: CheckResult, t: Thresholds): HealthState {
  const passes = result.ok ? current.passes + 1 : 0;
  const failures = result.ok ? 0 : current.failures + 1;
  const { state } = current.health;
  if (result.ok) {
    if (state === "healthy" || state === "initial") return { health: HEALTHY, passes, failures };
    if (passes >= t.healthyThresholdCount) return { health: HEALTHY, passes, failures };
    return { health: current.health, passes, failures };
  }
  const unhealthy: StoredHealth = { state: "unhealthy", reason: result.reason, description: result.description };
  if (state === "unhealthy") return { health: unhealthy, passes, failures };
  if (failures >= t.unhealthyThresholdCount) return { health: unhealthy, passes, failures };
  return { health: state === "initial" ? INITIAL_CHECKING : current.health, passes, failures };
}

/** A failed HTTP check's result for a response code outside the matcher. */
export const codeMismatch = (code: number): CheckResult => ({
  ok: false,
  reason: "Target.ResponseCodeMismatch",
  description: `Health checks failed with these codes: [${code}]`,
});

export const timedOut: CheckResult = { ok: false, reason: "Target.Timeout", description: "Request timed out" };

export const failedCheck: CheckResult = {
  ok: false,
  reason: "Target.FailedHealthChecks",
  description: "Health checks failed",
};
