import { noTokenIssued } from "../../core/paginate.js";
import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import { type Scope, arn } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { Cluster, Operations } from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import { FARGATE_PROVIDERS, checkClusterProviders, normalizeStrategy } from "./capacity-providers.js";
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
        throw ecsErrors.InvalidParameterException(
          `Cluster name '${name}' is invalid: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
        );
      const providers = input.capacityProviders ?? [];
      const strategy = input.defaultCapacityProviderStrategy ?? [];
      checkClusterProviders(providers, strategy);
      const existing = ecs.clusters.get(scope, name);
      // Idempotent, like AWS; CreateCluster answers with the tags it was given.
      if (existing?.status === "ACTIVE") return { cluster: describe(scope, existing, ["TAGS"]) };
      const record: ClusterRecord = {
        ...ecs.newCluster(scope, name),
        tags: input.tags ?? [],
        settings: input.settings ?? [{ name: "containerInsights", value: "disabled" }],
        configuration: input.configuration,
        capacityProviders: providers,
        defaultCapacityProviderStrategy: normalizeStrategy(strategy),
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
      if (found?.status !== "ACTIVE") throw ecsErrors.ClusterNotFoundException(`Cluster not found: '${name}'.`);
      const services = ecs.services.children(scope, found.clusterArn).filter((s) => s.status !== "INACTIVE");
      if (services.length > 0)
        throw ecsErrors.ClusterContainsServicesException(
          `The Cluster cannot be deleted while Services are active (${services.map((s) => s.serviceName).join(", ")}). Delete them with DeleteService first.`,
        );
      const active = ecs.tasks.children(scope, found.clusterArn).filter((t) => ACTIVE_TASK(t.lastStatus));
      if (active.length > 0)
        throw ecsErrors.ClusterContainsTasksException(
          `The Cluster cannot be deleted while Tasks are active (${active.length} task(s) not yet STOPPED). Stop them with StopTask first.`,
        );
      const inactive: ClusterRecord = { ...found, status: "INACTIVE" };
      ecs.store.transaction(() => {
        // The local host joined this cluster on its own (EC2 capacity); it leaves with it.
        for (const i of ecs.containerInstances.children(scope, found.clusterArn))
          ecs.containerInstances.delete(scope, `${found.clusterName}/${i.id}`);
        ecs.clusters.put(scope, inactive);
      });
      // Like DescribeClusters without include: no tags.
      return { cluster: describe(scope, inactive) };
    },

    // The two Fargate capacity providers every account has; names Berth does not have are MISSING.
    DescribeCapacityProviders: (input, scope) => {
      // The two Fargate providers come in one page: a token is one ECS never issued.
      noTokenIssued(input.nextToken, () =>
        ecsErrors.InvalidParameterException("The specified nextToken is not valid for this request."),
      );
      const wanted = input.capacityProviders?.length ? input.capacityProviders : FARGATE_PROVIDERS;
      const nameOf = (ref: string) => (ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref);
      const providerArn = (name: string) => arn("ecs", scope, `capacity-provider/${name}`);
      return {
        capacityProviders: wanted
          .filter((ref) => FARGATE_PROVIDERS.includes(nameOf(ref)))
          .map((ref) => ({
            capacityProviderArn: providerArn(nameOf(ref)),
            name: nameOf(ref),
            status: "ACTIVE" as const,
            type: nameOf(ref) as "FARGATE" | "FARGATE_SPOT",
            tags: input.include?.includes("TAGS") ? [] : undefined,
          })),
        failures: wanted
          .filter((ref) => !FARGATE_PROVIDERS.includes(nameOf(ref)))
          .map((ref) => ({ arn: ref.startsWith("arn:") ? ref : providerArn(ref), reason: "MISSING" })),
      };
    },

    PutClusterCapacityProviders: (input, scope) => {
      checkClusterProviders(input.capacityProviders, input.defaultCapacityProviderStrategy);
      return ecs.store.transaction(() => {
        const name = ecs.clusterName(input.cluster);
        const found = ecs.clusters.get(scope, name);
        if (found?.status !== "ACTIVE") throw ecsErrors.ClusterNotFoundException("Cluster not found.");
        // A provider a service launches through stays (AWS: ResourceInUseException).
        for (const s of ecs.services.children(scope, found.clusterArn))
          for (const item of s.status === "INACTIVE" ? [] : (s.capacityProviderStrategy ?? []))
            if (!input.capacityProviders.includes(item.capacityProvider))
              throw ecsErrors.ResourceInUseException(
                `The specified capacity provider ${item.capacityProvider} is in use and cannot be removed: service ${s.serviceName} launches through it.`,
              );
        const next: ClusterRecord = {
          ...found,
          capacityProviders: input.capacityProviders,
          defaultCapacityProviderStrategy: normalizeStrategy(input.defaultCapacityProviderStrategy),
        };
        ecs.clusters.put(scope, next);
        return { cluster: describe(scope, next) };
      });
    },
  };
}
