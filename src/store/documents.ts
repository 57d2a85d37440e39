import { EventEmitter } from "node:events";
import type { Scope } from "../core/ids.js";
import type { Db } from "./db.js";

/** A change to one stored resource, announced after it is durable. */
export interface Change {
  kind: string;
  account: string;
  region: string;
  id: string;
}

/** Resources as JSON documents keyed by (kind, account, region, id), with an ARN index and a parent key. */
export class DocumentStore {
  readonly changes = new EventEmitter();
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      get: db.prepare("SELECT doc FROM resources WHERE kind = ? AND account = ? AND region = ? AND id = ?"),
      byArn: db.prepare("SELECT kind, account, region, id, doc FROM resources WHERE arn = ?"),
      list: db.prepare("SELECT doc FROM resources WHERE kind = ? AND account = ? AND region = ? ORDER BY id"),
      listAll: db.prepare("SELECT account, region, id, doc FROM resources WHERE kind = ? ORDER BY account, region, id"),
      children: db.prepare(
        "SELECT doc FROM resources WHERE kind = ? AND account = ? AND region = ? AND parent = ? ORDER BY id",
      ),
      upsert: db.prepare(
        `INSERT INTO resources (kind, account, region, id, arn, parent, doc, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, account, region, id) DO UPDATE SET arn = excluded.arn, parent = excluded.parent, doc = excluded.doc, updated_at = excluded.updated_at`,
      ),
      delete: db.prepare("DELETE FROM resources WHERE kind = ? AND account = ? AND region = ? AND id = ?"),
    };
  }

  /** Runs fn in one transaction; changes are announced only after it commits. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  collection<T>(kind: string, keys: { id: (doc: T) => string; arn?: (doc: T) => string; parent?: (doc: T) => string }) {
    return new Collection<T>(this, kind, keys);
  }

  /** @internal */ raw = {
    get: (kind: string, s: Scope, id: string) =>
      (this.stmts.get.get(kind, s.account, s.region, id) as { doc: string } | undefined)?.doc,
    byArn: (arn: string) =>
      this.stmts.byArn.get(arn) as
        | { kind: string; account: string; region: string; id: string; doc: string }
        | undefined,
    list: (kind: string, s: Scope) =>
      (this.stmts.list.all(kind, s.account, s.region) as { doc: string }[]).map((r) => r.doc),
    listAll: (kind: string) =>
      this.stmts.listAll.all(kind) as { account: string; region: string; id: string; doc: string }[],
    children: (kind: string, s: Scope, parent: string) =>
      (this.stmts.children.all(kind, s.account, s.region, parent) as { doc: string }[]).map((r) => r.doc),
    put: (kind: string, s: Scope, id: string, arn: string | null, parent: string | null, doc: string) => {
      this.stmts.upsert.run(kind, s.account, s.region, id, arn, parent, doc, Date.now());
      this.announce({ kind, account: s.account, region: s.region, id });
    },
    delete: (kind: string, s: Scope, id: string) => {
      const n = this.stmts.delete.run(kind, s.account, s.region, id).changes;
      if (n) this.announce({ kind, account: s.account, region: s.region, id });
      return n > 0;
    },
  };

  private announce(change: Change) {
    // Defer so listeners see committed state even when the write ran inside a transaction.
    queueMicrotask(() => this.changes.emit("change", change));
  }
}

/** A typed view of one kind of resource. */
export class Collection<T> {
  constructor(
    private readonly store: DocumentStore,
    readonly kind: string,
    private readonly keys: { id: (doc: T) => string; arn?: (doc: T) => string; parent?: (doc: T) => string },
  ) {}

  get(scope: Scope, id: string): T | undefined {
    const doc = this.store.raw.get(this.kind, scope, id);
    return doc === undefined ? undefined : revive<T>(doc);
  }

  byArn(arn: string): { scope: Scope; doc: T } | undefined {
    const row = this.store.raw.byArn(arn);
    if (!row || row.kind !== this.kind) return undefined;
    return { scope: { account: row.account, region: row.region }, doc: revive<T>(row.doc) };
  }

  list(scope: Scope): T[] {
    return this.store.raw.list(this.kind, scope).map((d) => revive<T>(d));
  }

  /** Every resource of this kind in every account and region (controllers use this). */
  listAll(): { scope: Scope; doc: T }[] {
    return this.store.raw
      .listAll(this.kind)
      .map((r) => ({ scope: { account: r.account, region: r.region }, doc: revive<T>(r.doc) }));
  }

  children(scope: Scope, parent: string): T[] {
    return this.store.raw.children(this.kind, scope, parent).map((d) => revive<T>(d));
  }

  put(scope: Scope, doc: T): T {
    this.store.raw.put(
      this.kind,
      scope,
      this.keys.id(doc),
      this.keys.arn?.(doc) ?? null,
      this.keys.parent?.(doc) ?? null,
      JSON.stringify(doc),
    );
    return doc;
  }

  delete(scope: Scope, id: string): boolean {
    return this.store.raw.delete(this.kind, scope, id);
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const TIME_KEY = /(At|Time|Date|Timestamp)$/;
/** JSON → document, turning timestamp members (ISO text under a time-named key) back into Dates. */
const revive = <T>(doc: string): T =>
  JSON.parse(doc, (k, v) => (typeof v === "string" && TIME_KEY.test(k) && ISO.test(v) ? new Date(v) : v));
