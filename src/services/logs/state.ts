import { logsErrors } from "../../protocol/generated/errors/logs.js";
import type { Clock } from "../../core/clock.js";
import { type Scope, arn, parseArn } from "../../core/ids.js";
import type { LogGroupClass } from "../../protocol/generated/types/logs.js";
import type { DocumentStore } from "../../store/documents.js";
import type { LogEventRepository } from "../../store/log-events.js";
import { DAY, checkGroupName } from "./rules.js";

/** A log group as stored. */
export interface GroupDoc {
  name: string;
  /** Epoch milliseconds. */
  creationTime: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  logGroupClass: LogGroupClass;
  deletionProtectionEnabled: boolean;
  tags: Record<string, string>;
}

/** A log stream as stored; event statistics are kept current by every write. */
export interface StreamDoc {
  group: string;
  name: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  /** Number of accepted PutLogEvents calls; the upload sequence token is derived from it. */
  uploads: number;
}

export const groupArn = (scope: Scope, group: string) => arn("logs", scope, `log-group:${group}`);
export const streamArn = (scope: Scope, group: string, stream: string) =>
  arn("logs", scope, `log-group:${group}:log-stream:${stream}`);
export const sequenceToken = (uploads: number) => String(uploads).padStart(56, "0");

const streamId = (group: string, stream: string) => `${group}:${stream}`;

export const groupNotFound = () => logsErrors.ResourceNotFoundException("The specified log group does not exist.");
export const streamNotFound = () => logsErrors.ResourceNotFoundException("The specified log stream does not exist.");

/** What the CloudWatch Logs operations share: collections, the event repository and the clock. */
export class LogsState {
  readonly groups;
  readonly streams;

  constructor(
    readonly store: DocumentStore,
    readonly events: LogEventRepository,
    readonly clock: Clock,
  ) {
    this.groups = store.collection<GroupDoc>("logs.group", { id: (g) => g.name });
    this.streams = store.collection<StreamDoc>("logs.stream", {
      id: (s) => streamId(s.group, s.name),
      parent: (s) => s.group,
    });
  }

  now(): number {
    return this.clock.now().getTime();
  }

  requireGroup(scope: Scope, name: string): GroupDoc {
    const g = this.groups.get(scope, name);
    if (!g) throw groupNotFound();
    return g;
  }

  getStream(scope: Scope, group: string, stream: string): StreamDoc | undefined {
    return this.streams.get(scope, streamId(group, stream));
  }

  requireStream(scope: Scope, group: string, stream: string): StreamDoc {
    const s = this.getStream(scope, group, stream);
    if (!s) throw streamNotFound();
    return s;
  }

  deleteStream(scope: Scope, group: string, stream: string): boolean {
    return this.streams.delete(scope, streamId(group, stream));
  }

  /** Events before this timestamp are past the group's retention and no longer visible. */
  retentionCutoff(group: GroupDoc, now = this.now()): number {
    return group.retentionInDays ? now - group.retentionInDays * DAY : Number.MIN_SAFE_INTEGER;
  }

  /**
   * The group an operation names, by `logGroupName` or `logGroupIdentifier` (a name or an ARN,
   * with or without the trailing `:*`). Exactly one of the two must be given.
   */
  resolveGroup(scope: Scope, input: { logGroupName?: string; logGroupIdentifier?: string }): GroupDoc {
    if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined)
      throw logsErrors.InvalidParameterException(
        "LogGroup name and LogGroup ARN are mutually exclusive parameters: pass logGroupName or logGroupIdentifier, not both.",
      );
    if (input.logGroupName !== undefined) return this.requireGroup(scope, checkGroupName(input.logGroupName));
    if (input.logGroupIdentifier !== undefined)
      return this.requireGroup(scope, groupNameFromIdentifier(scope, input.logGroupIdentifier, "logGroupIdentifier"));
    throw logsErrors.InvalidParameterException(
      "Should provide either logGroupName or logGroupIdentifier: name the log group by one of them.",
    );
  }
}

/**
 * The log group name in a log group name or ARN (`arn:aws:logs:<region>:<account>:log-group:<name>`,
 * optionally ending in `:*`). An ARN for another account or region names a group that is not
 * here: ResourceNotFoundException.
 */
export function groupNameFromIdentifier(scope: Scope, identifier: string, member: string): string {
  if (!identifier.startsWith("arn:")) return checkGroupName(identifier, member);
  const parsed = parseArn(identifier);
  const m = parsed?.service === "logs" ? /^log-group:([^:]+)(:\*)?$/.exec(parsed.resource) : null;
  if (!parsed || !m)
    throw logsErrors.InvalidParameterException(
      `${identifier} is not a log group ARN. Expected arn:aws:logs:<region>:<account>:log-group:<name>.`,
    );
  if (parsed.account !== scope.account || parsed.region !== scope.region) throw groupNotFound();
  return checkGroupName(m[1], member);
}
