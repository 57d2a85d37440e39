import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import { type TagLimit, mergeTags as mergeTagList, removeTags } from "../../core/tags.js";
import type { Operations, Tag } from "../../protocol/generated/types/elbv2.js";
import type { Provider } from "../../protocol/service.js";
import { type ElbContext, lbNotFound, listenerNotFound, tgNotFound } from "./context.js";
import { parseArn } from "../../core/ids.js";

/** ELB's quota of 50 tags a resource. */
const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: (count) =>
    elbv2Errors.TooManyTagsException(`A resource can have at most 50 tags; this request would give it ${count}`),
  missingValue: "",
};

/** Merges `added` into `existing` (same key: new value), with AWS's limits. Pure. */
export function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const keys = new Set<string>();
  for (const t of added) {
    if (keys.has(t.Key)) throw elbv2Errors.DuplicateTagKeysException(`Tag key '${t.Key}' is duplicated`);
    keys.add(t.Key);
    if (t.Key.toLowerCase().startsWith("aws:"))
      throw commonErrors.ValidationError(`Tag key '${t.Key}' is not valid: the 'aws:' prefix is reserved`);
  }
  return mergeTagList(existing, added, TAG_LIMIT);
}

interface Tagged {
  tags: Tag[];
  save(tags: Tag[]): void;
}

/** AddTags / RemoveTags / DescribeTags for load balancers, target groups, listeners and rules. */
export function tagOperations(elb: ElbContext): Provider<Operations> {
  const find = (resourceArn: string): Tagged => {
    const resource = parseArn(resourceArn)?.resource ?? "";
    if (resource.startsWith("loadbalancer/")) {
      const hit = elb.loadBalancers.byArn(resourceArn);
      if (!hit) throw lbNotFound(`Load balancer '${resourceArn}' not found`);
      return { tags: hit.doc.tags, save: (tags) => elb.loadBalancers.put(hit.scope, { ...hit.doc, tags }) };
    }
    if (resource.startsWith("targetgroup/")) {
      const hit = elb.targetGroups.byArn(resourceArn);
      if (!hit) throw tgNotFound(`Target group '${resourceArn}' not found`);
      return { tags: hit.doc.tags, save: (tags) => elb.targetGroups.put(hit.scope, { ...hit.doc, tags }) };
    }
    if (resource.startsWith("listener/")) {
      const hit = elb.listeners.byArn(resourceArn);
      if (!hit) throw listenerNotFound(`Listener '${resourceArn}' not found`);
      return { tags: hit.doc.tags, save: (tags) => elb.listeners.put(hit.scope, { ...hit.doc, tags }) };
    }
    if (resource.startsWith("listener-rule/")) {
      const { scope, rule, defaultOf } = elb.rule(resourceArn);
      if (rule) return { tags: rule.tags, save: (tags) => elb.rules.put(scope, { ...rule, tags }) };
      const l = defaultOf!;
      return {
        tags: l.defaultRuleTags ?? [],
        save: (tags) => elb.listeners.put(scope, { ...l, defaultRuleTags: tags }),
      };
    }
    throw lbNotFound(`Load balancer '${resourceArn}' not found`);
  };
  const findAll = (arns: string[]) => {
    if (arns.length === 0) throw commonErrors.ValidationError("At least one resource ARN must be specified");
    if (arns.length > 20) throw commonErrors.ValidationError("At most 20 resource ARNs can be specified");
    return arns.map((a) => ({ arn: a, resource: find(a) }));
  };
  return {
    AddTags: (input) => {
      const found = findAll(input.ResourceArns);
      const merged = found.map((f) => mergeTags(f.resource.tags, input.Tags)); // validate all before writing any
      elb.store.transaction(() => {
        for (const [i, f] of found.entries()) f.resource.save(merged[i]);
      });
      return {};
    },
    RemoveTags: (input) => {
      const found = findAll(input.ResourceArns);
      elb.store.transaction(() => {
        for (const f of found) f.resource.save(removeTags(f.resource.tags, input.TagKeys));
      });
      return {};
    },
    DescribeTags: (input) => ({
      TagDescriptions: findAll(input.ResourceArns).map((f) => ({ ResourceArn: f.arn, Tags: f.resource.tags })),
    }),
  };
}
