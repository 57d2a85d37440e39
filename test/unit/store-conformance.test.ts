import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openDb } from "../../src/store/db.js";
import { SqliteBackend } from "../../src/store/sqlite-backend.js";
import { describeStoreConformance } from "../support/store-conformance.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeStoreConformance("SQLite", {
  open: () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-store-"));
    dirs.push(dir);
    const file = join(dir, "berth.db");
    let db = openDb(file);
    return {
      backend: new SqliteBackend(db),
      reopen: () => {
        db.close();
        db = openDb(file);
        return new SqliteBackend(db);
      },
    };
  },
});
