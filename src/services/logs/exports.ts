/**
 * CloudWatch Logs export tasks: CreateExportTask, DescribeExportTasks, CancelExportTask.
 * A task is PENDING when created, RUNNING while its events are written (one gzip object per
 * stream, as AWS lays them out), then COMPLETED; CancelExportTask makes a PENDING or RUNNING
 * task CANCELLED. Objects go to an ExportSink (local bucket directories until Berth has S3).
 * Tasks left PENDING or RUNNING by a restart run again on start.
 */
import { randomUUID } from "node:crypto";
import { pageByKey } from "../../core/paginate.js";
import type { Scope } from "../../core/ids.js";
import type { CancelTimer, TimerClock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { logsErrors } from "../../protocol/generated/errors/logs.js";
import type { ExportTask, ExportTaskStatusCode, Operations } from "../../protocol/generated/types/logs.js";
import type { Provider } from "../../protocol/service.js";
import type { Boundary } from "../../store/log-events.js";
import {
  DEFAULT_EXPORT_PREFIX,
  type ExportSink,
  bucketNameProblem,
  exportLine,
  exportObjectKey,
  gzipLines,
  prefixProblem,
  writeTestKey,
} from "./export-files.js";
import { after } from "./paging.js";
import { checkGroupName } from "./rules.js";
import type { LogsState } from "./state.js";

/** An export task as stored. */
export interface ExportTaskDoc {
  taskId: string;
  taskName?: string;
  logGroupName: string;
  logStreamNamePrefix?: string;
  /** Epoch ms, both inclusive. */
  from: number;
  to: number;
  destination: string;
  destinationPrefix: string;
  status: ExportTaskStatusCode;
  message?: string;
  creationTime: number;
  completionTime?: number;
}

const ACTIVE: ExportTaskStatusCode[] = ["PENDING", "RUNNING"];
const READ_CHUNK = 5_000;

export const exportNotFound = () => logsErrors.ResourceNotFoundException("The specified export task does not exist.");

export interface ExportDeps {
  sink: ExportSink;
  timers: TimerClock["after"];
  /** How long a new task stays PENDING before it runs (ms). */
  delayMs: number;
  logger?: Logger;
}

export function exportTasks(state: LogsState, deps: ExportDeps) {
  const tasks = state.store.collection<ExportTaskDoc>("logs.export", { id: (t) => t.taskId });
  const timers = new Set<CancelTimer>();

  const schedule = (scope: Scope, taskId: string, ms: number) => {
    const cancel = deps.timers(ms, () => {
      timers.delete(cancel);
      try {
        run(scope, taskId);
      } catch (e) {
        deps.logger?.warn({ err: e, taskId }, "logs export task failed");
        finish(scope, taskId, "FAILED", `Export failed: ${(e as Error).message}`);
      }
    });
    timers.add(cancel);
  };

  /** Ends a task that is still active (a cancel in between wins). */
  const finish = (scope: Scope, taskId: string, status: ExportTaskStatusCode, message?: string) =>
    state.store.transaction(() => {
      const t = tasks.get(scope, taskId);
      if (!t || !ACTIVE.includes(t.status)) return;
      tasks.put(scope, { ...t, status, message, completionTime: state.now() });
    });

  function run(scope: Scope, taskId: string) {
    const task = state.store.transaction(() => {
      const t = tasks.get(scope, taskId);
      if (!t || !ACTIVE.includes(t.status)) return undefined;
      const running: ExportTaskDoc = { ...t, status: "RUNNING", message: undefined };
      tasks.put(scope, running);
      return running;
    });
    if (!task) return;
    deps.sink.put(task.destination, writeTestKey(task.destinationPrefix), Buffer.from("Permission Check Successful"));
    const byStream = new Map<string, string[]>();
    let boundary: Boundary | undefined;
    for (;;) {
      const rows = state.events.query(scope, {
        group: task.logGroupName,
        streams: task.logStreamNamePrefix !== undefined ? { prefix: task.logStreamNamePrefix } : undefined,
        from: task.from,
        to: task.to + 1,
        after: boundary,
        limit: READ_CHUNK,
      });
      for (const row of rows) {
        const lines = byStream.get(row.stream) ?? [];
        if (lines.length === 0) byStream.set(row.stream, lines);
        lines.push(exportLine(row));
        boundary = after(row);
      }
      if (rows.length < READ_CHUNK) break;
      // A cancel stops the export between chunks.
      if (tasks.get(scope, taskId)?.status !== "RUNNING") return;
    }
    for (const [stream, lines] of byStream)
      deps.sink.put(task.destination, exportObjectKey(task.destinationPrefix, taskId, stream), gzipLines(lines));
    finish(scope, taskId, "COMPLETED", "Completed successfully");
  }

  const view = (t: ExportTaskDoc): ExportTask => ({
    taskId: t.taskId,
    taskName: t.taskName,
    logGroupName: t.logGroupName,
    from: t.from,
    to: t.to,
    destination: t.destination,
    destinationPrefix: t.destinationPrefix,
    status: { code: t.status, message: t.message },
    executionInfo: { creationTime: t.creationTime, completionTime: t.completionTime },
  });

  const operations: Provider<Operations> = {
    CreateExportTask: (input, ctx) => {
      const group = checkGroupName(input.logGroupName);
      const bucketProblem = bucketNameProblem(input.destination);
      if (bucketProblem)
        throw logsErrors.InvalidParameterException(
          `The destination bucket name ${input.destination.slice(0, 64)} is not valid: a bucket name ${bucketProblem}.`,
        );
      const prefix = input.destinationPrefix ?? DEFAULT_EXPORT_PREFIX;
      const badPrefix = prefixProblem(prefix);
      if (badPrefix) throw logsErrors.InvalidParameterException(`The destinationPrefix ${badPrefix}.`);
      if (input.from > input.to)
        throw logsErrors.InvalidParameterException(
          `Specified time range of '${input.from}' and '${input.to}' is not valid: 'from' must not be after 'to'.`,
        );
      const taskId = randomUUID();
      state.store.transaction(() => {
        state.requireGroup(ctx, group);
        // AWS allows one active (PENDING or RUNNING) export task per account and region.
        if (tasks.list(ctx).some((t) => ACTIVE.includes(t.status)))
          throw logsErrors.LimitExceededException("Resource limit exceeded.");
        tasks.put(ctx, {
          taskId,
          taskName: input.taskName,
          logGroupName: group,
          logStreamNamePrefix: input.logStreamNamePrefix,
          from: input.from,
          to: input.to,
          destination: input.destination,
          destinationPrefix: prefix,
          status: "PENDING",
          creationTime: state.now(),
        });
      });
      schedule({ account: ctx.account, region: ctx.region }, taskId, deps.delayMs);
      return { taskId };
    },

    DescribeExportTasks: (input, ctx) => {
      const found = tasks
        .list(ctx)
        .filter(
          (t) =>
            (input.taskId === undefined || t.taskId === input.taskId) &&
            (input.statusCode === undefined || t.status === input.statusCode),
        );
      // Newest first.
      const { page, nextToken } = pageByKey(found, (t) => [t.creationTime, t.taskId], {
        nextToken: input.nextToken,
        limit: input.limit ?? 50,
        descending: true,
      });
      return { exportTasks: page.map(view), nextToken };
    },

    CancelExportTask: (input, ctx) => {
      state.store.transaction(() => {
        const t = tasks.get(ctx, input.taskId);
        if (!t) throw exportNotFound();
        if (!ACTIVE.includes(t.status))
          throw logsErrors.InvalidOperationException(
            `The specified export task has already finished (${t.status}); only PENDING or RUNNING tasks can be cancelled.`,
          );
        tasks.put(ctx, { ...t, status: "CANCELLED", message: "Cancelled by user", completionTime: state.now() });
      });
      return {};
    },
  };

  return {
    operations,
    /** Runs again the tasks a stop left PENDING or RUNNING. */
    resume() {
      for (const { scope, doc } of tasks.listAll())
        if (ACTIVE.includes(doc.status)) schedule(scope, doc.taskId, deps.delayMs);
    },
    stop() {
      for (const cancel of timers) cancel();
      timers.clear();
    },
  };
}
