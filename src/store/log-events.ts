import type Database from "better-sqlite3";
import type { Scope } from "../core/ids.js";
import type { Db } from "./db.js";

/** One log event as stored. `seq` orders events written in the same millisecond. */
export interface StoredLogEvent {
  seq: number;
  stream: string;
  timestamp: number;
  ingestionTime: number;
  message: string;
  /** UTF-8 bytes of the message. */
  size: number;
}

/**
 * A place between two events in (timestamp, seq) order. Events with a key at or above it lie
 * "after" it; the others lie "before" it.
 */
export interface Boundary {
  time: number;
  seq: number;
}

/** Which events of one log group a query reads. */
export interface EventQuery {
  group: string;
  /** Only these streams: one name, a list of names, or a name prefix. Omitted: every stream. */
  streams?: { name: string } | { names: string[] } | { prefix: string };
  /** Inclusive lower and exclusive upper bound on the event timestamp. */
  from: number;
  to: number;
  /** Only events at or after this boundary. */
  after?: Boundary;
  /** Only events before this boundary. */
  before?: Boundary;
  limit: number;
  /** Newest first (still bounded by after/before). */
  descending?: boolean;
}

type Row = {
  seq: number;
  stream_name: string;
  event_time: number;
  ingestion_time: number;
  message: string;
  size: number;
};

const toEvent = (r: Row): StoredLogEvent => ({
  seq: r.seq,
  stream: r.stream_name,
  timestamp: r.event_time,
  ingestionTime: r.ingestion_time,
  message: r.message,
  size: r.size,
});

/**
 * CloudWatch Logs events in the `log_events` table. The SQL is plain and portable (no SQLite-only
 * functions, no LIKE whose case rules differ): PostgreSQL can run it unchanged. Callers run
 * writes inside the store's transaction together with the stream document they update.
 */
export class LogEventRepository {
  private readonly stmts;
  private readonly queries = new Map<string, Database.Statement<unknown[]>>();

  constructor(private readonly db: Db) {
    this.stmts = {
      reserve: db.prepare("UPDATE counters SET value = value + ? WHERE name = 'log_events' RETURNING value"),
      insert: db.prepare(
        `INSERT INTO log_events (seq, account, region, group_name, stream_name, event_time, ingestion_time, message, size)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteGroup: db.prepare("DELETE FROM log_events WHERE account = ? AND region = ? AND group_name = ?"),
      deleteStream: db.prepare(
        "DELETE FROM log_events WHERE account = ? AND region = ? AND group_name = ? AND stream_name = ?",
      ),
      deleteBefore: db.prepare(
        "DELETE FROM log_events WHERE account = ? AND region = ? AND group_name = ? AND event_time < ?",
      ),
      bytes: db.prepare(
        "SELECT COALESCE(SUM(size), 0) AS bytes FROM log_events WHERE account = ? AND region = ? AND group_name = ? AND event_time >= ?",
      ),
    };
  }

  /** Appends events (already validated and ordered) to a stream; returns them as stored. */
  append(
    scope: Scope,
    group: string,
    stream: string,
    events: { timestamp: number; message: string }[],
    ingestionTime: number,
  ): StoredLogEvent[] {
    if (events.length === 0) return [];
    return this.db.transaction(() => {
      const { value } = this.stmts.reserve.get(events.length) as { value: number };
      let seq = value - events.length + 1;
      const stored: StoredLogEvent[] = [];
      for (const e of events) {
        const size = Buffer.byteLength(e.message, "utf8");
        this.stmts.insert.run(
          seq,
          scope.account,
          scope.region,
          group,
          stream,
          e.timestamp,
          ingestionTime,
          e.message,
          size,
        );
        stored.push({ seq, stream, timestamp: e.timestamp, ingestionTime, message: e.message, size });
        seq++;
      }
      return stored;
    })();
  }

  /** Events in (timestamp, seq) order, ascending unless `descending`. */
  query(scope: Scope, q: EventQuery): StoredLogEvent[] {
    const where = ["account = ?", "region = ?", "group_name = ?"];
    const args: unknown[] = [scope.account, scope.region, q.group];
    const s = q.streams;
    if (s && "name" in s) {
      where.push("stream_name = ?");
      args.push(s.name);
    } else if (s && "names" in s) {
      if (s.names.length === 0) return [];
      where.push(`stream_name IN (${s.names.map(() => "?").join(", ")})`);
      args.push(...s.names);
    } else if (s && "prefix" in s && s.prefix !== "") {
      // SUBSTR counts characters (code points) in SQLite and PostgreSQL alike.
      where.push("SUBSTR(stream_name, 1, ?) = ?");
      args.push([...s.prefix].length, s.prefix);
    }
    where.push("event_time >= ?", "event_time < ?");
    args.push(q.from, q.to);
    if (q.after) {
      where.push("(event_time > ? OR (event_time = ? AND seq >= ?))");
      args.push(q.after.time, q.after.time, q.after.seq);
    }
    if (q.before) {
      where.push("(event_time < ? OR (event_time = ? AND seq < ?))");
      args.push(q.before.time, q.before.time, q.before.seq);
    }
    const dir = q.descending ? "DESC" : "ASC";
    const sql = `SELECT seq, stream_name, event_time, ingestion_time, message, size FROM log_events
      WHERE ${where.join(" AND ")} ORDER BY event_time ${dir}, seq ${dir} LIMIT ?`;
    args.push(q.limit);
    return (this.prepared(sql).all(...args) as Row[]).map(toEvent);
  }

  deleteGroup(scope: Scope, group: string): number {
    return this.stmts.deleteGroup.run(scope.account, scope.region, group).changes;
  }

  deleteStream(scope: Scope, group: string, stream: string): number {
    return this.stmts.deleteStream.run(scope.account, scope.region, group, stream).changes;
  }

  /** Deletes a group's events with a timestamp before `cutoff` (retention). */
  deleteBefore(scope: Scope, group: string, cutoff: number): number {
    return this.stmts.deleteBefore.run(scope.account, scope.region, group, cutoff).changes;
  }

  /** UTF-8 bytes of a group's events at or after `from`. */
  storedBytes(scope: Scope, group: string, from: number): number {
    return Number((this.stmts.bytes.get(scope.account, scope.region, group, from) as { bytes: number }).bytes);
  }

  private prepared(sql: string) {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[]>(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }
}
