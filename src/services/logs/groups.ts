import { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { LogGroup, Operations } from "../../protocol/generated/types/logs.js";
import type { Provider } from "../../protocol/service.js";
import { pageByKey } from "../../core/paginate.js";
import { checkGroupName, checkRetention, checkTags } from "./rules.js";
import { type GroupDoc, type LogsState, groupArn, groupNameFromIdentifier } from "./state.js";

const MAX_TAGS = 50;

/** Log groups: create, delete, describe, retention, deletion protection and tags. */
export function groupOperations(state: LogsState): Provider<Operations> {
  const describe = (scope: Scope, g: GroupDoc): LogGroup => {
    const arn = groupArn(scope, g.name);
    return {
      logGroupName: g.name,
      creationTime: g.creationTime,
      retentionInDays: g.retentionInDays,
      metricFilterCount: 0,
      arn: `${arn}:*`,
      storedBytes: state.events.storedBytes(scope, g.name, state.retentionCutoff(g)),
      kmsKeyId: g.kmsKeyId,
      logGroupClass: g.logGroupClass,
      logGroupArn: arn,
      deletionProtectionEnabled: g.deletionProtectionEnabled,
    };
  };

  /** The group a tagging ARN names (log groups are the taggable resource Berth has). */
  const groupByArn = (scope: Scope, resourceArn: string): GroupDoc => {
    if (!resourceArn.startsWith("arn:"))
      throw new ServiceError(
        "InvalidParameterException",
        `${resourceArn} is not an ARN. Pass the log group ARN, arn:aws:logs:<region>:<account>:log-group:<name>.`,
      );
    return state.requireGroup(scope, groupNameFromIdentifier(scope, resourceArn, "resourceArn"));
  };

  const addTags = (scope: Scope, g: GroupDoc, tags: Record<string, string>, member: string) => {
    checkTags(tags, member);
    const merged = { ...g.tags, ...tags };
    if (Object.keys(merged).length > MAX_TAGS)
      throw new ServiceError(
        "TooManyTagsException",
        `A log group can have at most ${MAX_TAGS} tags; ${g.name} would have ${Object.keys(merged).length}. Remove some tags first.`,
        400,
        "Sender",
        { resourceName: groupArn(scope, g.name) },
      );
    state.groups.put(scope, { ...g, tags: merged });
  };

  const removeTags = (scope: Scope, g: GroupDoc, keys: string[]) => {
    const tags = { ...g.tags };
    for (const k of keys) delete tags[k];
    state.groups.put(scope, { ...g, tags });
  };

  return {
    CreateLogGroup: (input, ctx) => {
      const name = checkGroupName(input.logGroupName);
      const tags = checkTags(input.tags ?? {});
      state.store.transaction(() => {
        if (state.groups.get(ctx, name))
          throw new ServiceError("ResourceAlreadyExistsException", "The specified log group already exists");
        state.groups.put(ctx, {
          name,
          creationTime: state.now(),
          kmsKeyId: input.kmsKeyId,
          logGroupClass: input.logGroupClass ?? "STANDARD",
          deletionProtectionEnabled: input.deletionProtectionEnabled ?? false,
          tags,
        });
      });
      return {};
    },

    DeleteLogGroup: (input, ctx) => {
      const name = checkGroupName(input.logGroupName);
      state.store.transaction(() => {
        const g = state.requireGroup(ctx, name);
        if (g.deletionProtectionEnabled)
          throw new ServiceError(
            "ValidationException",
            `Log group ${name} has deletion protection enabled. Turn it off with PutLogGroupDeletionProtection before deleting the group.`,
          );
        for (const s of state.streams.children(ctx, name)) state.deleteStream(ctx, name, s.name);
        state.events.deleteGroup(ctx, name);
        state.groups.delete(ctx, name);
      });
      return {};
    },

    DescribeLogGroups: (input, ctx) => {
      if (input.logGroupNamePrefix !== undefined && input.logGroupNamePattern !== undefined)
        throw new ServiceError(
          "InvalidParameterException",
          "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters: pass one of logGroupNamePrefix and logGroupNamePattern.",
        );
      if (
        input.logGroupIdentifiers !== undefined &&
        (input.logGroupNamePrefix !== undefined || input.logGroupNamePattern !== undefined)
      )
        throw new ServiceError(
          "InvalidParameterException",
          "logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern: pass one kind of filter.",
        );
      const prefix = input.logGroupNamePrefix;
      const pattern = input.logGroupNamePattern;
      const wanted = input.logGroupIdentifiers?.map((id) => groupNameFromIdentifierLoose(ctx, id));
      const groups = state.groups
        .list(ctx)
        .filter(
          (g) =>
            (prefix === undefined || g.name.startsWith(prefix)) &&
            (pattern === undefined || g.name.includes(pattern)) &&
            (input.logGroupClass === undefined || g.logGroupClass === input.logGroupClass) &&
            (wanted === undefined || wanted.includes(g.name)),
        );
      const { page, nextToken } = pageByKey(groups, (g) => [g.name], {
        nextToken: input.nextToken,
        limit: input.limit ?? 50,
      });
      // Like AWS: a pattern search reports only the name, ARN and creation time.
      const shown = page.map((g) => describe(ctx, g));
      const logGroups =
        pattern === undefined
          ? shown
          : shown.map(({ logGroupName, arn, creationTime }) => ({ logGroupName, arn, creationTime }));
      return { logGroups, nextToken };
    },

    PutRetentionPolicy: (input, ctx) => {
      const name = checkGroupName(input.logGroupName);
      const days = checkRetention(input.retentionInDays);
      state.store.transaction(() => {
        const g = state.requireGroup(ctx, name);
        state.groups.put(ctx, { ...g, retentionInDays: days });
      });
      return {};
    },

    DeleteRetentionPolicy: (input, ctx) => {
      const name = checkGroupName(input.logGroupName);
      state.store.transaction(() => {
        const { retentionInDays: _, ...g } = state.requireGroup(ctx, name);
        state.groups.put(ctx, g);
      });
      return {};
    },

    PutLogGroupDeletionProtection: (input, ctx) => {
      const name = groupNameFromIdentifier(ctx, input.logGroupIdentifier, "logGroupIdentifier");
      state.store.transaction(() => {
        const g = state.requireGroup(ctx, name);
        state.groups.put(ctx, { ...g, deletionProtectionEnabled: input.deletionProtectionEnabled });
      });
      return {};
    },

    TagResource: (input, ctx) => {
      state.store.transaction(() => addTags(ctx, groupByArn(ctx, input.resourceArn), input.tags, "tags"));
      return {};
    },

    UntagResource: (input, ctx) => {
      state.store.transaction(() => removeTags(ctx, groupByArn(ctx, input.resourceArn), input.tagKeys));
      return {};
    },

    ListTagsForResource: (input, ctx) => ({ tags: groupByArn(ctx, input.resourceArn).tags }),

    TagLogGroup: (input, ctx) => {
      const name = checkGroupName(input.logGroupName);
      state.store.transaction(() => addTags(ctx, state.requireGroup(ctx, name), input.tags, "tags"));
      return {};
    },

    UntagLogGroup: (input, ctx) => {
      const name = checkGroupName(input.logGroupName);
      state.store.transaction(() => removeTags(ctx, state.requireGroup(ctx, name), input.tags));
      return {};
    },

    ListTagsLogGroup: (input, ctx) => ({
      tags: state.requireGroup(ctx, checkGroupName(input.logGroupName)).tags,
    }),
  };
}

/** For DescribeLogGroups' logGroupIdentifiers: an identifier for another account simply matches nothing. */
function groupNameFromIdentifierLoose(scope: Scope, id: string): string {
  try {
    return groupNameFromIdentifier(scope, id, "logGroupIdentifiers");
  } catch (e) {
    if (e instanceof ServiceError && e.code === "ResourceNotFoundException") return "";
    throw e;
  }
}
