import type { Clock } from "../../core/clock.js";
import { commonErrors } from "../../core/errors.js";
import { pageByOffset, pageSize } from "../../core/paginate.js";
import { type TagLimit, duplicateTagKey, mergeTags as mergeTagList, removeTags } from "../../core/tags.js";
import type { Credentials } from "../../iam/credentials.js";
import { MalformedPolicy, type PolicyKind, parsePolicy, policySize } from "../../iam/policy.js";
import type { IamStore } from "../../iam/store.js";
import { iamErrors } from "../../protocol/generated/errors/iam.js";
import type { Tag } from "../../protocol/generated/types/iam.js";

/** What every IAM operation module shares. */
export interface IamContext {
  iam: IamStore;
  credentials: Credentials;
  clock: Clock;
}

export const noSuchEntity = iamErrors.NoSuchEntityException;
export const alreadyExists = iamErrors.EntityAlreadyExistsException;
export const deleteConflict = iamErrors.DeleteConflictException;
export const limitExceeded = iamErrors.LimitExceededException;
export const invalidInput = iamErrors.InvalidInputException;
export const validationError = commonErrors.ValidationError;

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;

/** AWS's pattern check for names (roleName, userName, policyName, …). */
export function checkName(value: string, member: string): string {
  if (!NAME.test(value))
    throw validationError(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
    );
  return value;
}

export function checkPath(value: string | undefined): string {
  const path = value ?? "/";
  if (!PATH.test(path))
    throw validationError(
      `1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`,
    );
  return path;
}

/** Parses a policy document for storing: MalformedPolicyDocument (and size quotas) like IAM. */
export function checkPolicyDocument(text: string, kind: PolicyKind, quota: { name: string; size: number }): string {
  try {
    parsePolicy(text, kind);
  } catch (e) {
    if (e instanceof MalformedPolicy) throw iamErrors.MalformedPolicyDocumentException(e.message);
    throw e;
  }
  if (policySize(text) > quota.size) throw limitExceeded(`Cannot exceed quota for ${quota.name}: ${quota.size}`);
  return text;
}

/** IAM returns policy documents URL-encoded (RFC 3986), as the AWS CLI expects to decode them. */
export const encodeDocument = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const invalidMarker = () => invalidInput("Invalid Marker.");

/** IAM's Marker/MaxItems paging over an already sorted list. */
export function page<T>(items: T[], marker: string | undefined, maxItems: number | undefined) {
  const size = pageSize(maxItems, { default: 100, max: 1000 }, (n) =>
    validationError(
      `1 validation error detected: Value '${n}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
    ),
  );
  const { page, nextToken } = pageByOffset(items, { nextToken: marker, limit: size, invalidToken: invalidMarker });
  return { items: page, IsTruncated: nextToken !== undefined, Marker: nextToken };
}

export const byName =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a).toLowerCase() < key(b).toLowerCase() ? -1 : key(a).toLowerCase() > key(b).toLowerCase() ? 1 : 0;

/** IAM's quota of 50 tags an entity. */
const TAG_LIMIT: TagLimit = {
  max: 50,
  tooMany: () => limitExceeded("Cannot exceed quota for TagsPerResource: 50"),
  missingValue: "",
};

/** Merges tags (new values win) and checks IAM's quota of 50. */
export const mergeTags = (existing: Tag[], added: Tag[] | undefined): Tag[] => mergeTagList(existing, added, TAG_LIMIT);

export function checkNewTags(tags: Tag[] | undefined): Tag[] {
  if (duplicateTagKey(tags, true) !== undefined)
    throw invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
  return mergeTags([], tags);
}

export { removeTags };
