import type { Scope } from "../../core/ids.js";

/**
 * What other parts of Berth (the awslogs driver in the task controller) use to write logs. Every
 * method is synchronous and durable when it returns; failures are ServiceErrors with AWS codes.
 */
export interface LogsBackend {
  /**
   * Makes sure the log group exists. With create=true a missing group is created (like the
   * awslogs-create-group option); with create=false a missing group throws
   * ResourceNotFoundException. An invalid name throws InvalidParameterException.
   */
  ensureGroup(scope: Scope, group: string, create: boolean): void;
  /** Creates the stream when missing. A missing group throws ResourceNotFoundException. */
  ensureStream(scope: Scope, group: string, stream: string): void;
  /**
   * Appends events (timestamps in epoch ms) to an existing stream. They are stored in timestamp
   * order (stable for equal timestamps); empty messages are skipped. None of PutLogEvents' batch
   * limits apply. A missing group or stream throws ResourceNotFoundException.
   */
  append(scope: Scope, group: string, stream: string, events: { timestamp: number; message: string }[]): void;
}
