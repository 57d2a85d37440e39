import type { Scope } from "../../core/ids.js";
import { noTokenIssued } from "../../core/paginate.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type {
  Operations,
  ReplicationConfigurationDescription,
  ResourceIdPreference,
} from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import type { FileSystemRecord } from "../../store/schema/efs.js";
import { EfsContext, badRequest, efsError, fileSystemNotFound, markerPage } from "./context.js";
import { fileSystemIdOf } from "./validate.js";

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

const validation = (message: string) => efsError(efsErrors.ValidationException, message);
const conflict = (message: string) => efsError(efsErrors.ConflictException, message);
const replicationNotFound = (id: string) =>
  efsError(efsErrors.ReplicationNotFound, `No replication configuration found for file system '${id}'.`);

/**
 * File system protection, replication configurations and account preferences. Replication is
 * recorded, not performed: the destination file system exists (read-only to tasks while it is
 * REPLICATING) but no data is copied to it.
 */
export function replicationOperations(efs: EfsContext): Provider<Operations> {
  const { fileSystems, accountPreferences } = efs.records;
  const at = (scope: Scope, region: string, account = scope.account): Scope => ({ account, region });

  /** A source file system's configuration as EFS describes it. */
  const describe = (scope: Scope, source: FileSystemRecord): ReplicationConfigurationDescription => {
    const r = source.Replication!;
    return {
      SourceFileSystemId: source.FileSystemId,
      SourceFileSystemRegion: scope.region,
      SourceFileSystemArn: source.FileSystemArn,
      OriginalSourceFileSystemArn: r.OriginalSourceFileSystemArn,
      CreationTime: r.CreationTime,
      SourceFileSystemOwnerId: source.OwnerId,
      Destinations: [
        {
          Status: "ENABLED",
          FileSystemId: r.Destination.FileSystemId,
          Region: r.Destination.Region,
          OwnerId: r.Destination.OwnerId,
          ...(r.Destination.RoleArn ? { RoleArn: r.Destination.RoleArn } : {}),
        },
      ],
    };
  };

  /** The source of the configuration `fs` is part of (itself, or the source a destination names). */
  const sourceOf = (scope: Scope, fs: FileSystemRecord): { scope: Scope; fs: FileSystemRecord } | undefined => {
    if (fs.Replication) return { scope, fs };
    const s = fs.ReplicationSource;
    if (!s) return undefined;
    const sourceScope = at(scope, s.Region, s.OwnerId);
    const source = fileSystems.get(sourceScope, s.FileSystemId);
    return source?.Replication ? { scope: sourceScope, fs: source } : undefined;
  };

  const preference = (type: ResourceIdPreference["ResourceIdType"]): ResourceIdPreference => ({
    ResourceIdType: type,
    Resources: ["FILE_SYSTEM", "MOUNT_TARGET"],
  });

  return {
    UpdateFileSystemProtection: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      const wanted = input.ReplicationOverwriteProtection;
      if (wanted === undefined)
        return { ReplicationOverwriteProtection: fs.ReplicationOverwriteProtection ?? "ENABLED" };
      if (wanted !== "ENABLED" && wanted !== "DISABLED")
        throw badRequest(`ReplicationOverwriteProtection must be ENABLED or DISABLED; got '${String(wanted)}'.`);
      if (fs.ReplicationOverwriteProtection === "REPLICATING")
        throw efsError(
          efsErrors.ReplicationAlreadyExists,
          `File system '${fs.FileSystemId}' is the destination of a replication configuration; delete the replication configuration first.`,
        );
      fileSystems.put(scope, { ...fs, ReplicationOverwriteProtection: wanted });
      return { ReplicationOverwriteProtection: wanted };
    },

    CreateReplicationConfiguration: (input, scope) => {
      const source = efs.requireAvailable(scope, input.SourceFileSystemId);
      if (input.Destinations?.length !== 1)
        throw validation("A replication configuration must have exactly one destination.");
      if (source.Replication)
        throw conflict(`File system '${source.FileSystemId}' is already the source of a replication configuration.`);
      if (source.ReplicationSource || source.ReplicationOverwriteProtection === "REPLICATING")
        throw conflict(
          `File system '${source.FileSystemId}' is the destination of a replication configuration and cannot be a source.`,
        );
      const d = input.Destinations[0];
      const region = d.Region ?? scope.region;
      if (!REGION.test(region)) throw validation(`Region '${region}' is not a valid AWS Region.`);
      const destScope = at(scope, region);
      const now = efs.clock.now();
      let dest: FileSystemRecord;
      if (d.FileSystemId) {
        const id = fileSystemIdOf(d.FileSystemId);
        const existing = id && fileSystems.get(destScope, id);
        if (!existing) throw fileSystemNotFound(d.FileSystemId);
        if (existing.FileSystemId === source.FileSystemId && region === scope.region)
          throw validation("The destination file system must not be the source file system.");
        if (existing.Replication)
          throw conflict(`File system '${existing.FileSystemId}' is the source of a replication configuration.`);
        if ((existing.ReplicationOverwriteProtection ?? "ENABLED") !== "DISABLED")
          throw conflict(
            `File system '${existing.FileSystemId}' has replication overwrite protection enabled; disable it with UpdateFileSystemProtection to use it as a destination.`,
          );
        dest = existing;
      } else {
        if (d.AvailabilityZoneName && !d.AvailabilityZoneName.startsWith(region))
          throw efsError(
            efsErrors.UnsupportedAvailabilityZone,
            `Availability zone '${d.AvailabilityZoneName}' is not in region ${region}.`,
          );
        const id = EfsContext.newId("fs");
        dest = {
          FileSystemId: id,
          FileSystemArn: efs.fileSystemArn(destScope, id),
          CreationToken: `replication-${source.FileSystemId}-${now.getTime()}`,
          OwnerId: scope.account,
          CreationTime: now,
          PerformanceMode: source.PerformanceMode,
          ThroughputMode: source.ThroughputMode,
          ...(source.ProvisionedThroughputInMibps !== undefined
            ? { ProvisionedThroughputInMibps: source.ProvisionedThroughputInMibps }
            : {}),
          Encrypted: true,
          KmsKeyId: d.KmsKeyId ?? `arn:aws:kms:${region}:${scope.account}:alias/aws/elasticfilesystem`,
          ...(d.AvailabilityZoneName ? { AvailabilityZoneName: d.AvailabilityZoneName } : {}),
          Tags: [],
          LifecyclePolicies: [],
          BackupPolicy: { Status: "DISABLED" },
          availableAt: efs.availableAt(),
        };
        efs.storage.create(destScope, id);
      }
      fileSystems.put(destScope, {
        ...dest,
        ReplicationOverwriteProtection: "REPLICATING",
        ReplicationSource: { FileSystemId: source.FileSystemId, Region: scope.region, OwnerId: scope.account },
      });
      const updated: FileSystemRecord = {
        ...source,
        Replication: {
          CreationTime: now,
          OriginalSourceFileSystemArn: source.FileSystemArn,
          Destination: {
            FileSystemId: dest.FileSystemId,
            Region: region,
            OwnerId: scope.account,
            ...(d.RoleArn ? { RoleArn: d.RoleArn } : {}),
          },
        },
      };
      fileSystems.put(scope, updated);
      return describe(scope, updated);
    },

    DescribeReplicationConfigurations: (input, scope) => {
      let list: { scope: Scope; fs: FileSystemRecord }[];
      if (input.FileSystemId) {
        const fs = efs.requireFileSystem(scope, input.FileSystemId);
        const source = sourceOf(scope, fs);
        if (!source) throw replicationNotFound(fs.FileSystemId);
        list = [source];
      } else {
        // Every configuration with its source or its destination in this region.
        const seen = new Map<string, { scope: Scope; fs: FileSystemRecord }>();
        for (const fs of fileSystems.list(scope)) {
          const source = sourceOf(scope, fs);
          if (source) seen.set(`${source.scope.region}/${source.fs.FileSystemId}`, source);
        }
        list = [...seen.values()];
      }
      const { page, NextMarker } = markerPage(
        list,
        (s) => `${s.scope.region}/${s.fs.FileSystemId}`,
        input.NextToken,
        input.MaxResults,
        { marker: "NextToken", next: "NextToken", max: "MaxResults" },
      );
      return {
        Replications: page.map((s) => describe(s.scope, s.fs)),
        ...(NextMarker ? { NextToken: NextMarker } : {}),
      };
    },

    DeleteReplicationConfiguration: (input, scope) => {
      const mode = input.DeletionMode ?? "ALL_CONFIGURATIONS";
      if (mode !== "ALL_CONFIGURATIONS" && mode !== "LOCAL_CONFIGURATION_ONLY")
        throw badRequest(`DeletionMode must be ALL_CONFIGURATIONS or LOCAL_CONFIGURATION_ONLY; got '${mode}'.`);
      const fs = efs.requireFileSystem(scope, input.SourceFileSystemId);
      const source = sourceOf(scope, fs);
      if (!source) throw replicationNotFound(fs.FileSystemId);
      const d = source.fs.Replication!.Destination;
      const destScope = at(source.scope, d.Region, d.OwnerId);
      const dest = fileSystems.get(destScope, d.FileSystemId);
      // The destination becomes writeable again, its overwrite protection re-enabled (as EFS does).
      if (dest) {
        const { ReplicationSource: _, ...rest } = dest;
        fileSystems.put(destScope, { ...rest, ReplicationOverwriteProtection: "ENABLED" });
      }
      const { Replication: _, ...rest } = source.fs;
      fileSystems.put(source.scope, rest);
      return {};
    },

    PutAccountPreferences: (input, scope) => {
      const type = input.ResourceIdType;
      if (type !== "LONG_ID" && type !== "SHORT_ID")
        throw badRequest(`ResourceIdType must be LONG_ID or SHORT_ID; got '${String(type)}'.`);
      accountPreferences.put(scope, { id: "preferences", ResourceIdType: type });
      return { ResourceIdPreference: preference(type) };
    },

    DescribeAccountPreferences: (input, scope) => {
      noTokenIssued(input.NextToken, () => badRequest("The NextToken is not valid."));
      return {
        ResourceIdPreference: preference(accountPreferences.get(scope, "preferences")?.ResourceIdType ?? "LONG_ID"),
      };
    },
  };
}
