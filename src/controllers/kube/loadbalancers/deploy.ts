/**
 * The stack deployer: reads what ELBv2 has for a stack (found by its tags, as the controller's
 * tracking tags find them after a restart), asks the pure diffs what to change, and calls the API
 * in the controller's order — stale load balancers out, target groups, the load balancer,
 * listeners, rules, unused target groups out, then targets.
 */
import type { Scope } from "../../../core/ids.js";
import type { LoadBalancer, Tag, TargetGroup } from "../../../protocol/generated/types/elbv2.js";
import type { Elbv2Api } from "./api.js";
import {
  diffTargets,
  healthCheckDrift,
  type ObservedListener,
  type ObservedRule,
  planListeners,
  planRules,
  toAction,
  toCondition,
} from "./diff.js";
import { CLUSTER_TAG, type DesiredStack, type DesiredTargetGroup } from "./stack.js";

export interface Tagged<T> {
  resource: T;
  tags: Record<string, string>;
}

export interface Inventory {
  loadBalancers: Tagged<LoadBalancer>[];
  targetGroups: Tagged<TargetGroup>[];
}

const tagList = (tags: Record<string, string>): Tag[] =>
  Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Key, Value]) => ({ Key, Value }));

const matches = (tags: Record<string, string>, identity: Record<string, string>) =>
  Object.entries(identity).every(([k, v]) => tags[k] === v);

/** Every load balancer and target group of the account and region that carries a cluster tag, with its tags. */
export async function readInventory(api: Elbv2Api, scope: Scope, clusterName?: string): Promise<Inventory> {
  const lbs: LoadBalancer[] = [];
  for (let marker: string | undefined, i = 0; i < 100; i++) {
    const page = await api.send(scope, "DescribeLoadBalancers", { PageSize: 400, Marker: marker });
    lbs.push(...(page.LoadBalancers ?? []));
    marker = page.NextMarker;
    if (!marker) break;
  }
  const tgs: TargetGroup[] = [];
  for (let marker: string | undefined, i = 0; i < 100; i++) {
    const page = await api.send(scope, "DescribeTargetGroups", { PageSize: 400, Marker: marker });
    tgs.push(...(page.TargetGroups ?? []));
    marker = page.NextMarker;
    if (!marker) break;
  }
  const tagsOf = new Map<string, Record<string, string>>();
  const arns = [...lbs.map((l) => l.LoadBalancerArn ?? ""), ...tgs.map((t) => t.TargetGroupArn ?? "")].filter(Boolean);
  for (let i = 0; i < arns.length; i += 20) {
    const out = await api.send(scope, "DescribeTags", { ResourceArns: arns.slice(i, i + 20) });
    for (const d of out.TagDescriptions ?? [])
      tagsOf.set(d.ResourceArn ?? "", Object.fromEntries((d.Tags ?? []).map((t) => [t.Key, t.Value ?? ""])));
  }
  const keep = (tags: Record<string, string>) =>
    tags[CLUSTER_TAG] !== undefined && (clusterName === undefined || tags[CLUSTER_TAG] === clusterName);
  return {
    loadBalancers: lbs
      .map((resource) => ({ resource, tags: tagsOf.get(resource.LoadBalancerArn ?? "") ?? {} }))
      .filter((x) => keep(x.tags)),
    targetGroups: tgs
      .map((resource) => ({ resource, tags: tagsOf.get(resource.TargetGroupArn ?? "") ?? {} }))
      .filter((x) => keep(x.tags)),
  };
}

export interface DeployResult {
  dnsName: string;
  loadBalancerArn: string;
}

/**
 * Makes ELBv2 hold exactly the stack. `onChange` is called once, before the first change to the
 * load balancer, its listeners, rules or target groups (the controllers record their "Ensuring…"
 * event there); target registrations follow the pods quietly, as the controller's target group
 * bindings do.
 */
export async function deployStack(
  api: Elbv2Api,
  scope: Scope,
  stack: DesiredStack,
  onChange: () => void = () => {},
): Promise<DeployResult> {
  let changed = false;
  const change = () => {
    if (!changed) onChange();
    changed = true;
  };
  const inv = await readInventory(api, scope);
  const mineLbs = inv.loadBalancers.filter((x) => matches(x.tags, stack.identity));
  const mineTgs = inv.targetGroups.filter((x) => matches(x.tags, stack.identity));

  // Load balancers of the stack that are not the desired one (renamed, scheme or type changed).
  let lb = mineLbs.find(
    (x) => x.resource.LoadBalancerName === stack.loadBalancer.name && x.resource.Type === stack.loadBalancer.type,
  )?.resource;
  for (const stale of mineLbs.filter((x) => x.resource !== lb)) {
    change();
    await api.send(scope, "DeleteLoadBalancer", { LoadBalancerArn: stale.resource.LoadBalancerArn ?? "" });
  }

  // Target groups: found by name (the name hashes what cannot be modified), else created.
  const arnByResource = new Map<string, string>();
  for (const want of stack.targetGroups) {
    const have = mineTgs.find((x) => x.resource.TargetGroupName === want.name)?.resource;
    if (have) {
      const drift = healthCheckDrift(want, have);
      if (drift) {
        change();
        await api.send(scope, "ModifyTargetGroup", drift);
      }
      arnByResource.set(want.resource, have.TargetGroupArn ?? "");
      continue;
    }
    change();
    const out = await api.send(scope, "CreateTargetGroup", createTargetGroupInput(want));
    arnByResource.set(want.resource, out.TargetGroups?.[0]?.TargetGroupArn ?? "");
  }
  const arnOf = (resource: string) => {
    const arn = arnByResource.get(resource);
    if (!arn) throw new Error(`no target group for ${resource}`);
    return arn;
  };

  if (!lb) {
    change();
    const out = await api.send(scope, "CreateLoadBalancer", {
      Name: stack.loadBalancer.name,
      Type: stack.loadBalancer.type,
      Scheme: stack.loadBalancer.scheme,
      Tags: tagList(stack.loadBalancer.tags),
    });
    lb = out.LoadBalancers?.[0];
    if (!lb?.LoadBalancerArn) throw new Error(`load balancer ${stack.loadBalancer.name} was not created`);
  }
  const lbArn = lb.LoadBalancerArn ?? "";

  // Listeners by port, then each listener's rules by priority.
  const listeners = (await api.send(scope, "DescribeListeners", { LoadBalancerArn: lbArn })).Listeners ?? [];
  const observed: ObservedListener[] = listeners.map((l) => ({
    arn: l.ListenerArn ?? "",
    port: l.Port ?? 0,
    protocol: l.Protocol ?? "",
    defaultActions: l.DefaultActions ?? [],
  }));
  const plan = planListeners(stack.listeners, observed, arnOf);
  const withArns = [...plan.keep];
  for (const arn of plan.delete) {
    change();
    await api.send(scope, "DeleteListener", { ListenerArn: arn });
  }
  for (const { arn, listener } of plan.modify) {
    change();
    await api.send(scope, "ModifyListener", {
      ListenerArn: arn,
      Protocol: listener.protocol,
      DefaultActions: [toAction(listener.defaultAction, arnOf)],
    });
    withArns.push({ arn, listener });
  }
  for (const listener of plan.create) {
    change();
    const out = await api.send(scope, "CreateListener", {
      LoadBalancerArn: lbArn,
      Protocol: listener.protocol,
      Port: listener.port,
      DefaultActions: [toAction(listener.defaultAction, arnOf)],
    });
    withArns.push({ arn: out.Listeners?.[0]?.ListenerArn ?? "", listener });
  }
  for (const { arn, listener } of withArns) {
    if (stack.loadBalancer.type !== "application") continue;
    const rules = (await api.send(scope, "DescribeRules", { ListenerArn: arn })).Rules ?? [];
    const observedRules: ObservedRule[] = rules
      .filter((r) => !r.IsDefault)
      .map((r) => ({
        arn: r.RuleArn ?? "",
        priority: Number(r.Priority),
        conditions: r.Conditions ?? [],
        actions: r.Actions ?? [],
      }));
    const rp = planRules(listener.rules, observedRules, arnOf);
    for (const ruleArn of rp.delete) {
      change();
      await api.send(scope, "DeleteRule", { RuleArn: ruleArn });
    }
    for (const m of rp.modify) {
      change();
      await api.send(scope, "ModifyRule", {
        RuleArn: m.arn,
        Conditions: m.rule.conditions.map(toCondition),
        Actions: [toAction(m.rule.action, arnOf)],
      });
    }
    for (const r of rp.create) {
      change();
      await api.send(scope, "CreateRule", {
        ListenerArn: arn,
        Priority: r.priority,
        Conditions: r.conditions.map(toCondition),
        Actions: [toAction(r.action, arnOf)],
      });
    }
  }

  // Target groups of the stack nothing uses any more.
  const wanted = new Set(arnByResource.values());
  for (const stale of mineTgs.filter((x) => !wanted.has(x.resource.TargetGroupArn ?? ""))) {
    change();
    await api.send(scope, "DeleteTargetGroup", { TargetGroupArn: stale.resource.TargetGroupArn ?? "" });
  }

  // Targets.
  for (const want of stack.targetGroups) {
    const arn = arnOf(want.resource);
    const health = (await api.send(scope, "DescribeTargetHealth", { TargetGroupArn: arn })).TargetHealthDescriptions;
    const observedTargets = (health ?? []).map((d) => ({
      id: d.Target?.Id ?? "",
      port: d.Target?.Port ?? 0,
      state: d.TargetHealth?.State ?? "",
    }));
    const { register, deregister } = diffTargets(want.targets, observedTargets);
    if (deregister.length) {
      await api.send(scope, "DeregisterTargets", {
        TargetGroupArn: arn,
        Targets: deregister.map((t) => ({ Id: t.id, Port: t.port })),
      });
    }
    if (register.length) {
      await api.send(scope, "RegisterTargets", {
        TargetGroupArn: arn,
        Targets: register.map((t) => ({ Id: t.id, Port: t.port })),
      });
    }
  }
  return { dnsName: lb.DNSName ?? "", loadBalancerArn: lbArn };
}

function createTargetGroupInput(tg: DesiredTargetGroup) {
  const hc = tg.healthCheck;
  return {
    Name: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    TargetType: tg.targetType,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    ...(hc.protocol === "HTTP" ? { HealthCheckPath: hc.path, Matcher: { HttpCode: hc.matcher } } : {}),
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThresholdCount,
    UnhealthyThresholdCount: hc.unhealthyThresholdCount,
    Tags: tagList(tg.tags),
  };
}

/** Deletes a stack's load balancers, then its target groups. Returns whether anything was there. */
export async function deleteStack(
  api: Elbv2Api,
  scope: Scope,
  identity: Record<string, string>,
  onChange: () => void = () => {},
  inventory?: Inventory,
): Promise<boolean> {
  const inv = inventory ?? (await readInventory(api, scope));
  const lbs = inv.loadBalancers.filter((x) => matches(x.tags, identity));
  const tgs = inv.targetGroups.filter((x) => matches(x.tags, identity));
  if (!lbs.length && !tgs.length) return false;
  onChange();
  for (const lb of lbs)
    await api.send(scope, "DeleteLoadBalancer", { LoadBalancerArn: lb.resource.LoadBalancerArn ?? "" });
  for (const tg of tgs)
    await api.send(scope, "DeleteTargetGroup", { TargetGroupArn: tg.resource.TargetGroupArn ?? "" });
  return true;
}
