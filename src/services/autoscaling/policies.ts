import type { AlarmActionHandler, AlarmInvocation } from "../../controllers/alarms/controller.js";
import {
  aggregateMetric,
  selectStep,
  stepAdjustmentsProblem,
  targetTrackingCapacity,
} from "../../controllers/scaling/decide.js";
import { type Scope, arn, uuid } from "../../core/ids.js";
import type { MonitoringConfig } from "../../config/config.js";
import type { PutMetricAlarmInput } from "../../protocol/generated/types/cloudwatch.js";
import type { Operations, PutScalingPolicyType, ScalingPolicy } from "../../protocol/generated/types/autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import type { GroupPolicyRecord, GroupRecord } from "../../store/schema/autoscaling.js";
import type { AlarmWriter } from "../cloudwatch/alarms.js";
import { type AutoScalingContext, pageOf, validation } from "./context.js";
import { adjustedCapacity } from "./decide.js";

const TYPES = ["SimpleScaling", "StepScaling", "TargetTrackingScaling"];
const ADJUSTMENTS = ["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"];
const PREDEFINED: Record<string, { namespace: string; metric: string }> = {
  ASGAverageCPUUtilization: { namespace: "AWS/EC2", metric: "CPUUtilization" },
  ASGAverageNetworkIn: { namespace: "AWS/EC2", metric: "NetworkIn" },
  ASGAverageNetworkOut: { namespace: "AWS/EC2", metric: "NetworkOut" },
};

export type PolicyTimings = Pick<
  MonitoringConfig,
  "targetTrackingPeriodSec" | "targetTrackingHighPeriods" | "targetTrackingLowPeriods"
>;

const view = ({ ownedAlarms: _o, ...p }: GroupPolicyRecord): ScalingPolicy => p;

function checkPolicy(input: PutScalingPolicyType, type: string) {
  if (!TYPES.includes(type))
    throw validation(
      type === "PredictiveScaling"
        ? "Berth does not support PredictiveScaling policies; use TargetTrackingScaling, StepScaling or SimpleScaling."
        : `Invalid policy type ${type}.`,
    );
  if (type !== "TargetTrackingScaling") {
    if (!input.AdjustmentType)
      throw validation("AdjustmentType is required for a SimpleScaling or StepScaling policy.");
    if (!ADJUSTMENTS.includes(input.AdjustmentType))
      throw validation(`Invalid adjustment type ${input.AdjustmentType}.`);
    if (input.TargetTrackingConfiguration)
      throw validation("TargetTrackingConfiguration is only for TargetTrackingScaling policies.");
  }
  if (type === "SimpleScaling" && input.ScalingAdjustment === undefined)
    throw validation("ScalingAdjustment is required for a SimpleScaling policy.");
  if (type === "StepScaling") {
    if (!input.StepAdjustments?.length) throw validation("StepAdjustments is required for a StepScaling policy.");
    const problem = stepAdjustmentsProblem(input.StepAdjustments);
    if (problem) throw validation(problem);
  }
  if (type === "TargetTrackingScaling") {
    const c = input.TargetTrackingConfiguration;
    if (!c) throw validation("TargetTrackingConfiguration is required for a TargetTrackingScaling policy.");
    if (!c.PredefinedMetricSpecification === !c.CustomizedMetricSpecification)
      throw validation("Either PredefinedMetricSpecification or CustomizedMetricSpecification must be specified.");
    const p = c.PredefinedMetricSpecification?.PredefinedMetricType;
    if (p && !PREDEFINED[p])
      throw validation(`Berth does not publish ${p}; use ASGAverageCPUUtilization or a customized metric.`);
  }
}

/** The metric a target tracking policy's alarms watch. */
function alarmMetric(input: PutScalingPolicyType, periodSec: number): Partial<PutMetricAlarmInput> {
  const c = input.TargetTrackingConfiguration!;
  const p = c.PredefinedMetricSpecification;
  if (p) {
    const m = PREDEFINED[p.PredefinedMetricType];
    return {
      Namespace: m.namespace,
      MetricName: m.metric,
      Statistic: "Average",
      Dimensions: [{ Name: "AutoScalingGroupName", Value: input.AutoScalingGroupName }],
      Period: periodSec,
    };
  }
  const m = c.CustomizedMetricSpecification!;
  return {
    Namespace: m.Namespace,
    MetricName: m.MetricName,
    Dimensions: m.Dimensions,
    Statistic: (m.Statistic ?? "Average") as PutMetricAlarmInput["Statistic"],
    Unit: m.Unit as PutMetricAlarmInput["Unit"],
    Period: periodSec,
  };
}

/** What a policy's run changes: the new desired capacity, or why nothing. */
export function policyCapacity(
  policy: GroupPolicyRecord,
  g: Pick<GroupRecord, "DesiredCapacity" | "MinSize" | "MaxSize">,
  run: { metric?: number; threshold?: number; direction?: "out" | "in" },
): number | { skip: string } {
  const bounds = { min: g.MinSize, max: g.MaxSize, minMagnitude: policy.MinAdjustmentMagnitude };
  if (policy.PolicyType === "TargetTrackingScaling") {
    const c = policy.TargetTrackingConfiguration!;
    if (run.metric === undefined) return { skip: "The alarm has no datapoint to track." };
    if (run.direction === "in" && c.DisableScaleIn) return { skip: "Scale-in is disabled for this policy." };
    const raw = targetTrackingCapacity(g.DesiredCapacity, run.metric, c.TargetValue, run.direction ?? "out");
    return Math.min(g.MaxSize, Math.max(g.MinSize, raw));
  }
  if (policy.PolicyType === "StepScaling") {
    const threshold = run.threshold ?? 0;
    const step = selectStep(policy.StepAdjustments ?? [], run.metric ?? threshold, threshold);
    if (!step) return { skip: `No step adjustment covers the metric value ${run.metric ?? threshold}.` };
    return adjustedCapacity(g.DesiredCapacity, policy.AdjustmentType!, step.ScalingAdjustment, bounds);
  }
  return adjustedCapacity(g.DesiredCapacity, policy.AdjustmentType!, policy.ScalingAdjustment ?? 0, bounds);
}

export function policyOperations(
  ctx: AutoScalingContext,
  deps: {
    alarms: AlarmWriter;
    timings: PolicyTimings;
    alarmsWithAction: (scope: Scope, arn: string) => { AlarmName: string; AlarmARN: string }[];
  },
  onChange: () => void,
): Provider<Operations> & { run: PolicyRunner; deleteAlarmsOf: (scope: Scope, group: string) => void } {
  const { records } = ctx;
  const key = (group: string, name: string) => `${group}/${name}`;
  const find = (scope: Scope, group: string | undefined, name: string) => {
    const byArn = name.startsWith("arn:") ? records.policies.byArn(name) : undefined;
    const p = byArn?.doc ?? (group ? records.policies.get(scope, key(group, name)) : undefined);
    if (!p) throw validation(`No scaling policy found for service namespace, policy name: ${name}`);
    return p;
  };
  const withAlarms = (scope: Scope, p: GroupPolicyRecord) => ({
    ...view(p),
    Alarms: p.PolicyType === "TargetTrackingScaling" ? p.ownedAlarms : deps.alarmsWithAction(scope, p.PolicyARN),
  });

  /** Runs a policy: sets the group's desired capacity; returns what happened. */
  const run: PolicyRunner = (scope, policy, r) =>
    ctx.store.transaction(() => {
      const g = ctx.group(scope, policy.AutoScalingGroupName);
      const cooldownMs = (policy.Cooldown ?? g.DefaultCooldown) * 1000;
      if (
        r.honorCooldown &&
        policy.PolicyType === "SimpleScaling" &&
        (g.cooldownUntil ?? 0) > ctx.clock.now().getTime()
      )
        return { skip: "The group is in its cooldown period." };
      const next = policyCapacity(policy, g, r);
      if (typeof next !== "number") return next;
      if (next === g.DesiredCapacity) return { skip: `The desired capacity is already ${next}.` };
      const updated = ctx.setDesired(scope, g, next, r.why);
      if (policy.PolicyType === "SimpleScaling")
        records.groups.put(scope, { ...updated, cooldownUntil: ctx.clock.now().getTime() + cooldownMs });
      onChange();
      return { from: g.DesiredCapacity, to: next };
    });

  const deleteOne = (scope: Scope, p: GroupPolicyRecord) => {
    deps.alarms.delete(
      scope,
      p.ownedAlarms.map((a) => a.AlarmName),
    );
    records.policies.delete(scope, key(p.AutoScalingGroupName, p.PolicyName!));
  };

  return {
    run,
    deleteAlarmsOf: (scope, group) => {
      for (const p of records.policies.children(scope, group)) deleteOne(scope, p);
    },

    PutScalingPolicy: (input, rc) => {
      const type = input.PolicyType ?? "SimpleScaling";
      checkPolicy(input, type);
      return ctx.store.transaction(() => {
        const g = ctx.group(rc, input.AutoScalingGroupName);
        const existing = records.policies.get(rc, key(g.AutoScalingGroupName, input.PolicyName));
        const policyArn =
          existing?.PolicyARN ??
          arn(
            "autoscaling",
            rc,
            `scalingPolicy:${uuid()}:autoScalingGroupName/${g.AutoScalingGroupName}:policyName/${input.PolicyName}`,
          );
        let owned: GroupPolicyRecord["ownedAlarms"] = [];
        if (existing && existing.PolicyType === "TargetTrackingScaling" && type !== "TargetTrackingScaling")
          deps.alarms.delete(
            rc,
            existing.ownedAlarms.map((a) => a.AlarmName),
          );
        if (type === "TargetTrackingScaling") {
          const c = input.TargetTrackingConfiguration!;
          const reuse = existing?.ownedAlarms ?? [];
          const nameOf = (kind: "High" | "Low") =>
            reuse.find((a) => a.AlarmName.includes(`-Alarm${kind}-`))?.AlarmName ??
            `TargetTracking-${g.AutoScalingGroupName}-Alarm${kind}-${uuid()}`;
          const {
            targetTrackingPeriodSec: period,
            targetTrackingHighPeriods: high,
            targetTrackingLowPeriods: low,
          } = deps.timings;
          const common = {
            ...alarmMetric(input, period),
            AlarmDescription: `DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ${policyArn}.`,
            AlarmActions: [policyArn],
            ActionsEnabled: true,
          };
          const hi = deps.alarms.put(rc, {
            ...common,
            AlarmName: nameOf("High"),
            EvaluationPeriods: high,
            DatapointsToAlarm: high,
            Threshold: c.TargetValue,
            ComparisonOperator: "GreaterThanThreshold",
          } as PutMetricAlarmInput);
          owned = [{ AlarmName: hi.AlarmName, AlarmARN: hi.AlarmArn }];
          const lowName = nameOf("Low");
          if (!c.DisableScaleIn) {
            const lo = deps.alarms.put(rc, {
              ...common,
              AlarmName: lowName,
              EvaluationPeriods: low,
              DatapointsToAlarm: low,
              Threshold: c.TargetValue * 0.9,
              ComparisonOperator: "LessThanThreshold",
            } as PutMetricAlarmInput);
            owned.push({ AlarmName: lo.AlarmName, AlarmARN: lo.AlarmArn });
          } else deps.alarms.delete(rc, [lowName]);
        }
        const policy: GroupPolicyRecord = {
          AutoScalingGroupName: g.AutoScalingGroupName,
          PolicyName: input.PolicyName,
          PolicyARN: policyArn,
          PolicyType: type,
          AdjustmentType: input.AdjustmentType,
          MinAdjustmentMagnitude: input.MinAdjustmentMagnitude,
          ScalingAdjustment: input.ScalingAdjustment,
          Cooldown: type === "SimpleScaling" ? input.Cooldown : undefined,
          StepAdjustments: type === "StepScaling" ? input.StepAdjustments : undefined,
          MetricAggregationType: type === "StepScaling" ? (input.MetricAggregationType ?? "Average") : undefined,
          EstimatedInstanceWarmup: input.EstimatedInstanceWarmup,
          TargetTrackingConfiguration: input.TargetTrackingConfiguration,
          Enabled: input.Enabled ?? true,
          ownedAlarms: owned,
        };
        records.policies.put(rc, policy);
        return { PolicyARN: policyArn, Alarms: type === "TargetTrackingScaling" ? owned : undefined };
      });
    },

    DescribePolicies: (input, rc) => {
      let list = input.AutoScalingGroupName
        ? records.policies.children(rc, input.AutoScalingGroupName)
        : records.policies.list(rc);
      if (input.PolicyNames?.length)
        list = list.filter(
          (p) => input.PolicyNames!.includes(p.PolicyName!) || input.PolicyNames!.includes(p.PolicyARN),
        );
      if (input.PolicyTypes?.length) list = list.filter((p) => input.PolicyTypes!.includes(p.PolicyType!));
      const { page, nextToken } = pageOf(list, (p) => [p.AutoScalingGroupName, p.PolicyName!], input, {
        default: 50,
        max: 100,
      });
      return { ScalingPolicies: page.map((p) => withAlarms(rc, p)), NextToken: nextToken };
    },

    DeletePolicy: (input, rc) => {
      ctx.store.transaction(() => deleteOne(rc, find(rc, input.AutoScalingGroupName, input.PolicyName)));
      return {};
    },

    ExecutePolicy: (input, rc) => {
      const p = find(rc, input.AutoScalingGroupName, input.PolicyName);
      if (p.PolicyType === "TargetTrackingScaling")
        throw validation("ExecutePolicy is not supported for target tracking scaling policies.");
      if (p.PolicyType === "StepScaling" && (input.MetricValue === undefined || input.BreachThreshold === undefined))
        throw validation("MetricValue and BreachThreshold are required to execute a StepScaling policy.");
      const out = run(rc, p, {
        metric: input.MetricValue,
        threshold: input.BreachThreshold,
        honorCooldown: input.HonorCooldown ?? false,
        why: `a user request executed policy ${p.PolicyName}`,
      });
      if ("skip" in out && input.HonorCooldown && out.skip.includes("cooldown"))
        throw validation(`Scaling activity is not allowed while the group is in its cooldown period.`);
      return {};
    },
  };
}

export type PolicyRunner = (
  scope: Scope,
  policy: GroupPolicyRecord,
  r: { metric?: number; threshold?: number; direction?: "out" | "in"; honorCooldown: boolean; why: string },
) => { from: number; to: number } | { skip: string };

/** Alarm actions that name an Auto Scaling group's policy (`…:scalingPolicy:…:autoScalingGroupName/…`). */
export function groupPolicyActionHandler(ctx: AutoScalingContext, run: PolicyRunner): AlarmActionHandler {
  return {
    repeats: true,
    matches: (a) => /^arn:aws[a-z-]*:autoscaling:[^:]*:\d{12}:scalingPolicy:[^:]+:autoScalingGroupName\//.test(a),
    async invoke(policyArn, invocation: AlarmInvocation) {
      const found = ctx.records.policies.byArn(policyArn);
      if (!found || found.scope.account !== invocation.scope.account)
        throw new Error(`The scaling policy ${policyArn} does not exist.`);
      const { scope, doc: p } = found;
      if (p.Enabled === false) return "Not scaled: the policy is disabled.";
      const values = invocation.datapoints.map((d) => d.value);
      const metric =
        p.PolicyType === "StepScaling"
          ? aggregateMetric(values, p.MetricAggregationType as "Average" | "Minimum" | "Maximum" | undefined)
          : invocation.datapoints[0]?.value;
      const out = run(scope, p, {
        metric,
        threshold: invocation.alarm.Threshold,
        direction: invocation.alarm.ComparisonOperator.startsWith("Greater") ? "out" : "in",
        honorCooldown: true,
        why: `a monitor alarm ${invocation.alarm.AlarmName} in state ${invocation.alarm.StateValue} triggered policy ${p.PolicyName}`,
      });
      return "skip" in out ? `Not scaled: ${out.skip}` : `Set desired capacity from ${out.from} to ${out.to}.`;
    },
  };
}
