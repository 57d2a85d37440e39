import { createHash } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { ServiceError } from "../../core/errors.js";
import { type Scope, arn } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { ContainerInstance, Failure, Operations, Resource } from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";
import { type InstanceRoom, taskNeeds } from "./placement.js";
import type { ClusterRecord, ContainerInstanceRecord, TaskRecord } from "../../store/schema/ecs.js";

/** CPU units and memory the local Docker host offers to EC2-launch-type tasks. */
export interface HostResources {
  cpuUnits: number;
  memoryMiB: number;
}

export const localHostResources = (): HostResources => ({
  cpuUnits: cpus().length * 1024,
  memoryMiB: Math.floor(totalmem() / 1024 / 1024),
});

/** Ports the ECS agent reserves on every instance (SSH, Docker, the agent's own). */
const RESERVED_PORTS = ["22", "2375", "2376", "51678", "51679"];

const invalid = (message: string) => new ServiceError("InvalidParameterException", message);

/**
 * The container instance that stands for the local Docker host in a cluster. Berth's host joins
 * a cluster the first time the cluster needs EC2 capacity, as an instance with the ECS-optimized
 * AMI would join at boot; DeregisterContainerInstance takes it out for good.
 */
export function localInstance(
  scope: Scope,
  cluster: ClusterRecord,
  host: HostResources,
  now: Date,
): ContainerInstanceRecord {
  const digest = createHash("sha256").update(`${scope.account}/${scope.region}/${cluster.clusterArn}`).digest("hex");
  const id = digest.slice(0, 32);
  return {
    id,
    clusterArn: cluster.clusterArn,
    containerInstanceArn: arn("ecs", scope, `container-instance/${cluster.clusterName}/${id}`),
    ec2InstanceId: `i-${digest.slice(32, 49)}`,
    version: 1,
    versionInfo: { agentVersion: "1.89.0", agentHash: "berth", dockerVersion: "DockerVersion: 20.10.24" },
    status: "ACTIVE",
    agentConnected: true,
    registeredResources: [
      { name: "CPU", type: "INTEGER", integerValue: host.cpuUnits, doubleValue: 0, longValue: 0 },
      { name: "MEMORY", type: "INTEGER", integerValue: host.memoryMiB, doubleValue: 0, longValue: 0 },
      {
        name: "PORTS",
        type: "STRINGSET",
        stringSetValue: RESERVED_PORTS,
        doubleValue: 0,
        longValue: 0,
        integerValue: 0,
      },
      { name: "PORTS_UDP", type: "STRINGSET", stringSetValue: [], doubleValue: 0, longValue: 0, integerValue: 0 },
    ],
    attributes: [
      { name: "ecs.os-type", value: "linux" },
      { name: "ecs.os-family", value: "LINUX" },
      { name: "ecs.cpu-architecture", value: process.arch === "arm64" ? "arm64" : "x86_64" },
      { name: "ecs.availability-zone", value: `${scope.region}a` },
      { name: "ecs.instance-type", value: "berth.local" },
      { name: "ecs.capability.task-eni" },
      { name: "ecs.capability.execution-role-awslogs" },
      { name: "ecs.capability.execution-role-ecr-pull" },
      { name: "ecs.capability.secrets.ssm.environment-variables" },
      { name: "ecs.capability.secrets.asm.environment-variables" },
      { name: "ecs.capability.container-health-check" },
      { name: "ecs.capability.container-ordering" },
      { name: "com.amazonaws.ecs.capability.task-iam-role" },
      { name: "com.amazonaws.ecs.capability.logging-driver.awslogs" },
      { name: "com.amazonaws.ecs.capability.docker-remote-api.1.41" },
    ],
    registeredAt: now,
    attachments: [],
    tags: [],
  };
}

const live = (t: TaskRecord) => t.lastStatus !== "STOPPED";

/** What an instance has left, from its registered resources and the tasks placed on it. */
export function instanceRoom(instance: ContainerInstanceRecord, tasks: TaskRecord[]): InstanceRoom {
  const mine = tasks.filter((t) => t.containerInstanceArn === instance.containerInstanceArn && live(t));
  const reg = (name: string) => instance.registeredResources?.find((r) => r.name === name);
  const ports = new Set<string>([
    ...(reg("PORTS")?.stringSetValue ?? []).map((p) => `tcp:${p}`),
    ...(reg("PORTS_UDP")?.stringSetValue ?? []).map((p) => `udp:${p}`),
  ]);
  let cpu = reg("CPU")?.integerValue ?? 0;
  let memory = reg("MEMORY")?.integerValue ?? 0;
  for (const t of mine) {
    const needs = taskNeeds(t.spec);
    cpu -= needs.cpu;
    memory -= needs.memory;
    for (const p of needs.ports) ports.add(p);
  }
  return { arn: instance.containerInstanceArn, cpu, memory, ports, tasks: mine.length };
}

/** The instance as DescribeContainerInstances shows it: remaining resources and task counts now. */
export function instanceView(instance: ContainerInstanceRecord, tasks: TaskRecord[]): ContainerInstance {
  const room = instanceRoom(instance, tasks);
  const mine = tasks.filter((t) => t.containerInstanceArn === instance.containerInstanceArn && live(t));
  const ports = (proto: string) =>
    [...room.ports].filter((p) => p.startsWith(`${proto}:`)).map((p) => p.slice(proto.length + 1));
  const remaining: Resource[] = [
    { name: "CPU", type: "INTEGER", integerValue: room.cpu, doubleValue: 0, longValue: 0 },
    { name: "MEMORY", type: "INTEGER", integerValue: room.memory, doubleValue: 0, longValue: 0 },
    { name: "PORTS", type: "STRINGSET", stringSetValue: ports("tcp"), doubleValue: 0, longValue: 0, integerValue: 0 },
    {
      name: "PORTS_UDP",
      type: "STRINGSET",
      stringSetValue: ports("udp"),
      doubleValue: 0,
      longValue: 0,
      integerValue: 0,
    },
  ];
  const { id: _id, clusterArn: _c, ...shape } = instance;
  return {
    ...shape,
    remainingResources: remaining,
    runningTasksCount: mine.filter((t) => t.lastStatus === "RUNNING").length,
    pendingTasksCount: mine.filter((t) => t.lastStatus !== "RUNNING").length,
  };
}

export function containerInstanceOperations(ecs: EcsContext): Provider<Operations> {
  const find = (scope: Scope, cluster: ClusterRecord, ref: string) => ecs.containerInstance(scope, cluster, ref);
  return {
    ListContainerInstances: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      if (input.filter) throw invalid("The cluster query language (filter) is not implemented in Berth.");
      const status = input.status ?? "ACTIVE";
      const all = ecs.containerInstances.children(ctx, cluster.clusterArn).filter((i) => i.status === status);
      const { page, nextToken } = pageByKey(all, (i) => [i.registeredAt?.getTime() ?? 0, i.id], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 100 }),
      });
      return { containerInstanceArns: page.map((i) => i.containerInstanceArn), nextToken };
    },

    DescribeContainerInstances: (input, ctx) => {
      if (input.containerInstances.length > 100)
        throw invalid("You can describe up to 100 container instances per request.");
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const tasks = ecs.tasks.children(ctx, cluster.clusterArn);
      const containerInstances: ContainerInstance[] = [];
      const failures: Failure[] = [];
      for (const ref of input.containerInstances) {
        const found = find(ctx, cluster, ref);
        if (found)
          containerInstances.push({
            ...instanceView(found, tasks),
            tags: input.include?.includes("TAGS") ? found.tags : undefined,
          });
        else failures.push({ arn: ref, reason: "MISSING" });
      }
      return { containerInstances, failures };
    },

    DeregisterContainerInstance: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const found = find(ctx, cluster, input.containerInstance);
      if (!found || found.status === "INACTIVE")
        throw invalid(`The referenced container instance was not found: '${input.containerInstance}'.`);
      const tasks = ecs.tasks.children(ctx, cluster.clusterArn);
      const running = tasks.filter((t) => t.containerInstanceArn === found.containerInstanceArn && live(t));
      if (running.length > 0 && !input.force)
        throw invalid(
          `Found running tasks on the instance (${running.length}). Stop them, or pass force to deregister the instance anyway (its tasks keep running).`,
        );
      const view = instanceView(found, tasks);
      const updated: ContainerInstanceRecord = { ...found, status: "INACTIVE", agentConnected: false };
      ecs.containerInstances.put(ctx, updated);
      return { containerInstance: { ...view, status: "INACTIVE", agentConnected: false } };
    },
  };
}
