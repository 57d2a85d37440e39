import type { Readable, Writable } from "node:stream";

/**
 * The storage driver: a small file-system-like interface the registry keeps its content behind
 * (in the spirit of CNCF distribution's registry/storage/driver). The filesystem driver is the
 * one in use; an object store can implement the same interface and must pass the same
 * conformance suite (test/unit/registry-driver.test.ts).
 *
 * Paths are absolute, `/`-separated, made of `[A-Za-z0-9._-]` components (no `.` or `..`),
 * e.g. `/blobs/sha256/ab/abcd…/data`. The root is `/`.
 */
export interface StorageDriver {
  readonly name: string;
  /** The whole content of a file. PathNotFoundError if absent. */
  getContent(path: string): Promise<Buffer>;
  /** Writes a whole file atomically: readers see the old content or the new, never a mix. */
  putContent(path: string, content: Buffer): Promise<void>;
  /**
   * A stream of the file from `start` (default 0) to `end` inclusive (default: the last byte).
   * PathNotFoundError if absent, InvalidOffsetError if `start` is past the end.
   */
  reader(path: string, range?: { start?: number; end?: number }): Promise<Readable>;
  /**
   * Writes the file (or bytes `start`..`end` inclusive) into `out` without ending it; resolves once
   * `out` has taken every byte. Errors as `reader`, or `out`'s error. This is how blobs are served:
   * a driver can reuse its buffers here (the filesystem driver double-buffers), where a Readable
   * must allocate a fresh one per chunk.
   */
  copyTo(path: string, out: Writable, range?: { start?: number; end?: number }): Promise<void>;
  /** Opens a file for writing; `append` continues after its current content (creating it if absent). */
  writer(path: string, append: boolean): Promise<FileWriter>;
  /** Size and modification time. PathNotFoundError if absent. */
  stat(path: string): Promise<FileInfo>;
  /** Full paths of the direct children of a directory, sorted. PathNotFoundError if absent. */
  list(path: string): Promise<string[]>;
  /** Moves a file, replacing `dest` atomically; parents of `dest` are created. PathNotFoundError if absent. */
  move(source: string, dest: string): Promise<void>;
  /** Deletes a file or a directory with everything under it. PathNotFoundError if absent. */
  delete(path: string): Promise<void>;
}

export interface FileInfo {
  path: string;
  /** Bytes (0 for directories). */
  size: number;
  modTime: Date;
  isDir: boolean;
}

/**
 * An open file being written. Writes land in order at the end; `size` counts every byte that a
 * resolved `write` put there (an append writer starts at the file's existing size). Exactly one
 * of `commit`, `close` or `cancel` ends it.
 */
export interface FileWriter {
  readonly size: number;
  /** Appends the buffers in order (one vectored write where the driver can). */
  write(chunks: Buffer[]): Promise<void>;
  /** Makes everything written durable (fsync), then closes. */
  commit(): Promise<void>;
  /** Closes without the durability guarantee; the content written stays. */
  close(): Promise<void>;
  /** Closes and deletes the file. */
  cancel(): Promise<void>;
}

export class PathNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
  }
}

export class InvalidPathError extends Error {
  constructor(readonly path: string) {
    super(`invalid path: ${path}`);
  }
}

export class InvalidOffsetError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number,
  ) {
    super(`invalid offset ${offset} for ${path}`);
  }
}

const PATH = /^(?:\/[A-Za-z0-9._-]+)+$/;

/** Throws InvalidPathError unless `path` is `/` or a clean absolute path. */
export function checkPath(path: string): string {
  if (path === "/") return path;
  if (!PATH.test(path) || path.split("/").some((c) => c === "." || c === "..")) throw new InvalidPathError(path);
  return path;
}

export const isNotFound = (e: unknown): e is PathNotFoundError => e instanceof PathNotFoundError;

/** Depth-first walk of everything under `path` (not `path` itself), with each entry's FileInfo. */
export async function* walk(driver: StorageDriver, path: string): AsyncGenerator<FileInfo> {
  let children: string[];
  try {
    children = await driver.list(path);
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  for (const child of children) {
    let info: FileInfo;
    try {
      info = await driver.stat(child);
    } catch (e) {
      if (isNotFound(e)) continue; // deleted meanwhile
      throw e;
    }
    yield info;
    if (info.isDir) yield* walk(driver, child);
  }
}

/** Writes one chunk and resolves when `out` has taken it (its buffer may then be reused). */
export function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  const p = new Promise<void>((resolve, reject) => {
    if (out.destroyed || out.writableEnded) return reject(new Error("the destination is closed"));
    const fail = (err?: Error) => {
      done();
      reject(err ?? new Error("the destination closed"));
    };
    const done = () => {
      out.off("close", fail);
      out.off("error", fail);
    };
    out.once("close", fail);
    out.once("error", fail);
    out.write(chunk, (err) => {
      done();
      if (err) reject(err);
      else resolve();
    });
  });
  // The caller may await it only after its next read: never an unhandled rejection meanwhile.
  p.catch(() => {});
  return p;
}
