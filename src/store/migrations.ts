import { encodeDocument, reviveLegacyDocument } from "./codec.js";
import type Database from "better-sqlite3";

/**
 * Schema migrations, applied in order and recorded in schema_migrations. Keep the SQL portable
 * (TEXT / BIGINT / plain indexes, no SQLite-only functions): PostgreSQL will run the same list.
 * `run` is a data step in code, after the SQL, in the same transaction.
 */
export const MIGRATIONS: { version: number; sql: string[]; run?: (db: Database.Database) => void }[] = [
  {
    version: 1,
    sql: [
      `CREATE TABLE resources (
         kind TEXT NOT NULL,
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         id TEXT NOT NULL,
         arn TEXT,
         parent TEXT,
         doc TEXT NOT NULL,
         updated_at BIGINT NOT NULL,
         PRIMARY KEY (kind, account, region, id)
       )`,
      "CREATE UNIQUE INDEX resources_arn ON resources (arn)",
      "CREATE INDEX resources_parent ON resources (kind, account, region, parent)",
      `CREATE TABLE log_events (
         seq BIGINT PRIMARY KEY,
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         group_name TEXT NOT NULL,
         stream_name TEXT NOT NULL,
         event_time BIGINT NOT NULL,
         ingestion_time BIGINT NOT NULL,
         message TEXT NOT NULL
       )`,
      "CREATE INDEX log_events_stream ON log_events (account, region, group_name, stream_name, event_time, seq)",
      "CREATE INDEX log_events_group ON log_events (account, region, group_name, event_time, seq)",
    ],
  },
  {
    // CloudWatch Logs: event sizes (storedBytes) and named counters (event sequence numbers,
    // reserved with UPDATE … RETURNING so several writers never hand out the same number).
    version: 2,
    sql: [
      "ALTER TABLE log_events ADD COLUMN size BIGINT NOT NULL DEFAULT 0",
      `CREATE TABLE counters (
         name TEXT PRIMARY KEY,
         value BIGINT NOT NULL
       )`,
      "INSERT INTO counters (name, value) VALUES ('log_events', 0)",
    ],
  },
  {
    // The OCI registry (src/registry/metadata.ts): blobs the store holds, repository→blob links,
    // manifests (bytes as UTF-8 text, at most 4 MiB), tags, and what each manifest references.
    version: 3,
    sql: [
      `CREATE TABLE registry_blobs (
         digest TEXT PRIMARY KEY,
         size BIGINT NOT NULL,
         created_at BIGINT NOT NULL
       )`,
      `CREATE TABLE registry_blob_links (
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         repo TEXT NOT NULL,
         digest TEXT NOT NULL,
         linked_at BIGINT NOT NULL,
         PRIMARY KEY (account, region, repo, digest)
       )`,
      "CREATE INDEX registry_blob_links_digest ON registry_blob_links (digest)",
      `CREATE TABLE registry_manifests (
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         repo TEXT NOT NULL,
         digest TEXT NOT NULL,
         media_type TEXT NOT NULL,
         artifact_type TEXT,
         subject TEXT,
         size BIGINT NOT NULL,
         body TEXT NOT NULL,
         pushed_at BIGINT NOT NULL,
         last_pulled_at BIGINT,
         PRIMARY KEY (account, region, repo, digest)
       )`,
      "CREATE INDEX registry_manifests_subject ON registry_manifests (account, region, repo, subject)",
      `CREATE TABLE registry_tags (
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         repo TEXT NOT NULL,
         tag TEXT NOT NULL,
         digest TEXT NOT NULL,
         updated_at BIGINT NOT NULL,
         PRIMARY KEY (account, region, repo, tag)
       )`,
      "CREATE INDEX registry_tags_digest ON registry_tags (account, region, repo, digest)",
      `CREATE TABLE registry_manifest_refs (
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         repo TEXT NOT NULL,
         manifest TEXT NOT NULL,
         ref TEXT NOT NULL,
         kind TEXT NOT NULL,
         PRIMARY KEY (account, region, repo, manifest, ref)
       )`,
      "CREATE INDEX registry_manifest_refs_ref ON registry_manifest_refs (ref, account, region, repo)",
    ],
  },
  {
    // CloudWatch metrics (src/metrics/store.ts): one row per sample; `vals` holds raw values with
    // their counts as JSON (for percentiles); `hires` marks sub-minute samples still to be rolled up.
    version: 4,
    sql: [
      `CREATE TABLE metric_points (
         id INTEGER PRIMARY KEY,
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         namespace TEXT NOT NULL,
         name TEXT NOT NULL,
         dims TEXT NOT NULL,
         ts BIGINT NOT NULL,
         unit TEXT NOT NULL,
         count DOUBLE PRECISION NOT NULL,
         sum DOUBLE PRECISION NOT NULL,
         min DOUBLE PRECISION NOT NULL,
         max DOUBLE PRECISION NOT NULL,
         vals TEXT,
         hires INTEGER NOT NULL
       )`,
      "CREATE INDEX metric_points_series ON metric_points (account, region, namespace, name, dims, ts)",
      "CREATE INDEX metric_points_hires ON metric_points (hires, ts)",
      `CREATE TABLE metric_series (
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         namespace TEXT NOT NULL,
         name TEXT NOT NULL,
         dims TEXT NOT NULL,
         last_ts BIGINT NOT NULL,
         PRIMARY KEY (account, region, namespace, name, dims)
       )`,
    ],
  },
  {
    // The revisioned store (src/store/documents.ts): every document carries the revision (change
    // sequence number) of its last write and the paths that hold Dates; `changes` is the ordered,
    // durable change log written in the same transaction as each write; `watch_cursors` is where a
    // named watcher resumes after a restart.
    version: 5,
    sql: [
      "ALTER TABLE resources ADD COLUMN rev BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE resources ADD COLUMN dates TEXT NOT NULL DEFAULT '[]'",
      `CREATE TABLE changes (
         seq BIGINT PRIMARY KEY,
         kind TEXT NOT NULL,
         account TEXT NOT NULL,
         region TEXT NOT NULL,
         id TEXT NOT NULL,
         op TEXT NOT NULL,
         doc TEXT NOT NULL,
         dates TEXT NOT NULL,
         at BIGINT NOT NULL
       )`,
      `CREATE TABLE watch_cursors (
         name TEXT PRIMARY KEY,
         seq BIGINT NOT NULL
       )`,
      "INSERT INTO counters (name, value) VALUES ('changes', 0)",
    ],
    run: (db) => {
      // Documents written before dates were explicit: read them the old way once, write them the
      // new way, and give each a revision.
      const rows = db
        .prepare("SELECT kind, account, region, id, doc FROM resources ORDER BY kind, account, region, id")
        .all() as {
        kind: string;
        account: string;
        region: string;
        id: string;
        doc: string;
      }[];
      const update = db.prepare(
        "UPDATE resources SET doc = ?, dates = ?, rev = ? WHERE kind = ? AND account = ? AND region = ? AND id = ?",
      );
      let seq = 0;
      for (const r of rows) {
        const { body, dates } = encodeDocument(reviveLegacyDocument(r.doc));
        update.run(body, dates, ++seq, r.kind, r.account, r.region, r.id);
      }
      db.prepare("UPDATE counters SET value = ? WHERE name = 'changes'").run(seq);
    },
  },
  {
    // The registry's garbage-collection grace (src/registry/metadata.ts): digests a request looked
    // at recently, so a blob checked by one replica is not collected by another before its manifest.
    version: 6,
    sql: [
      `CREATE TABLE registry_recent (
         digest TEXT PRIMARY KEY,
         touched_at BIGINT NOT NULL
       )`,
    ],
  },
];
