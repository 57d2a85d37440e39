import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Operations, TargetDescription, TargetHealthDescription } from "../../protocol/generated/types/elbv2.js";
import type { Provider } from "../../protocol/service.js";
import { currentTargetGroupAttributes } from "./target-groups.js";
import type { ElbContext } from "./context.js";
import { REGISTERING, type TargetGroupRecord, type TargetRecord, targetKey } from "../../store/schema/elbv2.js";
import { targetHealthView } from "./target-health.js";
import { INSTANCE_ID, isIpv4 } from "./validate.js";

const MAX_TARGETS = 1000;

/** Resolves an instance id to the address its traffic goes to; undefined for unknown instances. */
export type InstanceResolver = (instanceId: string) => string | undefined;

const portOf = (tg: TargetGroupRecord, t: TargetDescription) => t.Port ?? tg.port;

function checkTargets(tg: TargetGroupRecord, targets: TargetDescription[]) {
  if (targets.length === 0) throw commonErrors.ValidationError("At least one target must be specified");
  for (const t of targets) {
    if (tg.targetType === "ip" && !isIpv4(t.Id))
      throw commonErrors.ValidationError(`The IP address '${t.Id}' is not a valid IPv4 address`);
    if (tg.targetType === "instance" && !INSTANCE_ID.test(t.Id))
      throw commonErrors.ValidationError(`The instance ID '${t.Id}' is not valid`);
    if (t.QuicServerId !== undefined)
      throw commonErrors.ValidationError("QUIC server IDs can only be specified for QUIC target groups");
  }
}

/** RegisterTargets: new targets start `initial`; re-registering a draining target cancels its draining. */
export function registerTargets(elb: ElbContext, scope: Scope, tg: TargetGroupRecord, targets: TargetDescription[]) {
  checkTargets(tg, targets);
  const now = elb.clock.now();
  const live = elb.liveTargets(scope, tg.arn, now);
  const added = targets.filter((t) => !live.some((r) => r.id === t.Id && r.port === portOf(tg, t) && !r.drainEndsAt));
  if (live.length + added.length > MAX_TARGETS)
    throw elbv2Errors.TooManyTargetsException(`A target group can have at most ${MAX_TARGETS} targets`);
  elb.store.transaction(() => {
    for (const t of added) {
      const record: TargetRecord = {
        targetGroupArn: tg.arn,
        id: t.Id,
        port: portOf(tg, t),
        ...(t.AvailabilityZone ? { availabilityZone: t.AvailabilityZone } : {}),
        registeredAt: now,
        health: REGISTERING,
      };
      elb.targets.put(scope, record);
    }
  });
}

/** DeregisterTargets: targets drain for the group's deregistration delay (at once when no load balancer uses it). */
export function deregisterTargets(elb: ElbContext, scope: Scope, tg: TargetGroupRecord, targets: TargetDescription[]) {
  checkTargets(tg, targets);
  const now = elb.clock.now();
  const live = elb.liveTargets(scope, tg.arn, now);
  const found = targets.map((t) => ({ t, record: live.find((r) => r.id === t.Id && r.port === portOf(tg, t)) }));
  const missing = found.filter((f) => !f.record);
  if (missing.length)
    throw elbv2Errors.InvalidTargetException(
      `The following targets are not registered in target group '${tg.arn}': ${missing.map((m) => `'${m.t.Id}:${portOf(tg, m.t)}'`).join(", ")}`,
    );
  const inUse = elb.loadBalancerArnsOf(scope, tg.arn).length > 0;
  const delayMs = Number(currentTargetGroupAttributes(tg)["deregistration_delay.timeout_seconds"]) * 1000;
  elb.store.transaction(() => {
    for (const { record } of found) {
      const r = record!;
      if (r.drainEndsAt) continue; // already draining
      if (!inUse || delayMs === 0) elb.targets.delete(scope, targetKey(r.targetGroupArn, r.id, r.port));
      else elb.targets.put(scope, { ...r, drainStartedAt: now, drainEndsAt: new Date(now.getTime() + delayMs) });
    }
  });
}

/** DescribeTargetHealth for some or all targets of a group. */
export function describeTargetHealth(
  elb: ElbContext,
  scope: Scope,
  tg: TargetGroupRecord,
  targets: TargetDescription[] | undefined,
  resolveInstance: InstanceResolver,
): TargetHealthDescription[] {
  const now = elb.clock.now();
  const inUse = elb.loadBalancerArnsOf(scope, tg.arn).length > 0;
  const live = elb.liveTargets(scope, tg.arn, now);
  const describe = (id: string, port: number, record: TargetRecord | undefined): TargetHealthDescription => ({
    Target: {
      Id: id,
      Port: port,
      ...(record?.availabilityZone ? { AvailabilityZone: record.availabilityZone } : {}),
    },
    HealthCheckPort: tg.healthCheck.port === "traffic-port" ? String(port) : tg.healthCheck.port,
    TargetHealth: targetHealthView(record, {
      inUse,
      now,
      resolvable: tg.targetType === "instance" ? resolveInstance(id) !== undefined : true,
    }),
  });
  if (!targets?.length)
    return live
      .sort(
        (a, b) => a.registeredAt.getTime() - b.registeredAt.getTime() || a.id.localeCompare(b.id) || a.port - b.port,
      )
      .map((r) => describe(r.id, r.port, r));
  checkTargets(tg, targets);
  return targets.flatMap((t) => {
    const matches = live.filter((r) => r.id === t.Id && (t.Port === undefined || r.port === t.Port));
    if (matches.length === 0) return [describe(t.Id, portOf(tg, t), undefined)];
    return matches.map((r) => describe(r.id, r.port, r));
  });
}

export function targetOperations(elb: ElbContext, resolveInstance: InstanceResolver): Provider<Operations> {
  return {
    RegisterTargets: (input) => {
      const { scope, doc } = elb.targetGroup(input.TargetGroupArn);
      registerTargets(elb, scope, doc, input.Targets);
      return {};
    },
    DeregisterTargets: (input) => {
      const { scope, doc } = elb.targetGroup(input.TargetGroupArn);
      deregisterTargets(elb, scope, doc, input.Targets);
      return {};
    },
    DescribeTargetHealth: (input) => {
      const { scope, doc } = elb.targetGroup(input.TargetGroupArn);
      return { TargetHealthDescriptions: describeTargetHealth(elb, scope, doc, input.Targets, resolveInstance) };
    },
  };
}
