import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
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

/** Reads in 1 MiB chunks: far fewer trips through the event loop than the default 64 KiB. */
const READ_CHUNK = 1 << 20;
/** Temporary files of putContent; list() hides them. */
const TEMP_PREFIX = ".tmp-";

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** The storage driver on a local directory. Writes of whole files go through a temp file + rename. */
export class FilesystemDriver implements StorageDriver {
  readonly name = "filesystem";

  constructor(readonly root: string) {}

  private full(path: string) {
    return join(this.root, checkPath(path));
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return await readFile(this.full(path));
    } catch (e) {
      throw this.mapError(e, path);
    }
  }

  async putContent(path: string, content: Buffer): Promise<void> {
    const full = this.full(path);
    if (path === "/") throw new PathNotFoundError(path);
    await mkdir(dirname(full), { recursive: true });
    const temp = join(dirname(full), `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
    try {
      await writeFile(temp, content, { flush: true });
      await rename(temp, full);
    } catch (e) {
      await rm(temp, { force: true });
      throw this.mapError(e, path);
    }
  }

  async reader(path: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    let fh: FileHandle;
    try {
      fh = await open(this.full(path), constants.O_RDONLY);
    } catch (e) {
      throw this.mapError(e, path);
    }
    const start = range.start ?? 0;
    try {
      const { size } = await fh.stat();
      if (start < 0 || start > size) throw new InvalidOffsetError(path, start);
    } catch (e) {
      await fh.close();
      throw e;
    }
    if (range.end !== undefined && range.end < start) {
      await fh.close();
      return Readable.from([]);
    }
    return fh.createReadStream({ start, end: range.end, highWaterMark: READ_CHUNK });
  }

  async copyTo(path: string, out: Writable, range: { start?: number; end?: number } = {}): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.full(path), constants.O_RDONLY);
    } catch (e) {
      throw this.mapError(e, path);
    }
    try {
      const { size } = await fh.stat();
      let pos = range.start ?? 0;
      if (pos < 0 || pos > size) throw new InvalidOffsetError(path, pos);
      const end = Math.min(range.end ?? size - 1, size - 1);
      // Two buffers, reused: one is read into while the other is being written out.
      const buffers = [Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, end - pos + 1)), undefined as Buffer | undefined];
      let turn = 0;
      let writing: Promise<void> | undefined;
      while (pos <= end) {
        buffers[turn] ??= Buffer.allocUnsafeSlow(buffers[0]!.length);
        const buf = buffers[turn]!;
        turn ^= 1;
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos + 1), pos);
        if (bytesRead === 0) throw new Error(`${path} ended at ${pos}, before ${end + 1}`);
        pos += bytesRead;
        await writing;
        writing = writeChunk(out, bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      }
      await writing;
    } finally {
      await fh.close();
    }
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const full = this.full(path);
    await mkdir(dirname(full), { recursive: true });
    const fh = await open(full, append ? constants.O_RDWR | constants.O_CREAT : "w");
    const size = append ? (await fh.stat()).size : 0;
    return new FsFileWriter(fh, full, size);
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const s = await stat(this.full(path));
      return { path, size: s.isDirectory() ? 0 : s.size, modTime: s.mtime, isDir: s.isDirectory() };
    } catch (e) {
      throw this.mapError(e, path);
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      const names = await readdir(this.full(path));
      const base = path === "/" ? "" : path;
      return names
        .filter((n) => !n.startsWith(TEMP_PREFIX))
        .sort()
        .map((n) => `${base}/${n}`);
    } catch (e) {
      throw this.mapError(e, path);
    }
  }

  async move(source: string, dest: string): Promise<void> {
    const from = this.full(source);
    const to = this.full(dest);
    try {
      await stat(from);
    } catch (e) {
      throw this.mapError(e, source);
    }
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
    } catch (e) {
      throw this.mapError(e, source);
    }
    // The rename is durable once its directory is: a committed blob must survive a crash.
    await syncDir(dirname(to));
  }

  async delete(path: string): Promise<void> {
    const full = this.full(path);
    if (path === "/") throw new PathNotFoundError(path);
    try {
      await stat(full);
    } catch (e) {
      throw this.mapError(e, path);
    }
    await rm(full, { recursive: true, force: true });
  }

  private mapError(e: unknown, path: string): unknown {
    const code = errno(e);
    return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR" ? new PathNotFoundError(path) : e;
  }
}

async function syncDir(dir: string) {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

class FsFileWriter implements FileWriter {
  private ended = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly full: string,
    public size: number,
  ) {}

  async write(chunks: Buffer[]): Promise<void> {
    if (this.ended) throw new Error("writer is closed");
    let pending = chunks.filter((c) => c.length > 0);
    while (pending.length > 0) {
      // Positional: a failed write never shifts where the next one lands.
      const { bytesWritten } = await this.fh.writev(pending, this.size);
      this.size += bytesWritten;
      pending = dropBytes(pending, bytesWritten);
    }
  }

  async commit(): Promise<void> {
    this.ended = true;
    try {
      // Anything past `size` is left over from a failed write: cut it off.
      await this.fh.truncate(this.size);
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.fh.close();
  }

  async cancel(): Promise<void> {
    await this.close();
    await rm(this.full, { force: true });
  }
}

/** The buffers after the first `n` bytes. */
function dropBytes(chunks: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}
