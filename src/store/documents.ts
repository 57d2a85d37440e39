import type { Scope } from "../core/ids.js";
import type { ChangeRow, Expect, ResourceBackend, StoredRow } from "./backend.js";
import { decodeDocument, encodeDocument } from "./codec.js";
import type { Db } from "./db.js";
import { SqliteBackend } from "./sqlite-backend.js";
import { type Change, type Watch, type WatchOptions, Watcher } from "./watch.js";

export { RevisionConflict } from "./backend.js";

export type { Change } from "./watch.js";

export interface DocumentStoreOptions {
  /** Change log entries kept for watchers that fall behind or restart (older ones are compacted). */
  retainChanges?: number;
}

const COMPACT_EVERY = 512;

/**
 * Resources as JSON documents keyed by (kind, account, region, id), with an ARN index, a parent
 * key, a revision per document, compare-and-put, and a durable, ordered change log that watchers
 * read from a position.
 */
export class DocumentStore {
  readonly backend: ResourceBackend;
  private readonly retain: number;

  constructor(db: Db | ResourceBackend, opts: DocumentStoreOptions = {}) {
    this.backend = "prepare" in db ? new SqliteBackend(db) : db;
    this.retain = opts.retainChanges ?? 10_000;
  }

  /** Runs fn in one transaction; watchers hear of its writes only after it commits. */
  transaction<T>(fn: () => T): T {
    return this.backend.transaction(fn);
  }

  collection<T>(kind: string, keys: CollectionKeys<T>) {
    return new Collection<T>(this, kind, keys);
  }

  /** The newest change sequence number (a watcher started from it sees only what follows). */
  head(): number {
    return this.backend.head();
  }

  /** Change log entries after seq, oldest first, decoded. */
  changesSince(seq: number, limit = 500): Change[] {
    return this.backend.changesSince(seq, limit).map(decodeChange);
  }

  /**
   * Delivers every change after a position, in order, once committed. A named watch keeps its
   * position in the store and resumes there after a restart (at-least-once: a batch whose handler
   * did not finish is delivered again).
   */
  watch(opts: WatchOptions, handler: (changes: Change[]) => void | Promise<void>): Watch {
    return new Watcher(this, opts, handler).start();
  }

  /** @internal Every write (put or delete) reports its sequence number: every so often the log is compacted. */
  afterWrite(seq: number) {
    if (seq % COMPACT_EVERY === 0) this.backend.compact(this.retain);
  }
}

export interface CollectionKeys<T> {
  id: (doc: T) => string;
  arn?: (doc: T) => string;
  parent?: (doc: T) => string;
}

/** A document with the revision of its last write. */
export interface Versioned<T> {
  doc: T;
  rev: number;
}

/** A typed view of one kind of resource. */
export class Collection<T> {
  constructor(
    private readonly store: DocumentStore,
    readonly kind: string,
    private readonly keys: CollectionKeys<T>,
  ) {}

  get(scope: Scope, id: string): T | undefined {
    return this.getVersioned(scope, id)?.doc;
  }

  getVersioned(scope: Scope, id: string): Versioned<T> | undefined {
    const row = this.store.backend.get(this.kind, scope, id);
    return row && { doc: decode<T>(row), rev: row.rev };
  }

  byArn(arn: string): { scope: Scope; doc: T } | undefined {
    const row = this.store.backend.byArn(arn);
    if (!row || row.kind !== this.kind) return undefined;
    return { scope: scopeOf(row), doc: decode<T>(row) };
  }

  list(scope: Scope): T[] {
    return this.store.backend.list(this.kind, scope).map((r) => decode<T>(r));
  }

  /** Every resource of this kind in every account and region (controllers use this). */
  listAll(): { scope: Scope; doc: T }[] {
    return this.store.backend.listAll(this.kind).map((r) => ({ scope: scopeOf(r), doc: decode<T>(r) }));
  }

  /** list, with each document's revision. */
  listVersioned(scope: Scope): Versioned<T>[] {
    return this.store.backend.list(this.kind, scope).map((r) => ({ doc: decode<T>(r), rev: r.rev }));
  }

  /** children, with each document's revision. */
  childrenVersioned(scope: Scope, parent: string): Versioned<T>[] {
    return this.store.backend.children(this.kind, scope, parent).map((r) => ({ doc: decode<T>(r), rev: r.rev }));
  }

  children(scope: Scope, parent: string): T[] {
    return this.store.backend.children(this.kind, scope, parent).map((r) => decode<T>(r));
  }

  /**
   * Writes the document. With `expect` the write is compare-and-put: it throws RevisionConflict
   * unless the stored revision is `expect` (0: unless there is none).
   */
  put(scope: Scope, doc: T, opts: { expect?: Expect } = {}): T {
    this.putVersioned(scope, doc, opts);
    return doc;
  }

  /** put, returning the new revision. */
  putVersioned(scope: Scope, doc: T, opts: { expect?: Expect } = {}): number {
    const { body, dates } = encodeDocument(doc);
    const rev = this.store.backend.put(
      {
        kind: this.kind,
        scope,
        id: this.keys.id(doc),
        arn: this.keys.arn?.(doc) ?? null,
        parent: this.keys.parent?.(doc) ?? null,
        body,
        dates,
      },
      opts.expect,
    );
    this.store.afterWrite(rev);
    return rev;
  }

  delete(scope: Scope, id: string, opts: { expect?: Expect } = {}): boolean {
    const deleted = this.store.backend.delete(this.kind, scope, id, opts.expect);
    if (deleted) this.store.afterWrite(this.store.head());
    return deleted;
  }
}

const decode = <T>(row: StoredRow): T => decodeDocument<T>(row.body, row.dates);
const scopeOf = (row: { account: string; region: string }): Scope => ({ account: row.account, region: row.region });
const decodeChange = (row: ChangeRow): Change => ({
  seq: row.seq,
  kind: row.kind,
  account: row.account,
  region: row.region,
  id: row.id,
  op: row.op,
  doc: decodeDocument(row.body, row.dates),
});
