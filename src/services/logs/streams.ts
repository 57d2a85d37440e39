import { ServiceError } from "../../core/errors.js";
import type { Operations } from "../../protocol/generated/types/logs.js";
import type { Provider } from "../../protocol/service.js";
import { pageByKey } from "../../core/paginate.js";
import { checkGroupName, checkStreamName } from "./rules.js";
import { type LogsState, sequenceToken, streamArn, streamNotFound } from "./state.js";

/** Log streams: create, delete, describe. */
export function streamOperations(state: LogsState): Provider<Operations> {
  return {
    CreateLogStream: (input, ctx) => {
      const group = checkGroupName(input.logGroupName);
      const name = checkStreamName(input.logStreamName);
      state.store.transaction(() => {
        state.requireGroup(ctx, group);
        if (state.getStream(ctx, group, name))
          throw new ServiceError("ResourceAlreadyExistsException", "The specified log stream already exists");
        state.streams.put(ctx, { group, name, creationTime: state.now(), uploads: 0 });
      });
      return {};
    },

    DeleteLogStream: (input, ctx) => {
      const group = checkGroupName(input.logGroupName);
      const name = checkStreamName(input.logStreamName);
      state.store.transaction(() => {
        state.requireGroup(ctx, group);
        if (!state.deleteStream(ctx, group, name)) throw streamNotFound();
        state.events.deleteStream(ctx, group, name);
      });
      return {};
    },

    DescribeLogStreams: (input, ctx) => {
      const group = state.resolveGroup(ctx, input);
      const byTime = input.orderBy === "LastEventTime";
      if (byTime && input.logStreamNamePrefix !== undefined)
        throw new ServiceError(
          "InvalidParameterException",
          "Cannot order by LastEventTime with a logStreamNamePrefix. Drop logStreamNamePrefix or order by LogStreamName.",
        );
      const prefix = input.logStreamNamePrefix ?? "";
      const streams = state.streams.children(ctx, group.name).filter((s) => s.name.startsWith(prefix));
      const { page, nextToken } = pageByKey(streams, (s) => (byTime ? [s.lastEventTimestamp ?? 0, s.name] : [s.name]), {
        descending: input.descending ?? false,
        nextToken: input.nextToken,
        limit: input.limit ?? 50,
      });
      return {
        logStreams: page.map((s) => ({
          logStreamName: s.name,
          creationTime: s.creationTime,
          firstEventTimestamp: s.firstEventTimestamp,
          lastEventTimestamp: s.lastEventTimestamp,
          lastIngestionTime: s.lastIngestionTime,
          uploadSequenceToken: s.uploads > 0 ? sequenceToken(s.uploads) : undefined,
          arn: streamArn(ctx, group.name, s.name),
          // AWS stopped reporting per-stream storedBytes in 2019; it is always 0.
          storedBytes: 0,
        })),
        nextToken,
      };
    },
  };
}
