/**
 * Schema migrations, applied in order and recorded in schema_migrations. Keep the SQL portable
 * (TEXT / BIGINT / plain indexes, no SQLite-only functions): PostgreSQL will run the same list.
 */
export const MIGRATIONS: { version: number; sql: string[] }[] = [
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
];
