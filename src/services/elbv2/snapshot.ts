import type { PlaneSnapshot, PlaneTargetGroup } from "../../lb/model.js";
import { currentAttributes } from "./load-balancers.js";
import type {
  ListenerRecord,
  LoadBalancerRecord,
  RuleRecord,
  TargetGroupRecord,
  TargetRecord,
} from "../../store/schema/elbv2.js";
import { targetKey } from "../../store/schema/elbv2.js";
import { currentTargetGroupAttributes } from "./target-groups.js";
import type { InstanceResolver } from "./targets.js";
import { forwardedTargetGroups } from "./validate.js";

export interface ElbRecords {
  loadBalancers: LoadBalancerRecord[];
  listeners: ListenerRecord[];
  rules: RuleRecord[];
  targetGroups: TargetGroupRecord[];
  targets: TargetRecord[];
}

/** Stored ELBv2 records → the data plane's desired state. Pure. */
export function buildSnapshot(records: ElbRecords, resolveInstance: InstanceResolver): PlaneSnapshot {
  const lbs = new Map(records.loadBalancers.map((l) => [l.arn, l]));
  const use = new Map<string, Set<string>>();
  const used = (tg: string, lb: string) => {
    const s = use.get(tg) ?? new Set<string>();
    use.set(tg, s);
    s.add(lb);
  };
  for (const l of records.listeners)
    for (const tg of forwardedTargetGroups(l.defaultActions)) used(tg, l.loadBalancerArn);
  for (const r of records.rules) for (const tg of forwardedTargetGroups(r.actions)) used(tg, r.loadBalancerArn);

  const rulesBy = new Map<string, RuleRecord[]>();
  for (const r of records.rules) {
    const list = rulesBy.get(r.listenerArn) ?? [];
    list.push(r);
    rulesBy.set(r.listenerArn, list);
  }
  const targetsBy = new Map<string, TargetRecord[]>();
  for (const t of records.targets) {
    const list = targetsBy.get(t.targetGroupArn) ?? [];
    list.push(t);
    targetsBy.set(t.targetGroupArn, list);
  }

  return {
    loadBalancers: records.loadBalancers.map((lb) => {
      const a = currentAttributes(lb);
      return {
        arn: lb.arn,
        type: lb.type,
        address: lb.address,
        idleTimeoutSeconds: Number(a["idle_timeout.timeout_seconds"] ?? 60),
        xffMode: (a["routing.http.xff_header_processing.mode"] ?? "append") as "append" | "preserve" | "remove",
        xffClientPort: a["routing.http.xff_client_port.enabled"] === "true",
        provisioned: lb.provisionedAt !== undefined,
      };
    }),
    listeners: records.listeners
      .filter((l) => lbs.has(l.loadBalancerArn))
      .map((l) => ({
        arn: l.arn,
        loadBalancerArn: l.loadBalancerArn,
        address: lbs.get(l.loadBalancerArn)!.address,
        port: l.port,
        protocol: l.protocol,
        rules: (rulesBy.get(l.arn) ?? [])
          .sort((a, b) => a.priority - b.priority)
          .map((r) => ({ priority: r.priority, conditions: r.conditions, action: r.actions[r.actions.length - 1] })),
        defaultAction: l.defaultActions[l.defaultActions.length - 1],
      })),
    targetGroups: records.targetGroups.map((tg): PlaneTargetGroup => {
      const a = currentTargetGroupAttributes(tg);
      return {
        arn: tg.arn,
        protocol: tg.protocol,
        port: tg.port,
        healthCheck: tg.healthCheck,
        algorithm: (a["load_balancing.algorithm.type"] ?? "round_robin") as PlaneTargetGroup["algorithm"],
        stickiness: {
          enabled: a["stickiness.enabled"] === "true" && tg.protocol === "HTTP",
          durationSeconds: Number(a["stickiness.lb_cookie.duration_seconds"] ?? 86400),
        },
        slowStartSeconds: Number(a["slow_start.duration_seconds"] ?? 0),
        deregistrationDelaySeconds: Number(a["deregistration_delay.timeout_seconds"] ?? 300),
        connectionTermination:
          tg.protocol === "HTTP" || a["deregistration_delay.connection_termination.enabled"] === "true",
        loadBalancerArns: [...(use.get(tg.arn) ?? [])].sort(),
        targets: (targetsBy.get(tg.arn) ?? []).map((t) => ({
          key: targetKey(t.targetGroupArn, t.id, t.port),
          id: t.id,
          port: t.port,
          address: tg.targetType === "ip" ? t.id : resolveInstance(t.id),
          health: t.health,
          registeredAt: t.registeredAt,
          ...(t.drainEndsAt ? { drainEndsAt: t.drainEndsAt } : {}),
        })),
      };
    }),
  };
}
