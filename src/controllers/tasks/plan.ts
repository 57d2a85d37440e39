import type { Container, ContainerDefinition, TaskStopCode } from "../../protocol/generated/types/ecs.js";
import { type ObservedContainer, isDown, isUp } from "../../runtime/runtime.js";
import type { TaskRecord } from "../../store/schema/ecs.js";

/** What Docker says about one task: its namespace holder and its containers by definition name. */
export interface ObservedTask {
  pause?: ObservedContainer;
  containers: Map<string, ObservedContainer>;
}

export type Action =
  | { type: "createPause" }
  /** Pull if missing, prepare logging, create and start. */
  | { type: "runContainer"; name: string }
  | { type: "startContainer"; name: string; id: string }
  | { type: "stopContainer"; name: string; id: string; timeoutSec: number }
  /** Remove every container, the namespace holder and task-scoped volumes. */
  | { type: "cleanup" };

export interface Plan {
  /** The task record as it should be stored now; undefined when unchanged. */
  next?: TaskRecord;
  actions: Action[];
}

type Draft = { next?: TaskRecord; actions?: Action[] };

/**
 * awsvpc tasks with several containers share a namespace held by a pause container; a task with
 * one container holds its own namespace (one container fewer to start, same network behaviour).
 */
export const needsPause = (spec: TaskRecord["spec"]) => spec.networkMode === "awsvpc" && spec.containers.length > 1;

/** The container whose network namespace (address, published ports) the task uses. */
export function namespaceHolder(task: TaskRecord, obs: ObservedTask): ObservedContainer | undefined {
  if (task.spec.networkMode !== "awsvpc") return undefined;
  return needsPause(task.spec) ? obs.pause : obs.containers.get(task.spec.containers[0].name!);
}

const DEFAULT_STOP_TIMEOUT = 30;

/** Marks a task to stop with AWS's stop code and reason; the next plan stops its containers. */
export function failed(task: TaskRecord, now: Date, stopCode: TaskStopCode, reason: string): TaskRecord {
  if (task.desiredStatus === "STOPPED") return task;
  return { ...task, desiredStatus: "STOPPED", stopCode, stoppedReason: reason, stoppingAt: now };
}

/** Folds what Docker reports into the task's containers[] (status, exit code, health, bindings). */
export function syncContainers(task: TaskRecord, obs: ObservedTask): Container[] {
  const awsvpc = task.spec.networkMode === "awsvpc";
  const eni = task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
  const holder = namespaceHolder(task, obs);
  return (task.containers ?? []).map((c) => {
    const o = obs.containers.get(c.name!);
    if (!o) return c;
    const def = task.spec.containers.find((d) => d.name === c.name);
    const portHolder = awsvpc ? holder : o;
    const networkBindings = (def?.portMappings ?? []).flatMap((m) => {
      const bound = portHolder?.ports.find(
        (p) => p.containerPort === m.containerPort && p.protocol === (m.protocol ?? "tcp"),
      );
      if (task.spec.networkMode === "host")
        return [
          {
            bindIP: "0.0.0.0",
            containerPort: m.containerPort,
            hostPort: m.containerPort,
            protocol: m.protocol ?? "tcp",
          },
        ];
      return bound
        ? [{ bindIP: bound.hostIp, containerPort: m.containerPort, hostPort: bound.hostPort, protocol: bound.protocol }]
        : [];
    });
    const stopped = c.lastStatus === "STOPPED" || isDown(o);
    return {
      ...c,
      runtimeId: o.id,
      imageDigest: o.imageId,
      lastStatus: stopped ? "STOPPED" : isUp(o) ? "RUNNING" : "PENDING",
      exitCode: isDown(o) ? o.exitCode : c.exitCode,
      reason: o.error ? `CannotStartContainerError: ${o.error}` : c.reason,
      healthStatus: def?.healthCheck
        ? o.health === "healthy"
          ? "HEALTHY"
          : o.health === "unhealthy"
            ? "UNHEALTHY"
            : "UNKNOWN"
        : undefined,
      networkBindings: stopped ? c.networkBindings : networkBindings,
      networkInterfaces:
        awsvpc && eni && holder?.ipAddress ? [{ attachmentId: eni.id, privateIpv4Address: holder.ipAddress }] : [],
    };
  });
}

/** Task health from its essential containers' health checks (AWS-FACTS §2). */
export function taskHealth(task: TaskRecord, containers: Container[]): "HEALTHY" | "UNHEALTHY" | "UNKNOWN" {
  const checked = task.spec.containers.filter((d) => d.essential !== false && d.healthCheck);
  if (checked.length === 0) return "UNKNOWN";
  const states = checked.map((d) => containers.find((c) => c.name === d.name)?.healthStatus);
  if (states.includes("UNHEALTHY")) return "UNHEALTHY";
  return states.every((s) => s === "HEALTHY") ? "HEALTHY" : "UNKNOWN";
}

type Readiness = { ready: true } | { ready: false; failure?: string };

/** Whether a container's dependsOn conditions hold now, can still hold later, or never will. */
export function dependencies(def: ContainerDefinition, obs: ObservedTask): Readiness {
  for (const d of def.dependsOn ?? []) {
    const o = obs.containers.get(d.containerName);
    if (!o) return { ready: false };
    const why = `container '${def.name}' depends on '${d.containerName}' (${d.condition})`;
    switch (d.condition) {
      case "START":
        if (!o.startedAt) return { ready: false };
        break;
      case "COMPLETE":
        if (!isDown(o)) return { ready: false };
        break;
      case "SUCCESS":
        if (!isDown(o)) return { ready: false };
        if (o.exitCode !== 0) return { ready: false, failure: `${why}, which exited with code ${o.exitCode}` };
        break;
      case "HEALTHY":
        if (isDown(o)) return { ready: false, failure: `${why}, which exited with code ${o.exitCode}` };
        if (o.health === "unhealthy") return { ready: false, failure: `${why}, which is UNHEALTHY` };
        if (o.health !== "healthy") return { ready: false };
        break;
    }
  }
  return { ready: true };
}

function planStop(task: TaskRecord, obs: ObservedTask, now: Date): Draft {
  const defs = task.spec.containers;
  const up = defs.filter((d) => {
    const o = obs.containers.get(d.name!);
    return o !== undefined && isUp(o);
  });
  if (up.length > 0) {
    // Reverse dependency order: stop a container only once nothing still running depends on it.
    const upNames = new Set(up.map((d) => d.name!));
    const stoppable = up.filter(
      (d) =>
        !defs.some((other) => upNames.has(other.name!) && other.dependsOn?.some((x) => x.containerName === d.name)),
    );
    const next: TaskRecord = task.lastStatus === "STOPPING" ? task : { ...task, lastStatus: "STOPPING" };
    return {
      next: next === task ? undefined : next,
      actions: (stoppable.length ? stoppable : up).map((d) => ({
        type: "stopContainer" as const,
        name: d.name!,
        id: obs.containers.get(d.name!)!.id,
        timeoutSec: d.stopTimeout ?? DEFAULT_STOP_TIMEOUT,
      })),
    };
  }
  const stoppedContainers = task.containers?.map((c) => ({
    ...c,
    lastStatus: "STOPPED",
    networkBindings: c.networkBindings ?? [],
  }));
  // Containers have exited: release what the task holds (DEPROVISIONING), then report STOPPED.
  if (obs.pause !== undefined || obs.containers.size > 0)
    return {
      next: {
        ...task,
        lastStatus: "DEPROVISIONING",
        stoppingAt: task.stoppingAt ?? now,
        executionStoppedAt: task.executionStoppedAt ?? now,
        containers: stoppedContainers,
      },
      actions: [{ type: "cleanup" }],
    };
  const next: TaskRecord = {
    ...task,
    lastStatus: "STOPPED",
    stoppingAt: task.stoppingAt ?? now,
    executionStoppedAt: task.executionStoppedAt ?? now,
    stoppedAt: now,
    pullStoppedAt: task.pullStartedAt ? (task.pullStoppedAt ?? now) : undefined,
    connectivity: task.connectivity ? "DISCONNECTED" : undefined,
    containers: stoppedContainers,
    attachments: task.attachments?.map((a) => ({ ...a, status: "DELETED" })),
  };
  return { next };
}

const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

/**
 * The task lifecycle as a pure function of the stored task and what Docker shows:
 * PROVISIONING (namespace) → PENDING (pull, create, start in dependency order) → RUNNING →
 * STOPPING (reverse dependency order, stopTimeout) → STOPPED (cleanup).
 */
export function planTask(stored: TaskRecord, obs: ObservedTask, now: Date): Plan {
  const anything = obs.pause !== undefined || obs.containers.size > 0;
  let task: TaskRecord = { ...stored, containers: syncContainers(stored, obs) };
  const result = (plan: Draft): Plan => {
    const next = plan.next ?? task;
    return { next: differs(next, stored) ? next : undefined, actions: plan.actions ?? [] };
  };

  if (stored.lastStatus === "STOPPED") return result({ actions: anything ? [{ type: "cleanup" }] : [] });
  if (task.desiredStatus === "STOPPED") return result(planStop(task, obs, now));

  // Containers Docker once ran for this task that are gone now: removed behind Berth's back.
  const vanished = (task.containers ?? []).filter((c) => c.runtimeId && !obs.containers.has(c.name!));
  const pauseLost = needsPause(task.spec) && task.lastStatus !== "PROVISIONING" && !obs.pause;
  if (vanished.length > 0 || pauseLost) {
    const what = vanished.length ? `container(s) ${vanished.map((c) => c.name).join(", ")}` : "its network namespace";
    return result({
      next: failed(
        task,
        now,
        task.everRunning ? "EssentialContainerExited" : "TaskFailedToStart",
        `Task stopped because ${what} no longer exist in Docker (removed outside Berth).`,
      ),
      actions: [],
    });
  }

  if (needsPause(task.spec) && (!obs.pause || !isUp(obs.pause))) {
    if (obs.pause && isDown(obs.pause))
      return result({
        next: failed(task, now, "TaskFailedToStart", "Task network namespace exited unexpectedly."),
        actions: [],
      });
    return result({ actions: [{ type: "createPause" }] });
  }
  if (task.lastStatus === "PROVISIONING") task = { ...task, lastStatus: "PENDING" };
  const holder = namespaceHolder(task, obs);
  if (
    holder?.ipAddress &&
    task.attachments?.some((a) => a.type === "ElasticNetworkInterface" && a.status !== "ATTACHED")
  ) {
    task = {
      ...task,
      attachments: task.attachments?.map((a) => (a.type === "ElasticNetworkInterface" ? attachEni(a, holder) : a)),
    };
    task = { ...task, containers: syncContainers(task, obs) };
  }

  const actions: Action[] = [];
  for (const def of task.spec.containers) {
    const o = obs.containers.get(def.name!);
    if (!o) {
      const dep = dependencies(def, obs);
      if (dep.ready) actions.push({ type: "runContainer", name: def.name! });
      else if (dep.failure)
        return result({
          next: failed(task, now, "TaskFailedToStart", `Dependency failed: ${dep.failure}.`),
          actions: [],
        });
      continue;
    }
    if (o.state === "created") {
      if (o.error)
        return result({
          next: failed(task, now, "TaskFailedToStart", `CannotStartContainerError: ${def.name}: ${o.error}`),
          actions: [],
        });
      if (dependencies(def, obs).ready) actions.push({ type: "startContainer", name: def.name!, id: o.id });
      continue;
    }
    if (isDown(o) && def.essential !== false)
      return result({
        next: failed(task, now, "EssentialContainerExited", "Essential container in task exited"),
        actions: [],
      });
  }

  if (actions.some((a) => a.type === "runContainer") && !task.pullStartedAt) task = { ...task, pullStartedAt: now };
  const allStarted = task.spec.containers.every((d) => obs.containers.get(d.name!)?.startedAt);
  const essentialsUp = task.spec.containers
    .filter((d) => d.essential !== false)
    .every((d) => {
      const o = obs.containers.get(d.name!);
      return o !== undefined && isUp(o);
    });
  if (task.lastStatus !== "RUNNING" && allStarted && essentialsUp)
    task = {
      ...task,
      lastStatus: "RUNNING",
      startedAt: now,
      pullStoppedAt: task.pullStoppedAt ?? now,
      connectivity: "CONNECTED",
      connectivityAt: task.connectivityAt ?? now,
      everRunning: true,
    };
  task = { ...task, healthStatus: taskHealth(task, task.containers ?? []) };
  return result({ actions });
}

/** The ENI attachment once the namespace has an address. */
function attachEni(a: NonNullable<TaskRecord["attachments"]>[number], holder: ObservedContainer) {
  const ip = holder.ipAddress ?? "";
  return {
    ...a,
    status: "ATTACHED",
    details: [
      ...(a.details ?? []).filter((d) => d.name === "subnetId"),
      { name: "networkInterfaceId", value: `eni-${holder.id.slice(0, 17)}` },
      { name: "macAddress", value: macFor(holder.id) },
      { name: "privateDnsName", value: `ip-${ip.replaceAll(".", "-")}.ec2.internal` },
      { name: "privateIPv4Address", value: ip },
    ],
  };
}

/** A stable locally-administered MAC address derived from the namespace holder's id. */
const macFor = (id: string) => `0e:${id.slice(0, 10).match(/../g)!.join(":")}`;
