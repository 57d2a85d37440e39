import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Operations } from "../../protocol/generated/types/logs.js";
import type { Db } from "../../store/db.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../service.js";

/** What other parts of Berth (the awslogs driver in the task controller) use to write logs. */
export interface LogsBackend {
  /** Creates the group when missing (awslogs-create-group). Throws ResourceNotFoundException-style ServiceError otherwise when missing and create=false. */
  ensureGroup(scope: Scope, group: string, create: boolean): void;
  ensureStream(scope: Scope, group: string, stream: string): void;
  /** Appends events (timestamps in ms), in order. */
  append(scope: Scope, group: string, stream: string, events: { timestamp: number; message: string }[]): void;
}

export interface LogsDeps {
  db: Db;
  store: DocumentStore;
  clock: Clock;
}

/** CloudWatch Logs (awsJson1_1). */
export function logsService(deps: LogsDeps) {
  void deps;
  const provider: Provider<Operations> = {};
  const backend: LogsBackend = {
    ensureGroup: () => {},
    ensureStream: () => {},
    append: () => {},
  };
  return { service: defineService("logs", provider, { validationCode: "InvalidParameterException" }), backend };
}
