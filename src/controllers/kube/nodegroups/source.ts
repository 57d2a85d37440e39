/** What the node group controller needs of EKS's managed node groups (services/eks implements it). */
import type { ClusterRef } from "../../../kube/types.js";
import type { Taint } from "../../../scheduler/pods.js";

/** A node group as the controller sees it. */
export interface NodegroupView {
  name: string;
  arn: string;
  status: "CREATING" | "ACTIVE" | "UPDATING" | "DELETING" | "CREATE_FAILED" | "DELETE_FAILED" | "DEGRADED";
  desiredSize: number;
  instanceTypes: string[];
  capacityType: string;
  amiType: string;
  /** Kubernetes version and AMI release of its nodes (a change rolls the nodes). */
  version: string;
  releaseVersion: string;
  /** The labels and taints it gives its nodes (Kubernetes form). */
  labels: Record<string, string>;
  taints: Taint[];
  /** The availability zones of its subnets. */
  zones: string[];
  /** How many nodes may be replaced at once during a version update. */
  maxUnavailable: number;
}

export interface NodegroupIssue {
  code: string;
  message: string;
  resourceIds: string[];
}

export interface NodegroupSource {
  nodegroups(cluster: ClusterRef): NodegroupView[];
  /** What went wrong with a node group's nodes now (empty: nothing); kept as its health.issues. */
  reportIssues(cluster: ClusterRef, nodegroup: string, issues: NodegroupIssue[]): void;
  /** A DELETING node group has no nodes left: it may go. */
  finishDelete(cluster: ClusterRef, nodegroup: string): void;
}
