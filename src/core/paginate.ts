import { ServiceError } from "./errors.js";

/**
 * Pagination for list operations: pure, no I/O. A token names the last item returned (its sort
 * key), not an offset, so a page stays correct while items are added or removed.
 */

export type SortKey = (string | number)[];

export const invalidToken = () =>
  new ServiceError(
    "InvalidParameterException",
    "The specified nextToken is not valid. Pass the nextToken from the previous response unchanged, with the same other parameters.",
  );

export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === "number" && typeof y === "number") return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/**
 * One page of `items` in key order (reversed when `descending`), starting after the item the
 * token names. The token is the last returned item's key, so it stays valid across writes.
 */
export function pageByKey<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  opts: { descending?: boolean; nextToken?: string; limit: number },
): { page: T[]; nextToken?: string } {
  const sign = opts.descending ? -1 : 1;
  const sorted = [...items].sort((a, b) => sign * compareKeys(keyOf(a), keyOf(b)));
  let start = 0;
  if (opts.nextToken !== undefined) {
    const after = decodeKey(opts.nextToken);
    start = sorted.findIndex((item) => sign * compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + opts.limit);
  const more = start + page.length < sorted.length;
  return { page, nextToken: more ? encodeKey(keyOf(page[page.length - 1])) : undefined };
}

export function encodeKey(key: SortKey): string {
  return Buffer.from(JSON.stringify(["k1", ...key]), "utf8").toString("base64url");
}

export function decodeKey(token: string): SortKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidToken();
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== "k1" ||
    !parsed.slice(1).every((p) => typeof p === "string" || typeof p === "number")
  )
    throw invalidToken();
  return parsed.slice(1) as SortKey;
}

/** A page size from a request's maxResults, checked against the operation's limits. */
export function pageSize(
  maxResults: number | undefined,
  limits: { default: number; max: number },
  code = "InvalidParameterException",
): number {
  const size = maxResults ?? limits.default;
  if (!Number.isInteger(size) || size < 1 || size > limits.max)
    throw new ServiceError(code, `maxResults must be between 1 and ${limits.max}; got ${size}.`);
  return size;
}
