/**
 * ELBv2 as the rest of Berth sees it. ECS services use `LoadBalancing` to put tasks behind
 * target groups; `elbv2Service` (provider.ts) builds the API and an implementation of it.
 *
 * How ECS uses it:
 * - `targetGroup(arn)` checks a service's `loadBalancers[].targetGroupArn` before CreateService
 *   (undefined: the target group does not exist; `loadBalancerArns` empty: no load balancer
 *   uses it yet, which AWS refuses for services) and tells the container port to register.
 * - `register(arn, [{ id: taskPrivateIp, port: containerPort }])` once a task is RUNNING
 *   (awsvpc tasks are `ip` targets; the host reaches container IPs on Docker's bridge). The
 *   target starts `initial` (Elb.RegistrationInProgress, then Elb.InitialHealthChecking) and
 *   becomes `healthy` after its first passing check, or `unhealthy` after
 *   UnhealthyThresholdCount failing ones.
 * - `health(arn)` lists every registered or draining target with its state; poll it (or
 *   listen to the store's change feed for `TARGET_KIND`, whose change ids start with the
 *   target group ARN) to wait for `healthy`.
 * - `deregister(arn, targets)` before stopping a task: the target turns `draining`
 *   (Target.DeregistrationInProgress), gets no new requests, its in-flight requests finish,
 *   and after the target group's `deregistration_delay.timeout_seconds` it disappears from
 *   `health(arn)`. Stop the task once it is gone.
 *
 * All methods are synchronous and durable when they return (the store is written before
 * they return). Bad input throws `ServiceError` with AWS's codes: TargetGroupNotFound,
 * InvalidTarget, ValidationError.
 */
import type { TargetHealthReasonEnum, TargetHealthStateEnum } from "../../protocol/generated/types/elbv2.js";
import type { HealthCheckSettings } from "../../store/schema/elbv2.js";

export interface TargetRef {
  /** An IPv4 address for `ip` target groups; an instance id for `instance` ones. */
  id: string;
  /** Defaults to the target group's port when omitted. */
  port?: number;
}

export interface TargetHealthInfo {
  id: string;
  port: number;
  state: TargetHealthStateEnum;
  /** Absent when healthy, as in AWS. */
  reason?: TargetHealthReasonEnum;
  description?: string;
}

/** A target group's health check as ECS sees it: the stored settings. */
export type HealthCheckInfo = HealthCheckSettings;

export interface TargetGroupInfo {
  arn: string;
  name: string;
  port?: number;
  protocol?: string;
  targetType: "ip" | "instance";
  healthCheck: HealthCheckInfo;
  deregistrationDelaySeconds: number;
  /** The load balancers whose listeners or rules forward to this target group. */
  loadBalancerArns: string[];
}

/** What ECS services (and anything else in Berth) use to put targets behind load balancers. */
export interface LoadBalancing {
  targetGroup(arn: string): TargetGroupInfo | undefined;
  register(arn: string, targets: TargetRef[]): void;
  deregister(arn: string, targets: TargetRef[]): void;
  health(arn: string): TargetHealthInfo[];
}

export { TARGET_KIND } from "../../store/schema/elbv2.js";
