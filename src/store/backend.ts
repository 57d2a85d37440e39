import type { Scope } from "../core/ids.js";

/**
 * The contract a resource store implements (SQLite today, PostgreSQL for several control-plane
 * replicas later); test/unit/store-conformance.test.ts is the suite every implementation passes.
 *
 * Documents are keyed by (kind, account, region, id) with an optional unique ARN and a parent key.
 * Every write takes the next number of one global sequence: it is the document's revision and the
 * position of the write in the change log, which is written in the same transaction.
 */
export interface StoredRow {
  kind: string;
  account: string;
  region: string;
  id: string;
  body: string;
  dates: string;
  rev: number;
}

export interface RowWrite {
  kind: string;
  scope: Scope;
  id: string;
  arn: string | null;
  parent: string | null;
  body: string;
  dates: string;
}

/** One entry of the change log: the document as written, or as it was when deleted. */
export interface ChangeRow {
  seq: number;
  kind: string;
  account: string;
  region: string;
  id: string;
  op: "put" | "delete";
  body: string;
  dates: string;
  at: number;
}

/**
 * What a conditional write expects of the stored document: its revision, or 0 for "must not
 * exist". Omitted, the write is unconditional.
 */
export type Expect = number | undefined;

/** A conditional write found another revision than it expected. */
export class RevisionConflict extends Error {
  constructor(
    readonly kind: string,
    readonly id: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${kind} ${id}: expected revision ${expected}, found ${actual}`);
    this.name = "RevisionConflict";
  }
}

export interface ResourceBackend {
  get(kind: string, scope: Scope, id: string): StoredRow | undefined;
  byArn(arn: string): StoredRow | undefined;
  list(kind: string, scope: Scope): StoredRow[];
  listAll(kind: string): StoredRow[];
  children(kind: string, scope: Scope, parent: string): StoredRow[];
  /** Writes the row and its change log entry; returns the new revision. */
  put(row: RowWrite, expect?: Expect): number;
  /** Deletes the row (logging its last body); false when there was none. */
  delete(kind: string, scope: Scope, id: string, expect?: Expect): boolean;
  /** Runs fn in one transaction (nested calls join it); a throw rolls every write back. */
  transaction<T>(fn: () => T): T;
  /** Change log entries after seq, oldest first. */
  changesSince(seq: number, limit: number): ChangeRow[];
  /** The newest sequence number handed out (0 on an empty store). */
  head(): number;
  /** The oldest change log entry still kept (entries before it were compacted), or head + 1. */
  oldest(): number;
  /** Drops change log entries older than the newest `keep`. */
  compact(keep: number): void;
  cursor(name: string): number | undefined;
  saveCursor(name: string, seq: number): void;
  /** Called after writes commit (in this process); watchers then read the log. */
  onCommit(listener: () => void): () => void;
}
