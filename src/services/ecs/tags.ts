import { ServiceError } from "../../core/errors.js";
import type { Operations, Tag } from "../../protocol/generated/types/ecs.js";
import type { Collection } from "../../store/documents.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";

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
    if (!found)
      throw new ServiceError("ResourceNotFoundException", `The specified resource is not found: ${resourceArn}.`);
    return found;
  };
  return {
    TagResource: (input) => {
      const resource = find(input.resourceArn);
      if (input.tags.some((t) => t.key?.toLowerCase().startsWith("aws:")))
        throw new ServiceError(
          "InvalidParameterException",
          "Tag keys with the prefix 'aws:' are reserved for AWS use.",
        );
      const tags = new Map(resource.tags.map((t) => [t.key, t.value]));
      for (const t of input.tags) tags.set(t.key, t.value);
      if (tags.size > 50) throw new ServiceError("InvalidParameterException", "A resource can have at most 50 tags.");
      resource.save([...tags].map(([key, value]) => ({ key, value })));
      return {};
    },
    UntagResource: (input) => {
      const resource = find(input.resourceArn);
      const drop = new Set(input.tagKeys);
      resource.save(resource.tags.filter((t) => !drop.has(t.key ?? "")));
      return {};
    },
    ListTagsForResource: (input) => ({ tags: find(input.resourceArn).tags }),
  };
}
