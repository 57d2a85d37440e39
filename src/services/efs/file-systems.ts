import { mergeTags } from "../../core/tags.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type { CreateFileSystemRequest, Operations } from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import type { FileSystemRecord } from "../../store/schema/efs.js";
import { EfsContext, badRequest, efsError, markerPage } from "./context.js";
import { TAG_LIMIT, checkTags } from "./tags.js";

const PERFORMANCE_MODES = ["generalPurpose", "maxIO"];
const THROUGHPUT_MODES = ["bursting", "provisioned", "elastic"];

function checkThroughput(mode: string, mibps: number | undefined) {
  if (!THROUGHPUT_MODES.includes(mode)) throw badRequest(`Invalid ThroughputMode '${mode}'.`);
  if (mode === "provisioned" && mibps === undefined)
    throw badRequest("ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.");
  if (mode !== "provisioned" && mibps !== undefined)
    throw badRequest("ProvisionedThroughputInMibps can only be specified when ThroughputMode is provisioned.");
  if (mibps !== undefined && !(mibps >= 1)) throw badRequest("ProvisionedThroughputInMibps must be at least 1.");
}

/** Whether a repeated CreateFileSystem asks for what the existing file system already is. */
const sameSettings = (fs: FileSystemRecord, input: CreateFileSystemRequest) =>
  fs.PerformanceMode === (input.PerformanceMode ?? "generalPurpose") &&
  fs.ThroughputMode === (input.ThroughputMode ?? "bursting") &&
  fs.Encrypted === (input.Encrypted ?? false) &&
  (fs.AvailabilityZoneName ?? null) === (input.AvailabilityZoneName ?? null) &&
  (fs.ProvisionedThroughputInMibps ?? null) === (input.ProvisionedThroughputInMibps ?? null);

export function fileSystemOperations(efs: EfsContext): Provider<Operations> {
  const { fileSystems, mountTargets, accessPoints } = efs.records;
  return {
    CreateFileSystem: async (input, scope) => {
      const existing = fileSystems.list(scope).find((f) => f.CreationToken === input.CreationToken);
      if (existing) {
        if (sameSettings(existing, input)) return efs.describe(scope, existing);
        throw efsErrors.FileSystemAlreadyExists(
          `File system '${existing.FileSystemId}' already exists with creation token '${input.CreationToken}'`,
          { ErrorCode: "FileSystemAlreadyExists", FileSystemId: existing.FileSystemId },
        );
      }
      const performance = input.PerformanceMode ?? "generalPurpose";
      if (!PERFORMANCE_MODES.includes(performance)) throw badRequest(`Invalid PerformanceMode '${performance}'.`);
      const throughput = input.ThroughputMode ?? "bursting";
      checkThroughput(throughput, input.ProvisionedThroughputInMibps);
      if (performance === "maxIO" && (throughput === "elastic" || input.AvailabilityZoneName))
        throw badRequest("Max I/O performance mode is not supported with Elastic throughput or One Zone file systems.");
      if (input.KmsKeyId && !input.Encrypted) throw badRequest("KmsKeyId requires Encrypted to be true.");
      if (input.AvailabilityZoneName && !input.AvailabilityZoneName.startsWith(scope.region))
        throw efsError(
          efsErrors.UnsupportedAvailabilityZone,
          `Availability zone '${input.AvailabilityZoneName}' is not in region ${scope.region}.`,
        );
      checkTags(input.Tags);
      const id = EfsContext.newId("fs");
      const record: FileSystemRecord = {
        FileSystemId: id,
        FileSystemArn: efs.fileSystemArn(scope, id),
        CreationToken: input.CreationToken,
        OwnerId: scope.account,
        CreationTime: efs.clock.now(),
        PerformanceMode: performance as FileSystemRecord["PerformanceMode"],
        ThroughputMode: throughput as FileSystemRecord["ThroughputMode"],
        ...(input.ProvisionedThroughputInMibps !== undefined
          ? { ProvisionedThroughputInMibps: input.ProvisionedThroughputInMibps }
          : {}),
        Encrypted: input.Encrypted ?? false,
        ...(input.Encrypted
          ? { KmsKeyId: input.KmsKeyId ?? `arn:aws:kms:${scope.region}:${scope.account}:alias/aws/elasticfilesystem` }
          : {}),
        ...(input.AvailabilityZoneName ? { AvailabilityZoneName: input.AvailabilityZoneName } : {}),
        Tags: mergeTags([], input.Tags ?? [], TAG_LIMIT),
        LifecyclePolicies: [],
        BackupPolicy: { Status: input.Backup ? "ENABLED" : "DISABLED" },
        availableAt: efs.availableAt(),
      };
      // The directory first: a record never names a file system without its data.
      efs.storage.create(scope, id);
      fileSystems.put(scope, record);
      return efs.describe(scope, record, "creating");
    },

    DescribeFileSystems: async (input, scope) => {
      if (input.FileSystemId && input.CreationToken)
        throw badRequest("Specify at most one of FileSystemId and CreationToken.");
      let list = fileSystems.list(scope);
      if (input.FileSystemId) list = [efs.requireFileSystem(scope, input.FileSystemId)];
      if (input.CreationToken) list = list.filter((f) => f.CreationToken === input.CreationToken);
      const { page, Marker, NextMarker } = markerPage(list, (f) => f.FileSystemId, input.Marker, input.MaxItems);
      const FileSystems = await Promise.all(page.map((f) => efs.describe(scope, f)));
      return { FileSystems, ...(Marker ? { Marker } : {}), ...(NextMarker ? { NextMarker } : {}) };
    },

    UpdateFileSystem: async (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      const mode = input.ThroughputMode ?? fs.ThroughputMode;
      const mibps =
        input.ProvisionedThroughputInMibps ?? (mode === "provisioned" ? fs.ProvisionedThroughputInMibps : undefined);
      checkThroughput(mode, mibps);
      const updated: FileSystemRecord = { ...fs, ThroughputMode: mode };
      if (mibps === undefined) delete updated.ProvisionedThroughputInMibps;
      else updated.ProvisionedThroughputInMibps = mibps;
      fileSystems.put(scope, updated);
      return efs.describe(scope, updated);
    },

    DeleteFileSystem: (input, scope) => {
      const fs = efs.requireFileSystem(scope, input.FileSystemId);
      if (mountTargets.children(scope, fs.FileSystemId).length)
        throw efsError(
          efsErrors.FileSystemInUse,
          `File system '${fs.FileSystemId}' has mount targets created in it. Delete the mount targets first.`,
        );
      if (fs.Replication || fs.ReplicationSource)
        throw efsError(
          efsErrors.FileSystemInUse,
          `File system '${fs.FileSystemId}' is part of a replication configuration. Delete the replication configuration first.`,
        );
      for (const ap of accessPoints.children(scope, fs.FileSystemId)) {
        accessPoints.delete(scope, ap.AccessPointId);
        efs.views.release(scope, ap.AccessPointId);
      }
      fileSystems.delete(scope, fs.FileSystemId);
      efs.storage.remove(scope, fs.FileSystemId);
      return {};
    },
  };
}
