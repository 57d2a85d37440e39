/**
 * What a Kubernetes API request asks for, from its method, path and query, as kube-apiserver's
 * RequestInfoFactory reads it: the verb (get/list/watch/create/update/patch/delete/deletecollection),
 * the API group and version, resource, subresource, namespace and name; or a non-resource path. PURE.
 */
import type { RequestAttributes } from "../kube/contracts.js";

export interface RequestInfo extends RequestAttributes {
  /** "api" or "apis" for resource and discovery paths. */
  apiPrefix?: "api" | "apis";
  apiVersion?: string;
  /** Path segments after the group/version that name no resource (discovery of a group or version). */
  parts: string[];
}

/** Namespace subresources: /api/v1/namespaces/{name}/{status,finalize} address the namespace itself. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const m = method.toUpperCase();
  const segs = path.split("/").filter((s) => s !== "");
  const nonResource = (): RequestInfo => ({
    verb: m.toLowerCase(),
    path,
    resourceRequest: false,
    parts: segs,
  });
  const prefix = segs[0];
  if (prefix !== "api" && prefix !== "apis") return nonResource();
  let rest = segs.slice(1);
  let apiGroup = "";
  if (prefix === "apis") {
    if (rest.length < 1) return { ...nonResource(), apiPrefix: prefix };
    apiGroup = rest[0];
    rest = rest.slice(1);
  }
  if (rest.length < 1) return { ...nonResource(), apiPrefix: prefix, apiGroup };
  const apiVersion = rest[0];
  rest = rest.slice(1);
  // /api/v1 and /apis/g/v: discovery, a non-resource request.
  if (rest.length === 0) return { ...nonResource(), apiPrefix: prefix, apiGroup, apiVersion };

  let verb: string;
  switch (m) {
    case "POST":
      verb = "create";
      break;
    case "GET":
    case "HEAD":
      verb = "get";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = "delete";
      break;
    default:
      verb = "";
  }
  // The deprecated /watch/ prefix.
  let watchPrefix = false;
  if (rest[0] === "watch" && (verb === "get" || verb === "")) {
    watchPrefix = true;
    verb = "watch";
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces") {
    if (rest.length > 1) {
      namespace = rest[1];
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    }
  }
  const info: RequestInfo = {
    verb,
    apiPrefix: prefix,
    apiGroup,
    apiVersion,
    resourceRequest: true,
    path,
    parts: rest,
    ...(namespace !== undefined ? { namespace } : {}),
  };
  if (rest.length >= 3) info.subresource = rest[2];
  if (rest.length >= 2) info.name = rest[1];
  if (rest.length >= 1) info.resource = rest[0];
  // No name: a list or a watch; a field selector on metadata.name names the object (for authorization).
  if (!info.name && verb === "get") {
    info.verb = isWatch(query) ? "watch" : "list";
    const byName = nameFromFieldSelector(query.get("fieldSelector"));
    if (byName) info.name = byName;
  }
  if (watchPrefix && !info.name) {
    const byName = nameFromFieldSelector(query.get("fieldSelector"));
    if (byName) info.name = byName;
  }
  if (!info.name && verb === "delete") info.verb = "deletecollection";
  return info;
}

const isWatch = (q: URLSearchParams) => {
  const w = q.get("watch");
  return w !== null && w !== "0" && w.toLowerCase() !== "false";
};

function nameFromFieldSelector(sel: string | null): string | undefined {
  if (!sel) return undefined;
  for (const term of sel.split(",")) {
    const m = /^\s*metadata\.name\s*==?\s*([^\s/]+)\s*$/.exec(term);
    if (m) return m[1];
  }
  return undefined;
}
