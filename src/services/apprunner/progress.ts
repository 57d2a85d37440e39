/**
 * PURE: where an App Runner operation stands, from the ECS service it rolls out. A deployment
 * succeeds when its ECS deployment completes (every task running and healthy in the target
 * group); it fails when the ECS circuit breaker fails it. A failed update rolls back to the
 * previous deployment (the service keeps RUNNING), as App Runner does; a failed create is
 * CREATE_FAILED.
 */
import type { OperationStatus, OperationType } from "../../protocol/generated/types/apprunner.js";

export interface EcsDeploymentView {
  id: string;
  status: "PRIMARY" | "ACTIVE";
  rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  rolloutStateReason?: string;
  runningCount: number;
  desiredCount: number;
}

export type Progress =
  | { kind: "waiting" }
  | { kind: "rolling-back" }
  /** Not healthy in time: a create fails; an update goes back to the previous task definition. */
  | { kind: "timed-out"; reason: string }
  | { kind: "done"; status: OperationStatus; reason?: string };

export function progressOf(
  op: { type: OperationType; deploymentId?: string; startedAt: number },
  deployments: readonly EcsDeploymentView[],
  now: number,
  timeoutMs: number,
): Progress {
  const mine = deployments.find((d) => d.id === op.deploymentId);
  const primary = deployments.find((d) => d.status === "PRIMARY");
  if (!mine && !primary) return { kind: "done", status: "FAILED", reason: "The ECS service has no deployment." };
  if (mine?.status === "PRIMARY" && mine.rolloutState === "COMPLETED") return { kind: "done", status: "SUCCEEDED" };
  const failed = mine?.rolloutState === "FAILED" || (!mine && op.deploymentId !== undefined);
  if (failed) {
    const reason = mine?.rolloutStateReason ?? "The deployment was replaced.";
    if (op.type === "CREATE_SERVICE") return { kind: "done", status: "FAILED", reason };
    if (primary && primary.id !== op.deploymentId) {
      if (primary.rolloutState === "COMPLETED") return { kind: "done", status: "ROLLBACK_SUCCEEDED", reason };
      if (primary.rolloutState === "FAILED") return { kind: "done", status: "ROLLBACK_FAILED", reason };
      return { kind: "rolling-back" };
    }
    return { kind: "done", status: "FAILED", reason };
  }
  if (now - op.startedAt > timeoutMs)
    return {
      kind: "timed-out",
      reason: `The instances did not become healthy within ${Math.round(timeoutMs / 1000)} s (health check failed or the application did not listen on its port).`,
    };
  return { kind: "waiting" };
}
