import type { Clock } from "../../core/clock.js";
import type { ErrorFactory } from "../../core/errors.js";
import { type Scope, arn, hexId } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type { FileSystemDescription } from "../../protocol/generated/types/efs.js";
import type { DocumentStore } from "../../store/documents.js";
import { type AccessPointRecord, EfsRecords, type FileSystemRecord } from "../../store/schema/efs.js";
import type { PosixViews } from "./posix-views.js";
import type { EfsStorage } from "./storage.js";
import { accessPointIdOf, fileSystemIdOf } from "./validate.js";

/** An EFS error with the `ErrorCode` member EFS puts in every error body. */
export const efsError = (factory: ErrorFactory<{ ErrorCode: string }>, message: string) =>
  factory(message, { ErrorCode: factory.code });

export const fileSystemNotFound = (id: string) =>
  efsError(efsErrors.FileSystemNotFound, `File system '${id}' does not exist.`);
export const accessPointNotFound = (id: string) =>
  efsError(efsErrors.AccessPointNotFound, `Access point '${id}' does not exist.`);
export const mountTargetNotFound = (id: string) =>
  efsError(efsErrors.MountTargetNotFound, `Mount target '${id}' does not exist.`);
export const badRequest = (message: string) => efsError(efsErrors.BadRequest, message);

/** How long a new file system says "creating" before it is "available". */
const CREATING_MS = 1_000;

/** What the EFS operations share: records, storage, clock, ids and views. */
export class EfsContext {
  readonly records: EfsRecords;

  constructor(
    store: DocumentStore,
    readonly storage: EfsStorage,
    readonly clock: Clock,
    readonly views: PosixViews,
  ) {
    this.records = new EfsRecords(store);
  }

  /** AWS's ids: a prefix and 17 hex digits. */
  static newId(prefix: "fs" | "fsmt" | "fsap" | "eni") {
    return `${prefix}-${hexId(9).slice(0, 17)}`;
  }

  fileSystemArn = (scope: Scope, id: string) => arn("elasticfilesystem", scope, `file-system/${id}`);
  accessPointArn = (scope: Scope, id: string) => arn("elasticfilesystem", scope, `access-point/${id}`);

  availableAt() {
    return new Date(this.clock.now().getTime() + CREATING_MS);
  }

  /** A file system by id or ARN, or FileSystemNotFound. */
  requireFileSystem(scope: Scope, idOrArn: string): FileSystemRecord {
    const id = fileSystemIdOf(idOrArn);
    const fs = id && this.records.fileSystems.get(scope, id);
    if (!fs) throw fileSystemNotFound(idOrArn);
    return fs;
  }

  /**
   * A file system that is `available`: the calls that change a file system or add to it answer
   * IncorrectFileSystemLifeCycleState (409) while it is still `creating`, as EFS does.
   */
  requireAvailable(scope: Scope, idOrArn: string): FileSystemRecord {
    const fs = this.requireFileSystem(scope, idOrArn);
    const state = this.lifeCycleState(fs);
    if (state !== "available")
      throw efsError(
        efsErrors.IncorrectFileSystemLifeCycleState,
        `File system '${fs.FileSystemId}' is in the '${state}' life cycle state; it must be 'available'.`,
      );
    return fs;
  }

  requireAccessPoint(scope: Scope, idOrArn: string): AccessPointRecord {
    const id = accessPointIdOf(idOrArn);
    const ap = id && this.records.accessPoints.get(scope, id);
    if (!ap) throw accessPointNotFound(idOrArn);
    return ap;
  }

  lifeCycleState(fs: FileSystemRecord): "creating" | "available" {
    return this.clock.now().getTime() < fs.availableAt.getTime() ? "creating" : "available";
  }

  async describe(scope: Scope, fs: FileSystemRecord, state = this.lifeCycleState(fs)): Promise<FileSystemDescription> {
    const size = await this.storage.size(scope, fs.FileSystemId);
    const name = fs.Tags.find((t) => t.Key === "Name")?.Value;
    return {
      OwnerId: fs.OwnerId,
      CreationToken: fs.CreationToken,
      FileSystemId: fs.FileSystemId,
      FileSystemArn: fs.FileSystemArn,
      CreationTime: fs.CreationTime,
      LifeCycleState: state,
      ...(name !== undefined ? { Name: name } : {}),
      NumberOfMountTargets: this.records.mountTargets.children(scope, fs.FileSystemId).length,
      SizeInBytes: {
        Value: size.bytes,
        Timestamp: size.at,
        ValueInIA: 0,
        ValueInStandard: size.bytes,
        ValueInArchive: 0,
      },
      PerformanceMode: fs.PerformanceMode,
      Encrypted: fs.Encrypted,
      ...(fs.KmsKeyId ? { KmsKeyId: fs.KmsKeyId } : {}),
      ThroughputMode: fs.ThroughputMode,
      ...(fs.ProvisionedThroughputInMibps !== undefined
        ? { ProvisionedThroughputInMibps: fs.ProvisionedThroughputInMibps }
        : {}),
      ...(fs.AvailabilityZoneName ? { AvailabilityZoneName: fs.AvailabilityZoneName } : {}),
      Tags: fs.Tags,
      FileSystemProtection: { ReplicationOverwriteProtection: fs.ReplicationOverwriteProtection ?? "ENABLED" },
    };
  }
}

/** A Marker/MaxItems page in id order (EFS's older list operations). */
export function markerPage<T>(
  items: T[],
  idOf: (t: T) => string,
  marker: string | undefined,
  maxItems: number | undefined,
  names = { marker: "Marker", next: "NextMarker", max: "MaxItems" },
) {
  if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 1))
    throw badRequest(`${names.max} must be a positive integer; got ${maxItems}.`);
  const { page, nextToken } = pageByKey(items, (t) => [idOf(t)], {
    nextToken: marker,
    limit: maxItems ?? 100,
    invalidToken: () =>
      badRequest(`The ${names.marker} is not valid. Pass the ${names.next} of the previous response unchanged.`),
  });
  return { page, ...(marker !== undefined ? { Marker: marker } : {}), ...(nextToken ? { NextMarker: nextToken } : {}) };
}
