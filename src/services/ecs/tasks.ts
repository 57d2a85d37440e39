import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
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
import { type PlacementPlan, planOnHosts, planPlacement, revalidate } from "../../scheduler/plan.js";
import { taskNeeds } from "../../scheduler/reservation.js";
import type { HostRoom } from "../../scheduler/room.js";
import { instanceRoom } from "./container-instances.js";
import { pickProviders, resolveLaunch } from "./capacity-providers.js";
import type { EcsContext } from "./context.js";
import {
  type ClusterRecord,
  type ContainerInstanceRecord,
  type LaunchType,
  type TaskDefinitionRecord,
  type TaskRecord,
  type TaskSpec,
  stopping,
} from "../../store/schema/ecs.js";
import { isValidFargateSize, parseCpu, parseMemory } from "./sizes.js";

const invalid = (message: string) => ecsErrors.InvalidParameterException(message);

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

/** Checks that a task definition can launch as asked (compatibility, awsvpc configuration, Fargate sizes); returns its spec. */
export function checkLaunch(def: TaskDefinitionRecord, input: RunTaskRequest, launchType: LaunchType): TaskSpec {
  if (!def.compatibilities?.includes(launchType))
    throw ecsErrors.ClientException(
      `Task definition ${def.family}:${def.revision} does not support launch_type ${launchType}.`,
    );
  if (def.networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (def.networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration?.subnets?.length)
    throw invalid("subnets can not be empty: give at least one subnet id in awsvpcConfiguration.");
  if (launchType === "FARGATE") checkPlatformVersion(def, input.platformVersion);
  const spec = taskSpec(def, input);
  if (
    launchType === "FARGATE" &&
    spec.cpuUnits !== undefined &&
    spec.memoryMiB !== undefined &&
    !isValidFargateSize(spec.cpuUnits, spec.memoryMiB)
  )
    throw ecsErrors.ClientException(
      `No Fargate configuration exists for given values: ${spec.cpuUnits} CPU, ${spec.memoryMiB} memory. See the Amazon ECS documentation for the valid values.`,
    );
  return spec;
}

/** Fargate platform versions there are; EFS volumes need 1.4.0 or later (LATEST is 1.4.0). */
const PLATFORM_VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"];

/** Checks a Fargate platform version: one that exists, and (with EFS volumes) 1.4.0 or LATEST. */
export function checkPlatformVersion(def: Pick<TaskDefinitionRecord, "volumes">, version: string | undefined) {
  if (version === undefined || version === "LATEST") return;
  if (!PLATFORM_VERSIONS.includes(version))
    throw ecsErrors.PlatformUnknownException("The specified platform does not exist.");
  if (version < "1.4.0" && def.volumes?.some((v) => v.efsVolumeConfiguration))
    throw ecsErrors.PlatformTaskDefinitionIncompatibilityException(
      "One or more of the requested capabilities are not supported.",
    );
}

/** A new PROVISIONING task record (RunTask and the service scheduler both launch through it). */
export function newTask(
  scope: Scope,
  cluster: ClusterRecord,
  def: TaskDefinitionRecord,
  spec: TaskSpec,
  input: RunTaskRequest,
  now: Date,
  placement: {
    launchType: LaunchType;
    containerInstanceArn?: string;
    ec2InstanceId?: string;
    capacityProviderName?: string;
  } = {
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
    capacityProviderName: placement.capacityProviderName,
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

/** The cluster's ACTIVE container instances and what each has left: the snapshot placement plans from. */
function ec2Snapshot(ecs: EcsContext, scope: Scope, cluster: ClusterRecord) {
  const instances = ecs.ec2Instances(scope, cluster);
  const all = ecs.tasks.children(scope, cluster.clusterArn);
  return { instances, rooms: instances.map((i) => instanceRoom(i, all)) };
}

const noInstances = (cluster: ClusterRecord, count: number): Failure[] =>
  Array.from({ length: count }, () => ({
    arn: cluster.clusterArn,
    reason: "No Container Instances were found in your cluster.",
  }));

/**
 * Creates `count` tasks of a definition as RunTask and the service scheduler launch them: on
 * Fargate, or placed on the cluster's container instances (EC2), with AWS's failures for those
 * that do not fit. Checks first, so bad input writes nothing. Placement is planned from a snapshot
 * outside the write transaction; inside it the plan is re-validated against the instances as they
 * are then, and planned again from that state if some instance no longer fits.
 */
export function launchTasks(
  ecs: EcsContext,
  scope: Scope,
  cluster: ClusterRecord,
  def: TaskDefinitionRecord,
  input: RunTaskRequest,
  count: number,
): { tasks: TaskRecord[]; failures: Failure[] } {
  const { launchType, strategy } = resolveLaunch(input, cluster);
  const spec = checkLaunch(def, input, launchType);
  const now = ecs.clock.now();
  if (launchType === "FARGATE")
    return ecs.store.transaction(() => {
      // Through capacity providers, each task gets one; a service's spread counts its running tasks.
      const running: Record<string, number> = {};
      if (strategy && input.group)
        for (const t of ecs.tasks.children(scope, cluster.clusterArn))
          if (t.group === input.group && t.desiredStatus !== "STOPPED" && t.capacityProviderName)
            running[t.capacityProviderName] = (running[t.capacityProviderName] ?? 0) + 1;
      const providers = strategy ? pickProviders(strategy, count, running) : [];
      const tasks = Array.from({ length: count }, (_, i) =>
        ecs.tasks.put(
          scope,
          newTask(scope, cluster, def, spec, input, now, { launchType, capacityProviderName: providers[i] }),
        ),
      );
      return { tasks, failures: [] };
    });
  const needs = taskNeeds(spec);
  const opts = { strategy: input.placementStrategy, placementConstraints: input.placementConstraints };
  const planned = (rooms: HostRoom[]) => planPlacement(rooms, needs, count, opts);
  const snapshot = ec2Snapshot(ecs, scope, cluster);
  const draft = snapshot.instances.length > 0 ? planned(snapshot.rooms) : undefined;
  return ecs.store.transaction(() => {
    const current = ec2Snapshot(ecs, scope, cluster);
    if (current.instances.length === 0) return { tasks: [], failures: noInstances(cluster, count) };
    // A complete draft that still fits stands; otherwise plan again from the state as it is now.
    const stands = draft?.failures.length === 0 && !revalidate(draft, current.rooms, needs, opts.placementConstraints);
    const plan = stands && draft ? draft : planned(current.rooms);
    const tasks = plan.placements.map(({ hostId }) => {
      const ec2InstanceId = current.instances.find((i) => i.containerInstanceArn === hostId)?.ec2InstanceId;
      const placement = { launchType, containerInstanceArn: hostId, ec2InstanceId };
      return ecs.tasks.put(scope, newTask(scope, cluster, def, spec, input, now, placement));
    });
    return { tasks, failures: plan.failures.map((f) => ({ arn: f.hostId, reason: f.reason })) };
  });
}

/** StartTask's answer in the order the instances were named: a task, MISSING, or why it did not fit. */
function startOutcome(
  refs: string[],
  named: (ContainerInstanceRecord | undefined)[],
  plan: PlacementPlan,
  start: (instance: ContainerInstanceRecord) => Task,
): { tasks: Task[]; failures: Failure[] } {
  const tasks: Task[] = [];
  const failures: Failure[] = [];
  let taskIndex = 0;
  refs.forEach((ref, i) => {
    const instance = named[i];
    if (!instance) {
      failures.push({ arn: ref, reason: "MISSING" });
      return;
    }
    const refused = plan.failures.find((f) => f.taskIndex === taskIndex);
    taskIndex += 1;
    if (refused) failures.push({ arn: instance.containerInstanceArn, reason: refused.reason });
    else tasks.push(start(instance));
  });
  return { tasks, failures };
}

export function taskOperations(ecs: EcsContext): Provider<Operations> {
  /** The ACTIVE definition a launch names; startedBy checked too. */
  const activeDefinition = (scope: Scope, input: { taskDefinition: string; startedBy?: string }) => {
    const def = ecs.taskDefinition(scope, input.taskDefinition);
    if (def.status !== "ACTIVE")
      throw ecsErrors.ClientException(
        `TaskDefinition ${def.family}:${def.revision} is ${def.status}; register a new revision or use an ACTIVE one.`,
      );
    if (input.startedBy && input.startedBy.length > 128) throw invalid("startedBy can be at most 128 characters.");
    return def;
  };

  return {
    RunTask: (input, ctx) => {
      const count = input.count ?? 1;
      if (count < 1 || count > 10) throw invalid(`count must be between 1 and 10; got ${count}.`);
      checkTaskGroup(input.group);
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
      // The named instances that can take tasks, and what each has left.
      const resolve = () => {
        const all = ecs.tasks.children(ctx, cluster.clusterArn);
        const named = refs.map((ref) => {
          const instance = ecs.containerInstance(ctx, cluster, ref);
          return instance?.status === "ACTIVE" ? instance : undefined;
        });
        const found = named.filter((i) => i !== undefined);
        const rooms = [...new Map(found.map((i) => [i.containerInstanceArn, instanceRoom(i, all)])).values()];
        return { named, rooms, hostIds: found.map((i) => i.containerInstanceArn) };
      };
      const snapshot = resolve();
      const draft = planOnHosts(snapshot.rooms, needs, snapshot.hostIds);
      return ecs.store.transaction(() => {
        const { named, rooms, hostIds } = resolve();
        // The draft stands if the same instances resolve and every task still fits; else plan again now.
        const stands =
          hostIds.join() === snapshot.hostIds.join() && draft.failures.length === 0 && !revalidate(draft, rooms, needs);
        const plan = stands ? draft : planOnHosts(rooms, needs, hostIds);
        return startOutcome(refs, named, plan, (instance) => {
          const placement = {
            launchType: "EC2" as const,
            containerInstanceArn: instance.containerInstanceArn,
            ec2InstanceId: instance.ec2InstanceId,
          };
          return view(ecs.tasks.put(ctx, newTask(ctx, cluster, def, spec, input, now, placement)));
        });
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

/** A task group: up to 255 characters (ECS refuses longer ones rather than storing them). */
export function checkTaskGroup(group: string | undefined) {
  if (group !== undefined && (group.length === 0 || group.length > 255))
    throw ecsErrors.InvalidParameterException(
      `Invalid group '${group.slice(0, 64)}${group.length > 64 ? "..." : ""}': a task group is 1 to 255 characters.`,
    );
}
