import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ResourceBackend } from "../../src/store/backend.js";
import { type Change, DocumentStore, RevisionConflict } from "../../src/store/documents.js";

/**
 * The behaviour every resource store implementation must show (SQLite today; PostgreSQL later).
 * `open` returns a fresh, empty backend; `reopen` (where the backend is durable) opens the same
 * data again as a new process would, after closing the previous one.
 */
export function describeStoreConformance(
  name: string,
  impl: { open: () => { backend: ResourceBackend; reopen?: () => ResourceBackend } },
) {
  const scope = { account: "000000000000", region: "us-east-1" };
  const other = { account: "111111111111", region: "eu-west-1" };
  type Doc = { name: string; arn?: string; parent?: string; at?: Date; n?: number; labels?: Record<string, string> };
  const things = (store: DocumentStore) =>
    store.collection<Doc>("test.thing", { id: (d) => d.name, arn: (d) => d.arn!, parent: (d) => d.parent! });

  const drain = async (store: DocumentStore, from = 0) => store.changesSince(from, 10_000);

  describe(`store conformance: ${name}`, () => {
    it("gets, lists by scope and parent, finds by ARN, and deletes", () => {
      const store = new DocumentStore(impl.open().backend);
      const c = things(store);
      c.put(scope, { name: "b", arn: "arn:x:b", parent: "p" });
      c.put(scope, { name: "a", arn: "arn:x:a", parent: "q" });
      c.put(other, { name: "a", arn: "arn:y:a", parent: "p" });
      expect(c.list(scope).map((d) => d.name)).toEqual(["a", "b"]);
      expect(c.children(scope, "p").map((d) => d.name)).toEqual(["b"]);
      expect(c.byArn("arn:y:a")).toEqual({ scope: other, doc: { name: "a", arn: "arn:y:a", parent: "p" } });
      expect(store.collection<Doc>("test.other", { id: (d) => d.name }).byArn("arn:x:a")).toBeUndefined();
      expect(c.listAll().map((x) => `${x.scope.account}/${x.doc.name}`)).toEqual([
        "000000000000/a",
        "000000000000/b",
        "111111111111/a",
      ]);
      expect(c.delete(scope, "a")).toBe(true);
      expect(c.delete(scope, "a")).toBe(false);
      expect(c.get(scope, "a")).toBeUndefined();
    });

    it("gives every write a new, increasing revision that is its change log position", () => {
      const store = new DocumentStore(impl.open().backend);
      const c = things(store);
      const r1 = c.putVersioned(scope, { name: "a" });
      const r2 = c.putVersioned(scope, { name: "b" });
      const r3 = c.putVersioned(scope, { name: "a", n: 2 });
      expect(r1).toBeLessThan(r2);
      expect(r2).toBeLessThan(r3);
      expect(c.getVersioned(scope, "a")).toEqual({ doc: { name: "a", n: 2 }, rev: r3 });
      expect(store.head()).toBe(r3);
      expect(store.changesSince(0).map((ch) => [ch.seq, ch.id, ch.op])).toEqual([
        [r1, "a", "put"],
        [r2, "b", "put"],
        [r3, "a", "put"],
      ]);
    });

    it("compare-and-put: a stale revision is a conflict and changes nothing", () => {
      const store = new DocumentStore(impl.open().backend);
      const c = things(store);
      const rev = c.putVersioned(scope, { name: "a", n: 1 }, { expect: 0 });
      expect(() => c.put(scope, { name: "a", n: 9 }, { expect: 0 })).toThrow(RevisionConflict);
      const rev2 = c.putVersioned(scope, { name: "a", n: 2 }, { expect: rev });
      expect(() => c.put(scope, { name: "a", n: 3 }, { expect: rev })).toThrow(RevisionConflict);
      expect(() => c.delete(scope, "a", { expect: rev })).toThrow(RevisionConflict);
      expect(c.getVersioned(scope, "a")).toEqual({ doc: { name: "a", n: 2 }, rev: rev2 });
      expect(store.head()).toBe(rev2);
      expect(c.delete(scope, "a", { expect: rev2 })).toBe(true);
    });

    it("a rolled-back transaction writes nothing, logs nothing and announces nothing", async () => {
      const store = new DocumentStore(impl.open().backend);
      const c = things(store);
      c.put(scope, { name: "kept" });
      const seen: Change[] = [];
      const watch = store.watch({}, (changes) => {
        seen.push(...changes);
      });
      const head = store.head();
      expect(() =>
        store.transaction(() => {
          c.put(scope, { name: "lost" });
          c.delete(scope, "kept");
          throw new Error("abort");
        }),
      ).toThrow("abort");
      await watch.caughtUp();
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([]);
      expect(store.head()).toBe(head);
      expect(c.get(scope, "lost")).toBeUndefined();
      expect(c.get(scope, "kept")).toEqual({ name: "kept" });
      c.put(scope, { name: "after" });
      await watch.caughtUp();
      expect(seen.map((ch) => ch.id)).toEqual(["after"]);
      watch.stop();
    });

    it("announces a transaction's writes only after it commits, in order, with deletes carrying the last document", async () => {
      const store = new DocumentStore(impl.open().backend);
      const c = things(store);
      const seen: string[] = [];
      const watch = store.watch({ kinds: ["test.thing"] }, (changes) => {
        // The store already holds what each change announces.
        for (const ch of changes)
          seen.push(`${ch.op}:${ch.id}:${JSON.stringify(ch.doc)}:${c.get(scope, "b") ? "b" : "-"}`);
      });
      store.transaction(() => {
        c.put(scope, { name: "a" });
        c.put(scope, { name: "b" });
        c.delete(scope, "a");
        expect(seen).toEqual([]);
      });
      store.collection<Doc>("test.ignored", { id: (d) => d.name }).put(scope, { name: "z" });
      await watch.caughtUp();
      expect(seen).toEqual(['put:a:{"name":"a"}:b', 'put:b:{"name":"b"}:b', 'delete:a:{"name":"a"}:b']);
      expect(watch.position()).toBe(store.head());
      watch.stop();
    });

    it("round-trips user strings that look like dates byte for byte, and Dates as Dates", () => {
      const store = new DocumentStore(impl.open().backend);
      const c = things(store);
      const doc: Doc = {
        name: "a",
        at: new Date("2026-12-03T10:00:00.000Z"),
        labels: { buildTime: "2026-12-03T10:00:00Z", creationTimestamp: "2026-12-03T10:00:00Z" },
      };
      c.put(scope, doc);
      const back = c.get(scope, "a")!;
      expect(back.at).toBeInstanceOf(Date);
      expect(back.at!.toISOString()).toBe("2026-12-03T10:00:00.000Z");
      expect(back.labels).toEqual({ buildTime: "2026-12-03T10:00:00Z", creationTimestamp: "2026-12-03T10:00:00Z" });
      expect(store.changesSince(0)[0]!.doc).toEqual(back);
    });

    it("property: any JSON document with Dates anywhere reads back equal", () => {
      const store = new DocumentStore(impl.open().backend);
      const c = store.collection<{ id: string; v: unknown }>("test.any", { id: (d) => d.id });
      const value = fc.letrec((tie) => ({
        node: fc.oneof(
          { depthSize: "small" },
          fc.string(),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.date({ noInvalidDate: true }),
          fc.constantFrom("2026-12-03T10:00:00Z", "2026-12-03T10:00:00.000Z"),
          fc.array(tie("node"), { maxLength: 4 }),
          fc.dictionary(fc.string(), tie("node"), { maxKeys: 4 }),
        ),
      })).node;
      fc.assert(
        fc.property(value, (v) => {
          c.put(scope, { id: "x", v });
          expect(c.get(scope, "x")).toEqual({ id: "x", v });
        }),
        { numRuns: 200 },
      );
    });

    it("a named watch resumes after a restart where it stopped: no change is lost", async () => {
      const opened = impl.open();
      if (!opened.reopen) return;
      let store = new DocumentStore(opened.backend);
      let c = things(store);
      for (let i = 0; i < 5; i++) c.put(scope, { name: `before-${i}` });
      const seen = new Set<string>();
      // The first process delivers a batch at a time and dies in the middle of its third batch.
      let batches = 0;
      const first = store.watch({ name: "w", from: 0, batch: 2 }, (changes) => {
        if (++batches >= 3) throw new Error("crash"); // and every retry, until the process dies
        for (const ch of changes) seen.add(ch.id);
      });
      await new Promise((r) => setTimeout(r, 30));
      first.stop();
      expect(seen.size).toBe(4);
      store = new DocumentStore(opened.reopen());
      c = things(store);
      for (let i = 0; i < 5; i++) c.put(scope, { name: `after-${i}` });
      const second = store.watch({ name: "w", from: store.head() }, (changes) => {
        for (const ch of changes) seen.add(ch.id);
      });
      await second.caughtUp();
      second.stop();
      expect([...seen].sort()).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `after-${i}`),
        ...[0, 1, 2, 3, 4].map((i) => `before-${i}`),
      ]);
      // A third start of the same watch has nothing left to deliver.
      const again: string[] = [];
      const third = store.watch({ name: "w" }, (changes) => {
        for (const ch of changes) again.push(ch.id);
      });
      await third.caughtUp();
      third.stop();
      expect(again).toEqual([]);
    });

    it("compacts old change log entries and tells a watcher that fell behind to re-read", async () => {
      const store = new DocumentStore(impl.open().backend, { retainChanges: 10 });
      const c = things(store);
      for (let i = 0; i < 600; i++) c.put(scope, { name: `t${i % 7}`, n: i });
      expect(store.changesSince(0).length).toBeLessThan(600);
      let relisted = 0;
      const ids: number[] = [];
      const w = store.watch({ from: 0, onCompacted: () => void relisted++ }, (changes) => {
        for (const ch of changes) ids.push(ch.seq);
      });
      await w.caughtUp();
      w.stop();
      expect(relisted).toBe(1);
      expect(ids[ids.length - 1]).toBe(store.head());
      await drain(store);
    });
  });
}
