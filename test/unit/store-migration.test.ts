import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, it } from "vitest";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { MIGRATIONS } from "../../src/store/migrations.js";

it("documents written before dates were explicit read back as before, with revisions", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-migrate-"));
  try {
    const file = join(dir, "berth.db");
    // A data dir left by an older Berth: schema up to version 4, documents with ISO dates.
    const old = new Database(file);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)");
    for (const m of MIGRATIONS.filter((m) => m.version <= 4)) {
      for (const sql of m.sql) old.exec(sql);
      old.prepare("INSERT INTO schema_migrations (version) VALUES (?)").run(m.version);
    }
    const insert = old.prepare(
      "INSERT INTO resources (kind, account, region, id, arn, parent, doc, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
    );
    insert.run(
      "ecs.cluster",
      "000000000000",
      "us-east-1",
      "a",
      "arn:a",
      null,
      '{"name":"a","createdAt":"2026-01-02T03:04:05.000Z"}',
    );
    insert.run("ecs.cluster", "000000000000", "us-east-1", "b", "arn:b", null, '{"name":"b"}');
    old.close();

    const db = openDb(file);
    const store = new DocumentStore(db);
    const clusters = store.collection<{ name: string; createdAt?: Date }>("ecs.cluster", { id: (c) => c.name });
    const scope = { account: "000000000000", region: "us-east-1" };
    const a = clusters.getVersioned(scope, "a")!;
    expect(a.doc.createdAt).toEqual(new Date("2026-01-02T03:04:05.000Z"));
    const b = clusters.getVersioned(scope, "b")!;
    expect(new Set([a.rev, b.rev]).size).toBe(2);
    // New writes continue the sequence after the migrated revisions.
    expect(clusters.putVersioned(scope, { name: "c" })).toBeGreaterThan(Math.max(a.rev, b.rev));
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
