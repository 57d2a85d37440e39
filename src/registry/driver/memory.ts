import { Readable, type Writable } from "node:stream";
import {
  type FileInfo,
  type FileWriter,
  InvalidOffsetError,
  PathNotFoundError,
  type StorageDriver,
  checkPath,
  writeChunk,
} from "./driver.js";

interface Entry {
  data: Buffer;
  modTime: Date;
}

/**
 * A storage driver in memory, for unit tests of everything above the driver. Directories are
 * implied by the files under them, as in an object store.
 */
export class MemoryDriver implements StorageDriver {
  readonly name = "inmemory";
  private readonly files = new Map<string, Entry>();

  private isDir(path: string) {
    const prefix = path === "/" ? "/" : `${path}/`;
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  private file(path: string): Entry {
    const f = this.files.get(checkPath(path));
    if (!f) throw new PathNotFoundError(path);
    return f;
  }

  async getContent(path: string) {
    return Buffer.from(this.file(path).data);
  }

  async putContent(path: string, content: Buffer) {
    checkPath(path);
    if (path === "/" || this.isDir(path)) throw new PathNotFoundError(path);
    this.files.set(path, { data: Buffer.from(content), modTime: new Date() });
  }

  async reader(path: string, range: { start?: number; end?: number } = {}) {
    const { data } = this.file(path);
    const start = range.start ?? 0;
    if (start < 0 || start > data.length) throw new InvalidOffsetError(path, start);
    const end = Math.min(range.end ?? data.length - 1, data.length - 1);
    return Readable.from(end >= start ? [data.subarray(start, end + 1)] : []);
  }

  async copyTo(path: string, out: Writable, range: { start?: number; end?: number } = {}) {
    const { data } = this.file(path);
    const start = range.start ?? 0;
    if (start < 0 || start > data.length) throw new InvalidOffsetError(path, start);
    const end = Math.min(range.end ?? data.length - 1, data.length - 1);
    if (end >= start) await writeChunk(out, data.subarray(start, end + 1));
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    checkPath(path);
    const existing = append ? this.files.get(path) : undefined;
    const entry: Entry = { data: existing ? existing.data : Buffer.alloc(0), modTime: new Date() };
    this.files.set(path, entry);
    let closed = false;
    const files = this.files;
    return {
      get size() {
        return entry.data.length;
      },
      async write(chunks: Buffer[]) {
        if (closed) throw new Error("writer is closed");
        entry.data = Buffer.concat([entry.data, ...chunks]);
        entry.modTime = new Date();
      },
      async commit() {
        closed = true;
      },
      async close() {
        closed = true;
      },
      async cancel() {
        closed = true;
        if (files.get(path) === entry) files.delete(path);
      },
    };
  }

  async stat(path: string): Promise<FileInfo> {
    checkPath(path);
    const f = this.files.get(path);
    if (f) return { path, size: f.data.length, modTime: f.modTime, isDir: false };
    if (path === "/" || this.isDir(path)) return { path, size: 0, modTime: new Date(0), isDir: true };
    throw new PathNotFoundError(path);
  }

  async list(path: string) {
    checkPath(path);
    const prefix = path === "/" ? "/" : `${path}/`;
    const children = new Set<string>();
    for (const k of this.files.keys())
      if (k.startsWith(prefix)) children.add(prefix + k.slice(prefix.length).split("/")[0]);
    if (children.size === 0 && path !== "/") throw new PathNotFoundError(path);
    return [...children].sort();
  }

  async move(source: string, dest: string) {
    const f = this.file(source);
    checkPath(dest);
    this.files.delete(source);
    this.files.set(dest, f);
  }

  async delete(path: string) {
    checkPath(path);
    const prefix = path === "/" ? "/" : `${path}/`;
    let found = this.files.delete(path);
    for (const k of [...this.files.keys()])
      if (k.startsWith(prefix)) {
        this.files.delete(k);
        found = true;
      }
    if (!found) throw new PathNotFoundError(path);
  }
}
