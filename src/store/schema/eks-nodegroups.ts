import type {
  AMITypes,
  CapacityTypes,
  ErrorDetail,
  Issue,
  LaunchTemplateSpecification,
  NodegroupStatus,
  NodegroupUpdateConfig,
  RemoteAccessConfig,
  Taint,
  UpdateParam,
  UpdateStatus,
  UpdateType,
} from "../../protocol/generated/types/eks.js";
import type { Collection, DocumentStore } from "../documents.js";

export const EKS_NODEGROUP_KIND = "eks.nodegroup";
export const EKS_NODEGROUP_UPDATE_KIND = "eks.nodegroupUpdate";

export interface NodegroupScaling {
  minSize: number;
  maxSize: number;
  desiredSize: number;
}

/** A managed node group of an EKS cluster (CreateNodegroup): the node group controller makes its nodes. */
export interface EksNodegroupRecord {
  clusterName: string;
  nodegroupName: string;
  nodegroupArn: string;
  createdAt: Date;
  modifiedAt: Date;
  status: NodegroupStatus;
  /** When the current CREATING or DELETING phase ends. */
  transitionAt?: Date;
  version: string;
  releaseVersion: string;
  capacityType: CapacityTypes;
  scalingConfig: NodegroupScaling;
  instanceTypes: string[];
  subnets: string[];
  amiType: AMITypes;
  nodeRole: string;
  labels: Record<string, string>;
  taints: Taint[];
  diskSize: number;
  updateConfig: NodegroupUpdateConfig;
  remoteAccess?: RemoteAccessConfig;
  launchTemplate?: LaunchTemplateSpecification;
  /** The Auto Scaling group EKS would have made (its name, reported in `resources`). */
  autoScalingGroupName: string;
  tags: Record<string, string>;
  clientRequestToken?: string;
  /** What the node group controller last observed going wrong (health.issues). */
  issues?: Issue[];
}

/** What a node group update changes when it completes. */
export interface NodegroupChange {
  scalingConfig?: NodegroupScaling;
  labels?: Record<string, string>;
  taints?: Taint[];
  updateConfig?: NodegroupUpdateConfig;
  version?: string;
  releaseVersion?: string;
}

/** An update of a node group (UpdateNodegroupConfig / UpdateNodegroupVersion). */
export interface EksNodegroupUpdateRecord {
  id: string;
  clusterName: string;
  nodegroupName: string;
  status: UpdateStatus;
  type: UpdateType;
  params: UpdateParam[];
  createdAt: Date;
  errors: ErrorDetail[];
  clientRequestToken?: string;
  completeAt: Date;
  change: NodegroupChange;
}

/** The store key of a node group: its cluster and name. */
export const nodegroupKey = (clusterName: string, name: string) => `${clusterName}|${name}`;

/** Node groups and their updates (the EKS API writes them; the node group controller reads them and reports issues). */
export class NodegroupRecords {
  readonly nodegroups: Collection<EksNodegroupRecord>;
  readonly updates: Collection<EksNodegroupUpdateRecord>;

  constructor(store: DocumentStore) {
    this.nodegroups = store.collection<EksNodegroupRecord>(EKS_NODEGROUP_KIND, {
      id: (n) => nodegroupKey(n.clusterName, n.nodegroupName),
      arn: (n) => n.nodegroupArn,
      parent: (n) => n.clusterName,
    });
    this.updates = store.collection<EksNodegroupUpdateRecord>(EKS_NODEGROUP_UPDATE_KIND, {
      id: (u) => u.id,
      parent: (u) => nodegroupKey(u.clusterName, u.nodegroupName),
    });
  }
}
