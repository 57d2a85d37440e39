import type { ContainerDefinition } from "../../protocol/generated/types/ecs.js";
import type { TaskRecord } from "../../store/schema/ecs.js";
import type { EfsMount, EfsVolumeRequest } from "./efs-volumes.js";

/** The prepared EFS volumes of one task, by volume name. */
export type EfsMounts = ReadonlyMap<string, EfsMount>;

/** Says why a task's EFS volumes cannot be mounted when this Berth runs no EFS. */
export const EFS_UNAVAILABLE =
  "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: EFS is not enabled in this Berth";

/**
 * The EFS volumes some container of the task mounts, as requests to EfsVolumes.prepare. Pure.
 * A volume no container mounts is not prepared (ECS mounts only what the containers use).
 */
export function efsVolumeRequests(task: TaskRecord): { volume: string; request: EfsVolumeRequest }[] {
  const mounted = new Set(task.spec.containers.flatMap((c) => (c.mountPoints ?? []).map((m) => m.sourceVolume)));
  const ownUsers = (volume: string) => [
    ...new Set(
      task.spec.containers
        .filter((c) => c.user && (c.mountPoints ?? []).some((m) => m.sourceVolume === volume))
        .map((c) => c.user!),
    ),
  ];
  return (task.spec.volumes ?? []).flatMap((v) => {
    const efs = v.efsVolumeConfiguration;
    if (!efs || !v.name || !mounted.has(v.name)) return [];
    const accessPointId = efs.authorizationConfig?.accessPointId || undefined;
    return [
      {
        volume: v.name,
        request: {
          fileSystemId: efs.fileSystemId,
          rootDirectory: accessPointId ? undefined : (efs.rootDirectory ?? "/"),
          accessPointId,
          iam: efs.authorizationConfig?.iam === "ENABLED",
          transitEncryption: efs.transitEncryption === "ENABLED",
          taskRoleArn: task.spec.taskRoleArn,
          ...(accessPointId && ownUsers(v.name).length ? { ownUsers: ownUsers(v.name) } : {}),
        },
      },
    ];
  });
}

/** The uid and gid EFS maps a squashed root to (nfsnobody). */
export const SQUASHED_ROOT = "65534:65534";

/** Whether a Docker `user` ("name", "uid", "uid:gid", "name:group") is root. Unset counts as root. */
export const isRootUser = (user: string | undefined) => {
  const u = user?.split(":")[0];
  return u === undefined || u === "" || u === "root" || u === "0";
};

/**
 * Who a container runs as, given its EFS volumes. Pure.
 * - An access point's PosixUser applies when the definition sets no `user` of its own (files the
 *   task creates then belong to the PosixUser; its SecondaryGids become supplementary groups).
 *   A container that sets its own `user` keeps it and binds its view of the access point
 *   instead (`posixViews`, see efsSource), which owns what it creates to the PosixUser. With
 *   several access points the first mounted one decides.
 * - Root squashing: when some EFS volume the container mounts is not allowed
 *   `elasticfilesystem:ClientRootAccess` (`rootSquash`: the task role's, or `*`'s when anonymous) and the container would run as root — its
 *   `user` is root or 0, or unset with no PosixUser (the image's own USER is not inspected) —
 *   it runs as 65534:65534, as EFS treats such a client's root as nobody. This squashes the whole
 *   container, not only its I/O on the volume (Docker has no per-mount squash).
 */
export function efsIdentity(
  def: ContainerDefinition,
  task: TaskRecord,
  efs: EfsMounts,
): { user?: string; groups?: string[] } {
  const mounted = (def.mountPoints ?? []).flatMap((m) => {
    const v = task.spec.volumes?.find((x) => x.name === m.sourceVolume);
    const mount = v?.efsVolumeConfiguration ? efs.get(v.name!) : undefined;
    // Through a view the access point's identity is in force: root squashing does not apply.
    return mount && efsSource(def, mount) === mount.hostPath ? [mount] : [];
  });
  const posix = def.user ? undefined : mounted.find((m) => m.posixUser)?.posixUser;
  const user = def.user ?? (posix ? `${posix.uid}:${posix.gid}` : undefined);
  if (mounted.some((m) => m.rootSquash) && isRootUser(user)) return { user: SQUASHED_ROOT };
  const groups = posix?.secondaryGids?.map(String);
  return { ...(user !== undefined ? { user } : {}), ...(groups?.length ? { groups } : {}) };
}

/** The host directory a container binds for an EFS volume: the PosixUser view when it runs as its own user. */
export const efsSource = (def: ContainerDefinition, mount: EfsMount): string =>
  (def.user && mount.posixViews?.[def.user]) || mount.hostPath;

/** The user a container runs as (see efsIdentity). */
export const efsUser = (def: ContainerDefinition, task: TaskRecord, efs: EfsMounts): string | undefined =>
  efsIdentity(def, task, efs).user;
