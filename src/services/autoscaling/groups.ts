import { arn, uuid, type Scope } from "../../core/ids.js";
import { autoscalingErrors } from "../../protocol/generated/errors/autoscaling.js";
import type {
  CreateAutoScalingGroupType,
  LaunchTemplateSpecification,
  Operations,
  Tag,
  TagDescription,
} from "../../protocol/generated/types/autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import type { GroupRecord, GroupSubnet } from "../../store/schema/autoscaling.js";
import {
  type AutoScalingContext,
  activityView,
  causeTime,
  groupView,
  pageOf,
  serviceContext,
  templateSpecOf,
  validation,
} from "./context.js";
import { capacityProblem } from "./decide.js";

/** Group names: 1 to 255 characters, no colon (ARNs hold them). */
const validName = (name: string) => name.length >= 1 && name.length <= 255 && !name.includes(":");
const DEFAULT_COOLDOWN = 300;

/** The group's spec of a launch template as DescribeAutoScalingGroups shows it: id, name and the version asked for. */
function templateSpec(ctx: AutoScalingContext, scope: Scope, spec: LaunchTemplateSpecification) {
  const { template } = ctx.resolveTemplate(scope, spec);
  return {
    LaunchTemplateId: template.LaunchTemplateId,
    LaunchTemplateName: template.LaunchTemplateName,
    Version: spec.Version ?? "$Default",
  };
}

/** The subnets a group launches into: its VPCZoneIdentifier's, or the default VPC's in its zones. */
async function placement(
  ctx: AutoScalingContext,
  scope: Scope,
  input: { VPCZoneIdentifier?: string; AvailabilityZones?: string[] },
): Promise<GroupSubnet[]> {
  const out = await ctx.ec2.api.DescribeSubnets!({}, serviceContext(scope));
  const all = out.Subnets ?? [];
  const ids = (input.VPCZoneIdentifier ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length) {
    const subnets = ids.map((id) => {
      const s = all.find((x) => x.SubnetId === id);
      if (!s) throw validation(`The subnet ID '${id}' does not exist`);
      return { SubnetId: id, AvailabilityZone: s.AvailabilityZone! };
    });
    const vpcs = new Set(ids.map((id) => all.find((x) => x.SubnetId === id)!.VpcId));
    if (vpcs.size > 1) throw validation("The subnets must all be in the same VPC.");
    if (input.AvailabilityZones?.length) {
      const stray = subnets.find((s) => !input.AvailabilityZones!.includes(s.AvailabilityZone));
      if (stray)
        throw validation(`The availability zones of the specified subnets and the Auto Scaling group do not match`);
    }
    return subnets;
  }
  if (!input.AvailabilityZones?.length) throw validation("At least one Availability Zone or VPC Subnet is required.");
  return input.AvailabilityZones.map((zone) => {
    const s = all.find((x) => x.DefaultForAz && x.AvailabilityZone === zone);
    if (!s) throw validation(`Invalid Availability Zone or no default subnet in it: ${zone}`);
    return { SubnetId: s.SubnetId!, AvailabilityZone: zone };
  });
}

const tagsOf = (name: string, tags: Tag[] | undefined): TagDescription[] =>
  (tags ?? []).map((t) => {
    if (!t.Key) throw validation("Tag key cannot be empty.");
    if (t.Key.toLowerCase().startsWith("aws:")) throw validation("Tag keys starting with 'aws:' are reserved.");
    return {
      ResourceId: name,
      ResourceType: "auto-scaling-group",
      Key: t.Key,
      Value: t.Value ?? "",
      PropagateAtLaunch: t.PropagateAtLaunch ?? false,
    };
  });

function checkSource(
  input: Pick<
    CreateAutoScalingGroupType,
    "LaunchTemplate" | "MixedInstancesPolicy" | "LaunchConfigurationName" | "InstanceId"
  >,
) {
  if (input.LaunchConfigurationName || input.InstanceId)
    throw validation(
      "Berth supports launch templates only: name a LaunchTemplate or a MixedInstancesPolicy (launch configurations are deprecated on AWS).",
    );
  if (input.LaunchTemplate && input.MixedInstancesPolicy)
    throw validation(
      "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
    );
  if (!input.LaunchTemplate && !input.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification)
    throw validation(
      "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
    );
}

/** Auto Scaling groups: the API. The group controller launches and terminates their instances. */
export function groupOperations(ctx: AutoScalingContext, onChange: () => void): Provider<Operations> {
  const { records } = ctx;
  const now = () => ctx.clock.now();

  return {
    CreateAutoScalingGroup: async (input, rc) => {
      if (!validName(input.AutoScalingGroupName))
        throw validation(
          `1 validation error detected: Value '${input.AutoScalingGroupName}' at 'autoScalingGroupName' failed to satisfy constraint`,
        );
      checkSource(input);
      const desired = input.DesiredCapacity ?? input.MinSize;
      const problem = capacityProblem(input.MinSize, input.MaxSize, desired);
      if (problem) throw validation(problem);
      const spec = templateSpecOf(input)!;
      const shown = templateSpec(ctx, rc, spec);
      const subnets = await placement(ctx, rc, input);
      const tags = tagsOf(input.AutoScalingGroupName, input.Tags);
      const at = now();
      const group: GroupRecord = {
        AutoScalingGroupName: input.AutoScalingGroupName,
        AutoScalingGroupARN: arn(
          "autoscaling",
          rc,
          `autoScalingGroup:${uuid()}:autoScalingGroupName/${input.AutoScalingGroupName}`,
        ),
        LaunchTemplate: input.LaunchTemplate ? shown : undefined,
        MixedInstancesPolicy: input.MixedInstancesPolicy
          ? {
              ...input.MixedInstancesPolicy,
              LaunchTemplate: { ...input.MixedInstancesPolicy.LaunchTemplate, LaunchTemplateSpecification: shown },
            }
          : undefined,
        MinSize: input.MinSize,
        MaxSize: input.MaxSize,
        DesiredCapacity: desired,
        DefaultCooldown: input.DefaultCooldown ?? DEFAULT_COOLDOWN,
        AvailabilityZones: [...new Set(subnets.map((s) => s.AvailabilityZone))].sort(),
        VPCZoneIdentifier: input.VPCZoneIdentifier ? subnets.map((s) => s.SubnetId).join(",") : undefined,
        subnets,
        HealthCheckType: input.HealthCheckType ?? "EC2",
        HealthCheckGracePeriod: input.HealthCheckGracePeriod ?? 0,
        CreatedTime: at,
        Tags: tags,
        TerminationPolicies: input.TerminationPolicies ?? ["Default"],
        NewInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn ?? false,
        ServiceLinkedRoleARN:
          input.ServiceLinkedRoleARN ??
          `arn:aws:iam::${rc.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
        lastChange: {
          at,
          text: `a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}`,
        },
      };
      ctx.store.transaction(() => {
        if (records.groups.get(rc, input.AutoScalingGroupName))
          throw autoscalingErrors.AlreadyExistsFault(
            `AutoScalingGroup by this name already exists - A group with the name ${input.AutoScalingGroupName} already exists`,
          );
        records.groups.put(rc, group, { expect: 0 });
      });
      onChange();
      return {};
    },

    DescribeAutoScalingGroups: (input, rc) => {
      let groups = records.groups.list(rc);
      if (input.AutoScalingGroupNames?.length)
        groups = groups.filter((g) => input.AutoScalingGroupNames!.includes(g.AutoScalingGroupName));
      for (const f of input.Filters ?? []) {
        const values = f.Values ?? [];
        if (f.Name === "tag-key") groups = groups.filter((g) => g.Tags.some((t) => values.includes(t.Key ?? "")));
        else if (f.Name === "tag-value")
          groups = groups.filter((g) => g.Tags.some((t) => values.includes(t.Value ?? "")));
        else if (f.Name?.startsWith("tag:")) {
          const key = f.Name.slice(4);
          groups = groups.filter((g) => g.Tags.some((t) => t.Key === key && values.includes(t.Value ?? "")));
        } else
          throw validation(
            `Filter type ${f.Name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key>`,
          );
      }
      const { page, nextToken } = pageOf(groups, (g) => [g.AutoScalingGroupName], input, { default: 50, max: 100 });
      return {
        AutoScalingGroups: page.map((g) => groupView(g, ctx.instancesOf(rc, g.AutoScalingGroupName))),
        NextToken: nextToken,
      };
    },

    UpdateAutoScalingGroup: async (input, rc) => {
      const g = ctx.group(rc, input.AutoScalingGroupName);
      if (g.Status) throw autoscalingErrors.ScalingActivityInProgressFault("The group is being deleted.");
      if (input.LaunchConfigurationName) checkSource(input);
      const min = input.MinSize ?? g.MinSize;
      const max = input.MaxSize ?? g.MaxSize;
      // AWS moves desired into the new bounds when only the bounds change.
      const desired = input.DesiredCapacity ?? Math.min(max, Math.max(min, g.DesiredCapacity));
      const problem = capacityProblem(min, max, desired);
      if (problem) throw validation(problem);
      const spec = input.LaunchTemplate ?? input.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      const shown = spec && templateSpec(ctx, rc, spec);
      const subnets =
        input.VPCZoneIdentifier || input.AvailabilityZones?.length ? await placement(ctx, rc, input) : g.subnets;
      ctx.store.transaction(() => {
        const current = ctx.group(rc, g.AutoScalingGroupName);
        const next: GroupRecord = {
          ...current,
          MinSize: min,
          MaxSize: max,
          DefaultCooldown: input.DefaultCooldown ?? current.DefaultCooldown,
          HealthCheckType: input.HealthCheckType ?? current.HealthCheckType,
          HealthCheckGracePeriod: input.HealthCheckGracePeriod ?? current.HealthCheckGracePeriod,
          NewInstancesProtectedFromScaleIn:
            input.NewInstancesProtectedFromScaleIn ?? current.NewInstancesProtectedFromScaleIn,
          TerminationPolicies: input.TerminationPolicies ?? current.TerminationPolicies,
          subnets,
          AvailabilityZones: [...new Set(subnets.map((s) => s.AvailabilityZone))].sort(),
          VPCZoneIdentifier: input.VPCZoneIdentifier
            ? subnets.map((s) => s.SubnetId).join(",")
            : current.VPCZoneIdentifier,
          LaunchTemplate: input.LaunchTemplate
            ? shown
            : input.MixedInstancesPolicy
              ? undefined
              : current.LaunchTemplate,
          MixedInstancesPolicy: input.MixedInstancesPolicy
            ? {
                ...input.MixedInstancesPolicy,
                LaunchTemplate: { ...input.MixedInstancesPolicy.LaunchTemplate, LaunchTemplateSpecification: shown },
              }
            : input.LaunchTemplate
              ? undefined
              : current.MixedInstancesPolicy,
        };
        ctx.setDesired(
          rc,
          next,
          desired,
          `a user request update of AutoScalingGroup constraints to min: ${min}, max: ${max}, desired: ${desired}`,
        );
      });
      onChange();
      return {};
    },

    SetDesiredCapacity: (input, rc) => {
      ctx.store.transaction(() => {
        const g = ctx.group(rc, input.AutoScalingGroupName);
        if (input.DesiredCapacity > g.MaxSize)
          throw validation(
            `New SetDesiredCapacity value ${input.DesiredCapacity} is above max value ${g.MaxSize} for the AutoScalingGroup.`,
          );
        if (input.DesiredCapacity < g.MinSize)
          throw validation(
            `New SetDesiredCapacity value ${input.DesiredCapacity} is below min value ${g.MinSize} for the AutoScalingGroup.`,
          );
        if (input.HonorCooldown && (g.cooldownUntil ?? 0) > now().getTime())
          throw autoscalingErrors.ScalingActivityInProgressFault(
            "Scaling activity is in progress or the cooldown period is in effect and blocks this action.",
          );
        ctx.setDesired(rc, g, input.DesiredCapacity, "a user request explicitly set group desired capacity");
      });
      onChange();
      return {};
    },

    DeleteAutoScalingGroup: (input, rc) => {
      ctx.store.transaction(() => {
        const g = ctx.group(rc, input.AutoScalingGroupName);
        const live = ctx.instancesOf(rc, g.AutoScalingGroupName);
        if (!input.ForceDelete) {
          if (live.length)
            throw autoscalingErrors.ResourceInUseFault(
              "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.",
            );
          const busy = records.activities
            .children(rc, g.AutoScalingGroupName)
            .some((a) => a.StatusCode === "InProgress");
          if (busy)
            throw autoscalingErrors.ScalingActivityInProgressFault(
              "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.",
            );
        }
        if (!live.length) {
          deleteGroup(ctx, rc, g.AutoScalingGroupName);
          return;
        }
        ctx.setDesired(
          rc,
          { ...g, MinSize: 0, Status: "Delete in progress" },
          0,
          "a user request deleted the AutoScalingGroup",
        );
      });
      onChange();
      return {};
    },

    DescribeScalingActivities: (input, rc) => {
      let list = input.AutoScalingGroupName
        ? records.activities.children(rc, input.AutoScalingGroupName)
        : records.activities.list(rc);
      if (
        input.AutoScalingGroupName &&
        !records.groups.get(rc, input.AutoScalingGroupName) &&
        !input.IncludeDeletedGroups
      )
        list = [];
      if (input.ActivityIds?.length) list = list.filter((a) => input.ActivityIds!.includes(a.ActivityId));
      const { page, nextToken } = pageOf(list, (a) => [-a.StartTime.getTime(), a.ActivityId], input, {
        default: 100,
        max: 100,
      });
      return { Activities: page.map(activityView), NextToken: nextToken };
    },
  };
}

/** Removes a group with its policies (and their alarms, by the caller) and its instance records. */
export function deleteGroup(ctx: AutoScalingContext, scope: Scope, name: string) {
  for (const p of ctx.records.policies.children(scope, name))
    ctx.records.policies.delete(scope, `${name}/${p.PolicyName}`);
  ctx.records.groups.delete(scope, name);
}

/** What the start of a cause says: "At <time> <why>." */
export const causeOf = (g: GroupRecord) => `At ${causeTime(g.lastChange.at)} ${g.lastChange.text}.`;
