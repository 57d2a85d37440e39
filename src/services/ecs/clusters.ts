import { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { Cluster, Operations } from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";
import type { ClusterRecord } from "../../store/schema/ecs.js";

const ACTIVE_TASK = (s: string) => s !== "STOPPED";
const PENDING = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);

export function clusterOperations(ecs: EcsContext): Provider<Operations> {
  const describe = (scope: Scope, c: ClusterRecord, include: string[] = []): Cluster => {
    const tasks = ecs.tasks.children(scope, c.clusterArn).filter((t) => ACTIVE_TASK(t.lastStatus));
    return {
      ...c,
      tags: include.includes("TAGS") ? c.tags : undefined,
      runningTasksCount: tasks.filter((t) => t.lastStatus === "RUNNING").length,
      pendingTasksCount: tasks.filter((t) => PENDING.has(t.lastStatus)).length,
      activeServicesCount: ecs.services.children(scope, c.clusterArn).filter((s) => s.status === "ACTIVE").length,
      registeredContainerInstancesCount: ecs.containerInstances
        .children(scope, c.clusterArn)
        .filter((i) => i.status === "ACTIVE").length,
      statistics: include.includes("STATISTICS") ? [] : undefined,
    };
  };

  return {
    CreateCluster: (input, scope) => {
      const name = input.clusterName ?? "default";
      if (!/^[a-zA-Z0-9_-]{1,255}$/.test(name))
        throw new ServiceError(
          "InvalidParameterException",
          `Cluster name '${name}' is invalid: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
        );
      const existing = ecs.clusters.get(scope, name);
      if (existing?.status === "ACTIVE") return { cluster: describe(scope, existing, ["TAGS"]) }; // idempotent, like AWS
      const record: ClusterRecord = {
        ...ecs.newCluster(scope, name),
        tags: input.tags ?? [],
        settings: input.settings ?? [{ name: "containerInsights", value: "disabled" }],
        configuration: input.configuration,
        capacityProviders: input.capacityProviders ?? [],
        defaultCapacityProviderStrategy: input.defaultCapacityProviderStrategy ?? [],
        serviceConnectDefaults: input.serviceConnectDefaults
          ? { namespace: input.serviceConnectDefaults.namespace }
          : undefined,
      };
      ecs.clusters.put(scope, record);
      return { cluster: describe(scope, record, ["TAGS"]) };
    },

    DescribeClusters: (input, scope) => {
      const refs = input.clusters?.length ? input.clusters : ["default"];
      const clusters: Cluster[] = [];
      const failures = [];
      for (const ref of refs) {
        const name = ecs.clusterName(ref);
        const found = ecs.clusters.get(scope, name);
        if (found) clusters.push(describe(scope, found, input.include));
        else failures.push({ arn: ref.startsWith("arn:") ? ref : ecs.clusterArn(scope, name), reason: "MISSING" });
      }
      return { clusters, failures };
    },

    ListClusters: (input, scope) => {
      const arns = ecs.clusters
        .list(scope)
        .filter((c) => c.status === "ACTIVE")
        .map((c) => c.clusterArn);
      const { page, nextToken } = pageByKey(arns, (a) => [a], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 100 }),
      });
      return { clusterArns: page, nextToken };
    },

    DeleteCluster: (input, scope) => {
      const name = ecs.clusterName(input.cluster);
      const found = ecs.clusters.get(scope, name);
      if (found?.status !== "ACTIVE")
        throw new ServiceError("ClusterNotFoundException", `Cluster not found: '${name}'.`);
      const services = ecs.services.children(scope, found.clusterArn).filter((s) => s.status !== "INACTIVE");
      if (services.length > 0)
        throw new ServiceError(
          "ClusterContainsServicesException",
          `The Cluster cannot be deleted while Services are active (${services.map((s) => s.serviceName).join(", ")}). Delete them with DeleteService first.`,
        );
      const active = ecs.tasks.children(scope, found.clusterArn).filter((t) => ACTIVE_TASK(t.lastStatus));
      if (active.length > 0)
        throw new ServiceError(
          "ClusterContainsTasksException",
          `The Cluster cannot be deleted while Tasks are active (${active.length} task(s) not yet STOPPED). Stop them with StopTask first.`,
        );
      const inactive: ClusterRecord = { ...found, status: "INACTIVE" };
      ecs.store.transaction(() => {
        // The local host joined this cluster on its own (EC2 capacity); it leaves with it.
        for (const i of ecs.containerInstances.children(scope, found.clusterArn))
          ecs.containerInstances.delete(scope, `${found.clusterName}/${i.id}`);
        ecs.clusters.put(scope, inactive);
      });
      return { cluster: describe(scope, inactive, ["TAGS"]) };
    },
  };
}
