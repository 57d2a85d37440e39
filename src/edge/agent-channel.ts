import { Agent as HttpAgent, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Scope } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Chain } from "./chain.js";
import type { UpgradeRoute } from "./server.js";
import type { WireRequest } from "../protocol/http.js";
import { DockerRuntime } from "../runtime/docker/docker-runtime.js";
import type { Host } from "../hosts/host.js";
import type { HostRegistry } from "../hosts/registry.js";
import { MuxSession, webSocketChannel } from "../runtime/channel-mux.js";

/** Where agents open their channel on the edge (DiscoverPollEndpoint answers with it). */
export const AGENT_CHANNEL_PATH = "/_berth/agent/channel";

/** How often the control plane pings an agent; one that misses two pings is gone. */
const PING_MS = 10_000;

/** What the channel needs to know of the container instance an agent connects as. */
export interface AgentInstance {
  /** The host's id: the EC2 instance id. */
  hostId: string;
  cpuUnits: number;
  memoryMiB: number;
  reservedPorts: { tcp: string[]; udp: string[] };
  arch: "x86_64" | "arm64";
  instanceType: string;
}

export interface AgentChannelDeps {
  registry: HostRegistry;
  logger: Logger;
  /** The ACTIVE or DRAINING container instance of the caller's account and region, or why it cannot connect. */
  instance(scope: Scope, cluster: string, containerInstanceArn: string): AgentInstance | string;
  /** Records whether the instance's agent is connected (agentConnected). */
  connected(scope: Scope, cluster: string, containerInstanceArn: string, connected: boolean): void;
}

const wireRequest = (req: IncomingMessage): WireRequest => {
  const url = new URL(req.url ?? "/", "http://localhost");
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    rawQuery: url.search.slice(1),
    headers: req.headers as Record<string, string | undefined>,
    body: Buffer.alloc(0),
    sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, ""),
  };
};

const refuse = (socket: Duplex, status: number, reason: string, body: string, type = "application/json") => {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
};

/** An HTTP agent whose every connection is a new stream over the agent's channel (dockerode speaks through it). */
class ChannelHttpAgent extends HttpAgent {
  constructor(private readonly mux: MuxSession) {
    super({ keepAlive: false });
  }
  override createConnection(): Duplex {
    return this.mux.open();
  }
}

/**
 * The control plane's end of agent channels. An agent (`berth agent`, src/agent) registers its
 * container instance with RegisterContainerInstance, then opens a WebSocket here signed with its
 * instance profile credentials (authorised as `ecs:Poll`, as the ECS agent's channel is). Over it
 * the control plane speaks the Docker Engine API of the agent's host, one multiplexed stream per
 * connection, so tasks there run through the same DockerRuntime and task controller as on the
 * local host. The host is in the registry while its channel is open.
 */
export function agentChannelRoute(deps: AgentChannelDeps): UpgradeRoute {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  return (req, socket, head, chain: Chain) => {
    void (async () => {
      const wire = wireRequest(req);
      const cluster = wire.query.get("cluster") ?? "default";
      const instanceArn = wire.query.get("containerInstance") ?? "";
      const auth = await chain.authorizeCall(wire, "Poll", { cluster, containerInstance: instanceArn });
      if ("response" in auth) {
        const r = auth.response;
        deps.logger.warn({ sourceIp: wire.sourceIp, status: r.status }, "agent channel refused: not authorised");
        return refuse(socket, r.status, "Forbidden", typeof r.body === "string" ? r.body : r.body.toString());
      }
      const scope = { account: auth.ctx.account, region: auth.ctx.region };
      const found = deps.instance(scope, cluster, instanceArn);
      if (typeof found === "string") {
        deps.logger.warn(
          { sourceIp: wire.sourceIp, containerInstance: instanceArn, reason: found },
          "agent channel refused",
        );
        return refuse(
          socket,
          400,
          "Bad Request",
          JSON.stringify({ __type: "InvalidParameterException", message: found }),
        );
      }
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, scope, cluster, instanceArn, found, wire.sourceIp));
    })().catch((err) => {
      deps.logger.warn({ err: (err as Error).message }, "agent channel failed");
      socket.destroy();
    });
  };

  function attach(
    ws: WebSocket,
    scope: Scope,
    cluster: string,
    instanceArn: string,
    instance: AgentInstance,
    address: string | undefined,
  ) {
    const mux = new MuxSession(webSocketChannel(ws), "odd");
    // docker-modem passes `agent` to http.request; DockerOptions does not declare it.
    const options = { protocol: "http", host: "agent", port: 2375, agent: new ChannelHttpAgent(mux) };
    const runtime = new DockerRuntime(options as ConstructorParameters<typeof DockerRuntime>[0]);
    const host: Host = {
      id: instance.hostId,
      kind: "agent",
      resources: { cpuUnits: instance.cpuUnits, memoryMiB: instance.memoryMiB },
      reservedPorts: instance.reservedPorts,
      platform: { os: "linux", arch: instance.arch, instanceType: instance.instanceType },
      attributes: [],
      runtime,
      publishHost: address,
    };
    // A reconnect replaces the host's old channel.
    deps.registry.remove(host.id);
    deps.registry.add(host);
    deps.connected(scope, cluster, instanceArn, true);
    deps.logger.info({ host: host.id, containerInstance: instanceArn, address }, "agent connected");
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, PING_MS);
    ws.on("pong", () => {
      alive = true;
    });
    ws.on("close", () => {
      clearInterval(ping);
      mux.close();
      if (deps.registry.get(host.id)?.runtime === runtime) {
        deps.registry.remove(host.id);
        deps.connected(scope, cluster, instanceArn, false);
        deps.logger.warn({ host: host.id, containerInstance: instanceArn }, "agent disconnected");
      }
    });
    ws.on("error", (err) => deps.logger.warn({ host: host.id, err: err.message }, "agent channel error"));
  }
}
