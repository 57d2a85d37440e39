/**
 * What the storage controllers need of EFS: its API, called as the EFS CSI driver calls it
 * (CreateAccessPoint, DescribeAccessPoints, DeleteAccessPoint, DescribeFileSystems in the
 * cluster's account and region), and the host directory behind a file system or access point for
 * the kubelet's mounts. The EFS service module implements both (services/efs/kube.ts).
 */
import type { Scope } from "../../../core/ids.js";
import type { Operations } from "../../../protocol/generated/types/efs.js";
import type { EfsVolumes } from "../../tasks/efs-volumes.js";

export interface EfsApi {
  send<K extends keyof Operations>(
    scope: Scope,
    operation: K,
    input: Operations[K]["input"],
  ): Promise<Operations[K]["output"]>;
  /** The host directory to bind for a file system (and access point): ECS's mount path. */
  volumes: EfsVolumes;
}

/** The CSI drivers an EKS add-on installs in a cluster (aws-ebs-csi-driver → ebs.csi.aws.com). */
export interface InstalledDrivers {
  drivers(cluster: { scope: Scope; name: string }): string[];
}
