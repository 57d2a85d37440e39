import type { Clock } from "../../core/clock.js";
import type { PlaneSource } from "../../lb/model.js";
import type { Operations } from "../../protocol/generated/types/elbv2.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { ElbContext, type PortProbe } from "./context.js";
import type { LoadBalancing, TargetGroupInfo } from "./index.js";
import { listenerOperations } from "./listeners.js";
import { loadBalancerOperations } from "./load-balancers.js";
import type { StoredHealth } from "../../store/schema/elbv2.js";
import { ruleOperations } from "./rules.js";
import { buildSnapshot } from "./snapshot.js";
import { tagOperations } from "./tags.js";
import { currentTargetGroupAttributes, targetGroupOperations } from "./target-groups.js";
import {
  type InstanceResolver,
  describeTargetHealth,
  deregisterTargets,
  registerTargets,
  targetOperations,
} from "./targets.js";

/** How long an API call waits for the data plane to apply its change before answering anyway. */
const SETTLE_LIMIT_MS = 3000;

export interface Elbv2Deps {
  store: DocumentStore;
  clock: Clock;
  /** Checks that a listener's address and port are free; by default everything is. */
  probePort?: PortProbe;
  /** Where instance targets receive traffic; by default instances are unknown (Target.InvalidState). */
  resolveInstance?: InstanceResolver;
  /**
   * Called after a change to listeners or load balancers; resolves once the data plane has
   * applied it (bounded), so `create-listener` followed by `curl` works. Default: nothing to wait for.
   */
  settle?: () => Promise<void>;
}

/**
 * ELBv2 (awsQuery, Version 2015-12-01): load balancers, listeners, rules, target groups,
 * targets and tags. Returns the service, the LoadBalancing contract for ECS, and the
 * PlaneSource the data plane (src/lb) reconciles listeners and health checks from.
 */
export function elbv2Service(deps: Elbv2Deps) {
  const settle = deps.settle ?? (async () => undefined);
  const elb = new ElbContext(deps.store, deps.clock, deps.probePort ?? (async () => undefined), async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settle(), new Promise((r) => (timer = setTimeout(r, SETTLE_LIMIT_MS)))]);
    clearTimeout(timer);
  });
  const resolveInstance = deps.resolveInstance ?? (() => undefined);
  const provider: Provider<Operations> = {
    ...loadBalancerOperations(elb),
    ...listenerOperations(elb),
    ...ruleOperations(elb),
    ...targetGroupOperations(elb),
    ...targetOperations(elb, resolveInstance),
    ...tagOperations(elb),
  };

  const loadBalancing: LoadBalancing = {
    targetGroup(arn): TargetGroupInfo | undefined {
      const hit = elb.targetGroups.byArn(arn);
      if (!hit) return undefined;
      const tg = hit.doc;
      const hc = tg.healthCheck;
      return {
        arn: tg.arn,
        name: tg.name,
        port: tg.port,
        protocol: tg.protocol,
        targetType: tg.targetType,
        healthCheck: {
          enabled: hc.enabled,
          protocol: hc.protocol,
          port: hc.port,
          path: hc.path,
          intervalSeconds: hc.intervalSeconds,
          timeoutSeconds: hc.timeoutSeconds,
          healthyThresholdCount: hc.healthyThresholdCount,
          unhealthyThresholdCount: hc.unhealthyThresholdCount,
          matcher: hc.matcher,
        },
        deregistrationDelaySeconds: Number(currentTargetGroupAttributes(tg)["deregistration_delay.timeout_seconds"]),
        loadBalancerArns: elb.loadBalancerArnsOf(hit.scope, tg.arn),
      };
    },
    register(arn, targets) {
      const { scope, doc } = elb.targetGroup(arn);
      registerTargets(
        elb,
        scope,
        doc,
        targets.map((t) => ({ Id: t.id, Port: t.port })),
      );
    },
    deregister(arn, targets) {
      const { scope, doc } = elb.targetGroup(arn);
      deregisterTargets(
        elb,
        scope,
        doc,
        targets.map((t) => ({ Id: t.id, Port: t.port })),
      );
    },
    health(arn) {
      const { scope, doc } = elb.targetGroup(arn);
      return describeTargetHealth(elb, scope, doc, undefined, resolveInstance).map((d) => ({
        id: d.Target!.Id,
        port: d.Target!.Port!,
        state: d.TargetHealth!.State!,
        ...(d.TargetHealth!.Reason ? { reason: d.TargetHealth!.Reason } : {}),
        ...(d.TargetHealth!.Description ? { description: d.TargetHealth!.Description } : {}),
      }));
    },
  };

  const planeSource: PlaneSource = {
    read: () =>
      buildSnapshot(
        {
          loadBalancers: elb.loadBalancers.listAll().map((x) => x.doc),
          listeners: elb.listeners.listAll().map((x) => x.doc),
          rules: elb.rules.listAll().map((x) => x.doc),
          targetGroups: elb.targetGroups.listAll().map((x) => x.doc),
          targets: elb.targets.listAll().map((x) => x.doc),
        },
        resolveInstance,
      ),
    subscribe(onChange) {
      const watch = deps.store.watch({ kinds: (kind) => kind.startsWith("elbv2.") }, () => onChange());
      return () => watch.stop();
    },
    setHealth(tgArn: string, key: string, health: StoredHealth) {
      const tg = elb.targetGroups.byArn(tgArn);
      if (!tg) return;
      const current = elb.targets.get(tg.scope, key);
      if (!current || current.drainEndsAt) return;
      const h = current.health;
      if (h.state === health.state && h.reason === health.reason && h.description === health.description) return;
      elb.targets.put(tg.scope, { ...current, health });
    },
    removeTarget(tgArn: string, key: string) {
      const tg = elb.targetGroups.byArn(tgArn);
      if (tg) elb.targets.delete(tg.scope, key);
    },
    markProvisioned(lbArn: string) {
      const hit = elb.loadBalancers.byArn(lbArn);
      if (hit && !hit.doc.provisionedAt)
        elb.loadBalancers.put(hit.scope, { ...hit.doc, provisionedAt: deps.clock.now() });
    },
  };

  return {
    service: defineService("elbv2", provider, { validationCode: "ValidationError" }),
    loadBalancing,
    planeSource,
    context: elb,
    /** The typed operations, for Berth's own callers (ECS Express Mode). */
    provider,
  };
}
