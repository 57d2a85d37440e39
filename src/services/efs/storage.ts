import { mkdirSync, promises as fsp, rmSync } from "node:fs";
import { join, posix } from "node:path";
import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";

/** How long a measured size is reused before the tree is walked again. */
const SIZE_CACHE_MS = 5_000;

export interface MeasuredSize {
  bytes: number;
  at: Date;
}

/**
 * The only module that knows where EFS data lives: each file system is the directory
 * `<dataDir>/efs/<account>/<region>/<fs-id>/`, made by CreateFileSystem and removed only by
 * DeleteFileSystem, so it outlives tasks, services and restarts.
 */
export class EfsStorage {
  private readonly sizes = new Map<string, MeasuredSize & { expires: number }>();

  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
  ) {}

  /** The host directory of a file system. */
  root(scope: Scope, fileSystemId: string): string {
    return join(this.dataDir, "efs", scope.account, scope.region, fileSystemId);
  }

  /**
   * The host directory of a path inside a file system ("/" is its root). The path is
   * normalised first, so "/a/../.." cannot leave the file system.
   */
  pathIn(scope: Scope, fileSystemId: string, path = "/"): string {
    const inside = posix.normalize(`/${path}`).replace(/^\/+/, "");
    return inside ? join(this.root(scope, fileSystemId), ...inside.split("/")) : this.root(scope, fileSystemId);
  }

  create(scope: Scope, fileSystemId: string) {
    mkdirSync(this.root(scope, fileSystemId), { recursive: true, mode: 0o755 });
  }

  remove(scope: Scope, fileSystemId: string) {
    rmSync(this.root(scope, fileSystemId), { recursive: true, force: true });
    this.sizes.delete(this.root(scope, fileSystemId));
  }

  /**
   * Makes a directory inside the file system when missing: each missing component is created
   * with `owner` and `mode` (as EFS creates an access point's root directory). Existing
   * directories are left as they are. Returns the host path.
   */
  async ensureDirectory(
    scope: Scope,
    fileSystemId: string,
    path: string,
    creation?: { uid: number; gid: number; mode: number },
  ): Promise<string> {
    const root = this.root(scope, fileSystemId);
    await fsp.mkdir(root, { recursive: true });
    let current = root;
    for (const part of posix.normalize(`/${path}`).split("/").filter(Boolean)) {
      current = join(current, part);
      const exists = await fsp.stat(current).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (exists) continue;
      await fsp.mkdir(current);
      if (creation) {
        await fsp.chown(current, creation.uid, creation.gid);
        // chmod after mkdir: mkdir's mode is filtered by the umask.
        await fsp.chmod(current, creation.mode);
      }
    }
    return current;
  }

  /** Bytes stored in a file system (file sizes, walked; cached a few seconds). */
  async size(scope: Scope, fileSystemId: string): Promise<MeasuredSize> {
    const root = this.root(scope, fileSystemId);
    const now = this.clock.now().getTime();
    const cached = this.sizes.get(root);
    if (cached && cached.expires > now) return cached;
    const measured = { bytes: await treeBytes(root), at: this.clock.now(), expires: now + SIZE_CACHE_MS };
    this.sizes.set(root, measured);
    return measured;
  }
}

/** Sum of the sizes of the regular files under `dir` (0 when it is missing). Symlinks are not followed. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile())
      total += await fsp.lstat(p).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}
