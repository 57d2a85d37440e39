import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { Operations } from "../../protocol/generated/types/logs.js";
import type { LogsBackend } from "../../controllers/tasks/logs-backend.js";
import type { Db } from "../../store/db.js";
import type { DocumentStore } from "../../store/documents.js";
import { LogEventRepository } from "../../store/log-events.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { eventOperations, ingest } from "./events.js";
import { groupOperations } from "./groups.js";
import { sweepRetention } from "./retention.js";
import { checkGroupName, checkStreamName } from "./rules.js";
import { LogsState, groupNotFound } from "./state.js";
import { streamOperations } from "./streams.js";
import { periodic } from "../../core/periodic.js";
import { timersOf } from "../../core/clock.js";
import { localBuckets } from "./export-files.js";
import { exportTasks } from "./exports.js";

export interface LogsDeps {
  db: Db;
  store: DocumentStore;
  clock: Clock;
  /** How often expired events (past their group's retention) are deleted; default 60 s. 0 turns the sweep off. */
  retentionSweepMs?: number;
  logger?: Logger;
  /** Export tasks write to `<dataDir>/s3/<bucket>/`; without it, under the system temporary directory. */
  dataDir?: string;
  /** How long a new export task stays PENDING before it runs (ms); default 1000. */
  exportDelayMs?: number;
}

/** CloudWatch Logs (awsJson1_1, target prefix Logs_20140328). */
export function logsService(deps: LogsDeps) {
  const state = new LogsState(deps.store, new LogEventRepository(deps.db), deps.clock);
  const exports = exportTasks(state, {
    sink: localBuckets(deps.dataDir ?? join(tmpdir(), "berth-logs-exports")),
    timers: timersOf(deps.clock),
    delayMs: deps.exportDelayMs ?? 1000,
    logger: deps.logger,
  });
  exports.resume();
  const provider: Provider<Operations> = {
    ...exports.operations,
    ...groupOperations(state),
    ...streamOperations(state),
    ...eventOperations(state),
  };

  const backend: LogsBackend = {
    ensureGroup: (scope, group, create) => {
      const name = checkGroupName(group);
      state.store.transaction(() => {
        if (state.groups.get(scope, name)) return;
        if (!create) throw groupNotFound();
        state.groups.put(scope, {
          name,
          creationTime: state.now(),
          logGroupClass: "STANDARD",
          deletionProtectionEnabled: false,
          tags: {},
        });
      });
    },
    ensureStream: (scope, group, stream) => {
      const groupName = checkGroupName(group);
      const name = checkStreamName(stream);
      state.store.transaction(() => {
        state.requireGroup(scope, groupName);
        if (!state.getStream(scope, groupName, name))
          state.streams.put(scope, { group: groupName, name, creationTime: state.now(), uploads: 0 });
      });
    },
    append: (scope, group, stream, events) => {
      const sorted = events
        .filter((e) => e.message !== "")
        .map((e) => ({ timestamp: Math.max(0, Math.trunc(e.timestamp)), message: e.message }))
        .sort((a, b) => a.timestamp - b.timestamp);
      state.store.transaction(() => {
        state.requireGroup(scope, group);
        ingest(state, scope, group, stream, sorted, false);
      });
    },
  };

  const sweep = () => sweepRetention(state);
  const every = deps.retentionSweepMs ?? 60_000;
  const loop =
    every > 0
      ? periodic(
          () => {
            const n = sweep();
            if (n > 0) deps.logger?.debug({ deleted: n }, "logs retention sweep");
          },
          { name: "logs retention sweep", everyMs: every, logger: deps.logger, clock: deps.clock },
        )
      : undefined;
  void loop?.start();

  return {
    service: defineService("logs", provider, { validationCode: "InvalidParameterException" }),
    backend,
    /** Runs one retention sweep now; returns the number of events deleted. */
    sweepRetention: sweep,
    /** Stops the periodic sweep. */
    close: () => {
      loop?.stop();
      exports.stop();
    },
  };
}
