import type { ServiceError } from "./errors.js";

/**
 * Tag merging and removal for every service's TagResource-style operations. Pure. Each service
 * passes its own limit and its own error, so the AWS error code and message stay the service's.
 */

/** A tag as the generated types spell it (some models make Key or Value optional). */
export interface KeyValueTag {
  Key?: string;
  Value?: string;
}

export interface TagLimit {
  /** How many tags a resource may carry. */
  max: number;
  /** The service's error for a resource that would carry `count` tags. */
  tooMany: (count: number) => ServiceError;
  /** The value a tag without one is stored with (some services store "", others nothing). */
  missingValue?: string;
}

/** `existing` with `added` merged in (same key: the new value wins, in place); throws past the limit. */
export function mergeTags<T extends KeyValueTag>(
  existing: readonly T[],
  added: readonly T[] | undefined,
  limit: TagLimit,
): T[] {
  const value = (t: T) => t.Value ?? limit.missingValue;
  const map = new Map(existing.map((t) => [t.Key, value(t)]));
  for (const t of added ?? []) map.set(t.Key, value(t));
  if (map.size > limit.max) throw limit.tooMany(map.size);
  return [...map].map(([Key, Value]) => ({ Key, Value }) as T);
}

/** `existing` without the tags whose keys are listed. */
export const removeTags = <T extends KeyValueTag>(existing: readonly T[], keys: readonly string[] | undefined): T[] =>
  existing.filter((t) => !(keys ?? []).includes(t.Key ?? ""));

/** The first key that appears twice (compared case-insensitively when asked), or undefined. */
export function duplicateTagKey(tags: readonly KeyValueTag[] | undefined, caseInsensitive = false): string | undefined {
  const seen = new Set<string>();
  for (const t of tags ?? []) {
    const k = caseInsensitive ? (t.Key ?? "").toLowerCase() : (t.Key ?? "");
    if (seen.has(k)) return t.Key;
    seen.add(k);
  }
  return undefined;
}
