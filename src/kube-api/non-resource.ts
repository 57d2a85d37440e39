/** The non-resource paths: /version, health checks, discovery and OpenAPI. */
import { createHash } from "node:crypto";
import type { ResourceType } from "../kube/types.js";
import type { Call, VersionInfo } from "./context.js";
import {
  AGGREGATED_V2,
  AGGREGATED_V2BETA1,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  wantsAggregated,
} from "./discovery.js";
import { notFoundPath, sendBytes, sendJson } from "./http.js";
import { OPENAPI_V2_PROTOBUF, openApiV2Json, openApiV2Protobuf } from "./openapi.js";
import { openApiV3Document, openApiV3Index } from "./openapi-v3.js";
import { OIDC_PATHS, serveOidcDiscovery } from "./token-request.js";

const DEFAULT_GIT_VERSION = "v1.31.4";

/** /version as EKS reports it: `v1.31.4-eks-<hex>`, minor "31+". */
export function versionInfo(partial: Partial<VersionInfo> = {}): VersionInfo {
  let git = partial.gitVersion ?? DEFAULT_GIT_VERSION;
  const hex = createHash("sha256").update(git).digest("hex");
  if (!git.includes("-eks-")) git = `${git}-eks-${hex.slice(0, 7)}`;
  const m = /^v(\d+)\.(\d+)/.exec(git);
  return {
    major: partial.major ?? m?.[1] ?? "1",
    minor: partial.minor ?? `${m?.[2] ?? "31"}+`,
    gitVersion: git,
    gitCommit: partial.gitCommit ?? hex.slice(0, 40),
    gitTreeState: partial.gitTreeState ?? "clean",
    buildDate: partial.buildDate ?? "2025-01-01T00:00:00Z",
    goVersion: partial.goVersion ?? "go1.22.12",
    compiler: partial.compiler ?? "gc",
    platform: partial.platform ?? "linux/amd64",
  };
}

const HEALTH = ["/healthz", "/livez", "/readyz"];

function sendText(c: Call, text: string) {
  sendBytes(c.res, 200, Buffer.from(text), "text/plain; charset=utf-8");
}

export function serveNonResource(c: Call, resources: readonly ResourceType[]) {
  const path = c.info.path ?? "/";
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const method = c.req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") throw notFoundPath();
  if (HEALTH.includes(p) || HEALTH.some((h) => p === `${h}/ping` || p.startsWith(`${h}/`))) {
    if (c.query.has("verbose")) return sendText(c, `[+]ping ok\n[+]etcd ok\n${p.slice(1)} check passed\n`);
    return sendText(c, "ok");
  }
  if (p === "/version") {
    const v = typeof c.deps.version === "function" ? c.deps.version(c.cluster) : c.deps.version;
    return sendJson(c.res, 200, versionInfo(v));
  }
  const aggregated = wantsAggregated(c.req.headers.accept);
  if (p === "/api") {
    if (aggregated)
      return sendJson(
        c.res,
        200,
        aggregatedDiscovery(resources, true, aggregated),
        aggregated === "v2" ? AGGREGATED_V2 : AGGREGATED_V2BETA1,
      );
    return sendJson(c.res, 200, apiVersions(String(c.req.headers.host ?? "")));
  }
  if (p === "/apis") {
    if (aggregated)
      return sendJson(
        c.res,
        200,
        aggregatedDiscovery(resources, false, aggregated),
        aggregated === "v2" ? AGGREGATED_V2 : AGGREGATED_V2BETA1,
      );
    return sendJson(c.res, 200, apiGroupList(resources));
  }
  if (p === "/api/v1") return sendJson(c.res, 200, apiResourceList(resources, "", "v1"));
  const g = /^\/apis\/([^/]+)$/.exec(p);
  if (g) {
    const doc = apiGroup(resources, g[1]);
    if (doc) return sendJson(c.res, 200, doc);
    throw notFoundPath();
  }
  const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
  if (gv) {
    const doc = apiResourceList(resources, gv[1], gv[2]);
    if (doc) return sendJson(c.res, 200, doc);
    throw notFoundPath();
  }
  if (OIDC_PATHS.includes(p)) return serveOidcDiscovery(c, p);
  if (p === "/openapi/v2") {
    const accept = String(c.req.headers.accept ?? "");
    if (accept.includes("protobuf")) return sendBytes(c.res, 200, openApiV2Protobuf(), OPENAPI_V2_PROTOBUF);
    return sendBytes(c.res, 200, openApiV2Json(), "application/json");
  }
  if (p === "/openapi/v3") return sendJson(c.res, 200, openApiV3Index(resources));
  const v3 = /^\/openapi\/v3\/(apis\/[^/]+\/[^/]+|api\/v1)$/.exec(p);
  if (v3) {
    const doc = openApiV3Document(v3[1]);
    if (doc) return sendBytes(c.res, 200, doc, "application/json");
    throw notFoundPath();
  }
  throw notFoundPath();
}
