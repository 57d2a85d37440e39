import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Readable, Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  InvalidOffsetError,
  InvalidPathError,
  PathNotFoundError,
  type StorageDriver,
  walk,
} from "../../src/registry/driver/driver.js";
import { FilesystemDriver } from "../../src/registry/driver/filesystem.js";
import { MemoryDriver } from "../../src/registry/driver/memory.js";

/**
 * The storage-driver conformance suite: every StorageDriver implementation is added to
 * `drivers` below and must pass every case, so the registry can rely on the contract alone.
 */
const drivers: { name: string; create(): { driver: StorageDriver; dispose(): void } }[] = [
  {
    name: "filesystem",
    create() {
      const dir = mkdtempSync(join(tmpdir(), "berth-driver-"));
      return { driver: new FilesystemDriver(dir), dispose: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  { name: "inmemory", create: () => ({ driver: new MemoryDriver(), dispose() {} }) },
];

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A Writable that collects what it is given, optionally slowly, optionally failing after `failAfter` bytes. */
function sink(opts: { delayMs?: number; failAfter?: number } = {}) {
  const chunks: Buffer[] = [];
  let seen = 0;
  const w = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (opts.failAfter !== undefined && seen > opts.failAfter) return cb(new Error("client went away"));
      // Copy: the driver may reuse its buffer once the write is acknowledged.
      chunks.push(Buffer.from(chunk));
      setTimeout(cb, opts.delayMs ?? 0);
    },
  });
  w.on("error", () => {}); // its owner handles its errors, as the HTTP server does for a response
  return { w, data: () => Buffer.concat(chunks) };
}

for (const { name, create } of drivers) {
  describe(`storage driver conformance: ${name}`, () => {
    let d: StorageDriver;
    let dispose: () => void;
    beforeEach(() => {
      ({ driver: d, dispose } = create());
    });
    afterEach(() => dispose());

    it("refuses malformed paths", async () => {
      for (const p of ["", "a", "/a/", "//a", "/a//b", "/a/../b", "/./a", "/a b", "/a/\u00e9", "/a\\b"]) {
        await expect(d.getContent(p), p).rejects.toBeInstanceOf(InvalidPathError);
        await expect(d.putContent(p, Buffer.from("x")), p).rejects.toBeInstanceOf(InvalidPathError);
        await expect(d.stat(p), p).rejects.toBeInstanceOf(InvalidPathError);
      }
    });

    it("puts and gets whole files, replacing content", async () => {
      await d.putContent("/a/b/c", Buffer.from("first"));
      expect((await d.getContent("/a/b/c")).toString()).toBe("first");
      await d.putContent("/a/b/c", Buffer.from("2nd"));
      expect((await d.getContent("/a/b/c")).toString()).toBe("2nd");
      await d.putContent("/empty", Buffer.alloc(0));
      expect((await d.getContent("/empty")).length).toBe(0);
    });

    it("keeps binary content byte for byte", async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await d.putContent("/bin", data);
      expect((await d.getContent("/bin")).equals(data)).toBe(true);
      expect((await readAll(await d.reader("/bin"))).equals(data)).toBe(true);
    });

    it("answers PathNotFoundError for missing files and for directories read as files", async () => {
      await d.putContent("/dir/file", Buffer.from("x"));
      await expect(d.getContent("/missing")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.getContent("/dir")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.reader("/missing")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.stat("/dir/missing")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.list("/missing")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.move("/missing", "/x")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.delete("/missing")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.getContent("/dir/file/below")).rejects.toBeInstanceOf(PathNotFoundError);
    });

    it("reads ranges: from an offset, bounded, empty at the end, refused past the end", async () => {
      await d.putContent("/r", Buffer.from("0123456789"));
      expect((await readAll(await d.reader("/r", { start: 3 }))).toString()).toBe("3456789");
      expect((await readAll(await d.reader("/r", { start: 2, end: 4 }))).toString()).toBe("234");
      expect((await readAll(await d.reader("/r", { end: 0 }))).toString()).toBe("0");
      expect((await readAll(await d.reader("/r", { start: 10 }))).length).toBe(0);
      await expect(d.reader("/r", { start: 11 })).rejects.toBeInstanceOf(InvalidOffsetError);
      await expect(d.reader("/r", { start: -1 })).rejects.toBeInstanceOf(InvalidOffsetError);
    });

    it("copies a file, or a range, into a writable without ending it, whatever the writable's pace", async () => {
      const data = randomBytes(3 * 1024 * 1024 + 123);
      await d.putContent("/copy", data);
      const all = sink({ delayMs: 1 });
      await d.copyTo("/copy", all.w);
      expect(all.w.writableEnded).toBe(false);
      expect(all.data().equals(data)).toBe(true);
      const part = sink();
      await d.copyTo("/copy", part.w, { start: 1_000_000, end: 2_500_000 });
      expect(part.data().equals(data.subarray(1_000_000, 2_500_001))).toBe(true);
      const tail = sink();
      await d.copyTo("/copy", tail.w, { start: data.length });
      expect(tail.data().length).toBe(0);
      await expect(d.copyTo("/copy", sink().w, { start: data.length + 1 })).rejects.toBeInstanceOf(InvalidOffsetError);
      await expect(d.copyTo("/missing", sink().w)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.copyTo("/copy", sink({ failAfter: 10 }).w)).rejects.toThrow(/went away/);
      const closed = sink();
      closed.w.destroy();
      await expect(d.copyTo("/copy", closed.w)).rejects.toThrow();
    });

    it("writes in chunks, counts the size, and appends after reopening", async () => {
      const parts = Array.from({ length: 40 }, () => randomBytes(100_000));
      const w = await d.writer("/up/data", false);
      expect(w.size).toBe(0);
      for (let i = 0; i < 20; i += 4) await w.write(parts.slice(i, i + 4));
      expect(w.size).toBe(2_000_000);
      await w.close();
      const w2 = await d.writer("/up/data", true);
      expect(w2.size).toBe(2_000_000);
      await w2.write(parts.slice(20));
      await w2.write([]);
      expect(w2.size).toBe(4_000_000);
      await w2.commit();
      expect((await d.stat("/up/data")).size).toBe(4_000_000);
      expect((await readAll(await d.reader("/up/data"))).equals(Buffer.concat(parts))).toBe(true);
    });

    it("a non-append writer truncates; an append writer creates a missing file", async () => {
      await d.putContent("/t", Buffer.from("old content"));
      const w = await d.writer("/t", false);
      await w.write([Buffer.from("new")]);
      await w.commit();
      expect((await d.getContent("/t")).toString()).toBe("new");
      const w2 = await d.writer("/fresh/file", true);
      expect(w2.size).toBe(0);
      await w2.write([Buffer.from("a"), Buffer.from("b")]);
      await w2.close();
      expect((await d.getContent("/fresh/file")).toString()).toBe("ab");
    });

    it("cancel deletes what the writer wrote; a closed writer refuses writes", async () => {
      const w = await d.writer("/c/data", false);
      await w.write([Buffer.from("partial")]);
      await w.cancel();
      await expect(d.stat("/c/data")).rejects.toBeInstanceOf(PathNotFoundError);
      const w2 = await d.writer("/c/other", false);
      await w2.close();
      await expect(w2.write([Buffer.from("x")])).rejects.toThrow();
    });

    it("stats files and the directories implied by them", async () => {
      await d.putContent("/s/a/file", Buffer.from("12345"));
      const f = await d.stat("/s/a/file");
      expect(f).toMatchObject({ path: "/s/a/file", size: 5, isDir: false });
      expect(f.modTime).toBeInstanceOf(Date);
      expect(await d.stat("/s/a")).toMatchObject({ path: "/s/a", isDir: true });
      expect(await d.stat("/s")).toMatchObject({ isDir: true });
    });

    it("lists direct children as sorted full paths", async () => {
      await d.putContent("/l/b", Buffer.from("1"));
      await d.putContent("/l/a/x", Buffer.from("2"));
      await d.putContent("/l/a/y/z", Buffer.from("3"));
      await d.putContent("/l/c", Buffer.from("4"));
      await d.putContent("/lx", Buffer.from("5"));
      expect(await d.list("/l")).toEqual(["/l/a", "/l/b", "/l/c"]);
      expect(await d.list("/l/a")).toEqual(["/l/a/x", "/l/a/y"]);
      expect(await d.list("/")).toEqual(["/l", "/lx"]);
    });

    it("moves a file over an existing one, creating parents, leaving no source", async () => {
      await d.putContent("/m/src", Buffer.from("moved"));
      await d.putContent("/m/dst/deep/data", Buffer.from("old"));
      await d.move("/m/src", "/m/dst/deep/data");
      expect((await d.getContent("/m/dst/deep/data")).toString()).toBe("moved");
      await expect(d.stat("/m/src")).rejects.toBeInstanceOf(PathNotFoundError);
      await d.putContent("/m/src2", Buffer.from("two"));
      await d.move("/m/src2", "/n/e/w/file");
      expect((await d.getContent("/n/e/w/file")).toString()).toBe("two");
    });

    it("deletes a file, or a directory recursively, leaving siblings with a shared prefix", async () => {
      await d.putContent("/d/a/1", Buffer.from("1"));
      await d.putContent("/d/a/sub/2", Buffer.from("2"));
      await d.putContent("/d/ab", Buffer.from("3"));
      await d.delete("/d/a");
      await expect(d.stat("/d/a/1")).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(d.stat("/d/a/sub/2")).rejects.toBeInstanceOf(PathNotFoundError);
      expect((await d.getContent("/d/ab")).toString()).toBe("3");
      await d.delete("/d/ab");
      await expect(d.getContent("/d/ab")).rejects.toBeInstanceOf(PathNotFoundError);
    });

    it("never shows a half-written file to readers of putContent", async () => {
      const a = Buffer.alloc(2 * 1024 * 1024, 0x61);
      const b = Buffer.alloc(2 * 1024 * 1024, 0x62);
      await Promise.all([d.putContent("/race", a), d.putContent("/race", b), d.putContent("/race", a)]);
      const got = await d.getContent("/race");
      expect(got.equals(a) || got.equals(b)).toBe(true);
      expect(await d.list("/")).toEqual(["/race"]);
    });

    it("walks every entry under a path", async () => {
      await d.putContent("/w/1/a", Buffer.from("a"));
      await d.putContent("/w/2/b/c", Buffer.from("c"));
      const seen: string[] = [];
      for await (const e of walk(d, "/w")) seen.push(`${e.path}${e.isDir ? "/" : ""}`);
      expect(seen).toEqual(["/w/1/", "/w/1/a", "/w/2/", "/w/2/b/", "/w/2/b/c"]);
      const none: string[] = [];
      for await (const e of walk(d, "/nothing")) none.push(e.path);
      expect(none).toEqual([]);
    });
  });
}
