import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Scope } from "../../core/ids.js";

const execFileP = promisify(execFile);

/** The owner an access point gives to every file created through it. */
export interface PosixOwner {
  uid: number;
  gid: number;
}

/**
 * Host views of access points' root directories for containers that run as their own `user`, so
 * that they act on the volume as the access point's PosixUser, as EFS makes every NFS operation
 * through an access point: what they create belongs to the PosixUser, and a numeric user sees the
 * PosixUser's files as its own (the kernel's permission checks then answer as for the PosixUser).
 * One view per access point and container user, shared by all tasks; views outlive Berth (a task
 * keeps writing through one across a restart) and are dropped when the access point or its file
 * system is deleted.
 */
export interface PosixViews {
  /** `user`'s view of `source` for the access point, mounting it when needed; undefined when unavailable. */
  view(
    scope: Scope,
    accessPointId: string,
    source: string,
    owner: PosixOwner,
    user: string,
  ): Promise<string | undefined>;
  /** Detaches the access point's view (lazily: tasks still using it keep it until they stop). */
  release(scope: Scope, accessPointId: string): void;
  /** Detaches every view this Berth mounted (tasks still using them keep them). */
  close(): void;
}

/** Octal escapes in /proc/self/mountinfo paths (space, tab, newline, backslash). */
const unescapeMountPath = (p: string) =>
  p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)));

/** The mount points in a /proc/self/mountinfo text (field 5 of each line). Pure. */
export function mountPoints(mountinfo: string): Set<string> {
  const points = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    if (fields.length > 4) points.add(unescapeMountPath(fields[4]));
  }
  return points;
}

/** A Docker `user` as numeric ids ("1000", "1000:1000"), or undefined for names. Pure. */
export function numericUser(user: string): { uid: number; gid?: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  return m ? { uid: Number(m[1]), ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) } : undefined;
}

/**
 * bindfs's arguments for `user`'s view of `source` at `target`. Pure. New files belong to the
 * owner; a numeric non-root user sees the owner's files (and group) as its own, so the kernel
 * checks its access as the owner's. Root needs no mapping (it passes permission checks anyway);
 * a named user cannot be mapped without the image's passwd file, so it only gets the ownership.
 */
export function bindfsArgs(source: string, target: string, owner: PosixOwner, user: string): string[] {
  const ids = numericUser(user);
  const maps: string[] = [];
  if (ids && ids.uid !== 0) {
    if (ids.uid !== owner.uid) maps.push(`${owner.uid}/${ids.uid}`);
    const gid = ids.gid ?? ids.uid;
    if (gid !== owner.gid) maps.push(`@${owner.gid}/@${gid}`);
  }
  return [
    ...(maps.length ? [`--map=${maps.join(":")}`] : []),
    `--create-for-user=${owner.uid}`,
    `--create-for-group=${owner.gid}`,
    // Through an access point a client cannot give files away: chown/chgrp fail as for a non-root NFS user.
    "--chown-deny",
    "--chgrp-deny",
    source,
    target,
  ];
}

/** The directory name of a user's view: safe for any Docker `user` string. Pure. */
export const viewName = (accessPointId: string, user: string) =>
  `${accessPointId}-${Buffer.from(user).toString("hex")}`;

const hasBindfs = () => {
  try {
    execFileSync("bindfs", ["--version"], { stdio: "ignore" });
    return existsSync("/dev/fuse");
  } catch {
    return false;
  }
};

/** PosixViews on bindfs (FUSE) under `<dataDir>/efs-views/`; without bindfs every view is undefined. */
export function bindfsViews(dataDir: string, available = hasBindfs): PosixViews {
  let usable: boolean | undefined;
  const pending = new Map<string, Promise<string | undefined>>();
  const mounted = new Set<string>();
  const dirOf = (scope: Scope) => join(dataDir, "efs-views", scope.account, scope.region);
  const isMounted = (target: string) => mountPoints(readFileSync("/proc/self/mountinfo", "utf8")).has(target);
  const detach = (target: string) => {
    try {
      // Lazy: containers still using the view keep it; bindfs exits once the last of them stops.
      execFileSync("umount", ["-l", target], { stdio: "ignore" });
    } catch {
      // not mounted (any more)
    }
    mounted.delete(target);
  };

  async function mount(target: string, source: string, owner: PosixOwner, user: string): Promise<string | undefined> {
    if (isMounted(target)) {
      // Left by an earlier Berth (views outlive it); a view whose bindfs died answers ENOTCONN.
      const alive = await stat(target).then(
        () => true,
        () => false,
      );
      if (alive) {
        mounted.add(target);
        return target;
      }
      detach(target);
    }
    mkdirSync(target, { recursive: true });
    await execFileP("bindfs", bindfsArgs(source, target, owner, user), { timeout: 10_000 });
    mounted.add(target);
    return target;
  }

  return {
    async view(scope, accessPointId, source, owner, user) {
      usable ??= available();
      if (!usable) return undefined;
      const target = join(dirOf(scope), viewName(accessPointId, user));
      const inFlight = pending.get(target);
      if (inFlight) return inFlight;
      // A view that cannot be mounted falls back to binding the directory itself (no worse than without bindfs).
      const p = mount(target, source, owner, user)
        .catch(() => undefined)
        .finally(() => pending.delete(target));
      pending.set(target, p);
      return p;
    },
    release(scope, accessPointId) {
      usable ??= available();
      if (!usable) return;
      // Every user's view of it, this Berth's and earlier ones'.
      const prefix = join(dirOf(scope), `${accessPointId}-`);
      for (const target of mountPoints(readFileSync("/proc/self/mountinfo", "utf8")))
        if (target.startsWith(prefix)) detach(target);
    },
    close() {
      for (const target of [...mounted]) detach(target);
    },
  };
}
