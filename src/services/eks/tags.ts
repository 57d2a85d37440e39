import type { Scope } from "../../core/ids.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type { Operations } from "../../protocol/generated/types/eks.js";
import type { Provider } from "../../protocol/service.js";
import { fargateProfileCollection } from "../../store/schema/eks-fargate.js";
import { NodegroupRecords } from "../../store/schema/eks-nodegroups.js";
import type { EksContext } from "./context.js";

const badRequest = (message: string) => eksErrors.BadRequestException(message);

/** EKS's tag rules: at most 50, keys 1–128 characters without `aws:`, values up to 256. */
export function checkTagMap(tags: Record<string, string>, existing: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(tags)) {
    if (!k || k.length > 128) throw badRequest("Tag keys must be 1 to 128 characters long.");
    if (/^aws:/i.test(k)) throw badRequest(`Tag key '${k}' uses the reserved prefix 'aws:'.`);
    if ((v ?? "").length > 256) throw badRequest("Tag values must be at most 256 characters long.");
  }
  const count = Object.keys({ ...existing, ...tags }).length;
  if (count > 50) throw badRequest(`A resource can have at most 50 tags; this request would give it ${count}.`);
}

/** Tags of clusters and access entries, by ARN. */
export function tagOperations(eks: EksContext): Provider<Operations> {
  const { clusters, accessEntries } = eks.records;
  const fargateProfiles = fargateProfileCollection(eks.store);
  const { nodegroups } = new NodegroupRecords(eks.store);
  const resource = (arn: string) => {
    const c = clusters.byArn(arn);
    if (c)
      return { tags: c.doc.tags, save: (tags: Record<string, string>) => clusters.put(c.scope, { ...c.doc, tags }) };
    const e = accessEntries.byArn(arn);
    if (e)
      return {
        tags: e.doc.tags,
        save: (tags: Record<string, string>) => accessEntries.put(e.scope, { ...e.doc, tags }),
      };
    const f = fargateProfiles.byArn(arn);
    if (f)
      return {
        tags: f.doc.tags,
        save: (tags: Record<string, string>) => fargateProfiles.put(f.scope, { ...f.doc, tags }),
      };
    const n = nodegroups.byArn(arn);
    if (n)
      return { tags: n.doc.tags, save: (tags: Record<string, string>) => nodegroups.put(n.scope, { ...n.doc, tags }) };
    throw eksErrors.NotFoundException(`Resource was not found: ${arn}`);
  };
  const inScope = (arn: string, scope: Scope) => {
    const r = resource(arn);
    if (!arn.includes(`:${scope.region}:${scope.account}:`))
      throw eksErrors.NotFoundException(`Resource was not found: ${arn}`);
    return r;
  };
  return {
    TagResource: (input, ctx) => {
      const r = inScope(input.resourceArn, ctx);
      checkTagMap(input.tags, r.tags);
      r.save({ ...r.tags, ...input.tags });
      return {};
    },
    UntagResource: (input, ctx) => {
      const r = inScope(input.resourceArn, ctx);
      const tags = { ...r.tags };
      for (const k of input.tagKeys) delete tags[k];
      r.save(tags);
      return {};
    },
    ListTagsForResource: (input, ctx) => ({ tags: inScope(input.resourceArn, ctx).tags }),
  };
}
