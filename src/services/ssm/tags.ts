import type { Scope } from "../../core/ids.js";
import { type TagLimit, mergeTags, removeTags } from "../../core/tags.js";
import type { Operations } from "../../protocol/generated/types/ssm.js";
import type { Provider } from "../../protocol/service.js";
import { type ParameterStore, parseParameterRef } from "./store.js";
import { ssmErrors } from "../../protocol/generated/errors/ssm.js";

/** SSM's quota of 50 tags a parameter. */
export const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: () => ssmErrors.TooManyTagsError("The Tags parameter contains more than 50 tags."),
};

/** AddTagsToResource, RemoveTagsFromResource, ListTagsForResource (on parameters). */
export function tagOperations(ps: ParameterStore): Provider<Operations> {
  const resourceParameter = (scope: Scope, type: string, id: string) => {
    if (type !== "Parameter")
      throw ssmErrors.InvalidResourceType(`Berth's SSM supports tags on Parameter resources only, not ${type}.`);
    const p = ps.find(parseParameterRef(scope, id));
    if (!p)
      throw ssmErrors.InvalidResourceId(
        "The resource ID is not valid. Verify that you entered the correct ID and try again.",
      );
    return p;
  };

  return {
    AddTagsToResource: (input, ctx) =>
      ps.store.transaction(() => {
        const p = resourceParameter(ctx, input.ResourceType, input.ResourceId);
        ps.parameters.put(ctx, { ...p, Tags: mergeTags(p.Tags, input.Tags, TAG_LIMIT) });
        return {};
      }),
    RemoveTagsFromResource: (input, ctx) =>
      ps.store.transaction(() => {
        const p = resourceParameter(ctx, input.ResourceType, input.ResourceId);
        ps.parameters.put(ctx, { ...p, Tags: removeTags(p.Tags, input.TagKeys) });
        return {};
      }),
    ListTagsForResource: (input, ctx) => ({
      TagList: resourceParameter(ctx, input.ResourceType, input.ResourceId).Tags,
    }),
  };
}
