/**
 * limit/continue for lists: the continue token carries the list's resourceVersion and the key
 * (namespace/name) the next page starts after, as kube-apiserver's does (base64 JSON). PURE.
 */
import { KubeError, kubeErrors } from "../kube/errors.js";
import type { KubeObject } from "../kube/types.js";

export interface ContinueToken {
  /** The resourceVersion of the first page's list. */
  rv: number;
  /** The key of the last object returned: the next page starts after it. */
  start: string;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: t.rv, start: t.start })).toString("base64url");
}

export function decodeContinue(s: string): ContinueToken {
  try {
    const j = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as { v?: string; rv?: unknown; start?: unknown };
    if (j.v !== "meta.k8s.io/v1" || typeof j.rv !== "number" || typeof j.start !== "string") throw new Error("shape");
    return { rv: j.rv, start: j.start };
  } catch {
    throw kubeErrors.badRequest(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
}

export const objectKey = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

export interface Page {
  items: KubeObject[];
  continue?: string;
  remainingItemCount?: number;
  resourceVersion: string;
}

/**
 * One page of a list sorted by key: the items after the token's key, at most `limit` of them
 * (0 or undefined: all). `oldest` is the oldest resourceVersion still in the change log: a
 * token older than it is 410 Expired, as kube-apiserver answers a compacted continue.
 */
export function page(
  sorted: KubeObject[],
  listRv: string,
  opts: { limit?: number; continue?: string; oldest?: number },
): Page {
  let items = sorted;
  let rv = listRv;
  if (opts.continue) {
    const t = decodeContinue(opts.continue);
    if (opts.oldest !== undefined && t.rv < opts.oldest)
      throw new KubeError(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
      );
    items = items.filter((o) => objectKey(o) > t.start);
    rv = String(t.rv);
  }
  const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
  if (limit === undefined || items.length <= limit) return { items, resourceVersion: rv };
  const shown = items.slice(0, limit);
  return {
    items: shown,
    resourceVersion: rv,
    continue: encodeContinue({ rv: Number(rv), start: objectKey(shown[shown.length - 1]) }),
    remainingItemCount: items.length - limit,
  };
}
