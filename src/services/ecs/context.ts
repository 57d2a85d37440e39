import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import type { Clock } from "../../core/clock.js";
import { type Scope, arn, parseArn } from "../../core/ids.js";
import type { HostRegistry } from "../../hosts/registry.js";
import type { DocumentStore } from "../../store/documents.js";
import { hostInstance } from "./container-instances.js";
import {
  type ClusterRecord,
  type ContainerInstanceRecord,
  EcsCollections,
  type TaskDefinitionRecord,
  type TaskRecord,
} from "../../store/schema/ecs.js";

/** What every ECS operation module shares: the collections, clock, and resolution of names/ARNs. */
export class EcsContext extends EcsCollections {
  constructor(
    store: DocumentStore,
    readonly clock: Clock,
    /** The hosts that run containers; container instances are their memberships in clusters. */
    readonly hosts: HostRegistry,
  ) {
    super(store);
  }

  clusterArn(scope: Scope, name: string) {
    return arn("ecs", scope, `cluster/${name}`);
  }

  /** "name" or a cluster ARN → name (default "default"). */
  clusterName(ref: string | undefined): string {
    if (!ref) return "default";
    const parsed = parseArn(ref);
    if (parsed) return parsed.resource.replace(/^cluster\//, "");
    return ref;
  }

  newCluster(scope: Scope, name: string): ClusterRecord {
    return {
      clusterName: name,
      clusterArn: this.clusterArn(scope, name),
      status: "ACTIVE",
      tags: [],
      settings: [{ name: "containerInsights", value: "disabled" }],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    };
  }

  /** The ACTIVE cluster a request names; `default` appears on first use as in AWS. */
  activeCluster(scope: Scope, ref: string | undefined): ClusterRecord {
    const name = this.clusterName(ref);
    const found = this.clusters.get(scope, name);
    if (found?.status === "ACTIVE") return found;
    if (name === "default") return this.clusters.put(scope, this.newCluster(scope, name));
    throw ecsErrors.ClusterNotFoundException(`Cluster not found: '${name}'. Create it with CreateCluster first.`);
  }

  /** "family", "family:rev" or an ARN → the definition; ClientException when there is none. */
  taskDefinition(scope: Scope, ref: string): TaskDefinitionRecord {
    const parsed = parseArn(ref);
    const text = parsed ? parsed.resource.replace(/^task-definition\//, "") : ref;
    const [family, rev] = text.split(":");
    let found: TaskDefinitionRecord | undefined;
    if (rev !== undefined) {
      found = /^\d+$/.test(rev) ? this.taskDefinitions.get(scope, `${family}:${Number(rev)}`) : undefined;
    } else {
      found = this.taskDefinitions
        .children(scope, family)
        .filter((d) => d.status === "ACTIVE")
        .sort((a, b) => b.revision - a.revision)[0];
    }
    if (!found || found.status === "DELETE_IN_PROGRESS")
      throw ecsErrors.ClientException(
        `Unable to find task definition '${ref}'. Check the family and revision (RegisterTaskDefinition creates them).`,
      );
    return found;
  }

  /**
   * The cluster's ACTIVE container instances for EC2-launch-type tasks. Each registered host joins
   * a cluster the first time it needs EC2 capacity; once deregistered it stays out.
   */
  ec2Instances(scope: Scope, cluster: ClusterRecord): ContainerInstanceRecord[] {
    const all = this.containerInstances.children(scope, cluster.clusterArn);
    const now = this.clock.now();
    // Only the local Docker host joins by itself; agent hosts join with RegisterContainerInstance.
    for (const host of this.hosts.list().filter((h) => h.kind === "local-docker")) {
      const joined = hostInstance(scope, cluster, host, now);
      if (!all.some((i) => i.id === joined.id)) all.push(this.containerInstances.put(scope, joined));
    }
    return all.filter((i) => i.status === "ACTIVE" && i.agentConnected !== false);
  }

  /** A container instance of a cluster by id or ARN (any status). */
  containerInstance(scope: Scope, cluster: ClusterRecord, ref: string): ContainerInstanceRecord | undefined {
    const id = ref.startsWith("arn:") ? ref.split("/").pop()! : ref;
    return this.containerInstances.get(scope, `${cluster.clusterName}/${id}`);
  }

  /** A task by id or ARN within a cluster. */
  findTask(scope: Scope, cluster: ClusterRecord, ref: string): TaskRecord | undefined {
    const id = ref.startsWith("arn:") ? ref.split("/").pop()! : ref;
    return this.tasks.get(scope, arn("ecs", scope, `task/${cluster.clusterName}/${id}`));
  }
}
