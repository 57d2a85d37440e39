import { ServiceError } from "../../core/errors.js";
import { type Scope, arn, hexId, uuid } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type {
  Container,
  ContainerDefinition,
  Failure,
  Operations,
  RunTaskRequest,
  Task,
} from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import { instanceRoom } from "./container-instances.js";
import { misfit, placeTasks, taskNeeds } from "./placement.js";
import type { EcsContext } from "./context.js";
import {
  type ClusterRecord,
  type LaunchType,
  type TaskDefinitionRecord,
  type TaskRecord,
  type TaskSpec,
  stopping,
} from "../../store/schema/ecs.js";
import { isValidFargateSize, parseCpu, parseMemory } from "./sizes.js";

const invalid = (message: string) => new ServiceError("InvalidParameterException", message);

/** Applies RunTask overrides to a task definition: the containers and sizes the task will really get. */
export function taskSpec(def: TaskDefinitionRecord, input: RunTaskRequest): TaskSpec {
  const o = input.overrides ?? {};
  const names = new Set(def.containerDefinitions.map((c) => c.name));
  for (const co of o.containerOverrides ?? [])
    if (co.name && !names.has(co.name))
      throw invalid(
        `Override for container '${co.name}' does not match any container in ${def.family}:${def.revision}.`,
      );
  const containers: ContainerDefinition[] = def.containerDefinitions.map((c) => {
    const co = o.containerOverrides?.find((x) => x.name === c.name);
    if (!co) return c;
    const env = new Map((c.environment ?? []).map((e) => [e.name, e.value]));
    for (const e of co.environment ?? []) env.set(e.name, e.value);
    return {
      ...c,
      command: co.command ?? c.command,
      environment: [...env].map(([name, value]) => ({ name, value })),
      cpu: co.cpu ?? c.cpu,
      memory: co.memory ?? c.memory,
      memoryReservation: co.memoryReservation ?? c.memoryReservation,
    };
  });
  const cpu = o.cpu ?? def.cpu;
  const memory = o.memory ?? def.memory;
  return {
    family: def.family,
    revision: def.revision,
    networkMode: def.networkMode ?? "bridge",
    cpuUnits: cpu ? parseCpu(cpu) : undefined,
    memoryMiB: memory ? parseMemory(memory) : undefined,
    containers,
    volumes: def.volumes ?? [],
    taskRoleArn: o.taskRoleArn ?? def.taskRoleArn,
    executionRoleArn: o.executionRoleArn ?? def.executionRoleArn,
  };
}

/**
 * The launch type a RunTask or CreateService call asks for: its launchType, FARGATE for a
 * FARGATE(_SPOT) capacity provider, otherwise EC2 (AWS's default for a cluster without a default
 * capacity provider strategy).
 */
export function launchTypeOf(input: Pick<RunTaskRequest, "launchType" | "capacityProviderStrategy">): LaunchType {
  if (input.launchType && input.capacityProviderStrategy?.length)
    throw invalid("Specify either a launchType or a capacityProviderStrategy, not both.");
  if (input.launchType === "FARGATE" || input.launchType === "EC2") return input.launchType;
  if (input.launchType) throw invalid(`Launch type ${input.launchType} is not supported by Berth; use FARGATE or EC2.`);
  const providers = input.capacityProviderStrategy ?? [];
  const other = providers.find((s) => s.capacityProvider !== "FARGATE" && s.capacityProvider !== "FARGATE_SPOT");
  if (other)
    throw invalid(
      `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster (${other.capacityProvider}). Berth has FARGATE and FARGATE_SPOT.`,
    );
  return providers.length > 0 ? "FARGATE" : "EC2";
}

/** Checks that a task definition can launch as asked (compatibility, awsvpc configuration, Fargate sizes); returns its spec. */
export function checkLaunch(def: TaskDefinitionRecord, input: RunTaskRequest, launchType: LaunchType): TaskSpec {
  if (!def.compatibilities?.includes(launchType))
    throw new ServiceError(
      "ClientException",
      `Task definition ${def.family}:${def.revision} does not support launch_type ${launchType}.`,
    );
  if (def.networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (def.networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration?.subnets?.length)
    throw invalid("subnets can not be empty: give at least one subnet id in awsvpcConfiguration.");
  const spec = taskSpec(def, input);
  if (
    launchType === "FARGATE" &&
    spec.cpuUnits !== undefined &&
    spec.memoryMiB !== undefined &&
    !isValidFargateSize(spec.cpuUnits, spec.memoryMiB)
  )
    throw new ServiceError(
      "ClientException",
      `No Fargate configuration exists for given values: ${spec.cpuUnits} CPU, ${spec.memoryMiB} memory. See the Amazon ECS documentation for the valid values.`,
    );
  return spec;
}

/** A new PROVISIONING task record (RunTask and the service scheduler both launch through it). */
export function newTask(
  scope: Scope,
  cluster: ClusterRecord,
  def: TaskDefinitionRecord,
  spec: TaskSpec,
  input: RunTaskRequest,
  now: Date,
  placement: { launchType: LaunchType; containerInstanceArn?: string; ec2InstanceId?: string } = {
    launchType: "FARGATE",
  },
): TaskRecord {
  const id = hexId();
  const fargate = placement.launchType === "FARGATE";
  const taskArn = arn("ecs", scope, `task/${cluster.clusterName}/${id}`);
  const subnets = input.networkConfiguration?.awsvpcConfiguration?.subnets ?? [];
  const containers: Container[] = spec.containers.map((c) => ({
    containerArn: arn("ecs", scope, `container/${cluster.clusterName}/${id}/${uuid()}`),
    taskArn,
    name: c.name,
    image: c.image,
    lastStatus: "PENDING",
    networkBindings: [],
    networkInterfaces: [],
    healthStatus: c.healthCheck ? "UNKNOWN" : undefined,
    cpu: String(c.cpu ?? 0),
    memory: c.memory !== undefined ? String(c.memory) : undefined,
    memoryReservation: c.memoryReservation !== undefined ? String(c.memoryReservation) : undefined,
  }));
  return {
    taskArn,
    clusterArn: cluster.clusterArn,
    taskDefinitionArn: def.taskDefinitionArn,
    lastStatus: "PROVISIONING",
    desiredStatus: "RUNNING",
    launchType: placement.launchType,
    containerInstanceArn: placement.containerInstanceArn,
    ec2InstanceId: placement.ec2InstanceId,
    platformVersion: fargate
      ? input.platformVersion && input.platformVersion !== "LATEST"
        ? input.platformVersion
        : "1.4.0"
      : undefined,
    platformFamily: fargate ? "Linux" : undefined,
    availabilityZone: `${scope.region}a`,
    cpu: spec.cpuUnits !== undefined ? String(spec.cpuUnits) : undefined,
    memory: spec.memoryMiB !== undefined ? String(spec.memoryMiB) : undefined,
    containers,
    overrides: {
      containerOverrides: input.overrides?.containerOverrides ?? [],
      inferenceAcceleratorOverrides: [],
      ...input.overrides,
    },
    attachments:
      spec.networkMode === "awsvpc"
        ? [
            {
              id: uuid(),
              type: "ElasticNetworkInterface",
              status: "PRECREATED",
              details: [{ name: "subnetId", value: subnets[0] }],
            },
          ]
        : [],
    group: input.group ?? `family:${def.family}`,
    startedBy: input.startedBy,
    tags: input.tags ?? [],
    enableExecuteCommand: input.enableExecuteCommand ?? false,
    healthStatus: "UNKNOWN",
    createdAt: now,
    version: 1,
    ephemeralStorage: { sizeInGiB: 20 },
    spec,
  };
}

/** Whether a task's instance ARN is the one a request names (by ARN or id). */
const sameInstance = (taskInstance: string | undefined, ref: string) =>
  taskInstance !== undefined && (taskInstance === ref || taskInstance.split("/").pop() === ref);

/** A task's public view: the stored record minus nothing (the serializer drops non-shape members). */
const view = (t: TaskRecord): Task => t;

/**
 * Creates `count` tasks of a definition as RunTask and the service scheduler launch them: on
 * Fargate, or placed on the cluster's container instances (EC2), with AWS's failures for those
 * that do not fit. Checks first, so bad input writes nothing.
 */
export function launchTasks(
  ecs: EcsContext,
  scope: Scope,
  cluster: ClusterRecord,
  def: TaskDefinitionRecord,
  input: RunTaskRequest,
  count: number,
): { tasks: TaskRecord[]; failures: Failure[] } {
  const launchType = launchTypeOf(input);
  const spec = checkLaunch(def, input, launchType);
  const now = ecs.clock.now();
  return ecs.store.transaction(() => {
    if (launchType === "FARGATE") {
      const tasks = Array.from({ length: count }, () =>
        ecs.tasks.put(scope, newTask(scope, cluster, def, spec, input, now)),
      );
      return { tasks, failures: [] };
    }
    const instances = ecs.ec2Instances(scope, cluster);
    if (instances.length === 0)
      return {
        tasks: [],
        failures: Array.from({ length: count }, () => ({
          arn: cluster.clusterArn,
          reason: "No Container Instances were found in your cluster.",
        })),
      };
    const all = ecs.tasks.children(scope, cluster.clusterArn);
    const result = placeTasks(
      instances.map((i) => instanceRoom(i, all)),
      taskNeeds(spec),
      count,
      { strategy: input.placementStrategy, constraints: input.placementConstraints },
    );
    const tasks = result.placed.map((containerInstanceArn) => {
      const ec2InstanceId = instances.find((i) => i.containerInstanceArn === containerInstanceArn)?.ec2InstanceId;
      const placement = { launchType, containerInstanceArn, ec2InstanceId };
      return ecs.tasks.put(scope, newTask(scope, cluster, def, spec, input, now, placement));
    });
    return { tasks, failures: result.failures };
  });
}

export function taskOperations(ecs: EcsContext): Provider<Operations> {
  /** The ACTIVE definition a launch names; startedBy checked too. */
  const activeDefinition = (scope: Scope, input: { taskDefinition: string; startedBy?: string }) => {
    const def = ecs.taskDefinition(scope, input.taskDefinition);
    if (def.status !== "ACTIVE")
      throw new ServiceError(
        "ClientException",
        `TaskDefinition ${def.family}:${def.revision} is ${def.status}; register a new revision or use an ACTIVE one.`,
      );
    if (input.startedBy && input.startedBy.length > 128) throw invalid("startedBy can be at most 128 characters.");
    return def;
  };

  return {
    RunTask: (input, ctx) => {
      const count = input.count ?? 1;
      if (count < 1 || count > 10) throw invalid(`count must be between 1 and 10; got ${count}.`);
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const def = activeDefinition(ctx, input);
      const { tasks, failures } = launchTasks(ecs, ctx, cluster, def, input, count);
      return { tasks: tasks.map(view), failures };
    },

    // One task on each named container instance (EC2), with AWS's failure when it does not fit.
    StartTask: (input, ctx) => {
      const refs = input.containerInstances ?? [];
      if (refs.length < 1 || refs.length > 10)
        throw invalid(`containerInstances must name 1 to 10 container instances; got ${refs.length}.`);
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const def = activeDefinition(ctx, input);
      const spec = checkLaunch(def, input, "EC2");
      const needs = taskNeeds(spec);
      const now = ecs.clock.now();
      return ecs.store.transaction(() => {
        const tasks: Task[] = [];
        const failures: Failure[] = [];
        for (const ref of refs) {
          const instance = ecs.containerInstance(ctx, cluster, ref);
          if (instance?.status !== "ACTIVE") {
            failures.push({ arn: ref, reason: "MISSING" });
            continue;
          }
          const why = misfit(instanceRoom(instance, ecs.tasks.children(ctx, cluster.clusterArn)), needs);
          if (why) {
            failures.push({ arn: instance.containerInstanceArn, reason: why });
            continue;
          }
          const placement = {
            launchType: "EC2" as const,
            containerInstanceArn: instance.containerInstanceArn,
            ec2InstanceId: instance.ec2InstanceId,
          };
          tasks.push(view(ecs.tasks.put(ctx, newTask(ctx, cluster, def, spec, input, now, placement))));
        }
        return { tasks, failures };
      });
    },

    StopTask: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const task = ecs.findTask(ctx, cluster, input.task);
      if (!task)
        throw invalid(`The referenced task was not found: '${input.task}' in cluster '${cluster.clusterName}'.`);
      if (task.desiredStatus === "STOPPED") return { task: view(task) };
      const updated = stopping(task, "UserInitiated", input.reason ?? "Task stopped by user", ecs.clock.now());
      ecs.tasks.put(ctx, updated);
      return { task: view(updated) };
    },

    DescribeTasks: (input, ctx) => {
      if (input.tasks.length > 100) throw invalid("You can describe up to 100 tasks per request.");
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const tasks: Task[] = [];
      const failures: Failure[] = [];
      for (const ref of input.tasks) {
        const t = ecs.findTask(ctx, cluster, ref);
        if (t) tasks.push({ ...view(t), tags: input.include?.includes("TAGS") ? t.tags : undefined });
        else failures.push({ arn: ref, reason: "MISSING" });
      }
      return { tasks, failures };
    },

    ListTasks: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const desired = input.desiredStatus ?? "RUNNING";
      const family = input.family;
      const matching = ecs.tasks.children(ctx, cluster.clusterArn).filter((t) => {
        // ECS lists tasks whose desired status is RUNNING also while PENDING.
        if (desired === "STOPPED" ? t.desiredStatus !== "STOPPED" : t.desiredStatus === "STOPPED") return false;
        if (family && t.spec.family !== family) return false;
        if (input.startedBy && t.startedBy !== input.startedBy) return false;
        if (input.launchType && t.launchType !== input.launchType) return false;
        if (input.serviceName && t.group !== `service:${input.serviceName}`) return false;
        if (input.containerInstance && !sameInstance(t.containerInstanceArn, input.containerInstance)) return false;
        return true;
      });
      const { page, nextToken } = pageByKey(matching, (t) => [t.createdAt.getTime(), t.taskArn], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 100 }),
      });
      return { taskArns: page.map((t) => t.taskArn), nextToken };
    },
  };
}
