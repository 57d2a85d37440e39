import type { ContainerDefinition } from "../../protocol/generated/types/ecs.js";
import type { ContainerSpec, NetworkAttachment } from "../../runtime/runtime.js";
import type { TaskRecord } from "../../store/schema/ecs.js";
import { LABEL } from "../../runtime/labels.js";
import { type EfsMounts, efsIdentity, efsSource } from "./efs-mounts.js";

/** Name the namespace-holding container carries in its berth.container label. */
export const PAUSE = "~pause";

export interface Placement {
  instanceLabels: Record<string, string>;
  publishHost: string;
  network: string;
}

export const taskId = (taskArn: string) => taskArn.split("/").pop()!;

const namespaceHostname = (task: TaskRecord) => `ip-${taskId(task.taskArn).slice(0, 12)}`;

const dockerName = (task: TaskRecord, container: string) =>
  `ecs-${task.spec.family}-${task.spec.revision}-${container}-${taskId(task.taskArn)}`.replace(/[^a-zA-Z0-9_.-]/g, "-");

export function taskLabels(
  task: TaskRecord,
  scope: { account: string; region: string },
  p: Placement,
  container: string,
) {
  return {
    ...p.instanceLabels,
    [LABEL.taskArn]: task.taskArn,
    [LABEL.account]: scope.account,
    [LABEL.region]: scope.region,
    [LABEL.container]: container,
    "com.amazonaws.ecs.task-arn": task.taskArn,
    "com.amazonaws.ecs.cluster": task.clusterArn.split("/").pop()!,
    "com.amazonaws.ecs.task-definition-family": task.spec.family,
    "com.amazonaws.ecs.task-definition-version": String(task.spec.revision),
    "com.amazonaws.ecs.container-name": container,
  };
}

/** The namespace holder of an awsvpc task: owns the network and publishes every task port. */
export function pauseSpec(
  task: TaskRecord,
  scope: { account: string; region: string },
  p: Placement,
  image: string,
): ContainerSpec {
  return {
    name: dockerName(task, "internalecspause"),
    image,
    env: {},
    labels: taskLabels(task, scope, p, PAUSE),
    ports: task.spec.containers.flatMap((c) =>
      (c.portMappings ?? [])
        .filter((m) => m.containerPort !== undefined)
        .map((m) => ({ containerPort: m.containerPort!, protocol: m.protocol ?? "tcp" })),
    ),
    publishHost: p.publishHost,
    network: { kind: "network", name: p.network },
    hostname: namespaceHostname(task),
    ulimits: [],
    readonlyRootFilesystem: true,
    mounts: [],
    init: false,
    privileged: false,
    extraHosts: [],
    dns: [],
  };
}

/** Volume name for a task-scoped volume (a task definition volume with no host source path). */
export const taskVolumeName = (task: TaskRecord, volume: string) =>
  `berth-${taskId(task.taskArn)}-${volume}`.replace(/[^a-zA-Z0-9_.-]/g, "-");

/** One container definition → what the runtime creates. Pure. */
export function containerSpec(
  task: TaskRecord,
  def: ContainerDefinition,
  scope: { account: string; region: string },
  p: Placement,
  pauseId: string | undefined,
  /** From identity: `defaults` the definition's environment may override, `overrides` it may not. */
  extraEnv: { defaults?: Record<string, string>; overrides?: Record<string, string> } = {},
  /** The task's prepared EFS volumes (EfsVolumes.prepare), by volume name. */
  efs: EfsMounts = new Map(),
): ContainerSpec {
  const mode = task.spec.networkMode;
  // A one-container awsvpc task holds its own namespace and publishes its own ports.
  const solo = mode === "awsvpc" && !pauseId;
  const aliases = p.network === "bridge" ? undefined : [def.name!];
  const network: NetworkAttachment =
    mode === "awsvpc"
      ? solo
        ? { kind: "network", name: p.network }
        : { kind: "container", id: pauseId! }
      : mode === "host"
        ? { kind: "host" }
        : mode === "none"
          ? { kind: "none" }
          : { kind: "network", name: p.network, aliases };
  const env: Record<string, string> = {
    AWS_REGION: scope.region,
    AWS_DEFAULT_REGION: scope.region,
    AWS_EXECUTION_ENV: task.launchType === "EC2" ? "AWS_ECS_EC2" : "AWS_ECS_FARGATE",
    ...extraEnv.defaults,
  };
  for (const e of def.environment ?? []) if (e.name) env[e.name] = e.value ?? "";
  Object.assign(env, extraEnv.overrides);
  const volumes = new Map((task.spec.volumes ?? []).map((v) => [v.name, v]));
  const mounts = (def.mountPoints ?? []).map((m) => {
    const v = volumes.get(m.sourceVolume)!;
    if (v?.efsVolumeConfiguration) {
      const mount = efs.get(v.name!);
      if (!mount) throw new Error(`EFS volume '${v.name}' was not prepared before its container`);
      return {
        type: "bind" as const,
        source: efsSource(def, mount),
        target: m.containerPath!,
        readOnly: (m.readOnly ?? false) || mount.readOnly,
      };
    }
    const hostPath = v?.host?.sourcePath;
    const named = v?.dockerVolumeConfiguration ? v.name! : undefined;
    return {
      type: hostPath ? ("bind" as const) : ("volume" as const),
      source: hostPath ?? named ?? taskVolumeName(task, m.sourceVolume!),
      target: m.containerPath!,
      readOnly: m.readOnly ?? false,
    };
  });
  const hc = def.healthCheck;
  const identity = efsIdentity(def, task, efs);
  // A task-level size caps each container that sets none of its own (Docker has no pod cgroup here).
  const memoryMiB = def.memory ?? (def.memoryReservation ? undefined : task.spec.memoryMiB);
  return {
    name: dockerName(task, def.name!),
    image: def.image!,
    command: def.command,
    entryPoint: def.entryPoint,
    env,
    workingDir: def.workingDirectory,
    user: identity.user,
    ...(identity.groups ? { groupAdd: identity.groups } : {}),
    labels: { ...(def.dockerLabels ?? {}), ...taskLabels(task, scope, p, def.name!) },
    ports:
      mode === "bridge" || solo
        ? (def.portMappings ?? [])
            .filter((m) => m.containerPort !== undefined)
            .map((m) => ({
              containerPort: m.containerPort!,
              hostPort: solo ? undefined : m.hostPort,
              protocol: m.protocol ?? "tcp",
            }))
        : [],
    publishHost: p.publishHost,
    network,
    hostname: mode === "bridge" ? def.hostname : solo ? namespaceHostname(task) : undefined,
    memoryMiB,
    memoryReservationMiB: def.memoryReservation,
    cpuUnits: def.cpu ? def.cpu : task.spec.containers.length === 1 ? task.spec.cpuUnits : undefined,
    healthCheck: hc?.command?.length
      ? {
          test: hc.command,
          intervalSec: hc.interval ?? 30,
          timeoutSec: hc.timeout ?? 5,
          retries: hc.retries ?? 3,
          startPeriodSec: hc.startPeriod ?? 0,
        }
      : undefined,
    ulimits: (def.ulimits ?? []).map((u) => ({ name: u.name, soft: u.softLimit, hard: u.hardLimit })),
    readonlyRootFilesystem: def.readonlyRootFilesystem ?? false,
    mounts,
    init: def.linuxParameters?.initProcessEnabled ?? false,
    privileged: def.privileged ?? false,
    extraHosts: (def.extraHosts ?? []).map((h) => `${h.hostname}:${h.ipAddress}`),
    dns: def.dnsServers ?? [],
  };
}
