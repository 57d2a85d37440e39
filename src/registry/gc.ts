import type { BlobStore } from "./blobs.js";
import { parseDigest } from "./digest.js";
import { type StorageDriver, walk } from "./driver/driver.js";
import { layout } from "./layout.js";
import type { KeyedMutex } from "./locks.js";
import type { RegistryMetadata } from "./metadata.js";
import type { UploadStore } from "./uploads.js";

/**
 * Mark and sweep, safe while pushes run. What a manifest references (the mark) is kept in
 * SQLite as manifests are stored, so a run is:
 *
 * 1. expire uploads with no activity for `uploadTtlMs` (none that a request is using);
 * 2. drop repository→blob links that no manifest of the repository references, linked more
 *    than `graceMs` ago and not looked at (HEAD, mount, commit) within `graceMs` — a push uploads
 *    its blobs before its manifest, so a fresh link is a push in progress;
 * 3. delete blobs nothing links or references, committed more than `graceMs` ago: under the
 *    digest's lock, re-checked in a transaction, row first, then the file — a commit of the same
 *    digest waits for the lock, and putManifest/mount can no longer see the row;
 * 4. delete blob files with no row at all (a crash between move and link), older than `graceMs`.
 */
export interface GcOptions {
  graceMs: number;
  uploadTtlMs: number;
}

export interface GcResult {
  uploadsExpired: number;
  linksRemoved: number;
  blobsRemoved: number;
  bytesFreed: number;
  strayFilesRemoved: number;
}

export interface GcDeps {
  driver: StorageDriver;
  meta: RegistryMetadata;
  blobs: BlobStore;
  uploads: UploadStore;
  locks: KeyedMutex;
}

export async function collectGarbage(deps: GcDeps, now: number, opts: GcOptions): Promise<GcResult> {
  const { meta, blobs, locks } = deps;
  const before = now - opts.graceMs;
  meta.forgetTouchedBefore(before);
  const fresh = (digest: string) => meta.touchedSince(digest, before);

  const uploadsExpired = await deps.uploads.expire(now - opts.uploadTtlMs);

  const linksRemoved = meta.transaction(() => {
    let n = 0;
    for (const l of meta.unreferencedLinks(before)) {
      if (fresh(l.digest)) continue;
      if (meta.unlink(l, l.digest)) n++;
    }
    return n;
  });

  let blobsRemoved = 0;
  let bytesFreed = 0;
  for (const { digest, size } of meta.orphanBlobs(before)) {
    const d = parseDigest(digest);
    if (!d) continue;
    await locks.run(digest, async () => {
      const gone = meta.transaction(() => {
        if (fresh(digest) || !meta.isOrphan(digest, before)) return false;
        meta.deleteBlob(digest);
        return true;
      });
      if (!gone) return;
      await blobs.remove(d);
      blobsRemoved++;
      bytesFreed += size;
    });
  }

  let strayFilesRemoved = 0;
  for await (const entry of walk(deps.driver, layout.blobsRoot)) {
    const digest = entry.isDir ? layout.digestOfBlobDir(entry.path) : undefined;
    const d = digest ? parseDigest(digest) : undefined;
    if (!d || !digest) continue;
    await locks.run(digest, async () => {
      if (meta.blob(digest) || fresh(digest)) return;
      const size = await blobs.size(d);
      const info = await deps.driver.stat(layout.blobData(d)).catch(() => undefined);
      if (info && info.modTime.getTime() >= before) return;
      if (await blobs.remove(d)) {
        strayFilesRemoved++;
        bytesFreed += size ?? 0;
      }
    });
  }

  return { uploadsExpired, linksRemoved, blobsRemoved, bytesFreed, strayFilesRemoved };
}
