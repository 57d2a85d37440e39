import type { Scope } from "../../core/ids.js";
import { pageByOffset } from "../../core/paginate.js";
import { type TagLimit, duplicateTagKey, mergeTags, removeTags } from "../../core/tags.js";
import type { Operations, Tag } from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import { type EfsContext, badRequest, markerPage } from "./context.js";

export const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: (n) => badRequest(`A resource can have at most 50 tags; this request would give it ${n}.`),
  missingValue: "",
};

export function checkTags(tags: Tag[] | undefined) {
  for (const t of tags ?? []) {
    if (!t.Key || t.Key.length > 128) throw badRequest("Tag keys must be 1 to 128 characters long.");
    if (/^aws:/i.test(t.Key)) throw badRequest(`Tag key '${t.Key}' uses the reserved prefix 'aws:'.`);
    if ((t.Value ?? "").length > 256) throw badRequest("Tag values must be at most 256 characters long.");
  }
  const dup = duplicateTagKey(tags);
  if (dup !== undefined) throw badRequest(`Tag key '${dup}' appears more than once.`);
}

/** Tags of file systems and access points, by id or ARN (TagResource and the older *Tags calls). */
export function tagOperations(efs: EfsContext): Provider<Operations> {
  const { fileSystems, accessPoints } = efs.records;
  const resource = (scope: Scope, id: string) => {
    if (/(^|\/)fsap-/.test(id)) {
      const ap = efs.requireAccessPoint(scope, id);
      return { tags: ap.Tags, save: (Tags: Tag[]) => accessPoints.put(scope, { ...ap, Tags }) };
    }
    const fs = efs.requireFileSystem(scope, id);
    return { tags: fs.Tags, save: (Tags: Tag[]) => fileSystems.put(scope, { ...fs, Tags }) };
  };
  const add = (scope: Scope, id: string, tags: Tag[]) => {
    checkTags(tags);
    const r = resource(scope, id);
    r.save(mergeTags(r.tags, tags, TAG_LIMIT));
    return {};
  };
  const remove = (scope: Scope, id: string, keys: string[]) => {
    const r = resource(scope, id);
    r.save(removeTags(r.tags, keys));
    return {};
  };
  return {
    TagResource: (input, scope) => add(scope, input.ResourceId, input.Tags),
    UntagResource: (input, scope) => remove(scope, input.ResourceId, input.TagKeys),
    ListTagsForResource: (input, scope) => {
      const { page, nextToken } = pageByOffset(resource(scope, input.ResourceId).tags, {
        nextToken: input.NextToken,
        limit: input.MaxResults ?? 100,
        invalidToken: () => badRequest("The NextToken is not valid."),
      });
      return { Tags: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    CreateTags: (input, scope) => add(scope, input.FileSystemId, input.Tags),
    DeleteTags: (input, scope) => remove(scope, input.FileSystemId, input.TagKeys),
    DescribeTags: (input, scope) => {
      const fs = efs.requireFileSystem(scope, input.FileSystemId);
      const { page, Marker, NextMarker } = markerPage(fs.Tags, (t) => t.Key, input.Marker, input.MaxItems);
      return { Tags: page, ...(Marker ? { Marker } : {}), ...(NextMarker ? { NextMarker } : {}) };
    },
  };
}
