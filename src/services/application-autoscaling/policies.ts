import { type PolicyRecord, targetKey } from "../../store/schema/application-autoscaling.js";
import { stepAdjustmentsProblem } from "../../controllers/scaling/decide.js";
import { type Scope, uuid } from "../../core/ids.js";
import type { MetricDataQuery, MetricStat, PutMetricAlarmInput } from "../../protocol/generated/types/cloudwatch.js";
import type {
  Operations,
  PutScalingPolicyRequest,
  TargetTrackingScalingPolicyConfiguration,
} from "../../protocol/generated/types/application-autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import { type AasContext, objectNotFound, validation } from "./context.js";
import { page } from "./targets.js";

/** Predefined metrics for ECS services: namespace, metric, statistic and dimensions. */
export function predefinedMetric(
  type: string,
  resourceId: string,
  resourceLabel: string | undefined,
): {
  Namespace: string;
  MetricName: string;
  Statistic: "Average" | "Sum";
  Dimensions: { Name: string; Value: string }[];
} {
  const [, cluster, service] = resourceId.split("/");
  switch (type) {
    case "ECSServiceAverageCPUUtilization":
    case "ECSServiceAverageMemoryUtilization":
      return {
        Namespace: "AWS/ECS",
        MetricName: type === "ECSServiceAverageCPUUtilization" ? "CPUUtilization" : "MemoryUtilization",
        Statistic: "Average",
        Dimensions: [
          { Name: "ClusterName", Value: cluster },
          { Name: "ServiceName", Value: service },
        ],
      };
    case "ALBRequestCountPerTarget": {
      const m = /^app\/[^/]+\/[^/]+\/(targetgroup\/[^/]+\/[^/]+)$/.exec(resourceLabel ?? "");
      if (!m)
        throw validation(
          "ALBRequestCountPerTarget needs a ResourceLabel of the form app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>.",
        );
      return {
        Namespace: "AWS/ApplicationELB",
        MetricName: "RequestCountPerTarget",
        Statistic: "Sum",
        Dimensions: [{ Name: "TargetGroup", Value: m[1] }],
      };
    }
    default:
      throw validation(
        `Unsupported metric type ${type} for service namespace ecs. Use ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization or ALBRequestCountPerTarget.`,
      );
  }
}

/** The metric part of a target tracking alarm (PutMetricAlarm members). */
function alarmMetric(
  config: TargetTrackingScalingPolicyConfiguration,
  resourceId: string,
  periodSec: number,
): Partial<PutMetricAlarmInput> {
  if (config.PredefinedMetricSpecification) {
    const p = config.PredefinedMetricSpecification;
    return { ...predefinedMetric(p.PredefinedMetricType, resourceId, p.ResourceLabel), Period: periodSec };
  }
  const c = config.CustomizedMetricSpecification!;
  if (c.Metrics) {
    const metrics: MetricDataQuery[] = c.Metrics.map((q) => ({
      Id: q.Id,
      Label: q.Label,
      ReturnData: q.ReturnData,
      Expression: q.Expression,
      Period: q.Expression ? periodSec : undefined,
      MetricStat: q.MetricStat
        ? {
            Metric: {
              Namespace: q.MetricStat.Metric.Namespace,
              MetricName: q.MetricStat.Metric.MetricName,
              Dimensions: q.MetricStat.Metric.Dimensions,
            },
            Stat: q.MetricStat.Stat,
            Unit: q.MetricStat.Unit as MetricStat["Unit"],
            Period: periodSec,
          }
        : undefined,
    }));
    return { Metrics: metrics };
  }
  return {
    Namespace: c.Namespace,
    MetricName: c.MetricName,
    Dimensions: c.Dimensions,
    Statistic: c.Statistic,
    Unit: c.Unit as PutMetricAlarmInput["Unit"],
    Period: periodSec,
  };
}

function checkTargetTracking(input: PutScalingPolicyRequest) {
  const c = input.TargetTrackingScalingPolicyConfiguration;
  if (!c) throw validation("TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy.");
  if (input.StepScalingPolicyConfiguration)
    throw validation("A TargetTrackingScaling policy cannot have a StepScalingPolicyConfiguration.");
  if ((c.PredefinedMetricSpecification === undefined) === (c.CustomizedMetricSpecification === undefined))
    throw validation(
      "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified.",
    );
  if (!(c.TargetValue >= 8.51592e-109 && c.TargetValue <= 6.1734e307))
    throw validation(`TargetValue must be between 8.515920e-109 and 6.1734e+307; got ${c.TargetValue}.`);
  if (c.PredefinedMetricSpecification)
    predefinedMetric(
      c.PredefinedMetricSpecification.PredefinedMetricType,
      input.ResourceId,
      c.PredefinedMetricSpecification.ResourceLabel,
    );
  const custom = c.CustomizedMetricSpecification;
  if (custom) {
    if (custom.Metrics) {
      if (custom.MetricName || custom.Namespace || custom.Statistic || custom.Dimensions)
        throw validation(
          "A CustomizedMetricSpecification has either Metrics or MetricName/Namespace/Statistic, not both.",
        );
      if (custom.Metrics.filter((q) => q.ReturnData ?? true).length !== 1)
        throw validation("Exactly one of the Metrics of a CustomizedMetricSpecification must return data.");
    } else if (!custom.MetricName || !custom.Namespace || !custom.Statistic)
      throw validation("A CustomizedMetricSpecification needs MetricName, Namespace and Statistic (or Metrics).");
  }
  for (const [name, v] of [
    ["ScaleOutCooldown", c.ScaleOutCooldown],
    ["ScaleInCooldown", c.ScaleInCooldown],
  ] as const)
    if (v !== undefined && (v < 0 || v > 86400)) throw validation(`${name} must be between 0 and 86400; got ${v}.`);
}

function checkStepScaling(input: PutScalingPolicyRequest) {
  const c = input.StepScalingPolicyConfiguration;
  if (!c) throw validation("StepScalingPolicyConfiguration is required for a StepScaling policy.");
  if (input.TargetTrackingScalingPolicyConfiguration)
    throw validation("A StepScaling policy cannot have a TargetTrackingScalingPolicyConfiguration.");
  if (!c.AdjustmentType) throw validation("AdjustmentType is required for a StepScaling policy.");
  const problem = stepAdjustmentsProblem(c.StepAdjustments ?? []);
  if (problem) throw validation(problem);
  if (c.MinAdjustmentMagnitude !== undefined && c.AdjustmentType !== "PercentChangeInCapacity")
    throw validation("MinAdjustmentMagnitude is supported only with AdjustmentType PercentChangeInCapacity.");
  if (c.MinAdjustmentMagnitude !== undefined && c.MinAdjustmentMagnitude < 1)
    throw validation("MinAdjustmentMagnitude must be 1 or more.");
  if (c.Cooldown !== undefined && (c.Cooldown < 0 || c.Cooldown > 86400))
    throw validation(`Cooldown must be between 0 and 86400; got ${c.Cooldown}.`);
}

/** Deletes a policy and the alarms it owns. */
export function deletePolicy(aas: AasContext, scope: Scope, p: PolicyRecord) {
  aas.alarms.delete(
    scope,
    p.ownedAlarms.map((a) => a.AlarmName),
  );
  aas.policies.delete(scope, `${targetKey(p.ServiceNamespace, p.ResourceId, p.ScalableDimension)}|${p.PolicyName}`);
}

/** The alarms of a policy as DescribeScalingPolicies shows them. */
const alarmsOf = (aas: AasContext, scope: Scope, p: PolicyRecord) =>
  p.PolicyType === "TargetTrackingScaling" ? p.ownedAlarms : aas.alarmsWithAction(scope, p.PolicyARN);

export function policyOperations(aas: AasContext): Provider<Operations> {
  return {
    PutScalingPolicy(input, ctx) {
      const type = input.PolicyType ?? "StepScaling";
      if (type === "PredictiveScaling")
        throw validation(
          "Berth does not support PredictiveScaling policies; use TargetTrackingScaling or StepScaling.",
        );
      // The name ends the policy's ARN (…:policyName/<name>), so ARN separators are refused.
      if (input.PolicyName.includes(":"))
        throw validation(
          `1 validation error detected: Value '${input.PolicyName.slice(0, 64)}' at 'policyName' failed to satisfy constraint: Member must not contain ':'`,
        );
      if (type === "TargetTrackingScaling") checkTargetTracking(input);
      else checkStepScaling(input);
      return aas.store.transaction(() => {
        const target = aas.requireTarget(ctx, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
        const key = targetKey(target.ServiceNamespace, target.ResourceId, target.ScalableDimension);
        const existing = aas.policies.get(ctx, `${key}|${input.PolicyName}`);
        const policyArn =
          existing?.PolicyARN ?? aas.policyArn(ctx, input.ServiceNamespace, input.ResourceId, input.PolicyName);
        let owned: PolicyRecord["ownedAlarms"] = [];
        if (existing && (type !== "TargetTrackingScaling" || existing.PolicyType !== "TargetTrackingScaling"))
          aas.alarms.delete(
            ctx,
            existing.ownedAlarms.map((a) => a.AlarmName),
          );
        if (type === "TargetTrackingScaling") {
          const c = input.TargetTrackingScalingPolicyConfiguration!;
          const reuse = existing?.PolicyType === "TargetTrackingScaling" ? existing.ownedAlarms : [];
          const nameOf = (kind: "High" | "Low") =>
            reuse.find((a) => a.AlarmName.includes(`-Alarm${kind}-`))?.AlarmName ??
            `TargetTracking-${input.ResourceId}-Alarm${kind}-${uuid()}`;
          const {
            targetTrackingPeriodSec: period,
            targetTrackingHighPeriods: high,
            targetTrackingLowPeriods: low,
          } = aas.timings;
          const common = {
            ...alarmMetric(c, input.ResourceId, period),
            AlarmDescription: `DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ${policyArn}.`,
            AlarmActions: [policyArn],
            ActionsEnabled: true,
          };
          const highAlarm = aas.alarms.put(ctx, {
            ...common,
            AlarmName: nameOf("High"),
            EvaluationPeriods: high,
            DatapointsToAlarm: high,
            Threshold: c.TargetValue,
            ComparisonOperator: "GreaterThanThreshold",
          });
          owned = [{ AlarmName: highAlarm.AlarmName, AlarmARN: highAlarm.AlarmArn }];
          const lowName = nameOf("Low");
          if (!c.DisableScaleIn) {
            const lowAlarm = aas.alarms.put(ctx, {
              ...common,
              AlarmName: lowName,
              EvaluationPeriods: low,
              DatapointsToAlarm: low,
              Threshold: c.TargetValue * 0.9,
              ComparisonOperator: "LessThanThreshold",
            });
            owned.push({ AlarmName: lowAlarm.AlarmName, AlarmARN: lowAlarm.AlarmArn });
          } else aas.alarms.delete(ctx, [lowName]);
        }
        const policy: PolicyRecord = {
          PolicyARN: policyArn,
          PolicyName: input.PolicyName,
          ServiceNamespace: input.ServiceNamespace,
          ResourceId: input.ResourceId,
          ScalableDimension: input.ScalableDimension,
          PolicyType: type,
          StepScalingPolicyConfiguration: type === "StepScaling" ? input.StepScalingPolicyConfiguration : undefined,
          TargetTrackingScalingPolicyConfiguration:
            type === "TargetTrackingScaling" ? input.TargetTrackingScalingPolicyConfiguration : undefined,
          CreationTime: existing?.CreationTime ?? aas.clock.now(),
          ownedAlarms: owned,
        };
        aas.policies.put(ctx, policy);
        return { PolicyARN: policyArn, Alarms: type === "TargetTrackingScaling" ? owned : undefined };
      });
    },

    DescribeScalingPolicies(input, ctx) {
      const policies = aas.policies
        .list(ctx)
        .filter(
          (p) =>
            p.ServiceNamespace === input.ServiceNamespace &&
            (input.ResourceId === undefined || p.ResourceId === input.ResourceId) &&
            (input.ScalableDimension === undefined || p.ScalableDimension === input.ScalableDimension) &&
            (!input.PolicyNames?.length || input.PolicyNames.includes(p.PolicyName)),
        );
      const { page: items, nextToken } = page(
        policies,
        (p) => [p.ResourceId, p.ScalableDimension, p.PolicyName],
        input.MaxResults,
        input.NextToken,
      );
      return {
        ScalingPolicies: items.map(({ ownedAlarms: _, ...p }) => ({
          ...p,
          Alarms: alarmsOf(aas, ctx, { ...p, ownedAlarms: _ }),
        })),
        NextToken: nextToken,
      };
    },

    DeleteScalingPolicy(input, ctx) {
      aas.store.transaction(() => {
        const key = targetKey(input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
        const p = aas.policies.get(ctx, `${key}|${input.PolicyName}`);
        if (!p)
          throw objectNotFound(
            `No scaling policy found for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, policy name: ${input.PolicyName}`,
          );
        deletePolicy(aas, ctx, p);
      });
      return {};
    },
  };
}
