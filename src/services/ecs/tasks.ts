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
  TaskStopCode,
} from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../service.js";
import type { EcsContext } from "./context.js";
import type { ClusterRecord, TaskDefinitionRecord, TaskRecord, TaskSpec } from "./records.js";
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

/** Checks that a task definition can launch as asked (FARGATE, awsvpc configuration, sizes); returns its spec. */
export function checkLaunch(def: TaskDefinitionRecord, input: RunTaskRequest): TaskSpec {
  if (!def.compatibilities?.includes("FARGATE"))
    throw new ServiceError(
      "ClientException",
      `Task definition ${def.family}:${def.revision} does not support launch_type FARGATE.`,
    );
  if (def.networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (def.networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration?.subnets?.length)
    throw invalid("subnets can not be empty: give at least one subnet id in awsvpcConfiguration.");
  const spec = taskSpec(def, input);
  if (spec.cpuUnits !== undefined && spec.memoryMiB !== undefined && !isValidFargateSize(spec.cpuUnits, spec.memoryMiB))
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
): TaskRecord {
  const id = hexId();
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
    launchType: "FARGATE",
    platformVersion: input.platformVersion && input.platformVersion !== "LATEST" ? input.platformVersion : "1.4.0",
    platformFamily: "Linux",
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

/** The task asked to stop with a stop code and reason (StopTask, the service scheduler). */
export function stopping(task: TaskRecord, stopCode: TaskStopCode, reason: string, now: Date): TaskRecord {
  if (task.desiredStatus === "STOPPED") return task;
  return {
    ...task,
    desiredStatus: "STOPPED",
    stopCode,
    stoppedReason: reason,
    stoppingAt: now,
    version: (task.version ?? 1) + 1,
  };
}

/** A task's public view: the stored record minus nothing (the serializer drops non-shape members). */
const view = (t: TaskRecord): Task => t;

export function taskOperations(ecs: EcsContext): Provider<Operations> {
  const launchFailure = (input: RunTaskRequest, cluster: ClusterRecord): Failure | undefined => {
    const fargate =
      input.launchType === "FARGATE" ||
      input.capacityProviderStrategy?.some(
        (s) => s.capacityProvider === "FARGATE" || s.capacityProvider === "FARGATE_SPOT",
      );
    if (fargate) return undefined;
    return { arn: cluster.clusterArn, reason: "No Container Instances were found in your cluster." };
  };

  return {
    RunTask: (input, ctx) => {
      const count = input.count ?? 1;
      if (count < 1 || count > 10) throw invalid(`count must be between 1 and 10; got ${count}.`);
      if (input.launchType && input.capacityProviderStrategy?.length)
        throw invalid("Specify either a launchType or a capacityProviderStrategy, not both.");
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const def = ecs.taskDefinition(ctx, input.taskDefinition);
      if (def.status !== "ACTIVE")
        throw new ServiceError(
          "ClientException",
          `TaskDefinition ${def.family}:${def.revision} is ${def.status}; register a new revision or use an ACTIVE one.`,
        );
      const failure = launchFailure(input, cluster);
      if (failure) return { tasks: [], failures: Array.from({ length: count }, () => failure) };
      const spec = checkLaunch(def, input);
      if (input.startedBy && input.startedBy.length > 128) throw invalid("startedBy can be at most 128 characters.");
      const now = ecs.clock.now();
      const tasks: TaskRecord[] = [];
      ecs.store.transaction(() => {
        for (let i = 0; i < count; i++) tasks.push(ecs.tasks.put(ctx, newTask(ctx, cluster, def, spec, input, now)));
      });
      return { tasks: tasks.map(view), failures: [] };
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
        if (input.containerInstance) return false;
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
