import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { type Scope, arn, parseArn } from "../../core/ids.js";
import { type SortKey, pageByKey } from "../../core/paginate.js";
import type { Collection, DocumentStore } from "../../store/documents.js";
import {
  LISTENER_KIND,
  LOAD_BALANCER_KIND,
  type ListenerRecord,
  type LoadBalancerRecord,
  RULE_KIND,
  type RuleRecord,
  TARGET_GROUP_KIND,
  TARGET_KIND,
  type TargetGroupRecord,
  type TargetRecord,
  targetKey,
} from "../../store/schema/elbv2.js";
import { forwardedTargetGroups } from "./validate.js";

const SERVICE = "elasticloadbalancing";

export const lbNotFound = (message = "One or more load balancers not found") =>
  elbv2Errors.LoadBalancerNotFoundException(message);
export const listenerNotFound = (message = "One or more listeners not found") =>
  elbv2Errors.ListenerNotFoundException(message);
export const ruleNotFound = (message = "One or more rules not found") => elbv2Errors.RuleNotFoundException(message);
export const tgNotFound = (message = "One or more target groups not found") =>
  elbv2Errors.TargetGroupNotFoundException(message);

/** Checks whether a loopback address and port can be listened on (no other process holds it). */
export type PortProbe = (address: string, port: number) => Promise<string | undefined>;

/** What every ELBv2 operation module shares: collections, clock, ARNs and lookups. */
export class ElbContext {
  readonly loadBalancers: Collection<LoadBalancerRecord>;
  readonly listeners: Collection<ListenerRecord>;
  readonly rules: Collection<RuleRecord>;
  readonly targetGroups: Collection<TargetGroupRecord>;
  readonly targets: Collection<TargetRecord>;

  constructor(
    readonly store: DocumentStore,
    readonly clock: Clock,
    readonly probePort: PortProbe,
    /** Waits (bounded) until the data plane has applied the latest change. */
    readonly settle: () => Promise<void> = async () => undefined,
  ) {
    this.loadBalancers = store.collection<LoadBalancerRecord>(LOAD_BALANCER_KIND, {
      id: (l) => l.name,
      arn: (l) => l.arn,
    });
    this.listeners = store.collection<ListenerRecord>(LISTENER_KIND, {
      id: (l) => l.arn,
      arn: (l) => l.arn,
      parent: (l) => l.loadBalancerArn,
    });
    this.rules = store.collection<RuleRecord>(RULE_KIND, {
      id: (r) => r.arn,
      arn: (r) => r.arn,
      parent: (r) => r.listenerArn,
    });
    this.targetGroups = store.collection<TargetGroupRecord>(TARGET_GROUP_KIND, {
      id: (t) => t.name,
      arn: (t) => t.arn,
    });
    this.targets = store.collection<TargetRecord>(TARGET_KIND, {
      id: (t) => targetKey(t.targetGroupArn, t.id, t.port),
      parent: (t) => t.targetGroupArn,
    });
  }

  // ---- ARNs -----------------------------------------------------------------------------------

  static newId = () => randomBytes(8).toString("hex");

  loadBalancerArn(scope: Scope, type: "application" | "network", name: string, id: string) {
    return arn(SERVICE, scope, `loadbalancer/${type === "application" ? "app" : "net"}/${name}/${id}`);
  }

  /** "app/<name>/<id>" of a load balancer ARN. */
  private lbPath = (lbArn: string) => lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length);

  listenerArn(scope: Scope, lbArn: string, id: string) {
    return arn(SERVICE, scope, `listener/${this.lbPath(lbArn)}/${id}`);
  }

  ruleArn(scope: Scope, listenerArn: string, id: string) {
    const listenerPath = listenerArn.slice(listenerArn.indexOf(":listener/") + ":listener/".length);
    return arn(SERVICE, scope, `listener-rule/${listenerPath}/${id}`);
  }

  targetGroupArn(scope: Scope, name: string, id: string) {
    return arn(SERVICE, scope, `targetgroup/${name}/${id}`);
  }

  /** The default VPC and subnets Berth reports when a request names none: stable per account and region. */
  defaultVpc(scope: Scope) {
    const h = (s: string) => createHash("sha256").update(`${scope.account}/${scope.region}/${s}`).digest("hex");
    return { vpcId: `vpc-${h("vpc").slice(0, 17)}`, subnets: ["a", "b"].map((z) => `subnet-${h(z).slice(0, 17)}`) };
  }

  /**
   * A loopback address no other load balancer of this Berth uses: 127.A.B.C with A ≥ 1, random
   * so that several Berths on one host rarely collide. (All of 127.0.0.0/8 is local on Linux.)
   */
  allocateAddress(): string {
    const used = new Set(this.loadBalancers.listAll().map((l) => l.doc.address));
    for (;;) {
      const [a, b, c] = randomBytes(3);
      const address = `127.${1 + (a % 254)}.${b}.${1 + (c % 254)}`;
      if (!used.has(address)) return address;
    }
  }

  // ---- lookups --------------------------------------------------------------------------------

  loadBalancer(lbArn: string): { scope: Scope; doc: LoadBalancerRecord } {
    const hit = this.loadBalancers.byArn(lbArn);
    if (!hit) throw lbNotFound(`Load balancer '${lbArn}' not found`);
    return hit;
  }

  listener(listenerArn: string): { scope: Scope; doc: ListenerRecord } {
    const hit = this.listeners.byArn(listenerArn);
    if (!hit) throw listenerNotFound(`Listener '${listenerArn}' not found`);
    return hit;
  }

  targetGroup(tgArn: string): { scope: Scope; doc: TargetGroupRecord } {
    const hit = this.targetGroups.byArn(tgArn);
    if (!hit) throw tgNotFound(`Target group '${tgArn}' not found`);
    return hit;
  }

  /** A rule by ARN: a stored rule, or a listener's default rule. */
  rule(ruleArn: string): { scope: Scope; rule?: RuleRecord; defaultOf?: ListenerRecord } {
    const hit = this.rules.byArn(ruleArn);
    if (hit) return { scope: hit.scope, rule: hit.doc };
    const parsed = parseArn(ruleArn);
    const m = parsed && /^listener-rule\/(.+)\/[0-9a-f]+$/.exec(parsed.resource);
    if (parsed && m) {
      const listener = this.listeners.byArn(arn(SERVICE, parsed, `listener/${m[1]}`));
      if (listener?.doc.defaultRuleArn === ruleArn) return { scope: listener.scope, defaultOf: listener.doc };
    }
    throw ruleNotFound(`Rule '${ruleArn}' not found`);
  }

  /** Load balancers whose listeners or rules forward to each target group of a scope. */
  targetGroupUse(scope: Scope): Map<string, Set<string>> {
    const use = new Map<string, Set<string>>();
    const add = (tg: string, lb: string) => {
      const set = use.get(tg) ?? new Set<string>();
      use.set(tg, set);
      set.add(lb);
    };
    for (const l of this.listeners.list(scope))
      for (const tg of forwardedTargetGroups(l.defaultActions)) add(tg, l.loadBalancerArn);
    for (const r of this.rules.list(scope))
      for (const tg of forwardedTargetGroups(r.actions)) add(tg, r.loadBalancerArn);
    return use;
  }

  loadBalancerArnsOf(scope: Scope, tgArn: string): string[] {
    return [...(this.targetGroupUse(scope).get(tgArn) ?? [])].sort();
  }

  /** Targets of a group that are registered or still draining at `now`. */
  liveTargets(scope: Scope, tgArn: string, now = this.clock.now()): TargetRecord[] {
    return this.targets.children(scope, tgArn).filter((t) => !t.drainEndsAt || t.drainEndsAt.getTime() > now.getTime());
  }
}

/** Marker-based paging for Describe* operations (Marker / PageSize / NextMarker), in key order. */
export function pageOf<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  marker: string | undefined,
  pageSize: number | undefined,
): { page: T[]; next?: string } {
  const { page, nextToken } = pageByKey(items, keyOf, {
    nextToken: marker,
    limit: pageSize ?? 400,
    invalidToken: () =>
      commonErrors.ValidationError("The marker is not valid; pass the NextMarker of the previous response"),
  });
  return { page, next: nextToken };
}
