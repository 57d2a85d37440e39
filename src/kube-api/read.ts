/** get and list: one object, or a filtered, paged list (or a Table of either for kubectl get). */
import { kubeErrors } from "../kube/errors.js";
import type { KubeObject } from "../kube/types.js";
import type { Call } from "./context.js";
import { sendJson, wantsTable } from "./http.js";
import { page } from "./paging.js";
import { matchesFilter, parseFilter } from "./selectors.js";
import { type IncludeObject, toTable } from "./tables.js";

export const apiVersionOfType = (c: Call) => (c.type.group ? `${c.type.group}/${c.type.version}` : c.type.version);

export function includeObjectOf(q: URLSearchParams): IncludeObject | undefined {
  const v = q.get("includeObject");
  if (v === null || v === "") return undefined;
  if (v === "None" || v === "Metadata" || v === "Object") return v;
  throw kubeErrors.badRequest(`includeObject: unsupported value "${v}"`);
}

/** The object as a client sees it: with its type's apiVersion and kind. */
export const typed = (c: Call, o: KubeObject): KubeObject => ({
  ...o,
  apiVersion: apiVersionOfType(c),
  kind: c.type.kind,
});

export function getObject(c: Call): KubeObject {
  const o = c.deps.objects.get(c.cluster, c.type, c.info.namespace, c.info.name ?? "");
  if (!o) throw kubeErrors.notFound(c.type.group, c.type.resource, c.info.name ?? "");
  return typed(c, o);
}

export function handleGet(c: Call) {
  const o = getObject(c);
  if (wantsTable(c.req.headers.accept))
    return sendJson(
      c.res,
      200,
      toTable(c.type, [o], {
        includeObject: includeObjectOf(c.query),
        listMeta: { resourceVersion: o.metadata.resourceVersion },
      }),
      "application/json;as=Table;v=v1;g=meta.k8s.io",
    );
  sendJson(c.res, 200, o);
}

/** The matching objects of a list request, sorted by namespace/name, and the list's resourceVersion. */
export function listMatching(c: Call): { items: KubeObject[]; resourceVersion: string } {
  const filter = parseFilter(c.query, c.type);
  const { items, resourceVersion } = c.deps.objects.list(
    c.cluster,
    c.type,
    c.type.namespaced ? c.info.namespace : undefined,
  );
  const key = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
  const matching = items
    .filter((o) => matchesFilter(filter, o))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .map((o) => typed(c, o));
  return { items: matching, resourceVersion };
}

export function handleList(c: Call) {
  const limit = c.query.get("limit");
  const n = limit === null || limit === "" ? undefined : Number(limit);
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw kubeErrors.badRequest(`invalid limit: ${limit}`);
  const all = listMatching(c);
  const p = page(all.items, all.resourceVersion, { limit: n, continue: c.query.get("continue") ?? undefined });
  const metadata = {
    resourceVersion: p.resourceVersion,
    ...(p.continue ? { continue: p.continue, remainingItemCount: p.remainingItemCount } : {}),
  };
  if (wantsTable(c.req.headers.accept))
    return sendJson(
      c.res,
      200,
      toTable(c.type, p.items, { includeObject: includeObjectOf(c.query), listMeta: metadata }),
      "application/json;as=Table;v=v1;g=meta.k8s.io",
    );
  sendJson(c.res, 200, { kind: `${c.type.kind}List`, apiVersion: apiVersionOfType(c), metadata, items: p.items });
}
