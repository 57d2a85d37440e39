import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Operations, Rule } from "../../protocol/generated/types/elbv2.js";
import type { Provider } from "../../protocol/service.js";
import { ElbContext, pageOf } from "./context.js";
import { actionContext } from "./listeners.js";
import type { ListenerRecord, RuleRecord } from "../../store/schema/elbv2.js";
import { mergeTags } from "./tags.js";
import { normalizeActions, normalizeConditions } from "./validate.js";

const MAX_RULES = 100;

export const describeRule = (r: RuleRecord): Rule => ({
  RuleArn: r.arn,
  Priority: String(r.priority),
  Conditions: r.conditions,
  Actions: r.actions,
  IsDefault: false,
});

export const describeDefaultRule = (l: ListenerRecord): Rule => ({
  RuleArn: l.defaultRuleArn,
  Priority: "default",
  Conditions: [],
  Actions: l.defaultActions,
  IsDefault: true,
});

/** A listener's rules as DescribeRules lists them: by priority, the default rule last. */
export function listenerRules(elb: ElbContext, scope: Scope, l: ListenerRecord): Rule[] {
  const rules = elb.rules.children(scope, l.arn).sort((a, b) => a.priority - b.priority);
  return [...rules.map(describeRule), describeDefaultRule(l)];
}

const priorityInUse = (p: number) => elbv2Errors.PriorityInUseException(`Priority '${p}' is currently in use`);

export function ruleOperations(elb: ElbContext): Provider<Operations> {
  const rulesOnly = (listener: ListenerRecord) => {
    if (listener.protocol !== "HTTP")
      throw elbv2Errors.InvalidConfigurationRequestException(
        "Rules can only be added to listeners of Application Load Balancers; this listener has only a default action",
      );
  };

  return {
    CreateRule: (input) => {
      const { scope, doc: listener } = elb.listener(input.ListenerArn);
      const { doc: lb } = elb.loadBalancer(listener.loadBalancerArn);
      rulesOnly(listener);
      if (input.Transforms?.length)
        throw commonErrors.ValidationError("Rule transforms are not supported by Berth yet");
      const conditions = normalizeConditions(input.Conditions);
      const actions = normalizeActions(input.Actions, actionContext(elb, scope, lb, listener.protocol));
      const tags = mergeTags([], input.Tags ?? []);
      const existing = elb.rules.children(scope, listener.arn);
      if (existing.some((r) => r.priority === input.Priority)) throw priorityInUse(input.Priority);
      if (existing.length >= MAX_RULES)
        throw elbv2Errors.TooManyRulesException(
          `A listener can have at most ${MAX_RULES} rules besides the default rule`,
        );
      const record: RuleRecord = {
        arn: elb.ruleArn(scope, listener.arn, ElbContext.newId()),
        listenerArn: listener.arn,
        loadBalancerArn: lb.arn,
        priority: input.Priority,
        conditions,
        actions,
        tags,
      };
      elb.rules.put(scope, record);
      return { Rules: [describeRule(record)] };
    },

    DescribeRules: (input) => {
      if (input.ListenerArn && input.RuleArns?.length)
        throw commonErrors.ValidationError("Rule ARNs and a listener ARN cannot be specified at the same time");
      let rules: Rule[];
      if (input.ListenerArn) {
        const { scope, doc } = elb.listener(input.ListenerArn);
        rules = listenerRules(elb, scope, doc);
      } else if (input.RuleArns?.length) {
        rules = input.RuleArns.map((a) => {
          const { rule, defaultOf } = elb.rule(a);
          return rule ? describeRule(rule) : describeDefaultRule(defaultOf!);
        });
      } else {
        throw commonErrors.ValidationError("You must specify either a listener ARN or rule ARNs");
      }
      const indexed = rules.map((r, i) => ({ r, i }));
      const { page, next } = pageOf(indexed, (x) => [x.i], input.Marker, input.PageSize);
      return { Rules: page.map((x) => x.r), NextMarker: next };
    },

    ModifyRule: (input) => {
      const { scope, rule, defaultOf } = elb.rule(input.RuleArn);
      if (input.Transforms?.length)
        throw commonErrors.ValidationError("Rule transforms are not supported by Berth yet");
      if (defaultOf) {
        if (input.Conditions?.length)
          throw elbv2Errors.OperationNotPermittedException("The conditions of a default rule cannot be modified");
        if (!input.Actions) return { Rules: [describeDefaultRule(defaultOf)] };
        const { doc: lb } = elb.loadBalancer(defaultOf.loadBalancerArn);
        const defaultActions = normalizeActions(input.Actions, actionContext(elb, scope, lb, defaultOf.protocol));
        const updated = { ...defaultOf, defaultActions };
        elb.listeners.put(scope, updated);
        return { Rules: [describeDefaultRule(updated)] };
      }
      const r = rule!;
      const { doc: listener } = elb.listener(r.listenerArn);
      const { doc: lb } = elb.loadBalancer(r.loadBalancerArn);
      const conditions = input.Conditions ? normalizeConditions(input.Conditions) : r.conditions;
      const actions = input.Actions
        ? normalizeActions(input.Actions, actionContext(elb, scope, lb, listener.protocol))
        : r.actions;
      const updated = { ...r, conditions, actions };
      elb.rules.put(scope, updated);
      return { Rules: [describeRule(updated)] };
    },

    DeleteRule: (input) => {
      const { scope, rule } = elb.rule(input.RuleArn);
      if (!rule) throw elbv2Errors.OperationNotPermittedException("The default rule of a listener cannot be deleted");
      elb.rules.delete(scope, rule.arn);
      return {};
    },

    SetRulePriorities: (input) => {
      const changes = input.RulePriorities.map((p) => {
        if (!p.RuleArn) throw commonErrors.ValidationError("Each rule priority pair must have a RuleArn");
        if (p.Priority === undefined)
          throw commonErrors.ValidationError("Each rule priority pair must have a Priority");
        const found = elb.rule(p.RuleArn);
        if (!found.rule)
          throw elbv2Errors.OperationNotPermittedException("The priority of a default rule cannot be changed");
        return { scope: found.scope, rule: found.rule, priority: p.Priority };
      });
      const seen = new Set<string>();
      for (const c of changes) {
        if (seen.has(c.rule.arn)) throw commonErrors.ValidationError(`Rule '${c.rule.arn}' is listed more than once`);
        seen.add(c.rule.arn);
      }
      // The priorities every affected listener would end up with must be unique.
      const listeners = new Map<string, Scope>(changes.map((c) => [c.rule.listenerArn, c.scope]));
      for (const [listenerArn, scope] of listeners) {
        const taken = new Map<number, string>();
        for (const r of elb.rules.children(scope, listenerArn)) {
          const change = changes.find((c) => c.rule.arn === r.arn);
          const p = change ? change.priority : r.priority;
          if (taken.has(p)) throw priorityInUse(p);
          taken.set(p, r.arn);
        }
      }
      const updated = changes.map((c) => ({ scope: c.scope, rule: { ...c.rule, priority: c.priority } }));
      elb.store.transaction(() => {
        for (const u of updated) elb.rules.put(u.scope, u.rule);
      });
      return { Rules: updated.map((u) => describeRule(u.rule)) };
    },
  };
}
