import { autoscalingErrors } from "../../protocol/generated/errors/autoscaling.js";
import type { Clock } from "../../core/clock.js";
import { commonErrors } from "../../core/errors.js";
import { type SortKey, pageByKey, pageSize } from "../../core/paginate.js";
import { type Scope, arn, uuid } from "../../core/ids.js";
import type {
  Activity,
  AutoScalingGroup,
  Instance,
  LaunchTemplateSpecification,
  ScalingActivityStatusCode,
} from "../../protocol/generated/types/autoscaling.js";
import type { Operations as Ec2Operations } from "../../protocol/generated/types/ec2.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import {
  AutoScalingRecords,
  type GroupActivityRecord,
  type GroupInstanceRecord,
  type GroupRecord,
} from "../../store/schema/autoscaling.js";
import type { Ec2Records, LaunchTemplateRecord } from "../../store/schema/ec2.js";

export const validation = commonErrors.ValidationError;
/** A NextToken this service did not issue, in Auto Scaling's words. */
const invalidToken = () =>
  autoscalingErrors.InvalidNextToken(
    "The NextToken value is invalid. Pass the NextToken from the previous response unchanged.",
  );

/**
 * One page of a Describe call's items in key order: MaxRecords checked against the operation's
 * limits, and a NextToken this service never issued refused with InvalidNextToken.
 */
export function pageOf<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  input: { NextToken?: string; MaxRecords?: number },
  limits: { default: number; max: number },
) {
  const limit = pageSize(input.MaxRecords, limits, () => validation(`MaxRecords must be between 1 and ${limits.max}`));
  return pageByKey(items, keyOf, { limit, nextToken: input.NextToken, invalidToken });
}

/** What Auto Scaling uses of EC2, in process: its records and its API. */
export interface Ec2Access {
  records: Ec2Records;
  api: Provider<Ec2Operations>;
}

/** EC2 calls Auto Scaling makes on its own, as its service-linked role. */
export const serviceContext = (scope: Scope): RequestContext => ({
  ...scope,
  requestId: "autoscaling",
  principal: {
    accessKeyId: "",
    arn: arn(
      "iam",
      { ...scope, region: "" },
      "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    ),
  },
});

/** AWS writes times in causes as 2026-12-04T13:00:00Z. */
export const causeTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

/** The launch template a group names (directly or in its mixed instances policy). */
export const templateSpecOf = (g: Pick<GroupRecord, "LaunchTemplate" | "MixedInstancesPolicy">) =>
  g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;

export class AutoScalingContext {
  readonly records: AutoScalingRecords;

  constructor(
    readonly store: DocumentStore,
    readonly clock: Clock,
    readonly ec2: Ec2Access,
  ) {
    this.records = new AutoScalingRecords(store);
  }

  group(scope: Scope, name: string): GroupRecord {
    const g = this.records.groups.get(scope, name);
    if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
    return g;
  }

  /** The launch template and version number a spec names, or AWS's ValidationError. */
  resolveTemplate(
    scope: Scope,
    spec: LaunchTemplateSpecification,
  ): { template: LaunchTemplateRecord; version: number } {
    const all = this.ec2.records.launchTemplates.list(scope);
    let template: LaunchTemplateRecord | undefined;
    if (spec.LaunchTemplateId) {
      template = all.find((t) => t.LaunchTemplateId === spec.LaunchTemplateId);
      if (!template)
        throw validation(`The specified launch template, with template ID ${spec.LaunchTemplateId}, does not exist.`);
    } else if (spec.LaunchTemplateName) {
      template = all.find((t) => t.LaunchTemplateName === spec.LaunchTemplateName);
      if (!template)
        throw validation(
          `The specified launch template, with template name ${spec.LaunchTemplateName}, does not exist.`,
        );
    } else throw validation("Valid requests must contain either launchTemplateId or LaunchTemplateName");
    const v = spec.Version ?? "$Default";
    const latest = Math.max(...template.Versions.map((x) => x.VersionNumber));
    const n = v === "$Latest" ? latest : v === "$Default" ? template.DefaultVersionNumber : Number(v);
    if (!template.Versions.some((x) => x.VersionNumber === n))
      throw validation(
        `The specified launch template, with template ID ${template.LaunchTemplateId}, version ${v}, does not exist.`,
      );
    return { template, version: n };
  }

  /** Records an activity; returns it. */
  activity(
    scope: Scope,
    group: GroupRecord,
    a: {
      Description: string;
      Cause: string;
      StatusCode: ScalingActivityStatusCode;
      StatusMessage?: string;
      Details?: string;
    },
  ): GroupActivityRecord {
    const now = this.clock.now();
    const done = a.StatusCode === "Successful" || a.StatusCode === "Failed" || a.StatusCode === "Cancelled";
    return this.records.activities.put(scope, {
      ActivityId: uuid(),
      AutoScalingGroupName: group.AutoScalingGroupName,
      AutoScalingGroupARN: group.AutoScalingGroupARN,
      StartTime: now,
      EndTime: done ? now : undefined,
      Progress: done ? 100 : 0,
      Details:
        a.Details ??
        JSON.stringify({
          "Subnet ID": group.subnets[0]?.SubnetId,
          "Availability Zone": group.subnets[0]?.AvailabilityZone,
        }),
      ...a,
    });
  }

  /** Completes an activity that is in progress. */
  finishActivity(scope: Scope, id: string | undefined, StatusCode: "Successful" | "Failed", StatusMessage?: string) {
    if (!id) return;
    const a = this.records.activities.get(scope, id);
    if (!a || a.EndTime) return;
    this.records.activities.put(scope, { ...a, StatusCode, StatusMessage, EndTime: this.clock.now(), Progress: 100 });
  }

  /** Changes desired capacity, remembering why for the causes of the activities that follow. */
  setDesired(scope: Scope, g: GroupRecord, desired: number, why: string): GroupRecord {
    const now = this.clock.now();
    const text =
      desired === g.DesiredCapacity
        ? why
        : `${why} changing the desired capacity from ${g.DesiredCapacity} to ${desired}`;
    return this.records.groups.put(scope, { ...g, DesiredCapacity: desired, lastChange: { at: now, text } });
  }

  instancesOf(scope: Scope, group: string): GroupInstanceRecord[] {
    return this.records.instances.children(scope, group);
  }
}

export function instanceView(i: GroupInstanceRecord): Instance {
  return {
    InstanceId: i.InstanceId,
    InstanceType: i.InstanceType,
    AvailabilityZone: i.AvailabilityZone,
    LifecycleState: i.LifecycleState,
    HealthStatus: i.HealthStatus,
    LaunchTemplate: i.LaunchTemplate,
    ProtectedFromScaleIn: i.ProtectedFromScaleIn,
  };
}

export function groupView(g: GroupRecord, instances: GroupInstanceRecord[]): AutoScalingGroup {
  return {
    AutoScalingGroupName: g.AutoScalingGroupName,
    AutoScalingGroupARN: g.AutoScalingGroupARN,
    LaunchTemplate: g.LaunchTemplate,
    MixedInstancesPolicy: g.MixedInstancesPolicy,
    MinSize: g.MinSize,
    MaxSize: g.MaxSize,
    DesiredCapacity: g.DesiredCapacity,
    DefaultCooldown: g.DefaultCooldown,
    AvailabilityZones: g.AvailabilityZones,
    LoadBalancerNames: [],
    TargetGroupARNs: [],
    HealthCheckType: g.HealthCheckType,
    HealthCheckGracePeriod: g.HealthCheckGracePeriod,
    Instances: instances.filter((i) => i.LifecycleState !== "Terminated").map(instanceView),
    CreatedTime: g.CreatedTime,
    SuspendedProcesses: [],
    VPCZoneIdentifier: g.VPCZoneIdentifier,
    EnabledMetrics: [],
    Status: g.Status,
    Tags: g.Tags,
    TerminationPolicies: g.TerminationPolicies,
    NewInstancesProtectedFromScaleIn: g.NewInstancesProtectedFromScaleIn,
    ServiceLinkedRoleARN: g.ServiceLinkedRoleARN,
    CapacityRebalance: false,
    TrafficSources: [],
  };
}

export const activityView = ({ ...a }: GroupActivityRecord): Activity => a;
