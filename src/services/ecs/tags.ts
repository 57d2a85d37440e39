import { type TagLimit, lowercaseFields, mergeTags, removeTags } from "../../core/tags.js";
import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import type { Operations, Tag } from "../../protocol/generated/types/ecs.js";
import type { Collection } from "../../store/documents.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";

/** ECS's own limit and wording; the merge is core/tags.ts's. */
const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: () => ecsErrors.InvalidParameterException("A resource can have at most 50 tags."),
};

interface TaggedResource {
  tags: Tag[];
  save(tags: Tag[]): void;
}

function lookup<T extends { tags?: Tag[] }>(c: Collection<T>, resourceArn: string): TaggedResource | undefined {
  const hit = c.byArn(resourceArn);
  if (!hit) return undefined;
  return { tags: hit.doc.tags ?? [], save: (tags) => c.put(hit.scope, { ...hit.doc, tags }) };
}

/** TagResource / UntagResource / ListTagsForResource for every ECS resource kind Berth stores. */
export function tagOperations(ecs: EcsContext): Provider<Operations> {
  const find = (resourceArn: string): TaggedResource => {
    const found =
      lookup(ecs.clusters, resourceArn) ??
      lookup(ecs.taskDefinitions, resourceArn) ??
      lookup(ecs.tasks, resourceArn) ??
      lookup(ecs.services, resourceArn);
    if (!found) throw ecsErrors.ResourceNotFoundException(`The specified resource is not found: ${resourceArn}.`);
    return found;
  };
  return {
    TagResource: (input) => {
      const resource = find(input.resourceArn);
      if (input.tags.some((t) => t.key?.toLowerCase().startsWith("aws:")))
        throw ecsErrors.InvalidParameterException("Tag keys with the prefix 'aws:' are reserved for AWS use.");
      resource.save(mergeTags(resource.tags, input.tags, TAG_LIMIT, lowercaseFields));
      return {};
    },
    UntagResource: (input) => {
      const resource = find(input.resourceArn);
      resource.save(removeTags(resource.tags, input.tagKeys, lowercaseFields));
      return {};
    },
    ListTagsForResource: (input) => ({ tags: find(input.resourceArn).tags }),
  };
}
