import { stat } from "node:fs/promises";
import {
  type EfsMount,
  EfsMountError,
  type EfsVolumeRequest,
  type EfsVolumes,
} from "../../controllers/tasks/efs-volumes.js";
import type { Scope } from "../../core/ids.js";
import type { Authorizer } from "../../iam/authorizer.js";
import { evaluatePolicy } from "../../iam/evaluate.js";
import type { CallerIdentity } from "../../iam/identity.js";
import { readStoredPolicy } from "../../iam/policy.js";
import type { IamStore } from "../../iam/store.js";
import type { AccessPointRecord, FileSystemRecord } from "../../store/schema/efs.js";
import type { EfsContext } from "./context.js";
import { checkRootPath } from "./validate.js";

/** The prefix ECS puts on every stoppedReason of a volume it could not mount. */
const PREFIX = "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: ";

/** Stopped reasons in the shape ECS gives them (the mount helper's stderr after the prefix). */
export const mountFailure = {
  fileSystemNotFound: (id: string, region: string) =>
    `${PREFIX}stderr: Failed to resolve "${id}.efs.${region}.amazonaws.com" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID. : unsuccessful EFS utils command execution; code: 1`,
  notAvailable: (id: string) =>
    `${PREFIX}stderr: File system ${id} is not available (its LifeCycleState is not "available"). : unsuccessful EFS utils command execution; code: 1`,
  accessPointNotFound: (id: string) =>
    `${PREFIX}stderr: Access point ${id} does not exist. : unsuccessful EFS utils command execution; code: 1`,
  accessPointMismatch: (ap: string, fs: string) =>
    `${PREFIX}stderr: Access point ${ap} does not belong to file system ${fs}. : unsuccessful EFS utils command execution; code: 1`,
  accessDenied: () =>
    `${PREFIX}stderr: b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' : unsuccessful EFS utils command execution; code: 32`,
  noDirectory: (id: string, region: string, path: string) =>
    `${PREFIX}stderr: b'mount.nfs4: mounting ${id}.efs.${region}.amazonaws.com:${path} failed, reason given by server: No such file or directory' : unsuccessful EFS utils command execution; code: 32`,
  badRoleArn: (arn: string) =>
    `${PREFIX}stderr: The task role ${arn} could not be found. : unsuccessful EFS utils command execution; code: 1`,
};

export interface VolumeIam {
  authorizer: Authorizer;
  iam: IamStore;
}

/** A role as the caller a mount is authorised for (ECS mounts with the task role's session). */
export function roleCaller(iam: IamStore, roleArn: string): CallerIdentity | undefined {
  const role = iam.roleByArn(roleArn);
  const account = /^arn:aws:iam::(\d{12}):role\//.exec(roleArn)?.[1];
  if (!role || !account) return undefined;
  return {
    kind: "assumed-role",
    account,
    arn: `arn:aws:sts::${account}:assumed-role/${role.RoleName}/ecs-efs-mount`,
    accessKeyId: "",
    userId: `${role.RoleId}:ecs-efs-mount`,
    roleArn: role.Arn,
    roleName: role.RoleName,
    roleId: role.RoleId,
    sessionName: "ecs-efs-mount",
    permissive: false,
  };
}

/** What a client may do on a file system: ClientMount, ClientWrite, ClientRootAccess. */
export interface Access {
  mount: boolean;
  write: boolean;
  root: boolean;
}

const FULL: Access = { mount: true, write: true, root: true };

/** The condition keys EFS sets for an NFS client (lower case, as the evaluator looks them up). */
const clientContext = (secure: boolean, accessPointArn?: string) => ({
  "elasticfilesystem:accessedviamounttarget": ["true"],
  "aws:securetransport": [String(secure)],
  ...(accessPointArn ? { "elasticfilesystem:accesspointarn": [accessPointArn] } : {}),
});

/**
 * What an anonymous client (no IAM authorization, or no task role) may do: the file system
 * policy's statements for the principal `*` decide (an explicit Deny wins); without a policy the
 * default policy gives full access. `secure` is whether the mount uses TLS (transit encryption).
 */
export function anonymousAccess(fs: FileSystemRecord, secure: boolean, accessPointArn?: string): Access {
  if (fs.Policy === undefined) return FULL;
  const policy = readStoredPolicy(fs.Policy, "resource");
  if (!policy) return { mount: false, write: false, root: false };
  const context = clientContext(secure, accessPointArn);
  const allowed = (action: string) => {
    const o = evaluatePolicy(
      policy,
      {
        principal: { kind: "user", arn: "anonymous" },
        action: `elasticfilesystem:${action}`,
        resource: fs.FileSystemArn,
        context,
      },
      true,
    );
    return o.allowed && !o.denied;
  };
  return { mount: allowed("ClientMount"), write: allowed("ClientWrite"), root: allowed("ClientRootAccess") };
}

/**
 * What a mount may do. Without a file system policy EFS's default policy gives every client full
 * access; with one, an Allow in either the file system policy or the role's policies counts.
 */
export function mountAccess(
  deps: VolumeIam,
  fs: FileSystemRecord,
  caller: CallerIdentity,
  region: string,
  accessPointArn?: string,
): Access {
  if (fs.Policy === undefined) return FULL;
  const context = clientContext(true, accessPointArn);
  const allowed = (action: string) =>
    deps.authorizer.check(caller, `elasticfilesystem:${action}`, fs.FileSystemArn, { region, context }).allowed;
  return { mount: allowed("ClientMount"), write: allowed("ClientWrite"), root: allowed("ClientRootAccess") };
}

/** EfsVolumes for the task controller: checks, IAM, and the host directory to bind. */
export function efsVolumes(efs: EfsContext, deps: VolumeIam): EfsVolumes {
  return {
    async prepare(scope: Scope, volume: EfsVolumeRequest): Promise<EfsMount> {
      const fs = efs.records.fileSystems.get(scope, volume.fileSystemId);
      if (!fs) throw new EfsMountError(mountFailure.fileSystemNotFound(volume.fileSystemId, scope.region));
      if (efs.lifeCycleState(fs) !== "available") throw new EfsMountError(mountFailure.notAvailable(fs.FileSystemId));
      let ap: AccessPointRecord | undefined;
      if (volume.accessPointId) {
        ap = efs.records.accessPoints.get(scope, volume.accessPointId);
        if (!ap) throw new EfsMountError(mountFailure.accessPointNotFound(volume.accessPointId));
        if (ap.FileSystemId !== fs.FileSystemId)
          throw new EfsMountError(mountFailure.accessPointMismatch(ap.AccessPointId, fs.FileSystemId));
      }
      // A replication destination is read-only: only replication may change it.
      let readOnly = fs.ReplicationOverwriteProtection === "REPLICATING";
      let access: Access;
      if (volume.iam) {
        const caller = volume.taskRoleArn ? roleCaller(deps.iam, volume.taskRoleArn) : undefined;
        if (volume.taskRoleArn && !caller) throw new EfsMountError(mountFailure.badRoleArn(volume.taskRoleArn));
        // IAM authorization rides on TLS; without a task role the client is anonymous.
        access = caller
          ? mountAccess(deps, fs, caller, scope.region, ap?.AccessPointArn)
          : anonymousAccess(fs, true, ap?.AccessPointArn);
      } else access = anonymousAccess(fs, volume.transitEncryption ?? false, ap?.AccessPointArn);
      if (!access.mount) throw new EfsMountError(mountFailure.accessDenied());
      readOnly ||= !access.write;
      const rootSquash = !access.root;
      const hostPath = ap
        ? await accessPointRoot(efs, scope, ap)
        : await plainRoot(efs, scope, fs, volume.rootDirectory);
      const posixViews: Record<string, string> = {};
      if (ap?.PosixUser)
        for (const user of volume.ownUsers ?? []) {
          const owner = { uid: ap.PosixUser.Uid, gid: ap.PosixUser.Gid };
          const view = await efs.views.view(scope, ap.AccessPointId, hostPath, owner, user);
          if (view) posixViews[user] = view;
        }
      return {
        hostPath,
        readOnly,
        ...(rootSquash ? { rootSquash } : {}),
        ...(ap?.PosixUser ? { posixUser: posixOf(ap) } : {}),
        ...(Object.keys(posixViews).length ? { posixViews } : {}),
      };
    },
  };
}

const posixOf = (ap: AccessPointRecord) => ({
  uid: ap.PosixUser!.Uid,
  gid: ap.PosixUser!.Gid,
  ...(ap.PosixUser!.SecondaryGids?.length ? { secondaryGids: ap.PosixUser!.SecondaryGids } : {}),
});

/** An access point's root, made with its CreationInfo when missing; without one it must exist. */
async function accessPointRoot(efs: EfsContext, scope: Scope, ap: AccessPointRecord): Promise<string> {
  const info = ap.RootDirectory.CreationInfo;
  const path = ap.RootDirectory.Path;
  if (info)
    return efs.storage.ensureDirectory(scope, ap.FileSystemId, path, {
      uid: info.OwnerUid,
      gid: info.OwnerGid,
      mode: Number.parseInt(info.Permissions, 8),
    });
  return existingDirectory(efs, scope, ap.FileSystemId, path);
}

/** A volume's rootDirectory inside the file system: it must exist, as with NFS. */
async function plainRoot(efs: EfsContext, scope: Scope, fs: FileSystemRecord, root: string | undefined) {
  const path = root ?? "/";
  try {
    checkRootPath(path === "" ? "/" : path);
  } catch {
    throw new EfsMountError(mountFailure.noDirectory(fs.FileSystemId, scope.region, path));
  }
  return existingDirectory(efs, scope, fs.FileSystemId, path);
}

async function existingDirectory(efs: EfsContext, scope: Scope, fileSystemId: string, path: string) {
  const hostPath = efs.storage.pathIn(scope, fileSystemId, path);
  const ok = await stat(hostPath).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!ok) throw new EfsMountError(mountFailure.noDirectory(fileSystemId, scope.region, path));
  return hostPath;
}
