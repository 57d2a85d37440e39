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

export interface PageRequest {
  nextToken?: string;
  limit: number;
  /** The service's error for a token it did not issue (default: InvalidParameterException). */
  invalidToken?: () => ServiceError;
}

/**
 * One page of `items` in key order (reversed when `descending`), starting after the item the
 * token names. The token is the last returned item's key, so it stays valid across writes.
 */
export function pageByKey<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  opts: PageRequest & { descending?: boolean },
): { page: T[]; nextToken?: string } {
  const sign = opts.descending ? -1 : 1;
  const sorted = [...items].sort((a, b) => sign * compareKeys(keyOf(a), keyOf(b)));
  let start = 0;
  if (opts.nextToken !== undefined) {
    const after = decodeKey(opts.nextToken, opts.invalidToken);
    start = sorted.findIndex((item) => sign * compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + opts.limit);
  const more = start + page.length < sorted.length;
  return { page, nextToken: more ? encodeKey(keyOf(page[page.length - 1])) : undefined };
}

/**
 * One page of a list whose order is its own (tags as written, versions oldest first): the token
 * is the offset of the next item. For lists with a sort key, prefer pageByKey.
 */
export function pageByOffset<T>(items: T[], opts: PageRequest): { page: T[]; nextToken?: string } {
  let start = 0;
  if (opts.nextToken !== undefined) {
    const [offset, ...rest] = decodeKey(opts.nextToken, opts.invalidToken);
    if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0 || rest.length)
      throw (opts.invalidToken ?? invalidToken)();
    start = offset;
  }
  const page = items.slice(start, start + opts.limit);
  const next = start + opts.limit;
  return { page, nextToken: next < items.length ? encodeKey([next]) : undefined };
}

export function encodeKey(key: SortKey): string {
  return Buffer.from(JSON.stringify(["k1", ...key]), "utf8").toString("base64url");
}

export function decodeKey(token: string, invalid: () => ServiceError = invalidToken): SortKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== "k1" ||
    !parsed.slice(1).every((p) => typeof p === "string" || typeof p === "number")
  )
    throw invalid();
  return parsed.slice(1) as SortKey;
}

/**
 * A page size from a request's maxResults, checked against the operation's limits. A service
 * with its own wording passes its error (given the size asked for) instead of a code.
 */
export function pageSize(
  maxResults: number | undefined,
  limits: { default: number; max: number },
  error: string | ((size: number) => ServiceError) = "InvalidParameterException",
): number {
  const size = maxResults ?? limits.default;
  if (!Number.isInteger(size) || size < 1 || size > limits.max)
    throw typeof error === "string"
      ? new ServiceError(error, `maxResults must be between 1 and ${limits.max}; got ${size}.`)
      : error(size);
  return size;
}

/**
 * For lists answered whole in one page: such a list never issues a token, so any token sent
 * is one the service did not issue and is refused (AWS does), not silently ignored.
 */
export function noTokenIssued(nextToken: string | undefined, invalid: () => ServiceError = invalidToken) {
  if (nextToken !== undefined) throw invalid();
}
