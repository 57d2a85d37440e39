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

/**
 * How a service's tag type spells its key and value. Most models say `Key`/`Value` (the default);
 * ECS says `key`/`value`.
 */
export interface TagFields<T> {
  key(tag: T): string | undefined;
  value(tag: T): string | undefined;
  make(key: string | undefined, value: string | undefined): T;
}

export const keyValueFields: TagFields<KeyValueTag> = {
  key: (t) => t.Key,
  value: (t) => t.Value,
  make: (Key, Value) => ({ Key, Value }),
};

/** A tag spelt `key`/`value` (ECS). */
export interface LowercaseTag {
  key?: string;
  value?: string;
}

export const lowercaseFields: TagFields<LowercaseTag> = {
  key: (t) => t.key,
  value: (t) => t.value,
  make: (key, value) => ({ key, value }),
};

/** `existing` with `added` merged in (same key: the new value wins, in place); throws past the limit. */
export function mergeTags<T extends KeyValueTag>(
  existing: readonly T[],
  added: readonly T[] | undefined,
  limit: TagLimit,
): T[];
export function mergeTags<T>(
  existing: readonly T[],
  added: readonly T[] | undefined,
  limit: TagLimit,
  fields: TagFields<T>,
): T[];
export function mergeTags<T>(
  existing: readonly T[],
  added: readonly T[] | undefined,
  limit: TagLimit,
  fields = keyValueFields as unknown as TagFields<T>,
): T[] {
  const value = (t: T) => fields.value(t) ?? limit.missingValue;
  const map = new Map(existing.map((t) => [fields.key(t), value(t)]));
  for (const t of added ?? []) map.set(fields.key(t), value(t));
  if (map.size > limit.max) throw limit.tooMany(map.size);
  return [...map].map(([key, v]) => fields.make(key, v));
}

/** `existing` without the tags whose keys are listed. */
export function removeTags<T extends KeyValueTag>(existing: readonly T[], keys: readonly string[] | undefined): T[];
export function removeTags<T>(existing: readonly T[], keys: readonly string[] | undefined, fields: TagFields<T>): T[];
export function removeTags<T>(
  existing: readonly T[],
  keys: readonly string[] | undefined,
  fields = keyValueFields as unknown as TagFields<T>,
): T[] {
  return existing.filter((t) => !(keys ?? []).includes(fields.key(t) ?? ""));
}

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
