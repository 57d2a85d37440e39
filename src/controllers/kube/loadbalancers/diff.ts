/**
 * PURE: what to change in ELBv2 to turn the observed resources of a stack into the desired ones —
 * targets to register and deregister, listeners and rules to create, modify and delete, health
 * check settings to modify. The applier (deploy.ts) reads, asks these, and calls the API.
 */
import type {
  Action,
  ModifyTargetGroupInput,
  RuleCondition,
  TargetGroup,
} from "../../../protocol/generated/types/elbv2.js";
import type {
  DesiredAction,
  DesiredCondition,
  DesiredListener,
  DesiredRule,
  DesiredTargetGroup,
  Target,
} from "./stack.js";

export interface ObservedTarget extends Target {
  state: string;
}

/** Desired targets not registered (or draining: registering again cancels that), and registered ones not desired. */
export function diffTargets(
  desired: Target[],
  observed: ObservedTarget[],
): { register: Target[]; deregister: Target[] } {
  const key = (t: Target) => `${t.id}:${t.port}`;
  const live = new Map(observed.filter((t) => t.state !== "draining").map((t) => [key(t), t]));
  const want = new Map(desired.map((t) => [key(t), t]));
  return {
    register: [...want.values()].filter((t) => !live.has(key(t))),
    deregister: [...live.values()].filter((t) => !want.has(key(t))).map(({ id, port }) => ({ id, port })),
  };
}

/** The health check settings that differ from the desired ones (undefined: nothing to modify). */
export function healthCheckDrift(
  desired: DesiredTargetGroup,
  observed: TargetGroup,
): ModifyTargetGroupInput | undefined {
  const hc = desired.healthCheck;
  const input: ModifyTargetGroupInput = { TargetGroupArn: observed.TargetGroupArn ?? "" };
  let changed = false;
  const set = <K extends keyof ModifyTargetGroupInput>(k: K, want: ModifyTargetGroupInput[K], have: unknown) => {
    if (want !== undefined && want !== have) {
      input[k] = want;
      changed = true;
    }
  };
  if (hc.protocol !== observed.HealthCheckProtocol) {
    input.HealthCheckProtocol = hc.protocol;
    changed = true;
  }
  set("HealthCheckPort", hc.port, observed.HealthCheckPort);
  set("HealthCheckIntervalSeconds", hc.intervalSeconds, observed.HealthCheckIntervalSeconds);
  set("HealthCheckTimeoutSeconds", hc.timeoutSeconds, observed.HealthCheckTimeoutSeconds);
  set("HealthyThresholdCount", hc.healthyThresholdCount, observed.HealthyThresholdCount);
  set("UnhealthyThresholdCount", hc.unhealthyThresholdCount, observed.UnhealthyThresholdCount);
  if (hc.protocol === "HTTP") {
    set("HealthCheckPath", hc.path, observed.HealthCheckPath);
    if (hc.matcher !== undefined && hc.matcher !== observed.Matcher?.HttpCode) {
      input.Matcher = { HttpCode: hc.matcher };
      changed = true;
    }
  }
  return changed ? input : undefined;
}

/** An action as ELBv2 takes it, the target group named by its ARN. */
export function toAction(a: DesiredAction, arnOf: (resource: string) => string): Action {
  if (a.type === "forward") return { Type: "forward", TargetGroupArn: arnOf(a.targetGroup) };
  return { Type: "fixed-response", FixedResponseConfig: { StatusCode: a.statusCode, ContentType: a.contentType } };
}

/** A condition as ELBv2 takes it. */
export function toCondition(c: DesiredCondition): RuleCondition {
  return c.field === "host-header"
    ? { Field: c.field, HostHeaderConfig: { Values: c.values } }
    : { Field: c.field, PathPatternConfig: { Values: c.values } };
}

const conditionValues = (c: RuleCondition) =>
  c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.Values ?? [];

/** Whether observed actions are the desired one (one action; forward by ARN or a single-group ForwardConfig). */
export function sameAction(observed: Action[] | undefined, want: Action): boolean {
  if (observed?.length !== 1) return false;
  const o = observed[0] as Action;
  if (o.Type !== want.Type) return false;
  if (want.Type === "forward") {
    const arn =
      o.TargetGroupArn ??
      (o.ForwardConfig?.TargetGroups?.length === 1 ? o.ForwardConfig.TargetGroups[0]?.TargetGroupArn : undefined);
    return arn === want.TargetGroupArn;
  }
  return (
    o.FixedResponseConfig?.StatusCode === want.FixedResponseConfig?.StatusCode &&
    (o.FixedResponseConfig?.ContentType ?? "") === (want.FixedResponseConfig?.ContentType ?? "") &&
    (o.FixedResponseConfig?.MessageBody ?? "") === (want.FixedResponseConfig?.MessageBody ?? "")
  );
}

export function sameConditions(observed: RuleCondition[] | undefined, want: RuleCondition[]): boolean {
  const norm = (cs: RuleCondition[]) =>
    JSON.stringify(
      cs.map((c) => [c.Field, conditionValues(c)]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  return norm(observed ?? []) === norm(want);
}

export interface ObservedListener {
  arn: string;
  port: number;
  protocol: string;
  defaultActions: Action[];
}

export interface ListenerPlan {
  create: DesiredListener[];
  modify: { arn: string; listener: DesiredListener }[];
  keep: { arn: string; listener: DesiredListener }[];
  delete: string[];
}

/** Listeners are matched by port: missing ones are created, changed ones modified, extra ones deleted. */
export function planListeners(
  desired: DesiredListener[],
  observed: ObservedListener[],
  arnOf: (resource: string) => string,
): ListenerPlan {
  const plan: ListenerPlan = { create: [], modify: [], keep: [], delete: [] };
  const byPort = new Map(observed.map((l) => [l.port, l]));
  for (const l of desired) {
    const o = byPort.get(l.port);
    if (!o) plan.create.push(l);
    else if (o.protocol !== l.protocol || !sameAction(o.defaultActions, toAction(l.defaultAction, arnOf)))
      plan.modify.push({ arn: o.arn, listener: l });
    else plan.keep.push({ arn: o.arn, listener: l });
  }
  const ports = new Set(desired.map((l) => l.port));
  for (const o of observed) if (!ports.has(o.port)) plan.delete.push(o.arn);
  return plan;
}

export interface ObservedRule {
  arn: string;
  priority: number;
  conditions: RuleCondition[];
  actions: Action[];
}

export interface RulePlan {
  create: DesiredRule[];
  modify: { arn: string; rule: DesiredRule }[];
  delete: string[];
}

/** A listener's rules (not its default rule), matched by priority. */
export function planRules(
  desired: DesiredRule[],
  observed: ObservedRule[],
  arnOf: (resource: string) => string,
): RulePlan {
  const plan: RulePlan = { create: [], modify: [], delete: [] };
  const byPriority = new Map(observed.map((r) => [r.priority, r]));
  for (const r of desired) {
    const o = byPriority.get(r.priority);
    if (!o) plan.create.push(r);
    else if (
      !sameConditions(o.conditions, r.conditions.map(toCondition)) ||
      !sameAction(o.actions, toAction(r.action, arnOf))
    )
      plan.modify.push({ arn: o.arn, rule: r });
  }
  const priorities = new Set(desired.map((r) => r.priority));
  for (const o of observed) if (!priorities.has(o.priority)) plan.delete.push(o.arn);
  return plan;
}
