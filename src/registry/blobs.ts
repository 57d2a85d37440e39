import type { Readable, Writable } from "node:stream";
import type { Digest } from "./digest.js";
import { type StorageDriver, isNotFound } from "./driver/driver.js";
import { layout } from "./layout.js";

/** Committed, content-addressed blobs in the storage driver. Knows nothing of repositories. */
export class BlobStore {
  constructor(private readonly driver: StorageDriver) {}

  /** The stored size, or undefined when the blob's file is absent. */
  async size(d: Digest): Promise<number | undefined> {
    try {
      return (await this.driver.stat(layout.blobData(d))).size;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Moves verified upload data into place. When the blob is already there (same digest, same
   * size) the upload's copy is dropped instead. Callers hold the digest's lock.
   */
  async adopt(source: string, d: Digest, size: number): Promise<void> {
    if ((await this.size(d)) === size) {
      await this.driver.delete(source);
      return;
    }
    await this.driver.move(source, layout.blobData(d));
  }

  /** A stream of the blob, or of bytes `start`..`end` (inclusive). */
  open(d: Digest, range?: { start: number; end: number }): Promise<Readable> {
    return this.driver.reader(layout.blobData(d), range);
  }

  /** Writes the blob, or bytes `start`..`end` (inclusive), into `out` (not ending it). */
  copyTo(d: Digest, out: Writable, range?: { start: number; end: number }): Promise<void> {
    return this.driver.copyTo(layout.blobData(d), out, range);
  }

  /** Removes the blob's file; false when it was not there. Callers hold the digest's lock. */
  async remove(d: Digest): Promise<boolean> {
    try {
      await this.driver.delete(layout.blobDir(d));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
