import type { DeploymentRecord, ServiceRecord, TaskRecord } from "../../store/schema/ecs.js";

/** Health of one registered target as the load balancer reports it. */
export interface TargetState {
  id: string;
  port: number;
  state: string;
}

export interface ServiceSnapshot {
  service: ServiceRecord;
  /** Every task of the service (group `service:<name>`), any status. */
  tasks: TaskRecord[];
  /** Target health per target group ARN of the service's load balancers. */
  targets: Map<string, TargetState[]>;
  now: Date;
  /** How long a RUNNING task with no load balancer and no health check takes to count as healthy. */
  healthyAfterMs: number;
}

export interface TargetRef {
  targetGroupArn: string;
  id: string;
  port: number;
}

export interface ServicePlan {
  next?: ServiceRecord;
  start: { deploymentId: string; count: number }[];
  stop: { taskArn: string; reason: string; failed: boolean }[];
  register: TargetRef[];
  deregister: TargetRef[];
}

const MAX_EVENTS = 100;

/** Circuit breaker threshold (AWS-FACTS §3): half the desired count, at least 3, at most 200. */
export const failureThreshold = (desired: number) => Math.min(200, Math.max(3, Math.ceil(desired * 0.5)));

export const taskIp = (t: TaskRecord) =>
  t.attachments
    ?.find((a) => a.type === "ElasticNetworkInterface")
    ?.details?.find((d) => d.name === "privateIPv4Address")?.value;

const taskId = (arn: string) => arn.split("/").pop()!;

/**
 * The targets a task is (or should be) registered as, one per service load balancer: awsvpc
 * tasks as `ip` targets on the container port; bridge and host tasks as `instance` targets (their
 * container instance) on the host port the container port is published at.
 */
export function taskTargets(service: ServiceRecord, t: TaskRecord): TargetRef[] {
  const lbs = (service.loadBalancers ?? []).filter((lb) => lb.targetGroupArn && lb.containerPort);
  if (t.spec.networkMode === "awsvpc") {
    const ip = taskIp(t);
    if (!ip) return [];
    return lbs.map((lb) => ({ targetGroupArn: lb.targetGroupArn!, id: ip, port: lb.containerPort! }));
  }
  if (!t.ec2InstanceId) return [];
  return lbs.flatMap((lb) => {
    const hostPort = t.containers
      ?.find((c) => c.name === lb.containerName)
      ?.networkBindings?.find((b) => b.containerPort === lb.containerPort)?.hostPort;
    return hostPort ? [{ targetGroupArn: lb.targetGroupArn!, id: t.ec2InstanceId!, port: hostPort }] : [];
  });
}

const targetState = (snap: ServiceSnapshot, ref: TargetRef) =>
  snap.targets.get(ref.targetGroupArn)?.find((x) => x.id === ref.id && x.port === ref.port)?.state;

/** A failed task: it stopped on its own or was stopped for failing health checks. */
export const taskFailed = (t: TaskRecord) =>
  t.desiredStatus === "STOPPED" &&
  (t.stopCode === "TaskFailedToStart" ||
    t.stopCode === "EssentialContainerExited" ||
    (t.stoppedReason ?? "").startsWith("Task failed"));

/**
 * One pass of the service scheduler, pure: from the service, its tasks and its targets' health
 * to the tasks to start and stop, the targets to (de)register and the service's new state.
 * Rolling deployments keep RUNNING healthy tasks ≥ ceil(desired × minimumHealthyPercent / 100)
 * and live tasks ≤ floor(desired × maximumPercent / 100) (AWS-FACTS §3).
 */
export function planService(snap: ServiceSnapshot): ServicePlan {
  const { service, now } = snap;
  const plan: ServicePlan = { start: [], stop: [], register: [], deregister: [] };
  const events: string[] = [];
  const name = service.serviceName;
  const withLb = (service.loadBalancers ?? []).some((lb) => lb.targetGroupArn);
  const desired = service.status === "ACTIVE" ? service.desiredCount : 0;
  const maxPercent = service.deploymentConfiguration?.maximumPercent ?? 200;
  const minPercent = service.deploymentConfiguration?.minimumHealthyPercent ?? 100;
  const maxTotal = Math.max(Math.floor((desired * maxPercent) / 100), desired > 0 ? 1 : 0);
  const minHealthy = Math.ceil((desired * minPercent) / 100);
  const graceMs = (service.healthCheckGracePeriodSeconds ?? 0) * 1000;
  const draining = { ...service.draining };

  const live = snap.tasks.filter((t) => t.desiredStatus !== "STOPPED" && !draining[t.taskArn]);
  const running = (t: TaskRecord) => t.lastStatus === "RUNNING";
  const inGrace = (t: TaskRecord) => !t.startedAt || now.getTime() - t.startedAt.getTime() < graceMs;
  const hasHealthCheck = (t: TaskRecord) => t.spec.containers.some((c) => c.essential !== false && c.healthCheck);
  const healthy = (t: TaskRecord) => {
    if (!running(t)) return false;
    if (withLb) {
      const refs = taskTargets(service, t);
      return refs.length > 0 && refs.every((r) => targetState(snap, r) === "healthy");
    }
    if (hasHealthCheck(t)) return t.healthStatus === "HEALTHY";
    return now.getTime() - (t.startedAt?.getTime() ?? now.getTime()) >= snap.healthyAfterMs;
  };
  const unhealthyReason = (t: TaskRecord): string | undefined => {
    if (!running(t) || inGrace(t)) return undefined;
    for (const r of taskTargets(service, t))
      if (targetState(snap, r) === "unhealthy")
        return `Task failed ELB health checks in (target-group ${r.targetGroupArn})`;
    if (t.healthStatus === "UNHEALTHY") return "Task failed container health checks";
    return undefined;
  };

  /** Stops a task; behind a load balancer it is first deregistered and drained. */
  const stopTask = (t: TaskRecord, reason: string, failed = false) => {
    const refs = withLb ? taskTargets(service, t).filter((r) => targetState(snap, r) !== undefined) : [];
    if (refs.length > 0) {
      draining[t.taskArn] = reason;
      plan.deregister.push(...refs);
    } else plan.stop.push({ taskArn: t.taskArn, reason, failed });
  };

  // 1. Draining tasks stop once their targets are gone from every target group.
  for (const [arn, reason] of Object.entries(draining)) {
    const t = snap.tasks.find((x) => x.taskArn === arn);
    if (!t || t.desiredStatus === "STOPPED") {
      delete draining[arn];
      continue;
    }
    const still = taskTargets(service, t).filter((r) => {
      const s = targetState(snap, r);
      return s !== undefined && s !== "unused";
    });
    if (still.length === 0) plan.stop.push({ taskArn: arn, reason, failed: reason.startsWith("Task failed") });
  }

  let deployments = service.deployments.map((d) => ({ ...d }));
  let primary = deployments.find((d) => d.status === "PRIMARY")!;
  const stopped = new Set<string>();
  const stopLive = (t: TaskRecord, reason: string, failed = false) => {
    stopped.add(t.taskArn);
    stopTask(t, reason, failed);
  };
  const scheduler = (d: DeploymentRecord) => `Scaling activity initiated by (deployment ${d.id})`;

  // 2. Replace unhealthy tasks.
  for (const t of live) {
    const why = unhealthyReason(t);
    if (why) stopLive(t, why, true);
  }

  // 3. Circuit breaker on the primary deployment.
  const breaker = service.deploymentConfiguration?.deploymentCircuitBreaker;
  const failedOf = (d: DeploymentRecord) =>
    snap.tasks.filter(
      (t) =>
        t.startedBy === d.id &&
        (taskFailed(t) ||
          plan.stop.some((s) => s.taskArn === t.taskArn && s.failed) ||
          draining[t.taskArn]?.startsWith("Task failed")),
    ).length;
  primary.failedTasks = failedOf(primary);
  if (breaker?.enable && primary.rolloutState === "IN_PROGRESS" && primary.failedTasks >= failureThreshold(desired)) {
    primary.rolloutState = "FAILED";
    primary.rolloutStateReason = `ECS deployment circuit breaker: tasks failed to start.`;
    events.push(`(service ${name}) (deployment ${primary.id}) deployment failed: tasks failed to start.`);
    const previous = deployments.find((d) => d.status === "ACTIVE" && d !== primary);
    if (breaker.rollback && (previous || service.lastStableTaskDefinition)) {
      const target: DeploymentRecord = previous ?? {
        ...primary,
        id: `rollback-${primary.id}`,
        taskDefinition: service.lastStableTaskDefinition!,
        failedTasks: 0,
        runningCount: 0,
        pendingCount: 0,
        createdAt: now,
      };
      primary.status = "ACTIVE";
      target.status = "PRIMARY";
      target.rolloutState = "IN_PROGRESS";
      target.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deployment ${target.id}.`;
      target.updatedAt = now;
      if (!previous) deployments = [target, ...deployments];
      else deployments = [target, ...deployments.filter((d) => d !== target)];
      events.push(`(service ${name}) rolling back to deployment ${target.id}.`);
      primary = target;
    }
  }

  const liveOf = (d: DeploymentRecord) => live.filter((t) => t.startedBy === d.id && !stopped.has(t.taskArn));
  const healthyNow = () => live.filter((t) => !stopped.has(t.taskArn) && healthy(t)).length;

  // 4. Old deployments shrink: not-yet-healthy tasks go freely, healthy ones only above minHealthy.
  for (const d of deployments) {
    if (d === primary) continue;
    for (const t of liveOf(d).sort((a, b) => Number(healthy(a)) - Number(healthy(b)))) {
      if (healthy(t) && healthyNow() - 1 < minHealthy) break;
      stopLive(t, scheduler(primary));
    }
  }

  // 5. The primary deployment grows to desired, within maximumPercent; extra tasks go.
  const primaryLive = liveOf(primary);
  if (primaryLive.length > desired) {
    const extra = primaryLive.sort(
      (a, b) => Number(healthy(a)) - Number(healthy(b)) || b.createdAt.getTime() - a.createdAt.getTime(),
    );
    for (const t of extra.slice(0, primaryLive.length - desired)) stopLive(t, scheduler(primary));
  } else if (primary.rolloutState !== "FAILED") {
    const liveNow = live.filter((t) => !stopped.has(t.taskArn)).length + Object.keys(draining).length;
    const count = Math.min(desired - primaryLive.length, maxTotal - liveNow);
    if (count > 0) plan.start.push({ deploymentId: primary.id, count });
  }

  // 6. Register running tasks with their target groups.
  for (const t of live)
    if (running(t) && !stopped.has(t.taskArn))
      for (const r of taskTargets(service, t)) if (targetState(snap, r) === undefined) plan.register.push(r);

  // 7. Deployment bookkeeping; drop deployments that have no tasks left.
  for (const d of deployments) {
    const mine = snap.tasks.filter((t) => t.startedBy === d.id && t.desiredStatus !== "STOPPED");
    d.runningCount = mine.filter(running).length;
    d.pendingCount = mine.length - d.runningCount;
    d.desiredCount = d === primary ? desired : liveOf(d).length;
    if (d !== primary) d.failedTasks = failedOf(d);
  }
  deployments = deployments.filter(
    (d) => d === primary || snap.tasks.some((t) => t.startedBy === d.id && t.desiredStatus !== "STOPPED"),
  );
  const primaryHealthy = liveOf(primary).filter(healthy).length;
  let lastStable = service.lastStableTaskDefinition;
  if (
    primary.rolloutState === "IN_PROGRESS" &&
    deployments.length === 1 &&
    primary.runningCount === desired &&
    primary.pendingCount === 0 &&
    primaryHealthy === desired &&
    plan.start.length === 0 &&
    plan.stop.length === 0
  ) {
    primary.rolloutState = "COMPLETED";
    primary.rolloutStateReason = "ECS deployment completed.";
    lastStable = primary.taskDefinition;
    events.push(`(service ${name}) has reached a steady state.`);
  }

  if (plan.start.length) events.push(`(service ${name}) has started ${plan.start[0].count} tasks.`);
  if (plan.stop.length)
    events.push(
      `(service ${name}) has stopped ${plan.stop.length} running tasks: ${plan.stop.map((s) => `(task ${taskId(s.taskArn)})`).join(" ")}.`,
    );
  if (plan.register.length)
    events.push(
      `(service ${name}) registered ${plan.register.length} targets in (target-group ${plan.register[0].targetGroupArn})`,
    );
  if (plan.deregister.length)
    events.push(
      `(service ${name}) has begun draining connections on ${new Set(plan.deregister.map((r) => r.id)).size} tasks.`,
    );
  for (const d of deployments)
    if (d.status === "PRIMARY" || d.status === "ACTIVE")
      d.updatedAt = differsDeployment(d, service) ? now : d.updatedAt;

  const allTasks = snap.tasks.filter((t) => t.desiredStatus !== "STOPPED");
  const next: ServiceRecord = {
    ...service,
    taskDefinition: primary.taskDefinition,
    deployments,
    draining,
    lastStableTaskDefinition: lastStable,
    runningCount: allTasks.filter(running).length,
    pendingCount: allTasks.filter((t) => !running(t)).length,
    status: service.status === "DRAINING" && allTasks.length === 0 ? "INACTIVE" : service.status,
    events: [
      ...events
        .reverse()
        .map((message, i) => ({ id: `${now.getTime()}-${i}-${message.length}`, createdAt: now, message })),
      ...service.events,
    ].slice(0, MAX_EVENTS),
  };
  return { ...plan, next: JSON.stringify(next) === JSON.stringify(service) ? undefined : next };
}

function differsDeployment(d: DeploymentRecord, service: ServiceRecord) {
  const before = service.deployments.find((x) => x.id === d.id);
  return (
    !before ||
    before.runningCount !== d.runningCount ||
    before.pendingCount !== d.pendingCount ||
    before.rolloutState !== d.rolloutState ||
    before.status !== d.status
  );
}
