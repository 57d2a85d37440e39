import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../core/logger.js";
import { readBody, type WireRequest, type WireResponse } from "../protocol/http.js";
import type { ServiceDefinition } from "../protocol/service.js";
import { buildChain, type Chain, type ChainDeps } from "./chain.js";

/** The largest request body the edge reads (the OCI registry streams its own under /v2/). */
export const MAX_BODY = 64 * 1024 * 1024;

function send(res: ServerResponse, r: WireResponse) {
  const body = typeof r.body === "string" ? Buffer.from(r.body) : r.body;
  res.writeHead(r.status, { ...r.headers, "content-length": body.length });
  res.end(body);
}

/** The operations each service implements (`?operations`): what tests and tools can call without NotImplemented. */
const implementedOperations = (services: ServiceDefinition[]) =>
  Object.fromEntries(
    services.map((s) => [
      s.id,
      Object.keys(s.provider).filter((op) => s.provider[op] && Object.hasOwn(s.model.operations, op)),
    ]),
  );

function healthResponse(
  services: ServiceDefinition[],
  components: (() => Record<string, unknown>) | undefined,
  withOperations: boolean,
): WireResponse {
  const states = Object.fromEntries(services.map((s) => [s.id, s.state()]));
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      status: "running",
      services: states,
      ...components?.(),
      ...(withOperations ? { operations: implementedOperations(services) } : {}),
    }),
  };
}

const tooLarge = (): WireResponse => ({
  status: 413,
  headers: { "content-type": "application/json", connection: "close" },
  body: JSON.stringify({ __type: "RequestEntityTooLargeException", message: `Request body over ${MAX_BODY} bytes` }),
});

/** Whether the declared Content-Length already passes the limit: refused before a byte of the body is read. */
export const declaredTooLarge = (contentLength: string | undefined, max = MAX_BODY) =>
  contentLength !== undefined && /^\d+$/.test(contentLength.trim()) && Number(contentLength) > max;

/** A handler that owns a path prefix and streams its own bodies (the OCI registry under /v2/). */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A handler of WebSocket upgrades under a path (the agents' channel); it may call the chain to authorise. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, chain: Chain) => void;

/** The HTTP listener: turns each request into a WireRequest, runs the chain, writes the answer, logs one line. */
export function createEdgeServer(
  deps: ChainDeps & {
    logger: Logger;
    registry?: RawRoute;
    /** More parts of Berth for /_berth/health to report (the task endpoint). */
    components?: () => Record<string, unknown>;
    /** WebSocket upgrades by exact path. */
    upgrades?: Record<string, UpgradeRoute>;
  },
): Server {
  const handle = buildChain(deps);
  const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/_berth/health" && req.method === "GET")
      return send(res, healthResponse(deps.services, deps.components, url.searchParams.has("operations")));
    if (deps.registry && (url.pathname === "/v2" || url.pathname.startsWith("/v2/"))) return deps.registry(req, res);
    if (declaredTooLarge(req.headers["content-length"])) {
      // Answer at once and drop the connection rather than read (or drain) a body we will refuse.
      send(res, tooLarge());
      res.on("finish", () => req.destroy());
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY, () => new Error("body too large"));
    } catch {
      send(res, tooLarge());
      res.on("finish", () => req.destroy());
      return;
    }
    const wire: WireRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      rawQuery: url.search.slice(1),
      headers: req.headers as Record<string, string | undefined>,
      body,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, ""),
    };
    const { response, ex } = await handle(wire);
    send(res, response);
    if (deps.logger.isLevelEnabled("info"))
      deps.logger.info({
        requestId: ex.requestId,
        service: ex.service?.id,
        operation: ex.operation,
        status: response.status,
        account: ex.ctx?.account,
        durationMs: Math.round((performance.now() - ex.started) * 100) / 100,
      });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = deps.upgrades?.[path];
    if (!route) {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    route(req, socket, head, handle);
  });
  return server;
}
