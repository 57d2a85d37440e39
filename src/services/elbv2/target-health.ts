import type { TargetHealth } from "../../protocol/generated/types/elbv2.js";
import type { TargetRecord } from "../../store/schema/elbv2.js";

/**
 * What DescribeTargetHealth reports for a target, pure: AWS's states and reason codes from the
 * stored registration, the health the data plane last observed, and whether any load balancer
 * uses the target group.
 */
export function targetHealthView(
  target: TargetRecord | undefined,
  opts: { inUse: boolean; now: Date; resolvable?: boolean },
): TargetHealth {
  if (!target || (target.drainEndsAt && target.drainEndsAt.getTime() <= opts.now.getTime()))
    return {
      State: "unused",
      Reason: "Target.NotRegistered",
      Description: "Target is not registered to the target group",
    };
  if (target.drainEndsAt)
    return {
      State: "draining",
      Reason: "Target.DeregistrationInProgress",
      Description: "Target deregistration is in progress",
    };
  if (!opts.inUse)
    return {
      State: "unused",
      Reason: "Target.NotInUse",
      Description: "Target group is not configured to receive traffic from the load balancer",
    };
  if (opts.resolvable === false)
    return {
      State: "unused",
      Reason: "Target.InvalidState",
      Description: "Target is in the stopped or terminated state",
    };
  const h = target.health;
  if (h.state === "healthy") return { State: "healthy" };
  return { State: h.state, Reason: h.reason, Description: h.description };
}
