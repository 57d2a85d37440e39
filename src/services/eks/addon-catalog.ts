/**
 * The EKS add-ons Berth offers (DescribeAddonVersions) and what installing each means in Berth:
 * the EBS and EFS CSI drivers enable their provisioners (their CSIDriver objects appear in the
 * cluster); vpc-cni, coredns and kube-proxy are recorded as the cluster's defaults (Berth's pod
 * network, cluster DNS and Service proxy are built in and always run). PURE data and choices.
 */
import type { AddonInfo } from "../../protocol/generated/types/eks.js";
import { EKS_VERSIONS } from "./versions.js";

export interface AddonSpec {
  name: string;
  type: string;
  defaultNamespace: string;
  /** The CSI driver the add-on installs, if it is a storage driver. */
  csiDriver?: string;
  /** Versions, newest first; the first one compatible with a cluster version is its default. */
  versions: { version: string; clusterVersions: readonly string[] }[];
  requiresIamPermissions: boolean;
}

const ALL = EKS_VERSIONS.map((v) => v.version);
const from = (min: string) => ALL.filter((v) => Number(v.split(".")[1]) >= Number(min.split(".")[1]));

export const ADDONS: readonly AddonSpec[] = [
  {
    name: "vpc-cni",
    type: "networking",
    defaultNamespace: "kube-system",
    requiresIamPermissions: true,
    versions: [
      { version: "v1.20.4-eksbuild.1", clusterVersions: ALL },
      { version: "v1.19.6-eksbuild.1", clusterVersions: ALL },
    ],
  },
  {
    name: "coredns",
    type: "networking",
    defaultNamespace: "kube-system",
    requiresIamPermissions: false,
    versions: [
      { version: "v1.12.3-eksbuild.1", clusterVersions: from("1.33") },
      { version: "v1.11.4-eksbuild.22", clusterVersions: ["1.31", "1.32", "1.33"] },
      { version: "v1.11.1-eksbuild.13", clusterVersions: ["1.28", "1.29", "1.30"] },
    ],
  },
  {
    name: "kube-proxy",
    type: "networking",
    defaultNamespace: "kube-system",
    requiresIamPermissions: false,
    versions: EKS_VERSIONS.slice()
      .reverse()
      .map((v) => ({ version: `v${v.patch}-eksbuild.2`, clusterVersions: [v.version] })),
  },
  {
    name: "aws-ebs-csi-driver",
    type: "storage",
    defaultNamespace: "kube-system",
    csiDriver: "ebs.csi.aws.com",
    requiresIamPermissions: true,
    versions: [
      { version: "v1.48.0-eksbuild.2", clusterVersions: ALL },
      { version: "v1.47.0-eksbuild.1", clusterVersions: ALL },
    ],
  },
  {
    name: "aws-efs-csi-driver",
    type: "storage",
    defaultNamespace: "kube-system",
    csiDriver: "efs.csi.aws.com",
    requiresIamPermissions: true,
    versions: [
      { version: "v2.1.11-eksbuild.1", clusterVersions: ALL },
      { version: "v2.1.10-eksbuild.1", clusterVersions: ALL },
    ],
  },
];

export const addonSpec = (name: string) => ADDONS.find((a) => a.name === name);

/** The version a new add-on gets on a cluster version: the newest compatible (EKS's default). */
export function defaultAddonVersion(spec: AddonSpec, clusterVersion: string): string | undefined {
  return spec.versions.find((v) => v.clusterVersions.includes(clusterVersion))?.version;
}

export function isCompatible(spec: AddonSpec, version: string, clusterVersion: string): boolean {
  return spec.versions.some((v) => v.version === version && v.clusterVersions.includes(clusterVersion));
}

/** DescribeAddonVersions' answer for one add-on, filtered by Kubernetes version. */
export function addonInfo(spec: AddonSpec, kubernetesVersion?: string): AddonInfo {
  const versions = spec.versions.filter((v) => !kubernetesVersion || v.clusterVersions.includes(kubernetesVersion));
  return {
    addonName: spec.name,
    type: spec.type,
    publisher: "eks",
    owner: "aws",
    defaultNamespace: spec.defaultNamespace,
    addonVersions: versions.map((v) => ({
      addonVersion: v.version,
      architecture: ["amd64", "arm64"],
      computeTypes: ["ec2", "auto", "hybrid"],
      compatibilities: v.clusterVersions
        .filter((cv) => !kubernetesVersion || cv === kubernetesVersion)
        .map((cv) => ({
          clusterVersion: cv,
          platformVersions: ["*"],
          defaultVersion: defaultAddonVersion(spec, cv) === v.version,
        })),
      requiresConfiguration: false,
      requiresIamPermissions: spec.requiresIamPermissions,
    })),
  };
}
