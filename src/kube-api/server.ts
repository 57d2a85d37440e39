/**
 * The Kubernetes API server of each EKS cluster: one HTTPS listener per cluster (its endpoint's
 * certificate), and one request pipeline for every resource of the table — bearer token →
 * Authenticator (401) → request attributes → Authorizer (403 with kube-apiserver's message) →
 * discovery / OpenAPI / the verb's handler over the ObjectStore. Errors are Status objects.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import type { ClusterEndpoint, KubeApiEndpoints, RequestAttributes, UserInfo } from "../kube/contracts.js";
import { KubeError, kubeErrors } from "../kube/errors.js";
import { BUILTIN_RESOURCES } from "../kube/resources.js";
import type { ClusterRef, ResourceType } from "../kube/types.js";
import type { Call, KubeApiDeps } from "./context.js";
import { serveNonResource } from "./non-resource.js";
import { handleExecUpgrade, rejectUpgrade } from "./exec.js";
import { readBody, sendError, statusOf } from "./http.js";
import { handleGet, handleList, getObject } from "./read.js";
import { type RequestInfo, requestInfo } from "./request-info.js";
import { handleReview, isReview } from "./reviews.js";
import { handleLog, handleScale } from "./subresources.js";
import { handleBinding, handleEviction } from "./pod-actions.js";
import { handlePortForwardUpgrade } from "./portforward.js";
import { handleTokenRequest } from "./token-request.js";
import { handleWatch } from "./watch.js";
import { handleCreate, handleDelete, handleDeleteCollection, handlePatch, handleUpdate } from "./write.js";

export type { KubeApiDeps, VersionInfo } from "./context.js";

export interface KubeApiServer extends KubeApiEndpoints {
  /** Serves one request of a cluster (the HTTPS listeners call this; tests may too). */
  handler(cluster: ClusterRef, req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Serves an upgrade request (pods/exec and attach over WebSocket). */
  upgrade(cluster: ClusterRef, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

const clusterKey = (c: ClusterRef) => `${c.scope.account}/${c.scope.region}/${c.name}`;

/** Paths served without a token, as kube-apiserver's system:public-info-viewer serves them to anyone. */
const PUBLIC = new Set(["/healthz", "/livez", "/readyz", "/version", "/healthz/ping", "/livez/ping", "/readyz/ping"]);

function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    return m?.[1].trim() || undefined;
  }
  // Browsers' WebSocket clients carry it as a subprotocol.
  for (const p of String(req.headers["sec-websocket-protocol"] ?? "").split(",")) {
    const m = /^base64url\.bearer\.authorization\.k8s\.io\.(.+)$/.exec(p.trim());
    if (m) return Buffer.from(m[1], "base64url").toString("utf8");
  }
  return undefined;
}

/** kube-apiserver's 403 text: `pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbiddenError(user: UserInfo, a: RequestAttributes, reason: string): KubeError {
  let msg: string;
  if (!a.resourceRequest) msg = `User "${user.username}" cannot ${a.verb} path "${a.path}"`;
  else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = a.namespace
      ? `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup ?? ""}" in the namespace "${a.namespace}"`
      : `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup ?? ""}" at the cluster scope`;
  }
  if (reason) msg = `${msg}: ${reason}`;
  if (!a.resourceRequest) return kubeErrors.forbidden(`forbidden: ${msg}`, {});
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : (a.resource ?? "");
  return kubeErrors.forbidden(
    a.name ? `${qualified} "${a.name}" is forbidden: ${msg}` : `${qualified} is forbidden: ${msg}`,
    {
      ...(a.name ? { name: a.name } : {}),
      ...(a.apiGroup ? { group: a.apiGroup } : {}),
      kind: a.resource,
    },
  );
}

/** The attributes authorized for a request: a WebSocket exec/attach/portforward is a `create`, as kube-apiserver 1.31 checks. */
function attributesFor(info: RequestInfo): RequestAttributes {
  const { parts: _p, apiPrefix: _a, apiVersion: _v, ...attrs } = info;
  if (
    info.resourceRequest &&
    info.resource === "pods" &&
    ["exec", "attach", "portforward"].includes(info.subresource ?? "")
  )
    return { ...attrs, verb: "create" };
  if (!info.resourceRequest) return { verb: info.verb, path: info.path, resourceRequest: false };
  return attrs;
}

export function createKubeApiEndpoints(input: KubeApiDeps): KubeApiServer {
  const deps: KubeApiDeps = { ...input, resources: input.resources ?? BUILTIN_RESOURCES };
  const resources = deps.resources as readonly ResourceType[];
  const servers = new Map<string, Server[]>();

  async function authenticate(cluster: ClusterRef, req: IncomingMessage, path: string): Promise<UserInfo> {
    const token = bearerToken(req);
    if (!token) {
      if (PUBLIC.has(path)) return { username: "system:anonymous", groups: ["system:unauthenticated"] };
      throw kubeErrors.unauthorized();
    }
    let user: UserInfo | undefined;
    try {
      user = await deps.authenticator.authenticate(cluster, token);
    } catch (e) {
      deps.logger.debug({ err: e }, "kube-api: authentication failed");
    }
    if (!user) throw kubeErrors.unauthorized();
    return { ...user, groups: [...new Set([...user.groups, "system:authenticated"])] };
  }

  /** Authenticates and authorizes; returns the request's call context (type unset for non-resource requests). */
  async function admitRequest(cluster: ClusterRef, req: IncomingMessage, res: ServerResponse | undefined) {
    const url = new URL(req.url ?? "/", "https://kube.invalid");
    const user = await authenticate(cluster, req, url.pathname);
    const info = requestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    const attrs = attributesFor(info);
    const isPublicAnon = user.username === "system:anonymous" && PUBLIC.has(url.pathname);
    if (!isPublicAnon) {
      const d = deps.authorizer.authorize(cluster, user, attrs);
      if (!d.allowed) throw forbiddenError(user, attrs, d.reason);
    }
    const call: Call = {
      deps,
      cluster,
      user,
      info,
      query: url.searchParams,
      req,
      res: res as ServerResponse,
      type: undefined as unknown as ResourceType,
    };
    return call;
  }

  function resolveType(c: Call): ResourceType {
    const { info } = c;
    const t = resources.find(
      (r) => r.group === (info.apiGroup ?? "") && r.version === info.apiVersion && r.resource === info.resource,
    );
    if (!t) throw notFoundPath();
    if (!t.namespaced && info.namespace !== undefined && t.resource !== "namespaces") throw notFoundPath();
    return t;
  }

  async function dispatch(c: Call): Promise<void> {
    const { info } = c;
    if (!info.resourceRequest) return serveNonResource(c, resources);
    c.type = resolveType(c);
    const t = c.type;
    const verb = info.verb;
    const needsBody = ["create", "update", "patch", "delete", "deletecollection"].includes(verb);
    const body = needsBody ? await readBody(c.req) : Buffer.alloc(0);
    if (isReview(t.group, t.resource)) return handleReview(c, body);
    const sub = info.subresource;
    if (sub) return dispatchSubresource(c, sub, body);
    if (!t.verbs.includes(verb)) throw methodNotAllowed();
    if (t.namespaced && info.name && info.namespace === undefined) throw notFoundPath();
    switch (verb) {
      case "get":
        return handleGet(c);
      case "list":
        return handleList(c);
      case "watch":
        return handleWatch(c);
      case "create":
        return handleCreate(c, body);
      case "update":
        return handleUpdate(c, body);
      case "patch":
        return handlePatch(c, body);
      case "delete":
        return handleDelete(c, body);
      case "deletecollection":
        return handleDeleteCollection(c, body);
    }
    throw methodNotAllowed();
  }

  async function dispatchSubresource(c: Call, sub: string, body: Buffer): Promise<void> {
    const t = c.type;
    const verb = c.info.verb;
    const has = (s: string) => (t.subresources ?? []).includes(s);
    if (sub === "status" && t.status) {
      if (verb === "get") return handleGet(c);
      if (verb === "update") return handleUpdate(c, body, "status");
      if (verb === "patch") return handlePatch(c, body, "status");
      throw methodNotAllowed();
    }
    if (sub === "scale" && has("scale")) return handleScale(c, body);
    if (sub === "log" && has("log")) return handleLog(c);
    if (sub === "finalize" && has("finalize")) {
      if (verb !== "update") throw methodNotAllowed();
      return handleUpdate(c, body, "finalize");
    }
    if (sub === "binding" && has("binding")) return handleBinding(c, body);
    if (sub === "eviction" && has("eviction")) return handleEviction(c, body);
    if (sub === "token" && has("token")) return handleTokenRequest(c, body);
    if (["exec", "attach", "portforward"].includes(sub) && has(sub))
      throw kubeErrors.badRequest("Upgrade request required");
    throw notFoundPath();
  }

  async function handler(cluster: ClusterRef, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    try {
      const c = await admitRequest(cluster, req, res);
      await dispatch(c);
    } catch (e) {
      const err = statusOf(e);
      if (err.code >= 500) deps.logger.warn({ err: e, url: req.url }, "kube-api: request failed");
      sendError(res, err);
    } finally {
      deps.logger.debug(
        { cluster: cluster.name, method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started },
        "kube-api request",
      );
    }
  }

  async function upgrade(cluster: ClusterRef, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {});
    try {
      const c = await admitRequest(cluster, req, undefined);
      if (!c.info.resourceRequest) throw notFoundPath();
      c.type = resolveType(c);
      const sub = c.info.subresource ?? "";
      if (!(c.type.subresources ?? []).includes(sub) || !["exec", "attach", "portforward"].includes(sub))
        throw kubeErrors.badRequest("this request cannot be upgraded");
      const pod = getObject(c);
      if (sub === "portforward") await handlePortForwardUpgrade(c, pod, socket, head);
      else await handleExecUpgrade(c, pod, socket, head);
    } catch (e) {
      rejectUpgrade(socket, e);
    }
  }

  return {
    handler,
    upgrade,
    async serve(endpoint: ClusterEndpoint) {
      const key = clusterKey(endpoint.cluster);
      const old = servers.get(key);
      servers.delete(key);
      for (const s of old ?? []) await closeServer(s);
      // One listener per address (the endpoint's, and the pod network gateway where pods reach it).
      const listening: Server[] = [];
      for (const host of [endpoint.host, ...(endpoint.alsoOn ?? [])].filter((h, i, all) => all.indexOf(h) === i)) {
        const server = createServer(
          {
            cert: endpoint.certPem,
            key: endpoint.keyPem,
            keepAliveTimeout: 60_000,
            requestTimeout: 0,
            // In-cluster clients include busybox's TLS, which offers no signature_algorithms (so SHA-1
            // handshake signatures, refused by OpenSSL 3's default level); others still get the best.
            ...(host === endpoint.host ? {} : { ciphers: "DEFAULT:@SECLEVEL=0" }),
          },
          (req, res) => void handler(endpoint.cluster, req, res),
        );
        server.on("upgrade", (req, socket, head) => void upgrade(endpoint.cluster, req, socket, head));
        server.on("clientError", (_e, socket) => socket.destroy());
        server.on("tlsClientError", (e) =>
          deps.logger.debug({ host, err: e.message }, "kube-api: TLS handshake failed"),
        );
        try {
          await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(endpoint.port, host, () => {
              server.off("error", reject);
              resolve();
            });
          });
        } catch (e) {
          if (host === endpoint.host) {
            for (const s of listening) await closeServer(s);
            throw e;
          }
          deps.logger.warn({ host, port: endpoint.port, err: (e as Error).message }, "kube-api: could not listen");
          continue;
        }
        listening.push(server);
      }
      servers.set(key, listening);
    },
    async close(cluster: ClusterRef) {
      const key = clusterKey(cluster);
      const s = servers.get(key);
      servers.delete(key);
      for (const server of s ?? []) await closeServer(server);
    },
  };
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

const methodNotAllowed = () =>
  kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");

const notFoundPath = () =>
  new KubeError(404, "NotFound", "the server could not find the requested resource", {
    causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }],
  });
