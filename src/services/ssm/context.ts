import type { Scope } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { Parameter } from "../../protocol/generated/types/ssm.js";
import {
  type ParameterRecord,
  type ParameterStore,
  type ParameterVersionRecord,
  parameterNotFound,
  parseParameterRef,
} from "./store.js";
import { ssmErrors } from "../../protocol/generated/errors/ssm.js";

export const validation = ssmErrors.ValidationException;
export const invalidNextToken = () => ssmErrors.InvalidNextToken("The specified token isn't valid.");
export const maxResults = (limit: number) => (size: number) =>
  validation(
    `1 validation error detected: Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`,
  );

/** One page of parameters in name order. */
export function pageOf<T extends { Name: string }>(
  items: T[],
  nextToken: string | undefined,
  max: number | undefined,
  limit: number,
  dflt: number,
) {
  const size = pageSize(max, { default: dflt, max: limit }, maxResults(limit));
  const { page, nextToken: next } = pageByKey(items, (x) => [x.Name], {
    nextToken,
    limit: size,
    invalidToken: invalidNextToken,
  });
  return { page, NextToken: next };
}

/** The newest version of a parameter. */
export const latest = (p: ParameterRecord) => p.versions[p.versions.length - 1];

/** A version's value as a response carries it: SecureString stays sealed unless decryption is asked for. */
export const responseValue = (ps: ParameterStore, v: ParameterVersionRecord, decrypt: boolean) =>
  v.Type === "SecureString" && !decrypt ? v.sealed : ps.open(v);

/** The GetParameter view of one version. */
export const view = (
  ps: ParameterStore,
  p: ParameterRecord,
  v: ParameterVersionRecord,
  decrypt: boolean,
  selector?: string,
): Parameter => ({
  Name: p.Name,
  Type: v.Type,
  Value: responseValue(ps, v, decrypt),
  Version: v.Version,
  Selector: selector !== undefined ? `:${selector}` : undefined,
  LastModifiedDate: v.LastModifiedDate,
  ARN: p.ARN,
  DataType: v.DataType,
});

/** A parameter by name or ARN, or ParameterNotFound naming it as asked. */
export const requireByName = (ps: ParameterStore, scope: Scope, name: string) => {
  const r = parseParameterRef(scope, name);
  const p = ps.find(r);
  if (!p) throw parameterNotFound(name);
  return p;
};
