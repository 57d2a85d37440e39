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
          taskRoleArn: task.spec.taskRoleArn,
        },
      },
    ];
  });
}

/**
 * The user a container runs as. An access point's PosixUser applies when the definition sets no
 * `user` of its own: this is how Berth enforces access points for now (files the task creates
 * belong to the PosixUser), short of an id-mapping layer that would enforce it whatever the
 * container's user. With several access points the first mounted one decides.
 */
export function efsUser(def: ContainerDefinition, task: TaskRecord, efs: EfsMounts): string | undefined {
  if (def.user) return def.user;
  for (const m of def.mountPoints ?? []) {
    const v = task.spec.volumes?.find((x) => x.name === m.sourceVolume);
    const p = v?.efsVolumeConfiguration ? efs.get(v.name!)?.posixUser : undefined;
    if (p) return `${p.uid}:${p.gid}`;
  }
  return undefined;
}
