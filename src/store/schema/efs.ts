import type {
  BackupPolicy,
  LifecyclePolicy,
  PerformanceMode,
  PosixUser,
  ReplicationOverwriteProtection,
  ResourceIdType,
  RootDirectory,
  Tag,
  ThroughputMode,
} from "../../protocol/generated/types/efs.js";
import type { Collection, DocumentStore } from "../documents.js";

export const FILE_SYSTEM_KIND = "efs.fileSystem";
export const MOUNT_TARGET_KIND = "efs.mountTarget";
export const ACCESS_POINT_KIND = "efs.accessPoint";
export const ACCOUNT_PREFERENCES_KIND = "efs.accountPreferences";

/** A file system by where it is: replication links file systems across regions. */
export interface FileSystemLocation {
  FileSystemId: string;
  Region: string;
  OwnerId: string;
}

/** A replication configuration, kept on its source file system (only recorded: no data is copied). */
export interface ReplicationRecord {
  CreationTime: Date;
  OriginalSourceFileSystemArn: string;
  Destination: FileSystemLocation & { RoleArn?: string };
}

/** A file system as stored; its data is a directory services/efs/storage.ts owns. */
export interface FileSystemRecord {
  FileSystemId: string;
  FileSystemArn: string;
  CreationToken: string;
  OwnerId: string;
  CreationTime: Date;
  PerformanceMode: PerformanceMode;
  ThroughputMode: ThroughputMode;
  ProvisionedThroughputInMibps?: number;
  Encrypted: boolean;
  KmsKeyId?: string;
  AvailabilityZoneName?: string;
  Tags: Tag[];
  LifecyclePolicies: LifecyclePolicy[];
  BackupPolicy: BackupPolicy;
  /** The file system policy's JSON text, as put. */
  Policy?: string;
  /** Describe says "creating" until this time has passed, then "available". */
  availableAt: Date;
  /** FileSystemProtection; unset is ENABLED (the default). REPLICATING while it is a destination. */
  ReplicationOverwriteProtection?: ReplicationOverwriteProtection;
  /** On a source file system: its replication configuration. */
  Replication?: ReplicationRecord;
  /** On a destination file system: where its replication configuration is kept. */
  ReplicationSource?: FileSystemLocation;
}

export interface MountTargetRecord {
  MountTargetId: string;
  FileSystemId: string;
  SubnetId: string;
  AvailabilityZoneName: string;
  AvailabilityZoneId: string;
  VpcId: string;
  IpAddress: string;
  NetworkInterfaceId: string;
  SecurityGroups: string[];
  OwnerId: string;
}

export interface AccessPointRecord {
  AccessPointId: string;
  AccessPointArn: string;
  FileSystemId: string;
  ClientToken: string;
  OwnerId: string;
  PosixUser?: PosixUser;
  RootDirectory: RootDirectory & { Path: string };
  Tags: Tag[];
}

/** PutAccountPreferences, per account and region. */
export interface AccountPreferencesRecord {
  id: "preferences";
  ResourceIdType: ResourceIdType;
}

/** The EFS collections the API and the volume preparation share. */
export class EfsRecords {
  readonly fileSystems: Collection<FileSystemRecord>;
  readonly mountTargets: Collection<MountTargetRecord>;
  readonly accessPoints: Collection<AccessPointRecord>;
  readonly accountPreferences: Collection<AccountPreferencesRecord>;

  constructor(store: DocumentStore) {
    this.fileSystems = store.collection<FileSystemRecord>(FILE_SYSTEM_KIND, {
      id: (f) => f.FileSystemId,
      arn: (f) => f.FileSystemArn,
    });
    this.mountTargets = store.collection<MountTargetRecord>(MOUNT_TARGET_KIND, {
      id: (m) => m.MountTargetId,
      parent: (m) => m.FileSystemId,
    });
    this.accessPoints = store.collection<AccessPointRecord>(ACCESS_POINT_KIND, {
      id: (a) => a.AccessPointId,
      arn: (a) => a.AccessPointArn,
      parent: (a) => a.FileSystemId,
    });
    this.accountPreferences = store.collection<AccountPreferencesRecord>(ACCOUNT_PREFERENCES_KIND, {
      id: (p) => p.id,
    });
  }
}
