import type { Scope } from "../core/ids.js";
import {
  type ChangeRow,
  type Expect,
  type ResourceBackend,
  RevisionConflict,
  type RowWrite,
  type StoredRow,
} from "./backend.js";
import type { Db } from "./db.js";

const COLUMNS = "kind, account, region, id, doc AS body, dates, rev";

/** The resource store on SQLite (better-sqlite3): synchronous, one writer at a time. */
export class SqliteBackend implements ResourceBackend {
  private readonly stmts;
  private readonly listeners = new Set<() => void>();
  private wakePending = false;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {
    this.stmts = {
      get: db.prepare(`SELECT ${COLUMNS} FROM resources WHERE kind = ? AND account = ? AND region = ? AND id = ?`),
      byArn: db.prepare(`SELECT ${COLUMNS} FROM resources WHERE arn = ?`),
      list: db.prepare(`SELECT ${COLUMNS} FROM resources WHERE kind = ? AND account = ? AND region = ? ORDER BY id`),
      listAll: db.prepare(`SELECT ${COLUMNS} FROM resources WHERE kind = ? ORDER BY account, region, id`),
      children: db.prepare(
        `SELECT ${COLUMNS} FROM resources WHERE kind = ? AND account = ? AND region = ? AND parent = ? ORDER BY id`,
      ),
      upsert: db.prepare(
        `INSERT INTO resources (kind, account, region, id, arn, parent, doc, dates, rev, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, account, region, id) DO UPDATE SET arn = excluded.arn, parent = excluded.parent,
           doc = excluded.doc, dates = excluded.dates, rev = excluded.rev, updated_at = excluded.updated_at`,
      ),
      delete: db.prepare("DELETE FROM resources WHERE kind = ? AND account = ? AND region = ? AND id = ?"),
      next: db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'changes' RETURNING value"),
      head: db.prepare("SELECT value FROM counters WHERE name = 'changes'"),
      log: db.prepare(
        "INSERT INTO changes (seq, kind, account, region, id, op, doc, dates, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      since: db.prepare(
        "SELECT seq, kind, account, region, id, op, doc AS body, dates, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
      ),
      oldest: db.prepare("SELECT MIN(seq) AS seq FROM changes"),
      compact: db.prepare("DELETE FROM changes WHERE seq <= ?"),
      cursor: db.prepare("SELECT seq FROM watch_cursors WHERE name = ?"),
      saveCursor: db.prepare(
        "INSERT INTO watch_cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
      ),
    };
  }

  get(kind: string, s: Scope, id: string) {
    return this.stmts.get.get(kind, s.account, s.region, id) as StoredRow | undefined;
  }
  byArn(arn: string) {
    return this.stmts.byArn.get(arn) as StoredRow | undefined;
  }
  list(kind: string, s: Scope) {
    return this.stmts.list.all(kind, s.account, s.region) as StoredRow[];
  }
  listAll(kind: string) {
    return this.stmts.listAll.all(kind) as StoredRow[];
  }
  children(kind: string, s: Scope, parent: string) {
    return this.stmts.children.all(kind, s.account, s.region, parent) as StoredRow[];
  }

  put(row: RowWrite, expect?: Expect): number {
    return this.transaction(() => {
      const { kind, scope: s, id } = row;
      if (expect !== undefined) this.check(kind, s, id, expect);
      const seq = this.nextSeq();
      const now = this.clock();
      this.stmts.upsert.run(kind, s.account, s.region, id, row.arn, row.parent, row.body, row.dates, seq, now);
      this.stmts.log.run(seq, kind, s.account, s.region, id, "put", row.body, row.dates, now);
      this.wake();
      return seq;
    });
  }

  delete(kind: string, s: Scope, id: string, expect?: Expect): boolean {
    return this.transaction(() => {
      const current = this.get(kind, s, id);
      if (expect !== undefined && (current?.rev ?? 0) !== expect)
        throw new RevisionConflict(kind, id, expect, current?.rev ?? 0);
      if (!current) return false;
      this.stmts.delete.run(kind, s.account, s.region, id);
      this.stmts.log.run(
        this.nextSeq(),
        kind,
        s.account,
        s.region,
        id,
        "delete",
        current.body,
        current.dates,
        this.clock(),
      );
      this.wake();
      return true;
    });
  }

  transaction<T>(fn: () => T): T {
    // better-sqlite3 turns a nested transaction into a savepoint, so an inner throw caught by the
    // caller rolls back only the inner writes, as the caller expects.
    return this.db.transaction(fn)();
  }

  changesSince(seq: number, limit: number) {
    return this.stmts.since.all(seq, limit) as ChangeRow[];
  }
  head() {
    return (this.stmts.head.get() as { value: number }).value;
  }
  oldest() {
    return (this.stmts.oldest.get() as { seq: number | null }).seq ?? this.head() + 1;
  }
  compact(keep: number) {
    this.stmts.compact.run(this.head() - keep);
  }
  cursor(name: string) {
    return (this.stmts.cursor.get(name) as { seq: number } | undefined)?.seq;
  }
  saveCursor(name: string, seq: number) {
    this.stmts.saveCursor.run(name, seq);
  }

  onCommit(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private check(kind: string, s: Scope, id: string, expect: number) {
    const actual = this.get(kind, s, id)?.rev ?? 0;
    if (actual !== expect) throw new RevisionConflict(kind, id, expect, actual);
  }

  private nextSeq() {
    return (this.stmts.next.get() as { value: number }).value;
  }

  /**
   * Tells watchers to read the log once the write is durable. better-sqlite3 transactions are
   * synchronous, so a microtask runs only after the outermost COMMIT (or ROLLBACK: then the
   * watchers find nothing new, so a rolled-back write announces nothing).
   */
  private wake() {
    if (this.wakePending) return;
    this.wakePending = true;
    queueMicrotask(() => {
      this.wakePending = false;
      for (const l of this.listeners) l();
    });
  }
}
