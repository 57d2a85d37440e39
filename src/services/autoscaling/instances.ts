import type { Operations } from "../../protocol/generated/types/autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import { type AutoScalingContext, activityView, causeTime, pageOf, serviceContext, validation } from "./context.js";

/** The instances of groups: describe, protect from scale-in, terminate one. */
export function groupInstanceOperations(ctx: AutoScalingContext, onChange: () => void): Provider<Operations> {
  const { records } = ctx;
  return {
    DescribeAutoScalingInstances: (input, rc) => {
      let list = records.instances.list(rc).filter((i) => i.LifecycleState !== "Terminated");
      if (input.InstanceIds?.length) list = list.filter((i) => input.InstanceIds!.includes(i.InstanceId));
      const { page, nextToken } = pageOf(list, (i) => [i.InstanceId], input, { default: 50, max: 50 });
      return {
        AutoScalingInstances: page.map((i) => ({
          InstanceId: i.InstanceId,
          InstanceType: i.InstanceType,
          AutoScalingGroupName: i.group,
          AvailabilityZone: i.AvailabilityZone,
          LifecycleState: i.LifecycleState,
          HealthStatus: i.HealthStatus.toUpperCase(),
          LaunchTemplate: i.LaunchTemplate,
          ProtectedFromScaleIn: i.ProtectedFromScaleIn,
        })),
        NextToken: nextToken,
      };
    },

    SetInstanceProtection: (input, rc) => {
      ctx.store.transaction(() => {
        ctx.group(rc, input.AutoScalingGroupName);
        const found = input.InstanceIds.map((id) => {
          const i = records.instances.get(rc, id);
          if (!i || i.group !== input.AutoScalingGroupName)
            throw validation(`The instance ${id} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`);
          return i;
        });
        for (const i of found) records.instances.put(rc, { ...i, ProtectedFromScaleIn: input.ProtectedFromScaleIn });
      });
      return {};
    },

    TerminateInstanceInAutoScalingGroup: async (input, rc) => {
      const activity = ctx.store.transaction(() => {
        const i = records.instances.get(rc, input.InstanceId);
        if (!i || i.LifecycleState === "Terminated")
          throw validation(`Instance Id not found - No managed instance found for instance ID: ${input.InstanceId}`);
        let g = ctx.group(rc, i.group);
        if (i.LifecycleState.startsWith("Terminating")) {
          const a = i.activityId && records.activities.get(rc, i.activityId);
          if (a) return a;
        }
        const at = ctx.clock.now();
        let cause = `At ${causeTime(at)} instance ${i.InstanceId} was taken out of service in response to a user request.`;
        if (input.ShouldDecrementDesiredCapacity) {
          if (g.DesiredCapacity <= g.MinSize)
            throw validation(
              `Currently, desiredSize equals minSize (${g.MinSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
            );
          g = ctx.setDesired(rc, g, g.DesiredCapacity - 1, "a user request");
          cause = `At ${causeTime(at)} instance ${i.InstanceId} was taken out of service in response to a user request, shrinking the capacity from ${g.DesiredCapacity + 1} to ${g.DesiredCapacity}.`;
        }
        const a = ctx.activity(rc, g, {
          Description: `Terminating EC2 instance: ${i.InstanceId}`,
          Cause: cause,
          StatusCode: "InProgress",
        });
        records.instances.put(rc, { ...i, LifecycleState: "Terminating", activityId: a.ActivityId });
        return a;
      });
      await Promise.resolve()
        .then(() => ctx.ec2.api.TerminateInstances!({ InstanceIds: [input.InstanceId] }, serviceContext(rc)))
        .catch(() => undefined);
      onChange();
      return { Activity: activityView(activity) };
    },
  };
}
