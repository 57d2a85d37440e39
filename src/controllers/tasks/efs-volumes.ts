import type { Scope } from "../../core/ids.js";

/**
 * What the task controller needs of EFS to mount a task's `efsVolumeConfiguration` volumes
 * (services/efs implements it; the module passes it in). One call per volume before the task's
 * containers are created.
 */
export interface EfsVolumes {
  /**
   * Makes the volume's directory ready on the host and says how to bind it: checks the file
   * system and access point exist (and are available), the access point belongs to the file
   * system, and — with `iam` — that the task role may `elasticfilesystem:ClientMount` (else
   * throws), `ClientWrite` (else the mount is read-only) and `ClientRootAccess` (else root is
   * squashed: `rootSquash`). Without `iam` (or without a task role) the client is anonymous: the
   * file system policy decides for the principal `*`. Creates an access point's root directory
   * with its CreationInfo owner and permissions when missing. Throws `EfsMountError` with the
   * reason AWS puts in the task's stoppedReason.
   */
  prepare(scope: Scope, volume: EfsVolumeRequest): Promise<EfsMount>;
}

export interface EfsVolumeRequest {
  fileSystemId: string;
  /** The directory inside the file system ("/" when unset); ignored when an access point is given. */
  rootDirectory?: string;
  accessPointId?: string;
  /** authorizationConfig.iam === "ENABLED" */
  iam: boolean;
  /** transitEncryption === "ENABLED" (aws:SecureTransport for the file system policy). */
  transitEncryption?: boolean;
  /** The task's role, for IAM authorization. */
  taskRoleArn?: string;
  /**
   * The `user`s of the containers mounting the volume that set their own: they cannot take an
   * access point's PosixUser as their identity, so each needs a view (`posixViews`).
   */
  ownUsers?: string[];
}

export interface EfsMount {
  /** Absolute host directory to bind into the containers. */
  hostPath: string;
  /** True when IAM allows ClientMount but not ClientWrite. */
  readOnly: boolean;
  /**
   * True when IAM authorization is on and the file system policy (with the role's policies) does
   * not allow `elasticfilesystem:ClientRootAccess`: root in the task is squashed to 65534.
   */
  rootSquash?: boolean;
  /** The access point's PosixUser, when it has one. */
  posixUser?: { uid: number; gid: number; secondaryGids?: number[] };
  /**
   * Host views of `hostPath` by container `user` (asked for with `ownUsers`; absent when the host
   * cannot make them): there everything the container creates belongs to the PosixUser and it
   * sees the PosixUser's files as its own, as if it were the PosixUser. What such containers bind.
   */
  posixViews?: Record<string, string>;
}

/** A volume that cannot be mounted: `reason` is what the task's stoppedReason says. */
export class EfsMountError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "EfsMountError";
  }
}
