import type { ClusterRef, ResourceType } from "../../../kube/types.js";
import type { WorkloadContext } from "../controllers.js";

/** A workload controller beyond Deployments and ReplicaSets: its resource, what wakes it, its pass. */
export interface WorkloadController {
  name: "statefulset" | "daemonset" | "job" | "cronjob";
  type: ResourceType;
  /** Its pods' changes wake it (orphans matching its selector too). */
  ownsPods: boolean;
  /** Node changes wake every object of it (DaemonSets). */
  watchesNodes: boolean;
  sync(ctx: WorkloadContext, c: ClusterRef, ns: string, name: string): { requeueAfterMs?: number } | undefined;
}
