/** EKS managed node groups on Kubernetes: the node group controller and what it shares (services/eks wires it). */
export { type NodegroupControllerDeps, startNodegroupController } from "./controller.js";
export { INSTANCE_TYPES, type InstanceType, instanceType, nodeResourcesOf } from "./instance-types.js";
export {
  chooseNodesToRemove,
  chooseZone,
  NODEGROUP_LABEL,
  type NodegroupAction,
  nodegroupNode,
  planNodegroups,
} from "./plan.js";
export type { NodegroupIssue, NodegroupSource, NodegroupView } from "./source.js";
