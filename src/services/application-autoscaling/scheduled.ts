import { type ScheduledActionRecord, isNotScaled, targetKey } from "../../store/schema/application-autoscaling.js";
import { ScheduleError, parseSchedule, validTimezone } from "../../controllers/scaling/schedule.js";
import type { Operations } from "../../protocol/generated/types/application-autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import { type AasContext, objectNotFound, validation } from "./context.js";
import { page } from "./targets.js";

const describeAction = ({ handledUntil: _, ...a }: ScheduledActionRecord) => a;

export function scheduledOperations(aas: AasContext): Provider<Operations> {
  return {
    PutScheduledAction(input, ctx) {
      if (input.Schedule !== undefined) {
        try {
          parseSchedule(input.Schedule);
        } catch (e) {
          if (e instanceof ScheduleError)
            throw validation(`Invalid schedule expression ${input.Schedule}: ${e.message}`);
          throw e;
        }
      }
      if (input.Timezone !== undefined && !validTimezone(input.Timezone))
        throw validation(
          `Invalid Timezone ${input.Timezone}: use an IANA time zone name such as America/New_York or UTC.`,
        );
      if (input.StartTime && input.EndTime && input.StartTime >= input.EndTime)
        throw validation("StartTime must be before EndTime.");
      const action = input.ScalableTargetAction;
      for (const [name, v] of [
        ["MinCapacity", action?.MinCapacity],
        ["MaxCapacity", action?.MaxCapacity],
      ] as const)
        if (v !== undefined && v < 0) throw validation(`ScalableTargetAction.${name} must be 0 or more; got ${v}.`);
      if (
        action?.MinCapacity !== undefined &&
        action.MaxCapacity !== undefined &&
        action.MinCapacity > action.MaxCapacity
      )
        throw validation("Minimum capacity cannot be larger than maximum capacity");
      aas.store.transaction(() => {
        aas.requireTarget(ctx, input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
        const key = targetKey(input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
        const existing = aas.scheduled.get(ctx, `${key}|${input.ScheduledActionName}`);
        const schedule = input.Schedule ?? existing?.Schedule;
        if (!schedule) throw validation("Schedule is required when creating a scheduled action.");
        const now = aas.clock.now();
        aas.scheduled.put(ctx, {
          ScheduledActionName: input.ScheduledActionName,
          ScheduledActionARN:
            existing?.ScheduledActionARN ??
            aas.scheduledActionArn(ctx, input.ServiceNamespace, input.ResourceId, input.ScheduledActionName),
          ServiceNamespace: input.ServiceNamespace,
          ResourceId: input.ResourceId,
          ScalableDimension: input.ScalableDimension,
          Schedule: schedule,
          Timezone: input.Timezone ?? existing?.Timezone,
          StartTime: input.StartTime ?? existing?.StartTime,
          EndTime: input.EndTime ?? existing?.EndTime,
          ScalableTargetAction: action ?? existing?.ScalableTargetAction,
          CreationTime: existing?.CreationTime ?? now,
          // Occurrences before now (and before a change) are not run.
          handledUntil: now.getTime(),
        });
      });
      return {};
    },

    DescribeScheduledActions(input, ctx) {
      const actions = aas.scheduled
        .list(ctx)
        .filter(
          (a) =>
            a.ServiceNamespace === input.ServiceNamespace &&
            (input.ResourceId === undefined || a.ResourceId === input.ResourceId) &&
            (input.ScalableDimension === undefined || a.ScalableDimension === input.ScalableDimension) &&
            (!input.ScheduledActionNames?.length || input.ScheduledActionNames.includes(a.ScheduledActionName)),
        );
      const { page: items, nextToken } = page(
        actions,
        (a) => [a.ResourceId, a.ScheduledActionName],
        input.MaxResults,
        input.NextToken,
      );
      return { ScheduledActions: items.map(describeAction), NextToken: nextToken };
    },

    DeleteScheduledAction(input, ctx) {
      aas.store.transaction(() => {
        const key = targetKey(input.ServiceNamespace, input.ResourceId, input.ScalableDimension);
        if (!aas.scheduled.delete(ctx, `${key}|${input.ScheduledActionName}`))
          throw objectNotFound(
            `No scheduled action found for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, scheduled action name: ${input.ScheduledActionName}`,
          );
      });
      return {};
    },

    DescribeScalingActivities(input, ctx) {
      const activities = (
        input.ResourceId !== undefined && input.ScalableDimension !== undefined
          ? aas.activities.children(ctx, targetKey(input.ServiceNamespace, input.ResourceId, input.ScalableDimension))
          : aas.activities.list(ctx)
      ).filter(
        (a) =>
          a.ServiceNamespace === input.ServiceNamespace &&
          (input.ResourceId === undefined || a.ResourceId === input.ResourceId) &&
          (input.ScalableDimension === undefined || a.ScalableDimension === input.ScalableDimension) &&
          (input.IncludeNotScaledActivities === true || !isNotScaled(a)),
      );
      const { page: items, nextToken } = page(
        activities,
        (a) => [a.StartTime.getTime(), a.id],
        input.MaxResults,
        input.NextToken,
        true,
      );
      return { ScalingActivities: items.map(({ id: _i, target: _t, ...a }) => a), NextToken: nextToken };
    },
  };
}
