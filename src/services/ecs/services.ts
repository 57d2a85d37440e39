import { serviceLaunchType } from "../../store/schema/ecs.js";
import { randomInt } from "node:crypto";
import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import { arn } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { CreateServiceRequest, Failure, Operations, Service } from "../../protocol/generated/types/ecs.js";
import type { ServiceLoadBalancing } from "../../controllers/services/load-balancing.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";
import { isRoleReference } from "./task-definition-rules.js";
import type { DeploymentRecord, ServiceRecord, TaskDefinitionRecord } from "../../store/schema/ecs.js";
import { resolveLaunch } from "./capacity-providers.js";
import { checkLaunch } from "./tasks.js";

const invalid = ecsErrors.InvalidParameterException;
export const deploymentId = () =>
  `ecs-svc/${String(randomInt(1, 9)) + Array.from({ length: 18 }, () => randomInt(0, 10)).join("")}`;

const view = (s: ServiceRecord): Service => s;

function checkLoadBalancers(
  lbs: CreateServiceRequest["loadBalancers"],
  def: TaskDefinitionRecord,
  elb: ServiceLoadBalancing | undefined,
) {
  for (const lb of lbs ?? []) {
    if (!lb.targetGroupArn)
      throw invalid("loadBalancers: targetGroupArn is required (classic load balancers are not supported).");
    const tg = elb?.targetGroup(lb.targetGroupArn);
    if (!tg) throw invalid(`The target group with targetGroupArn ${lb.targetGroupArn} does not exist.`);
    if (tg.loadBalancerArns.length === 0)
      throw invalid(
        `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`,
      );
    const wanted = def.networkMode === "awsvpc" ? "ip" : "instance";
    if (tg.targetType !== wanted)
      throw invalid(
        `The provided target group ${lb.targetGroupArn} has target type ${tg.targetType}, which is incompatible with the ${def.networkMode ?? "bridge"} network mode specified in the task definition.`,
      );
    const container = def.containerDefinitions.find((c) => c.name === lb.containerName);
    if (!container) throw invalid(`The container ${lb.containerName} does not exist in the task definition.`);
    if (!container.portMappings?.some((p) => p.containerPort === lb.containerPort))
      throw invalid(`The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`);
  }
}

function newDeployment(
  def: TaskDefinitionRecord,
  input: {
    networkConfiguration?: Service["networkConfiguration"];
    platformVersion?: string;
    capacityProviderStrategy?: Service["capacityProviderStrategy"];
  },
  now: Date,
  desired: number,
): DeploymentRecord {
  return {
    id: deploymentId(),
    status: "PRIMARY",
    taskDefinition: def.taskDefinitionArn,
    desiredCount: desired,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: now,
    updatedAt: now,
    launchType: input.capacityProviderStrategy?.length ? undefined : "FARGATE",
    capacityProviderStrategy: input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : undefined,
    platformVersion: input.platformVersion ?? "1.4.0",
    platformFamily: "Linux",
    networkConfiguration: input.networkConfiguration,
    rolloutState: "IN_PROGRESS",
    rolloutStateReason: "ECS deployment in progress.",
  };
}

function checkGracePeriod(grace: number | undefined) {
  if (grace !== undefined && (grace < 0 || grace > 2147483647))
    throw invalid(`healthCheckGracePeriodSeconds must be between 0 and 2147483647; got ${grace}.`);
}

export function serviceOperations(ecs: EcsContext, elb: () => ServiceLoadBalancing | undefined): Provider<Operations> {
  const find = (scope: Parameters<EcsContext["activeCluster"]>[0], clusterRef: string | undefined, ref: string) => {
    const cluster = ecs.activeCluster(scope, clusterRef);
    const name = ref.startsWith("arn:") ? ref.split("/").pop()! : ref;
    const s = ecs.services.get(scope, `${cluster.clusterName}/${name}`);
    return { cluster, service: s };
  };
  return {
    CreateService: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      if (!/^[a-zA-Z0-9_-]{1,255}$/.test(input.serviceName))
        throw invalid(
          `Service name '${input.serviceName.slice(0, 64)}${input.serviceName.length > 64 ? "..." : ""}' is invalid: up to 255 letters, numbers, hyphens and underscores.`,
        );
      if (input.role !== undefined && !isRoleReference(input.role)) throw invalid("Role is not valid");
      checkGracePeriod(input.healthCheckGracePeriodSeconds);
      const existing = ecs.services.get(ctx, `${cluster.clusterName}/${input.serviceName}`);
      if (existing && existing.status !== "INACTIVE") throw invalid("Creation of service was not idempotent.");
      if (!input.taskDefinition) throw invalid("TaskDefinition can not be blank.");
      const def = ecs.taskDefinition(ctx, input.taskDefinition);
      const { launchType, strategy } = resolveLaunch(input, cluster);
      const desired = input.desiredCount ?? (input.schedulingStrategy === "DAEMON" ? 1 : 0);
      if (desired < 0) throw invalid("desiredCount must be 0 or more.");
      checkLaunch(
        def,
        {
          taskDefinition: def.taskDefinitionArn,
          networkConfiguration: input.networkConfiguration,
          platformVersion: input.platformVersion,
        },
        launchType,
      );
      checkLoadBalancers(input.loadBalancers, def, elb());
      const dc = input.deploymentConfiguration ?? {};
      const maximumPercent = dc.maximumPercent ?? 200;
      const minimumHealthyPercent = dc.minimumHealthyPercent ?? 100;
      if (maximumPercent < 100 || minimumHealthyPercent < 0 || minimumHealthyPercent >= maximumPercent + 100)
        throw invalid(
          "deploymentConfiguration: maximumPercent must be ≥ 100 and minimumHealthyPercent between 0 and 100.",
        );
      const now = ecs.clock.now();
      const record: ServiceRecord = {
        serviceArn: arn("ecs", ctx, `service/${cluster.clusterName}/${input.serviceName}`),
        serviceName: input.serviceName,
        clusterArn: cluster.clusterArn,
        loadBalancers: input.loadBalancers ?? [],
        serviceRegistries: [],
        status: "ACTIVE",
        desiredCount: desired,
        runningCount: 0,
        pendingCount: 0,
        // A service launching through capacity providers reports its strategy instead of a launch type.
        launchType: strategy ? undefined : launchType,
        capacityProviderStrategy: strategy,
        platformVersion: launchType === "FARGATE" ? (input.platformVersion ?? "LATEST") : undefined,
        platformFamily: launchType === "FARGATE" ? "Linux" : undefined,
        taskDefinition: def.taskDefinitionArn,
        deploymentConfiguration: {
          deploymentCircuitBreaker: dc.deploymentCircuitBreaker ?? { enable: false, rollback: false },
          maximumPercent,
          minimumHealthyPercent,
        },
        deployments: [newDeployment(def, { ...input, capacityProviderStrategy: strategy }, now, desired)],
        roleArn: input.loadBalancers?.length
          ? arn("iam", { ...ctx, region: "" }, "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")
          : undefined,
        events: [],
        createdAt: now,
        placementConstraints: input.placementConstraints ?? [],
        placementStrategy: input.placementStrategy ?? [],
        networkConfiguration: input.networkConfiguration,
        healthCheckGracePeriodSeconds:
          input.healthCheckGracePeriodSeconds ?? (input.loadBalancers?.length ? 0 : undefined),
        schedulingStrategy: "REPLICA",
        deploymentController: { type: "ECS" },
        tags: input.tags ?? [],
        createdBy: ctx.principal.arn,
        enableECSManagedTags: input.enableECSManagedTags ?? false,
        propagateTags: input.propagateTags ?? "NONE",
        enableExecuteCommand: input.enableExecuteCommand ?? false,
        draining: {},
      };
      ecs.services.put(ctx, record);
      return { service: view(record) };
    },

    UpdateService: (input, ctx) => {
      checkGracePeriod(input.healthCheckGracePeriodSeconds);
      const { service } = find(ctx, input.cluster, input.service);
      if (service?.status !== "ACTIVE")
        throw ecsErrors.ServiceNotActiveException(`Service ${input.service} is not ACTIVE; it cannot be updated.`);
      const now = ecs.clock.now();
      const def = input.taskDefinition
        ? ecs.taskDefinition(ctx, input.taskDefinition)
        : ecs.taskDefinition(ctx, service.taskDefinition);
      const networkConfiguration = input.networkConfiguration ?? service.networkConfiguration;
      checkLaunch(def, { taskDefinition: def.taskDefinitionArn, networkConfiguration }, serviceLaunchType(service));
      if (input.loadBalancers) checkLoadBalancers(input.loadBalancers, def, elb());
      if (input.desiredCount !== undefined && input.desiredCount < 0) throw invalid("desiredCount must be 0 or more.");
      const desired = input.desiredCount ?? service.desiredCount;
      const changesTasks =
        input.forceNewDeployment ||
        def.taskDefinitionArn !== service.taskDefinition ||
        (input.networkConfiguration &&
          JSON.stringify(input.networkConfiguration) !== JSON.stringify(service.networkConfiguration)) ||
        (input.loadBalancers && JSON.stringify(input.loadBalancers) !== JSON.stringify(service.loadBalancers));
      const deployments = changesTasks
        ? [
            newDeployment(
              def,
              {
                networkConfiguration,
                platformVersion: input.platformVersion,
                capacityProviderStrategy: service.capacityProviderStrategy,
              },
              now,
              desired,
            ),
            ...service.deployments.map((d) => ({ ...d, status: "ACTIVE" as const })),
          ]
        : service.deployments.map((d) =>
            d.status === "PRIMARY" ? { ...d, desiredCount: desired, updatedAt: now } : d,
          );
      const dc = service.deploymentConfiguration ?? {};
      const updated: ServiceRecord = {
        ...service,
        desiredCount: desired,
        taskDefinition: def.taskDefinitionArn,
        networkConfiguration,
        loadBalancers: input.loadBalancers ?? service.loadBalancers,
        deployments,
        healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds ?? service.healthCheckGracePeriodSeconds,
        deploymentConfiguration: {
          ...dc,
          ...input.deploymentConfiguration,
          deploymentCircuitBreaker:
            input.deploymentConfiguration?.deploymentCircuitBreaker ?? dc.deploymentCircuitBreaker,
        },
      };
      ecs.services.put(ctx, updated);
      return { service: view(updated) };
    },

    DeleteService: (input, ctx) => {
      const { service } = find(ctx, input.cluster, input.service);
      if (!service || service.status === "INACTIVE")
        throw ecsErrors.ServiceNotFoundException(`Service not found: ${input.service}.`);
      if (service.desiredCount > 0 && !input.force)
        throw invalid(
          "The service cannot be stopped while it is scaled above 0. Set desiredCount to 0 first, or use force.",
        );
      const updated: ServiceRecord = { ...service, status: "DRAINING", desiredCount: 0 };
      ecs.services.put(ctx, updated);
      return { service: view(updated) };
    },

    DescribeServices: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      if (input.services.length > 10) throw invalid("You can describe up to 10 services per request.");
      const services: Service[] = [];
      const failures: Failure[] = [];
      for (const ref of input.services) {
        const { service } = find(ctx, input.cluster, ref);
        if (service)
          services.push({ ...view(service), tags: input.include?.includes("TAGS") ? service.tags : undefined });
        else
          failures.push({
            arn: ref.startsWith("arn:") ? ref : arn("ecs", ctx, `service/${cluster.clusterName}/${ref}`),
            reason: "MISSING",
          });
      }
      return { services, failures };
    },

    ListServices: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const arns = ecs.services
        .children(ctx, cluster.clusterArn)
        .filter((s) => s.status !== "INACTIVE")
        .filter((s) => !input.launchType || serviceLaunchType(s) === input.launchType)
        .filter((s) => !input.schedulingStrategy || (s.schedulingStrategy ?? "REPLICA") === input.schedulingStrategy)
        .map((s) => s.serviceArn);
      const { page, nextToken } = pageByKey(arns, (a) => [a], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 10, max: 100 }),
      });
      return { serviceArns: page, nextToken };
    },
  };
}

/**
 * Sets a service's desired count the way UpdateService does (Application Auto Scaling uses it).
 * Returns the previous count, or undefined when the service does not exist or is not ACTIVE.
 */
export function setServiceDesiredCount(
  ecs: EcsContext,
  scope: { account: string; region: string },
  clusterName: string,
  serviceName: string,
  desiredCount: number,
): number | undefined {
  return ecs.store.transaction(() => {
    const s = ecs.services.get(scope, `${clusterName}/${serviceName}`);
    if (s?.status !== "ACTIVE") return undefined;
    const now = ecs.clock.now();
    ecs.services.put(scope, {
      ...s,
      desiredCount,
      deployments: s.deployments.map((d) => (d.status === "PRIMARY" ? { ...d, desiredCount, updatedAt: now } : d)),
    });
    return s.desiredCount;
  });
}
