import { type PolicyRecord, type TargetRecord, targetKey } from "../../store/schema/application-autoscaling.js";
import type { Logger } from "../../core/logger.js";
import type { ScalingState } from "./state.js";
import type { AlarmActionHandler, AlarmInvocation } from "../alarms/controller.js";
import { adjustCapacity, aggregateMetric, decideScaling, selectStep, targetTrackingCapacity } from "./decide.js";

/** What a policy asks for when its alarm fires: a capacity from a base capacity, and the cooldown. */
export type PolicyPlan = { propose: (base: number) => number; cooldownSec: number } | { skip: string };

const DEFAULT_COOLDOWN_SEC = 300;

/** Pure: the plan of a policy for an alarm invocation. */
export function planPolicy(
  policy: PolicyRecord,
  invocation: Pick<AlarmInvocation, "alarm" | "datapoints">,
): PolicyPlan {
  const { alarm, datapoints } = invocation;
  if (policy.PolicyType === "TargetTrackingScaling") {
    const c = policy.TargetTrackingScalingPolicyConfiguration!;
    const direction = alarm.ComparisonOperator.startsWith("Greater") ? "out" : "in";
    if (direction === "in" && c.DisableScaleIn) return { skip: "Scale-in is disabled for this policy." };
    const metric = datapoints[0]?.value;
    if (metric === undefined) return { skip: "The alarm has no datapoint to track." };
    return {
      propose: (base) => targetTrackingCapacity(base, metric, c.TargetValue, direction),
      cooldownSec: (direction === "out" ? c.ScaleOutCooldown : c.ScaleInCooldown) ?? DEFAULT_COOLDOWN_SEC,
    };
  }
  const c = policy.StepScalingPolicyConfiguration!;
  const threshold = alarm.Threshold ?? 0;
  const value = aggregateMetric(
    datapoints.map((p) => p.value),
    c.MetricAggregationType,
  );
  const step = selectStep(c.StepAdjustments ?? [], value ?? threshold, threshold);
  if (!step) return { skip: `No step adjustment covers the metric value ${value ?? threshold}.` };
  return {
    propose: (base) => adjustCapacity(base, c.AdjustmentType!, step.ScalingAdjustment, c.MinAdjustmentMagnitude),
    cooldownSec: c.Cooldown ?? DEFAULT_COOLDOWN_SEC,
  };
}

/**
 * Runs scaling policies when alarms invoke them by ARN (`arn:aws:autoscaling:…:scalingPolicy:…`);
 * EC2 Auto Scaling's group policies (`…:autoScalingGroupName/…`) have their own handler.
 */
export function policyActionHandler(aas: ScalingState, logger: Logger): AlarmActionHandler {
  return {
    repeats: true,
    matches: (arn) =>
      /^arn:aws[a-z-]*:autoscaling:[^:]*:\d{12}:scalingPolicy:/.test(arn) && !arn.includes(":autoScalingGroupName/"),
    async invoke(arn, invocation) {
      const found = aas.policies.byArn(arn);
      if (!found || found.scope.account !== invocation.scope.account)
        throw new Error(`The scaling policy ${arn} does not exist.`);
      const { scope, doc: policy } = found;
      return aas.store.transaction(() => {
        const target = aas.targets.get(
          scope,
          targetKey(policy.ServiceNamespace, policy.ResourceId, policy.ScalableDimension),
        ) as TargetRecord | undefined;
        if (!target) throw new Error(`The scalable target of policy ${policy.PolicyName} is not registered.`);
        const plan = planPolicy(policy, invocation);
        if ("skip" in plan) return `Not scaled: ${plan.skip}`;
        const current = aas.resources.capacity(
          scope,
          target.ServiceNamespace,
          target.ResourceId,
          target.ScalableDimension,
        );
        if (current === undefined) throw new Error(`The resource ${target.ResourceId} does not exist.`);
        const decision = decideScaling({
          now: aas.clock.now().getTime(),
          current,
          min: target.MinCapacity,
          max: target.MaxCapacity,
          propose: plan.propose,
          cooldownSec: plan.cooldownSec,
          state: target.cooldown ?? {},
          suspended: {
            out: target.SuspendedState?.DynamicScalingOutSuspended,
            in: target.SuspendedState?.DynamicScalingInSuspended,
          },
        });
        const cause = `monitor alarm ${invocation.alarm.AlarmName} in state ${invocation.alarm.StateValue} triggered policy ${policy.PolicyName}`;
        if (!decision.scale) {
          if (decision.notScaled) aas.recordNotScaled(scope, target, cause, decision.notScaled);
          return `Not scaled: ${decision.reason}`;
        }
        const ok = aas.setCapacity(scope, target, decision.desired, cause, { cooldown: decision.cooldown });
        logger.info(
          { resource: target.ResourceId, from: current, to: decision.desired, policy: policy.PolicyName, ok },
          "scaling activity",
        );
        if (!ok) throw new Error(`Failed to set desired count to ${decision.desired}.`);
        return `Set desired count from ${current} to ${decision.desired}.`;
      });
    },
  };
}
