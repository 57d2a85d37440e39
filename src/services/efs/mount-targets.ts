import type { Scope } from "../../core/ids.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type { MountTargetDescription, Operations } from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import type { MountTargetRecord } from "../../store/schema/efs.js";
import { EfsContext, badRequest, efsError, markerPage, mountTargetNotFound } from "./context.js";
import { allocateIp, inSubnet, subnetPlacement } from "./validate.js";

const view = (m: MountTargetRecord): MountTargetDescription => ({
  OwnerId: m.OwnerId,
  MountTargetId: m.MountTargetId,
  FileSystemId: m.FileSystemId,
  SubnetId: m.SubnetId,
  LifeCycleState: "available",
  IpAddress: m.IpAddress,
  NetworkInterfaceId: m.NetworkInterfaceId,
  AvailabilityZoneId: m.AvailabilityZoneId,
  AvailabilityZoneName: m.AvailabilityZoneName,
  VpcId: m.VpcId,
});

function checkSecurityGroups(groups: string[] | undefined) {
  if (!groups) return;
  if (groups.length > 5)
    throw efsError(efsErrors.SecurityGroupLimitExceeded, "A mount target can have at most 5 security groups.");
  for (const g of groups)
    if (!/^sg-[0-9a-f]{8,40}$/.test(g))
      throw efsError(efsErrors.SecurityGroupNotFound, `Security group '${g}' does not exist.`);
}

/** Mount targets: one per file system and Availability Zone, each with an address in its subnet. */
export function mountTargetOperations(efs: EfsContext): Provider<Operations> {
  const { mountTargets } = efs.records;
  const requireMountTarget = (scope: Scope, id: string) => {
    const m = mountTargets.get(scope, id);
    if (!m) throw mountTargetNotFound(id);
    return m;
  };
  return {
    CreateMountTarget: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      if (!/^subnet-[0-9a-f]{8,40}$/.test(input.SubnetId ?? ""))
        throw efsError(efsErrors.SubnetNotFound, `The subnet ID '${input.SubnetId}' does not exist`);
      const place = subnetPlacement(scope, input.SubnetId);
      if (fs.AvailabilityZoneName && fs.AvailabilityZoneName !== place.availabilityZoneName)
        throw efsError(
          efsErrors.AvailabilityZonesMismatch,
          `The subnet '${input.SubnetId}' is in ${place.availabilityZoneName}, but the file system is in ${fs.AvailabilityZoneName}.`,
        );
      checkSecurityGroups(input.SecurityGroups);
      const siblings = mountTargets.children(scope, fs.FileSystemId);
      if (siblings.some((m) => m.AvailabilityZoneName === place.availabilityZoneName))
        throw efsError(
          efsErrors.MountTargetConflict,
          `File system '${fs.FileSystemId}' already has a mount target in availability zone ${place.availabilityZoneName}.`,
        );
      const used = new Set(mountTargets.list(scope).map((m) => m.IpAddress));
      if (input.IpAddress !== undefined) {
        if (!inSubnet(place.cidrBase, input.IpAddress))
          throw badRequest(`IP address ${input.IpAddress} is not within the CIDR block of subnet ${input.SubnetId}.`);
        if (used.has(input.IpAddress))
          throw efsError(
            efsErrors.IpAddressInUse,
            `IP address ${input.IpAddress} is already in use in subnet ${input.SubnetId}.`,
          );
      }
      const record: MountTargetRecord = {
        MountTargetId: EfsContext.newId("fsmt"),
        FileSystemId: fs.FileSystemId,
        SubnetId: input.SubnetId,
        AvailabilityZoneName: place.availabilityZoneName,
        AvailabilityZoneId: place.availabilityZoneId,
        VpcId: place.vpcId,
        IpAddress: input.IpAddress ?? allocateIp(place.cidrBase, used),
        NetworkInterfaceId: EfsContext.newId("eni"),
        SecurityGroups: input.SecurityGroups ?? [`sg-${place.vpcId.slice(4, 21)}`],
        OwnerId: scope.account,
      };
      mountTargets.put(scope, record);
      return { ...view(record), LifeCycleState: "creating" };
    },

    DescribeMountTargets: (input, scope) => {
      const given = [input.FileSystemId, input.MountTargetId, input.AccessPointId].filter((x) => x !== undefined);
      if (given.length !== 1) throw badRequest("Specify exactly one of FileSystemId, MountTargetId and AccessPointId.");
      let list: MountTargetRecord[];
      if (input.MountTargetId) list = [requireMountTarget(scope, input.MountTargetId)];
      else if (input.AccessPointId) {
        const ap = efs.requireAccessPoint(scope, input.AccessPointId);
        list = mountTargets.children(scope, ap.FileSystemId);
      } else list = mountTargets.children(scope, efs.requireFileSystem(scope, input.FileSystemId!).FileSystemId);
      const { page, Marker, NextMarker } = markerPage(list, (m) => m.MountTargetId, input.Marker, input.MaxItems);
      return { MountTargets: page.map(view), ...(Marker ? { Marker } : {}), ...(NextMarker ? { NextMarker } : {}) };
    },

    DeleteMountTarget: (input, scope) => {
      requireMountTarget(scope, input.MountTargetId);
      mountTargets.delete(scope, input.MountTargetId);
      return {};
    },

    DescribeMountTargetSecurityGroups: (input, scope) => ({
      SecurityGroups: requireMountTarget(scope, input.MountTargetId).SecurityGroups,
    }),

    ModifyMountTargetSecurityGroups: (input, scope) => {
      const m = requireMountTarget(scope, input.MountTargetId);
      checkSecurityGroups(input.SecurityGroups);
      mountTargets.put(scope, { ...m, SecurityGroups: input.SecurityGroups ?? [] });
      return {};
    },
  };
}
