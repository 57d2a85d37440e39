import { type TagLimit, mergeTags, removeTags } from "../../core/tags.js";
import type { Operations } from "../../protocol/generated/types/secretsmanager.js";
import type { Provider } from "../../protocol/service.js";
import { type SecretsContext, invalidRequest } from "./context.js";

/** Secrets Manager's quota of 50 tags a secret. */
const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: () => invalidRequest("The request failed because it would exceed the maximum of 50 tags for a secret."),
};

/** TagResource, UntagResource. */
export function tagOperations(c: SecretsContext): Provider<Operations> {
  return {
    TagResource: (input, ctx) => {
      const s = c.require(ctx, input.SecretId);
      c.save({ ...s, Tags: mergeTags(s.Tags, input.Tags, TAG_LIMIT) });
      return {};
    },
    UntagResource: (input, ctx) => {
      const s = c.require(ctx, input.SecretId);
      c.save({ ...s, Tags: removeTags(s.Tags, input.TagKeys) });
      return {};
    },
  };
}
