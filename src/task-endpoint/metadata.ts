import { LABEL } from "../controllers/tasks/container-spec.js";
import type { Scope } from "../core/ids.js";
import type { ContainerStats, ObservedContainer } from "../runtime/runtime.js";
import type { TaskRecord } from "../store/schema/ecs.js";

/**
 * Task metadata endpoint v3/v4 documents (what the ECS agent serves at
 * ECS_CONTAINER_METADATA_URI_V4), built from the stored task and the containers Docker reports.
 * Pure.
 */

const BERTH_LABEL = /^berth\./;
const CONTAINER_LABEL = LABEL.container;

export function containerMetadata(
  task: TaskRecord,
  scope: Scope,
  name: string,
  obs: ObservedContainer | undefined,
): Record<string, unknown> {
  const def = task.spec.containers.find((c) => c.name === name);
  const stored = task.containers?.find((c) => c.name === name);
  const log = def?.logConfiguration;
  const labels = Object.fromEntries(Object.entries(obs?.labels ?? {}).filter(([k]) => !BERTH_LABEL.test(k)));
  const health = obs?.health;
  return {
    DockerId: obs?.id ?? "",
    Name: name,
    DockerName: obs?.name.replace(/^\//, "") ?? "",
    Image: def?.image ?? stored?.image ?? "",
    ImageID: obs?.imageId ?? stored?.imageDigest ?? "",
    Labels: labels,
    DesiredStatus: task.desiredStatus,
    KnownStatus: stored?.lastStatus ?? (obs?.state === "running" ? "RUNNING" : "PENDING"),
    ExitCode: stored?.exitCode ?? obs?.exitCode,
    Limits: { CPU: def?.cpu ?? 0, Memory: def?.memory ?? task.spec.memoryMiB ?? 0 },
    CreatedAt: obs?.startedAt?.toISOString(),
    StartedAt: obs?.startedAt?.toISOString(),
    FinishedAt: obs?.finishedAt?.toISOString(),
    Type: "NORMAL",
    Health: health
      ? { status: health === "healthy" ? "HEALTHY" : health === "unhealthy" ? "UNHEALTHY" : "UNKNOWN" }
      : undefined,
    LogDriver: log?.logDriver,
    LogOptions: log?.options,
    ContainerARN: stored?.containerArn,
    Networks: [
      {
        NetworkMode: task.spec.networkMode,
        IPv4Addresses: obs?.ipAddress ? [obs.ipAddress] : [],
        ...(task.spec.networkMode === "awsvpc"
          ? {
              AttachmentIndex: 0,
              IPv4SubnetCIDRBlock: "172.17.0.0/16",
              PrivateDNSName: `ip-${(obs?.ipAddress ?? "0.0.0.0").replace(/\./g, "-")}.${scope.region}.compute.internal`,
            }
          : {}),
      },
    ],
    Ports: (obs?.ports ?? []).map((p) => ({
      ContainerPort: p.containerPort,
      Protocol: p.protocol,
      HostPort: p.hostPort,
      HostIp: p.hostIp,
    })),
  };
}

export function taskMetadata(
  task: TaskRecord,
  scope: Scope,
  observed: ObservedContainer[],
  withTags: boolean,
  now: Date,
): Record<string, unknown> {
  const byName = new Map(observed.map((o) => [o.labels[CONTAINER_LABEL], o]));
  const service = task.group?.startsWith("service:") ? task.group.slice("service:".length) : undefined;
  return {
    Cluster: task.clusterArn,
    TaskARN: task.taskArn,
    Family: task.spec.family,
    Revision: String(task.spec.revision),
    DesiredStatus: task.desiredStatus,
    KnownStatus: task.lastStatus,
    Limits: {
      CPU: task.spec.cpuUnits !== undefined ? task.spec.cpuUnits / 1024 : undefined,
      Memory: task.spec.memoryMiB,
    },
    PullStartedAt: task.pullStartedAt?.toISOString(),
    PullStoppedAt: task.pullStoppedAt?.toISOString(),
    AvailabilityZone: task.availabilityZone ?? `${scope.region}a`,
    LaunchType: task.launchType ?? "FARGATE",
    ServiceName: service,
    Containers: task.spec.containers.map((c) => containerMetadata(task, scope, c.name!, byName.get(c.name!))),
    ClockDrift: {
      ClockErrorBound: 0.5,
      ReferenceTimestamp: now.toISOString(),
      ClockSynchronizationStatus: "SYNCHRONIZED",
    },
    EphemeralStorageMetrics: { Utilized: 0, Reserved: (task.ephemeralStorage?.sizeInGiB ?? 20) * 1024 },
    ...(withTags
      ? {
          TaskTags: Object.fromEntries((task.tags ?? []).map((t) => [t.key ?? "", t.value ?? ""])),
          ContainerInstanceTags: {},
        }
      : {}),
  };
}

/** A Docker-stats-shaped reading (the fields the agent passes through that Berth's runtime measures). */
export function statsDocument(
  obs: ObservedContainer,
  now: ContainerStats | undefined,
  previous: ContainerStats | undefined,
): Record<string, unknown> | null {
  if (!now) return null;
  const cpu = (s: ContainerStats | undefined) =>
    s
      ? {
          cpu_usage: { total_usage: s.cpuTotalNs },
          online_cpus: s.onlineCpus,
          system_cpu_usage: s.readAt * 1e6 * s.onlineCpus,
        }
      : { cpu_usage: { total_usage: 0 }, online_cpus: now.onlineCpus };
  return {
    read: new Date(now.readAt).toISOString(),
    preread: previous ? new Date(previous.readAt).toISOString() : "0001-01-01T00:00:00Z",
    name: `/${obs.name.replace(/^\//, "")}`,
    id: obs.id,
    num_procs: 0,
    cpu_stats: cpu(now),
    precpu_stats: cpu(previous),
    memory_stats: { usage: now.memoryUsedBytes, limit: now.memoryLimitBytes },
  };
}
