import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import { createHash } from "node:crypto";
import type { Host } from "../../hosts/host.js";
import { LOCAL_HOST_ID } from "../../hosts/local.js";
import { type Scope, arn } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { ContainerInstance, Failure, Operations, Resource } from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";
import { type HostRoom, hostRoom } from "../../scheduler/room.js";
import type { ClusterRecord, ContainerInstanceRecord, TaskRecord } from "../../store/schema/ecs.js";

/** What a container instance record needs to know of its host. */
export type HostFacts = Pick<Host, "id" | "resources" | "reservedPorts" | "platform" | "attributes">;

const invalid = (message: string) => ecsErrors.InvalidParameterException(message);

/**
 * A host's membership in a cluster, as the container instance ECS shows: a view of a host in the
 * registry (src/hosts). A host joins a cluster the first time the cluster needs EC2 capacity, as
 * an instance with the ECS-optimized AMI would join at boot; DeregisterContainerInstance takes it
 * out for good. The local host's id and ARN derive from the cluster alone, as they always have,
 * so existing data dirs keep their instances; other hosts add their own id.
 */
export function hostInstance(
  scope: Scope,
  cluster: ClusterRecord,
  host: HostFacts,
  now: Date,
  placed: { ec2InstanceId?: string; availabilityZone?: string } = {},
): ContainerInstanceRecord {
  const local = host.id === LOCAL_HOST_ID;
  const key = `${scope.account}/${scope.region}/${cluster.clusterArn}${local ? "" : `/${host.id}`}`;
  const digest = createHash("sha256").update(key).digest("hex");
  const id = digest.slice(0, 32);
  return {
    id,
    hostId: host.id,
    clusterArn: cluster.clusterArn,
    containerInstanceArn: arn("ecs", scope, `container-instance/${cluster.clusterName}/${id}`),
    ec2InstanceId: placed.ec2InstanceId ?? `i-${digest.slice(32, 49)}`,
    version: 1,
    versionInfo: { agentVersion: "1.89.0", agentHash: "berth", dockerVersion: "DockerVersion: 20.10.24" },
    status: "ACTIVE",
    agentConnected: true,
    registeredResources: [
      { name: "CPU", type: "INTEGER", integerValue: host.resources.cpuUnits, doubleValue: 0, longValue: 0 },
      { name: "MEMORY", type: "INTEGER", integerValue: host.resources.memoryMiB, doubleValue: 0, longValue: 0 },
      {
        name: "PORTS",
        type: "STRINGSET",
        stringSetValue: host.reservedPorts.tcp,
        doubleValue: 0,
        longValue: 0,
        integerValue: 0,
      },
      {
        name: "PORTS_UDP",
        type: "STRINGSET",
        stringSetValue: host.reservedPorts.udp,
        doubleValue: 0,
        longValue: 0,
        integerValue: 0,
      },
    ],
    attributes: [
      { name: "ecs.os-type", value: host.platform.os },
      { name: "ecs.os-family", value: host.platform.os.toUpperCase() },
      { name: "ecs.cpu-architecture", value: host.platform.arch },
      { name: "ecs.availability-zone", value: placed.availabilityZone ?? `${scope.region}a` },
      { name: "ecs.instance-type", value: host.platform.instanceType },
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
      ...host.attributes,
    ],
    registeredAt: now,
    attachments: [],
    tags: [],
  };
}

const live = (t: TaskRecord) => t.lastStatus !== "STOPPED";

/** What an instance has left, from its registered resources and the tasks placed on it. */
export function instanceRoom(instance: ContainerInstanceRecord, tasks: TaskRecord[]): HostRoom {
  const mine = tasks.filter((t) => t.containerInstanceArn === instance.containerInstanceArn && live(t));
  const reg = (name: string) => instance.registeredResources?.find((r) => r.name === name);
  return hostRoom(
    {
      id: instance.containerInstanceArn,
      cpu: reg("CPU")?.integerValue ?? 0,
      memory: reg("MEMORY")?.integerValue ?? 0,
      reservedPorts: [
        ...(reg("PORTS")?.stringSetValue ?? []).map((p) => `tcp:${p}`),
        ...(reg("PORTS_UDP")?.stringSetValue ?? []).map((p) => `udp:${p}`),
      ],
      attributes: Object.fromEntries((instance.attributes ?? []).map((a) => [a.name, a.value ?? ""])),
    },
    mine.map((t) => t.spec),
  );
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
  const { id: _id, clusterArn: _c, hostId: _h, ...shape } = instance;
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
