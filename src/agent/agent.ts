import { connect, createServer, type Server } from "node:net";
import { cpus, totalmem } from "node:os";
import { WebSocket } from "ws";
import type { Logger } from "../core/logger.js";
import { MuxSession, splice, webSocketChannel } from "../runtime/channel-mux.js";
import { AGENT_CHANNEL_PATH } from "../edge/agent-channel.js";
import { type AgentCredentials, AwsCallError, ecsCall, signedHeaders } from "./aws-call.js";
import { ImdsClient } from "./imds-client.js";

/** Ports the ECS agent reserves on every instance (SSH, Docker, the agent's own). */
const RESERVED_PORTS = ["22", "2375", "2376", "51678", "51679"];

export interface AgentConfig {
  /** The control plane (Berth's edge) as this host reaches it. */
  endpoint: string;
  cluster: string;
  /** The Docker Engine socket of this host. */
  dockerSocket: string;
  imdsEndpoint: string;
  /** What this host offers tasks (defaults: the machine's cores and memory). */
  cpuUnits?: number;
  memoryMiB?: number;
  /** Make the control plane's port answer on this host's loopback too (images named localhost:PORT/…). */
  forwardLoopback: boolean;
}

/** The agent's configuration from its environment (ECS_CLUSTER as the ECS agent reads it). */
export function agentConfigFromEnv(env: NodeJS.ProcessEnv): AgentConfig {
  const endpoint = env.BERTH_ENDPOINT ?? env.ECS_BACKEND_HOST ?? "http://localhost:4566";
  return {
    endpoint,
    cluster: env.ECS_CLUSTER || "default",
    dockerSocket: (env.DOCKER_HOST ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, ""),
    imdsEndpoint: env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? "http://169.254.169.254",
    cpuUnits: env.BERTH_AGENT_CPU ? Number(env.BERTH_AGENT_CPU) : undefined,
    memoryMiB: env.BERTH_AGENT_MEMORY ? Number(env.BERTH_AGENT_MEMORY) : undefined,
    forwardLoopback: env.BERTH_AGENT_FORWARD_LOOPBACK !== "false" && !/\/\/(localhost|127\.)/.test(endpoint),
  };
}

/** Reconnect delays: 1 s doubling to 30 s, with jitter. */
export const backoffMs = (attempt: number, random = Math.random) =>
  Math.round(Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)) * (0.5 + random() / 2));

/**
 * `berth agent`: what runs on an EC2 instance host. It reads its identity and instance profile
 * credentials from IMDS, registers the container instance (RegisterContainerInstance), and keeps
 * a channel open to the control plane (DiscoverPollEndpoint → a signed WebSocket) over which the
 * control plane drives this host's Docker Engine; it reconnects with back-off when the channel
 * drops, and registers again when the control plane no longer knows it.
 */
export class BerthAgent {
  private readonly imds: ImdsClient;
  private credentials?: AgentCredentials;
  private stopped = false;
  private ws?: WebSocket;
  private forwarder?: Server;
  private region = "us-east-1";
  private instanceArn?: string;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {
    this.imds = new ImdsClient(config.imdsEndpoint);
  }

  async run(): Promise<void> {
    if (this.config.forwardLoopback) await this.forwardLoopback();
    let attempt = 0;
    while (!this.stopped) {
      try {
        if (!this.instanceArn) await this.register();
        await this.channel();
        // It was open: the next drop starts the back-off again.
        attempt = 0;
      } catch (err) {
        const e = err as Error;
        this.logger.warn({ err: e.message, attempt }, "agent: cannot join the cluster or open its channel; retrying");
        // Refused because the instance is gone (deregistered, unknown): register again.
        if (e instanceof AwsCallError || /InvalidParameter|not found/i.test(e.message)) this.instanceArn = undefined;
      }
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, backoffMs(attempt++)));
    }
  }

  stop() {
    this.stopped = true;
    this.ws?.close();
    this.forwarder?.close();
  }

  private async creds(): Promise<AgentCredentials> {
    const c = this.credentials;
    if (!c || (c.expiration && c.expiration.getTime() - Date.now() < 5 * 60_000))
      this.credentials = await this.imds.credentials();
    return this.credentials!;
  }

  private async register() {
    const document = await this.imds.identityDocument();
    this.region = (JSON.parse(document) as { region: string }).region;
    const resource = (name: string, integerValue: number) => ({ name, type: "INTEGER", integerValue });
    const out = await ecsCall<{ containerInstance: { containerInstanceArn: string } }>(
      this.config.endpoint,
      this.region,
      await this.creds(),
      "RegisterContainerInstance",
      {
        cluster: this.config.cluster,
        instanceIdentityDocument: document,
        instanceIdentityDocumentSignature: "",
        totalResources: [
          resource("CPU", this.config.cpuUnits ?? cpus().length * 1024),
          resource("MEMORY", this.config.memoryMiB ?? Math.floor(totalmem() / 1024 / 1024)),
          { name: "PORTS", type: "STRINGSET", stringSetValue: RESERVED_PORTS },
          { name: "PORTS_UDP", type: "STRINGSET", stringSetValue: [] },
        ],
        versionInfo: { agentVersion: "1.89.0", agentHash: "berth", dockerVersion: "DockerVersion: 20.10.24" },
      },
    );
    this.instanceArn = out.containerInstance.containerInstanceArn;
    this.logger.info({ containerInstance: this.instanceArn, cluster: this.config.cluster }, "agent registered");
  }

  /** Opens the channel and serves it until it closes. */
  private async channel(): Promise<void> {
    const creds = await this.creds();
    // As the ECS agent does before it polls; the channel goes to the endpoint this host reaches Berth at.
    await ecsCall(this.config.endpoint, this.region, creds, "DiscoverPollEndpoint", {
      cluster: this.config.cluster,
      containerInstance: this.instanceArn,
    });
    const url = new URL(AGENT_CHANNEL_PATH, this.config.endpoint);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("cluster", this.config.cluster);
    url.searchParams.set("containerInstance", this.instanceArn!);
    const headers = await signedHeaders({ url, method: "GET", region: this.region, credentials: creds });
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      ws.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => reject(new Error(`channel refused (HTTP ${res.statusCode}): ${body}`)));
      });
      ws.on("open", () => {
        opened = true;
        this.logger.info({ url: url.origin }, "agent channel open");
        this.serve(ws);
      });
      ws.on("error", (err) => {
        if (!opened) reject(err);
      });
      ws.on("close", () => (opened ? resolve() : reject(new Error("channel closed before it opened"))));
    });
    this.logger.warn("agent channel closed");
  }

  /** Each stream the control plane opens is a connection to this host's Docker Engine. */
  private serve(ws: WebSocket) {
    const mux = new MuxSession(webSocketChannel(ws), "even");
    mux.onStream((stream) => splice(stream, connect(this.config.dockerSocket)));
  }

  /** localhost:PORT on this host reaches the control plane (ECR image names carry localhost:PORT). */
  private forwardLoopback(): Promise<void> {
    const target = new URL(this.config.endpoint);
    const port = Number(target.port || 80);
    this.forwarder = createServer((client) => splice(client, connect(port, target.hostname)));
    return new Promise((resolve) => {
      this.forwarder!.once("error", (err) => {
        this.logger.warn({ err: err.message, port }, "agent: cannot forward localhost to the control plane");
        resolve();
      });
      this.forwarder!.listen(port, "127.0.0.1", () => resolve());
    });
  }
}
