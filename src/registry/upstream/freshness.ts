/**
 * PURE: whether a pull-through cache answers a pull from what it holds. A digest names fixed
 * content, so a cached digest is always served; a cached tag is served until the recheck interval
 * (ECR: 24 hours) has passed since it was last compared with the upstream, then revalidated
 * (HEAD upstream, fetched again only when its digest moved); anything missing is fetched.
 */

export interface CachedTag {
  present: boolean;
  isTag: boolean;
  /** When the tag was last compared with the upstream (ms), if ever. */
  checkedAt?: number;
}

export type Freshness = "serve" | "revalidate" | "fetch";

export function freshness(cached: CachedTag, now: number, recheckMs: number): Freshness {
  if (!cached.present) return "fetch";
  if (!cached.isTag) return "serve";
  if (cached.checkedAt !== undefined && now - cached.checkedAt < recheckMs) return "serve";
  return "revalidate";
}
