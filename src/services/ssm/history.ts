import { pageByKey, pageSize } from "../../core/paginate.js";
import type { Operations } from "../../protocol/generated/types/ssm.js";
import type { Provider } from "../../protocol/service.js";
import { invalidNextToken, maxResults, requireByName, responseValue } from "./context.js";
import type { ParameterStore } from "./store.js";

/** GetParameterHistory: every kept version, oldest first. */
export function historyOperations(ps: ParameterStore): Provider<Operations> {
  return {
    GetParameterHistory: (input, ctx) => {
      const p = requireByName(ps, ctx, input.Name);
      const withDecryption = input.WithDecryption ?? false;
      const history = p.versions.map((v) => ({
        Name: p.Name,
        Type: v.Type,
        KeyId: v.KeyId,
        LastModifiedDate: v.LastModifiedDate,
        LastModifiedUser: v.LastModifiedUser,
        Description: v.Description,
        Value: responseValue(ps, v, withDecryption),
        AllowedPattern: v.AllowedPattern,
        Version: v.Version,
        Labels: v.Labels,
        Tier: v.Tier,
        Policies: [],
        DataType: v.DataType,
      }));
      const { page, nextToken } = pageByKey(history, (h) => [h.Version], {
        nextToken: input.NextToken,
        limit: pageSize(input.MaxResults, { default: 50, max: 50 }, maxResults(50)),
        invalidToken: invalidNextToken,
      });
      return { Parameters: page, NextToken: nextToken };
    },
  };
}
