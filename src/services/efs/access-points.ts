import { mergeTags } from "../../core/tags.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type {
  AccessPointDescription,
  CreateAccessPointRequest,
  Operations,
} from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import type { AccessPointRecord } from "../../store/schema/efs.js";
import { EfsContext, badRequest, efsError, markerPage } from "./context.js";
import { TAG_LIMIT, checkTags } from "./tags.js";
import { checkCreationInfo, checkPosixUser, checkRootPath } from "./validate.js";

/** Access points per file system, as EFS limits them. */
const ACCESS_POINT_LIMIT = 1000;

const view = (a: AccessPointRecord): AccessPointDescription => {
  const name = a.Tags.find((t) => t.Key === "Name")?.Value;
  return {
    ClientToken: a.ClientToken,
    ...(name !== undefined ? { Name: name } : {}),
    Tags: a.Tags,
    AccessPointId: a.AccessPointId,
    AccessPointArn: a.AccessPointArn,
    FileSystemId: a.FileSystemId,
    ...(a.PosixUser ? { PosixUser: a.PosixUser } : {}),
    RootDirectory: a.RootDirectory,
    OwnerId: a.OwnerId,
    LifeCycleState: "available",
  };
};

const sameRequest = (a: AccessPointRecord, input: CreateAccessPointRequest, path: string) =>
  a.FileSystemId === input.FileSystemId &&
  a.RootDirectory.Path === path &&
  JSON.stringify(a.PosixUser ?? null) === JSON.stringify(input.PosixUser ?? null) &&
  JSON.stringify(a.RootDirectory.CreationInfo ?? null) === JSON.stringify(input.RootDirectory?.CreationInfo ?? null);

/** Access points: a POSIX identity and a root directory applied to every mount through them. */
export function accessPointOperations(efs: EfsContext): Provider<Operations> {
  const { accessPoints } = efs.records;
  return {
    CreateAccessPoint: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      checkPosixUser(input.PosixUser);
      const path = checkRootPath(input.RootDirectory?.Path);
      checkCreationInfo(input.RootDirectory?.CreationInfo);
      checkTags(input.Tags);
      const existing = accessPoints.list(scope).find((a) => a.ClientToken === input.ClientToken);
      if (existing) {
        if (sameRequest(existing, { ...input, FileSystemId: fs.FileSystemId }, path)) return view(existing);
        throw efsErrors.AccessPointAlreadyExists(
          `Access point '${existing.AccessPointId}' already exists with client token '${input.ClientToken}'.`,
          { ErrorCode: "AccessPointAlreadyExists", AccessPointId: existing.AccessPointId },
        );
      }
      if (accessPoints.children(scope, fs.FileSystemId).length >= ACCESS_POINT_LIMIT)
        throw efsError(
          efsErrors.AccessPointLimitExceeded,
          `File system '${fs.FileSystemId}' already has ${ACCESS_POINT_LIMIT} access points.`,
        );
      const id = EfsContext.newId("fsap");
      const record: AccessPointRecord = {
        AccessPointId: id,
        AccessPointArn: efs.accessPointArn(scope, id),
        FileSystemId: fs.FileSystemId,
        ClientToken: input.ClientToken,
        OwnerId: scope.account,
        ...(input.PosixUser ? { PosixUser: input.PosixUser } : {}),
        RootDirectory: {
          Path: path,
          ...(input.RootDirectory?.CreationInfo ? { CreationInfo: input.RootDirectory.CreationInfo } : {}),
        },
        Tags: mergeTags([], input.Tags ?? [], TAG_LIMIT),
      };
      accessPoints.put(scope, record);
      return { ...view(record), LifeCycleState: "creating" };
    },

    DescribeAccessPoints: (input, scope) => {
      if (input.AccessPointId && input.FileSystemId)
        throw badRequest("Specify at most one of AccessPointId and FileSystemId.");
      let list = accessPoints.list(scope);
      if (input.AccessPointId) list = [efs.requireAccessPoint(scope, input.AccessPointId)];
      else if (input.FileSystemId)
        list = accessPoints.children(scope, efs.requireFileSystem(scope, input.FileSystemId).FileSystemId);
      const { page, NextMarker } = markerPage(list, (a) => a.AccessPointId, input.NextToken, input.MaxResults, {
        marker: "NextToken",
        next: "NextToken",
        max: "MaxResults",
      });
      return { AccessPoints: page.map(view), ...(NextMarker ? { NextToken: NextMarker } : {}) };
    },

    DeleteAccessPoint: (input, scope) => {
      const ap = efs.requireAccessPoint(scope, input.AccessPointId);
      accessPoints.delete(scope, ap.AccessPointId);
      efs.views.release(scope, ap.AccessPointId);
      return {};
    },
  };
}
