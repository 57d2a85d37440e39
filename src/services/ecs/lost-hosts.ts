import type { TaskRecord } from "../../store/schema/ecs.js";

/** What is known of an agent host whose agent is not connected. */
export interface AbsentHost {
  ec2InstanceId: string;
  /** The EC2 instance's state (services/ec2), when Berth knows the instance. */
  instanceState?: string;
  /** Whether the host's processes still run, when this Berth made the host (hosts/instance-hosts). */
  hostAlive?: boolean;
  /** How long the agent has been away (ms). */
  absentMs: number;
}

/** What becomes of an absent host's tasks and its container instance. */
export interface LostVerdict {
  reason: string;
  /** Terminated instances leave their clusters (ECS deregisters them). */
  deregister: boolean;
}

/**
 * PURE: whether a host whose agent is away is lost, and why in the words ECS uses. Terminated
 * or stopped instances are lost at once; a host whose processes died is lost after `graceMs`
 * (an agent restarting reconnects well within it); a host Berth knows nothing else of is lost
 * after `lostAfterMs` of silence. Otherwise its tasks keep their last known state, as in ECS.
 */
export function lostVerdict(h: AbsentHost, opts: { graceMs: number; lostAfterMs: number }): LostVerdict | undefined {
  const id = h.ec2InstanceId;
  if (h.instanceState === "terminated" || h.instanceState === "shutting-down")
    return { reason: `Host EC2 (instance ${id}) terminated.`, deregister: true };
  if (h.instanceState === "stopped" || h.instanceState === "stopping")
    return { reason: `Host EC2 (instance ${id}) stopped.`, deregister: false };
  if (h.hostAlive === false && h.absentMs >= opts.graceMs)
    return { reason: `Host EC2 (instance ${id}) stopped.`, deregister: false };
  if (h.absentMs >= opts.lostAfterMs)
    return {
      reason: `The ECS agent of instance ${id} has been disconnected for ${Math.round(h.absentMs / 1000)} s; its tasks are presumed lost.`,
      deregister: false,
    };
  return undefined;
}

/** PURE: a task of a lost host, stopped where it stood (its containers went with the host). */
export function stoppedWithHost(task: TaskRecord, now: Date, reason: string): TaskRecord {
  return {
    ...task,
    desiredStatus: "STOPPED",
    lastStatus: "STOPPED",
    stopCode: task.stopCode ?? (/terminated\.$/.test(reason) ? "TerminationNotice" : undefined),
    stoppedReason: task.stoppedReason ?? reason,
    stoppingAt: task.stoppingAt ?? now,
    executionStoppedAt: task.executionStoppedAt ?? now,
    stoppedAt: now,
    containers: (task.containers ?? []).map((c) => ({ ...c, lastStatus: "STOPPED" })),
    version: (task.version ?? 1) + 1,
  };
}
