/**
 * What the kubelet mounts for a `persistentVolumeClaim` volume: the bound volume's host
 * directory (an EBS-class disk, an EFS file system or access point, a hostPath/local path), once
 * the claim is Bound and — for drivers that attach — the volume is attached to the pod's node.
 * Anything not ready yet is a message the kubelet reports and retries on.
 */
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef } from "../../../kube/types.js";
import { EfsMountError } from "../../tasks/efs-volumes.js";
import type { EfsApi } from "./api.js";
import { attachedTo } from "./attach.js";
import { claimSpec, phaseOf, volumeSpec } from "./binding.js";
import type { VolumeDisks } from "./disks.js";
import { EBS_DRIVER, EFS_DRIVER, parseEfsHandle } from "./parameters.js";

export type ClaimMount = { hostPath: string; readOnly: boolean } | { waiting: string };

export interface ClaimMounts {
  /**
   * `user` is what the pod runs as ("1000", "1000:1000"; root when unset): through an EFS access
   * point it acts as the access point's PosixUser (a view of the directory, when the host can make one).
   */
  mount(
    cluster: ClusterRef,
    namespace: string,
    claimName: string,
    volumeName: string,
    node: string,
    readOnly: boolean,
    user?: string,
  ): Promise<ClaimMount>;
}

export function claimMounts(deps: { objects: ObjectStore; disks: VolumeDisks; efs?: EfsApi }): ClaimMounts {
  const { objects } = deps;
  return {
    async mount(c, ns, claimName, volumeName, node, readOnlyAsked, user = "0") {
      const unattached = (why: string) => ({
        waiting: `Unable to attach or mount volumes: unmounted volumes=[${volumeName}], unattached volumes=[${volumeName}]: ${why}`,
      });
      const claim = objects.get(c, R.persistentvolumeclaims, ns, claimName);
      if (!claim) return unattached(`persistentvolumeclaim "${claimName}" not found`);
      if (claim.metadata.deletionTimestamp) return unattached(`persistentvolumeclaim "${claimName}" is being deleted`);
      const pvName = claimSpec(claim).volumeName;
      if (phaseOf(claim) !== "Bound" || !pvName)
        return unattached(`pod has unbound immediate PersistentVolumeClaims (claim "${claimName}" is not bound)`);
      const pv = objects.get(c, R.persistentvolumes, undefined, pvName);
      if (!pv) return unattached(`persistentvolume "${pvName}" not found`);
      const vs = volumeSpec(pv);
      const modes = vs.accessModes ?? [];
      const readOnly =
        readOnlyAsked || vs.csi?.readOnly === true || (modes.length > 0 && modes.every((m) => m === "ReadOnlyMany"));
      if (vs.csi?.driver === EBS_DRIVER) {
        if (!attachedTo(objects.list(c, R.volumeattachments).items, pvName, node))
          return unattached(`volume ${pvName} is not attached to node ${node} yet`);
        const id = vs.csi.volumeHandle ?? "";
        if (!/^vol-[0-9a-f]+$/.test(id)) return unattached(`rpc error: code = NotFound desc = volume ${id} not found`);
        // A statically provisioned volume (a PersistentVolume naming its own vol- id) starts empty.
        return {
          hostPath: deps.disks.exists(c.scope, id) ? deps.disks.path(c.scope, id) : deps.disks.create(c.scope, id),
          readOnly,
        };
      }
      if (vs.csi?.driver === EFS_DRIVER) {
        if (!deps.efs) return unattached("the EFS CSI driver is not available");
        const h = parseEfsHandle(vs.csi.volumeHandle ?? "");
        try {
          const m = await deps.efs.volumes.prepare(c.scope, {
            fileSystemId: h.fileSystemId,
            ...(h.accessPointId ? { accessPointId: h.accessPointId } : {}),
            ...(h.path ? { rootDirectory: h.path } : {}),
            iam: false,
            transitEncryption: vs.csi.volumeAttributes?.encryptInTransit !== "false",
            ...(h.accessPointId ? { ownUsers: [user] } : {}),
          });
          return { hostPath: m.posixViews?.[user] ?? m.hostPath, readOnly: readOnly || m.readOnly };
        } catch (e) {
          if (e instanceof EfsMountError)
            return { waiting: `MountVolume.SetUp failed for volume "${pvName}" : ${e.message}` };
          throw e;
        }
      }
      const path = vs.hostPath?.path ?? vs.local?.path;
      if (path) return { hostPath: path, readOnly };
      return unattached(
        `volume ${pvName}: only ebs.csi.aws.com, efs.csi.aws.com, hostPath and local volumes can be mounted`,
      );
    },
  };
}
