import type { ServiceRecord, TaskRecord } from "../../store/schema/ecs.js";

/**
 * Whether a service has work in flight that only time moves on (so the scheduler looks again
 * soon): a deployment not yet steady, tasks starting or stopping, tasks draining from their
 * target groups, a count off its desired value, a task still in its health check grace period,
 * or the service being deleted. A steady service waits for a change instead (the store's change
 * feed: the service, its tasks or its targets' health) and the periodic resync. Pure.
 */
export function serviceInFlight(service: ServiceRecord, tasks: TaskRecord[], now: Date): boolean {
  if (service.status !== "ACTIVE") return true;
  if (service.deployments.length !== 1 || service.deployments.some((d) => d.rolloutState === "IN_PROGRESS"))
    return true;
  if (Object.keys(service.draining ?? {}).length > 0) return true;
  const live = tasks.filter((t) => t.desiredStatus !== "STOPPED");
  if (live.length !== service.desiredCount) return true;
  if (tasks.some((t) => t.lastStatus !== (t.desiredStatus === "STOPPED" ? "STOPPED" : "RUNNING"))) return true;
  const graceMs = (service.healthCheckGracePeriodSeconds ?? 0) * 1000;
  return graceMs > 0 && live.some((t) => !t.startedAt || now.getTime() - t.startedAt.getTime() < graceMs);
}
