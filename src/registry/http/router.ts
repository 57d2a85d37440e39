import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../core/logger.js";
import type { Access, RegistryPolicy, RepoRef, RepositoryInfo } from "../api.js";
import { PullThroughCache } from "../upstream/cache.js";
import { registryError } from "../errors.js";
import type { OciRegistry } from "../registry.js";
import { blobRoute } from "./blobs.js";
import type { RouteContext } from "./context.js";
import { manifestRoute, referrersRoute, tagsRoute } from "./manifests.js";
import { REPOSITORY_NAME } from "./names.js";
import {
  API_VERSION,
  TOKEN_PATH,
  challenge,
  drain,
  isRegistryError,
  nextLink,
  pagination,
  sendError,
  sendJson,
  unauthorized,
} from "./respond.js";
import { credentialsOf, tokenRoute } from "./token.js";
import { startUploadRoute, uploadRoute } from "./uploads.js";

export interface RegistryRouteDeps {
  registry: OciRegistry;
  policy: RegistryPolicy;
  logger?: Logger;
  /** The clock of pull-through rechecks (ms since the epoch). */
  now?: () => number;
}

type Handler = (ctx: RouteContext, param: string) => Promise<void>;

/** The routes under /v2/<name>/, most specific first (names may contain `/`). */
const ROUTES: { path: RegExp; handler: Handler; access: (method: string) => Access }[] = [
  { path: /^\/v2\/(.+)\/tags\/list$/, handler: (ctx) => tagsRoute(ctx), access: () => "pull" },
  {
    path: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    handler: manifestRoute,
    access: (m) => (m === "PUT" ? "push" : m === "DELETE" ? "delete" : "pull"),
  },
  { path: /^\/v2\/(.+)\/blobs\/uploads\/?$/, handler: (ctx) => startUploadRoute(ctx), access: () => "push" },
  { path: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, handler: uploadRoute, access: () => "push" },
  { path: /^\/v2\/(.+)\/blobs\/([^/]+)$/, handler: blobRoute, access: (m) => (m === "DELETE" ? "delete" : "pull") },
  { path: /^\/v2\/(.+)\/referrers\/([^/]+)$/, handler: referrersRoute, access: () => "pull" },
];

const METHODS = new Set(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"]);

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** A private repository that does not exist (yet): who may pull it is who may pull the account's. */
const privateProbe = (ref: RepoRef): RepositoryInfo => ({
  ...ref,
  public: false,
  imageTagMutability: "MUTABLE",
  mutabilityExclusionFilters: [],
});

/**
 * The OCI distribution API (v1.1) on the edge's port under /v2/. Each request resolves the
 * account and region from its Host, the repository through the policy (ECR never creates one
 * on push: NAME_UNKNOWN), then checks the caller's access; bodies stream to and from storage.
 */
/** The /v2/ routes as one handler for the edge, which streams its own bodies. */
export type RegistryRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createRegistryRoute(deps: RegistryRouteDeps): RegistryRoute {
  const { registry, policy, logger } = deps;
  const pullThrough = policy.pullThrough;
  const cache =
    pullThrough && new PullThroughCache({ registry, policy: pullThrough, now: deps.now ?? Date.now, logger });

  /** Whether the credentials identify anyone: asked of a private repository no one can own. */
  const authenticated = (authorization: string | undefined, scope: { account: string; region: string }) =>
    authorization !== undefined &&
    policy.authorize(authorization, privateProbe({ ...scope, name: "" }), "pull") !== "unauthenticated";

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL) {
    const method = req.method ?? "GET";
    const path = url.pathname;
    const scope = policy.scopeForHost(req.headers.host);
    const authorization = credentialsOf(req.headers.authorization);
    if (path === TOKEN_PATH) {
      await drain(req);
      return tokenRoute(req, res, authenticated(authorization, scope) ? authorization : undefined);
    }
    if (path === "/v2" || path === "/v2/") {
      await drain(req);
      if (method !== "GET" && method !== "HEAD")
        throw registryError("UNSUPPORTED", `${method} is not supported on /v2/`, undefined, 405);
      if (!authenticated(authorization, scope)) return sendError(res, unauthorized(), challenge(req));
      return sendJson(res, 200, {});
    }
    if (path === "/v2/_catalog") {
      await drain(req);
      if (method !== "GET" && method !== "HEAD")
        throw registryError("UNSUPPORTED", `${method} is not supported on the catalog`, undefined, 405);
      if (!authenticated(authorization, scope))
        return sendError(res, unauthorized(), challenge(req, "registry:catalog:*"));
      const { n, last } = pagination(url);
      const names = policy
        .repositories(scope)
        .filter((name) => name > last)
        .filter((name) => {
          const r = policy.repository({ ...scope, name });
          return r !== undefined && policy.authorize(authorization, r, "pull") === "ok";
        });
      if (n === undefined) return sendJson(res, 200, { repositories: names });
      const page = names.slice(0, n);
      const more = names.length > n && page.length > 0;
      return sendJson(res, 200, { repositories: page }, more ? nextLink("/v2/_catalog", n, page.at(-1)!) : {});
    }
    const route = ROUTES.map((r) => ({ r, m: r.path.exec(path) })).find((x) => x.m);
    if (!route?.m) {
      await drain(req);
      return sendError(res, registryError("NAME_UNKNOWN", `no registry route for ${method} ${path}`, undefined, 404));
    }
    if (!METHODS.has(method)) throw registryError("UNSUPPORTED", `${method} is not supported`, undefined, 405);
    const name = decode(route.m[1]);
    if (!REPOSITORY_NAME.test(name))
      throw registryError(
        "NAME_INVALID",
        `invalid repository name '${name}': 2–256 characters of lowercase letters, digits and . _ - separators, / between components`,
        { name },
      );
    let ref: RepoRef = { ...scope, name };
    let repo = policy.repository(ref);
    const read = method === "GET" || method === "HEAD";
    // Mirror mode: a Docker Hub name Berth has no repository for is served from the mirror rule's cache.
    const mirrored = !repo && read && !pullThrough?.target(ref) ? pullThrough?.mirrorOf?.(ref) : undefined;
    if (mirrored) {
      ref = mirrored;
      repo = policy.repository(ref);
    }
    // A pull of a name a pull-through rule covers may fetch it (and create the repository) first.
    const manifestPull = route.r.handler === manifestRoute && read;
    const target = manifestPull ? pullThrough?.target(ref) : undefined;
    if (!repo && !target)
      throw registryError(
        "NAME_UNKNOWN",
        `The repository with name '${name}' does not exist in the registry with id '${scope.account}'`,
        { name },
      );
    const access = route.r.access(method);
    const verdict =
      mirrored && access === "pull" ? "ok" : policy.authorize(authorization, repo ?? privateProbe(ref), access);
    if (verdict === "unauthenticated")
      return sendError(
        res,
        unauthorized(),
        challenge(req, `repository:${name}:${access === "pull" ? "pull" : `${access},pull`}`),
      );
    if (verdict === "denied") throw registryError("DENIED", `not authorized to ${access} repository ${name}`, { name });
    if (target && cache) repo = await cache.ensureManifest(ref, target, decode(route.m[2] ?? ""), repo);
    if (!repo) throw registryError("NAME_UNKNOWN", `The repository with name '${name}' does not exist`, { name });
    const ctx: RouteContext = {
      req,
      res,
      url,
      registry,
      policy,
      authorization,
      repo,
      base: `/v2/${name}`,
      baseHeaders: API_VERSION,
      logError: (e) =>
        logger?.error({ err: (e as Error).message, path }, "registry: a response failed after it started"),
    };
    await route.r.handler(ctx, decode(route.m[2] ?? ""));
  }

  return async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      await handle(req, res, url);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
      } else if (isRegistryError(e)) {
        sendError(res, e);
      } else {
        logger?.error(
          { err: (e as Error).message, stack: (e as Error).stack, path: url.pathname },
          "registry: request failed",
        );
        sendJson(res, 500, { errors: [{ code: "UNKNOWN", message: "internal error in Berth's registry" }] });
      }
    }
    if (logger?.isLevelEnabled("info"))
      logger.info({
        registry: `${req.method} ${url.pathname}`,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      });
  };
}
