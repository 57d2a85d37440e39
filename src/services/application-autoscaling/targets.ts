import { type TargetRecord, targetKey } from "../../store/schema/application-autoscaling.js";
import { ServiceError } from "../../core/errors.js";
import { type Scope, parseArn } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import type { Operations } from "../../protocol/generated/types/application-autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import { type AasContext, objectNotFound, validation } from "./context.js";
import { deletePolicy } from "./policies.js";

/** A page of items for the Describe operations (MaxResults 1–50, default 50). */
export function page<T>(
  items: T[],
  key: (t: T) => (string | number)[],
  maxResults?: number,
  nextToken?: string,
  descending = false,
) {
  const limit = maxResults ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50)
    throw validation(`MaxResults must be between 1 and 50; got ${limit}.`);
  try {
    return pageByKey(items, key, { limit, nextToken, descending });
  } catch {
    throw new ServiceError(
      "InvalidNextTokenException",
      "The NextToken is not valid. Pass the NextToken from the previous response unchanged.",
    );
  }
}

const serviceRole = (scope: Scope, namespace: string) =>
  namespace === "ecs"
    ? `arn:aws:iam::${scope.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`
    : `arn:aws:iam::${scope.account}:role/aws-service-role/application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling`;

const describeTarget = ({ Tags: _t, cooldown: _c, ...t }: TargetRecord) => t;

/** Deletes a target with its policies (and their alarms) and scheduled actions. */
export function deleteTarget(aas: AasContext, scope: Scope, t: TargetRecord) {
  const key = targetKey(t.ServiceNamespace, t.ResourceId, t.ScalableDimension);
  for (const p of aas.policies.children(scope, key)) deletePolicy(aas, scope, p);
  for (const a of aas.scheduled.children(scope, key)) aas.scheduled.delete(scope, `${key}|${a.ScheduledActionName}`);
  aas.targets.delete(scope, key);
}

export function targetOperations(aas: AasContext): Provider<Operations> {
  const resourceByArn = (scope: Scope, arn: string) => {
    const found = aas.targets.byArn(arn);
    if (!found || found.scope.account !== scope.account || found.scope.region !== scope.region || !parseArn(arn))
      throw new ServiceError("ResourceNotFoundException", `No scalable target found for ARN ${arn}.`, 400, "Sender", {
        ResourceName: arn,
      });
    return found.doc;
  };
  return {
    RegisterScalableTarget(input, ctx) {
      const { ServiceNamespace: ns, ResourceId: id, ScalableDimension: dim } = input;
      const problem = aas.resources.problem(ctx, ns, id, dim);
      if (problem) throw validation(problem);
      for (const [name, v] of [
        ["MinCapacity", input.MinCapacity],
        ["MaxCapacity", input.MaxCapacity],
      ] as const)
        if (v !== undefined && v < 0) throw validation(`${name} must be 0 or more; got ${v}.`);
      const tags = Object.entries(input.Tags ?? {});
      if (tags.length > 200)
        throw new ServiceError("TooManyTagsException", "A scalable target can have at most 200 tags.");
      const saved = aas.store.transaction(() => {
        const existing = aas.targets.get(ctx, targetKey(ns, id, dim));
        if (!existing && (input.MinCapacity === undefined || input.MaxCapacity === undefined))
          throw validation("MinCapacity and MaxCapacity are required when registering a new scalable target.");
        const min = input.MinCapacity ?? existing!.MinCapacity;
        const max = input.MaxCapacity ?? existing!.MaxCapacity;
        if (min > max) throw validation("Minimum capacity cannot be larger than maximum capacity");
        const target: TargetRecord = {
          ServiceNamespace: ns,
          ResourceId: id,
          ScalableDimension: dim,
          MinCapacity: min,
          MaxCapacity: max,
          RoleARN: existing?.RoleARN ?? input.RoleARN ?? serviceRole(ctx, ns),
          CreationTime: existing?.CreationTime ?? aas.clock.now(),
          SuspendedState: {
            DynamicScalingInSuspended: false,
            DynamicScalingOutSuspended: false,
            ScheduledScalingSuspended: false,
            ...existing?.SuspendedState,
            ...input.SuspendedState,
          },
          ScalableTargetARN: existing?.ScalableTargetARN ?? aas.targetArn(ctx),
          Tags: existing ? existing.Tags : (input.Tags ?? {}),
          cooldown: existing?.cooldown ?? {},
        };
        aas.targets.put(ctx, target);
        aas.clampCapacity(ctx, target);
        return target;
      });
      return { ScalableTargetARN: saved.ScalableTargetARN };
    },

    DescribeScalableTargets(input, ctx) {
      const targets = aas.targets
        .list(ctx)
        .filter(
          (t) =>
            t.ServiceNamespace === input.ServiceNamespace &&
            (!input.ResourceIds?.length || input.ResourceIds.includes(t.ResourceId)) &&
            (input.ScalableDimension === undefined || t.ScalableDimension === input.ScalableDimension),
        );
      const { page: items, nextToken } = page(
        targets,
        (t) => [t.ResourceId, t.ScalableDimension],
        input.MaxResults,
        input.NextToken,
      );
      return { ScalableTargets: items.map(describeTarget), NextToken: nextToken };
    },

    DeregisterScalableTarget(input, ctx) {
      aas.store.transaction(() => {
        const t = aas.targets.get(ctx, targetKey(input.ServiceNamespace, input.ResourceId, input.ScalableDimension));
        if (!t)
          throw objectNotFound(
            `No scalable target found for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}`,
          );
        deleteTarget(aas, ctx, t);
      });
      return {};
    },

    ListTagsForResource(input, ctx) {
      return { Tags: resourceByArn(ctx, input.ResourceARN).Tags };
    },

    TagResource(input, ctx) {
      aas.store.transaction(() => {
        const t = resourceByArn(ctx, input.ResourceARN);
        const tags = { ...t.Tags, ...input.Tags };
        if (Object.keys(tags).length > 200)
          throw new ServiceError(
            "TooManyTagsException",
            "A scalable target can have at most 200 tags.",
            400,
            "Sender",
            {
              ResourceName: input.ResourceARN,
            },
          );
        aas.targets.put(ctx, { ...t, Tags: tags });
      });
      return {};
    },

    UntagResource(input, ctx) {
      aas.store.transaction(() => {
        const t = resourceByArn(ctx, input.ResourceARN);
        const tags = { ...t.Tags };
        for (const k of input.TagKeys ?? []) delete tags[k];
        aas.targets.put(ctx, { ...t, Tags: tags });
      });
      return {};
    },
  };
}
