import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { TaskEndpointConfig } from "../config/config.js";
import { LABEL } from "../runtime/labels.js";
import type { Clock } from "../core/clock.js";
import { parseArn } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { ContainerRuntime, ContainerStats, ObservedContainer } from "../runtime/runtime.js";
import type { TaskRecord } from "../store/schema/ecs.js";
import type { Collection } from "../store/documents.js";
import type { EndpointIds } from "./endpoint-ids.js";
import { containerMetadata, statsDocument, taskMetadata } from "./metadata.js";
import { ensureHostAddress } from "./network.js";
import type { TaskEndpointInfo, TaskIdentity } from "./task-identity.js";
import { type Periodic, periodic } from "../core/periodic.js";

const TASK_LABEL = LABEL.taskArn;
const CONTAINER_LABEL = LABEL.container;
const STORE_LABEL = LABEL.store;
/** Credentials are handed out again until this long before they expire; then fresh ones are minted. */
const REFRESH_BEFORE_MS = 30 * 60 * 1000;

export interface TaskEndpointDeps {
  config: TaskEndpointConfig;
  ids: EndpointIds;
  tasks: Collection<TaskRecord>;
  runtime: ContainerRuntime;
  /** The runtime of the host a task runs on (agent hosts); `runtime` when absent. */
  runtimeOf?: (task: TaskRecord) => ContainerRuntime;
  identity: TaskIdentity;
  clock: Clock;
  logger: Logger;
  /** Labels every container of this Berth carries (its store id). */
  storeId: string;
  /** Anything that is not a credential or metadata request: Berth's own API (AWS_ENDPOINT_URL). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
}

interface CachedCredentials {
  body: string;
  expiresAt: number;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

const error = (res: ServerResponse, status: number, code: string, message: string) =>
  json(res, status, { code, message });

/** AWS-FACTS §4: UTC ISO 8601 with a Z, without fractional seconds (the JS SDK rejects offsets). */
export const expiration = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * The ECS agent's endpoints for tasks, at 169.254.170.2 as in AWS: credentials
 * (`/v2/credentials/<id>`) and task metadata (`/v3/<id>`, `/v4/<id>`, with `/task`,
 * `/taskWithTags`, `/stats`, `/task/stats`). Berth listens there itself; everything else on that
 * address is Berth's API, so `AWS_ENDPOINT_URL=http://169.254.170.2` works from tasks.
 */
export class TaskEndpoint {
  private server?: Server;
  private listening?: TaskEndpointInfo;
  private readonly cache = new Map<string, CachedCredentials>();
  private readonly lastStats = new Map<string, ContainerStats>();
  private ipOwners?: { at: number; map: Map<string, string> };
  private pruner?: Periodic;
  /** Why the endpoint is not listening (for /_berth/health). */
  private disabled = "not started";

  constructor(private readonly d: TaskEndpointDeps) {}

  /** Where tasks reach the endpoint, or undefined when it is not listening. */
  info(): TaskEndpointInfo | undefined {
    return this.listening;
  }

  /** The endpoint's state as /_berth/health reports it. */
  health(): { state: "listening"; url: string } | { state: "disabled"; reason: string } {
    return this.listening
      ? { state: "listening", url: this.listening.baseUrl }
      : { state: "disabled", reason: this.disabled };
  }

  async start(): Promise<void> {
    const { address, port, interface: iface } = this.d.config;
    if (!address) {
      this.disabled = "BERTH_TASK_ENDPOINT=off";
      return;
    }
    const problem = await ensureHostAddress(address, iface, this.d.logger);
    if (problem) {
      this.disabled = problem;
      return;
    }
    const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
      this.handle(req, res).catch((err) => {
        this.d.logger.error({ err: (err as Error).message, path: req.url }, "task endpoint request failed");
        if (!res.headersSent) error(res, 500, "InternalServerError", "The task endpoint failed to answer.");
      });
    });
    const listen = (p: number) =>
      new Promise<number>((resolve, reject) => {
        const onError = (e: Error) => {
          server.off("listening", onListening);
          reject(e);
        };
        const onListening = () => {
          server.off("error", onError);
          const a = server.address();
          resolve(typeof a === "object" && a ? a.port : p);
        };
        server.once("error", onError);
        server.once("listening", onListening);
        server.listen(p, address);
      });
    let bound: number;
    try {
      bound = await listen(port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EADDRINUSE" && code !== "EACCES") {
        this.d.logger.warn(
          { address, port, err: (e as Error).message },
          "task endpoint cannot listen; tasks get no role credentials, metadata or AWS_ENDPOINT_URL",
        );
        this.disabled = `cannot listen on ${address}:${port}: ${(e as Error).message}`;
        return;
      }
      // Another Berth holds port 80 (or we may not bind it): the full credential URI allows any port on this address.
      bound = await listen(0).catch((err) => {
        this.d.logger.warn({ address, err: (err as Error).message }, "task endpoint cannot listen");
        this.disabled = `cannot listen on ${address}: ${(err as Error).message}`;
        return -1;
      });
      if (bound < 0) return;
      this.d.logger.warn(
        { address, port, used: bound, reason: code },
        "task endpoint port is taken; tasks get AWS_CONTAINER_CREDENTIALS_FULL_URI with another port",
      );
    }
    this.server = server;
    this.pruner = periodic(() => this.prune(), {
      name: "task endpoint prune",
      everyMs: 10 * 60 * 1000,
      logger: this.d.logger,
      clock: this.d.clock,
    });
    void this.pruner.start();
    this.listening = {
      baseUrl: bound === 80 ? `http://${address}` : `http://${address}:${bound}`,
      relativeUri: bound === 80,
    };
    this.d.logger.info({ endpoint: this.listening.baseUrl }, "task credential and metadata endpoint ready");
  }

  async stop() {
    this.disabled = "stopped";
    this.pruner?.stop();
    const s = this.server;
    this.server = undefined;
    this.listening = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Routes one request (exported for tests through a plain HTTP server). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://task-endpoint");
    const path = url.pathname;
    if (path === "/v2/credentials" || path === "/v2/credentials/") {
      return error(res, 400, "NoIdInRequest", "CredentialsV2Request: No Credential ID in the request");
    }
    if (path.startsWith("/v2/credentials/")) {
      if (req.method !== "GET") return error(res, 405, "MethodNotAllowed", "Only GET is supported.");
      return this.credentials(req, res, decodeURIComponent(path.slice("/v2/credentials/".length)));
    }
    const m = /^\/v[34]\/([^/]+)(\/task|\/taskWithTags|\/stats|\/task\/stats)?\/?$/.exec(path);
    if (m && req.method === "GET") return this.metadata(res, m[1], m[2] ?? "");
    if (this.d.fallback) return this.d.fallback(req, res);
    return error(res, 404, "NotFound", `Nothing is served at ${path}.`);
  }

  /** Forgets the ids and cached credentials of tasks that are gone from the store. */
  prune() {
    try {
      for (const arn of this.d.ids.tasks()) if (!this.taskOf(arn)) this.d.ids.forget(arn);
      const now = this.d.clock.now().getTime();
      for (const [id, c] of this.cache) if (c.expiresAt <= now || !this.d.ids.resolve(id)) this.cache.delete(id);
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, "task endpoint prune failed; retrying later");
    }
  }

  private taskOf(arn: string): TaskRecord | undefined {
    const p = parseArn(arn);
    if (!p) return undefined;
    return this.d.tasks.get({ account: p.account, region: p.region }, arn);
  }

  /**
   * The task whose container has this address, if any. A cached answer that matches is trusted;
   * anything else is checked against Docker again, so a stale cache never refuses a task.
   */
  private async ownerOf(ip: string, expected: string): Promise<string | undefined> {
    const cached = this.ipOwners?.map.get(ip);
    if (cached === expected && Date.now() - (this.ipOwners?.at ?? 0) < 60_000) return cached;
    const map = new Map<string, string>();
    for (const c of await this.d.runtime.list({ [STORE_LABEL]: this.d.storeId }))
      if (c.ipAddress && c.labels[TASK_LABEL] && c.state === "running") map.set(c.ipAddress, c.labels[TASK_LABEL]);
    this.ipOwners = { at: Date.now(), map };
    return map.get(ip);
  }

  private async credentials(req: IncomingMessage, res: ServerResponse, id: string) {
    const invalid = () => error(res, 400, "InvalidIdInRequest", "CredentialsV2Request: Credentials not found");
    const rec = this.d.ids.resolve(id);
    if (rec?.kind !== "credentials") return invalid();
    const task = this.taskOf(rec.taskArn);
    if (!task || task.lastStatus === "STOPPED" || task.desiredStatus === "STOPPED" || !task.spec.taskRoleArn) {
      this.cache.delete(id);
      return invalid();
    }
    // A container of another task asking with this id learnt it somehow: refuse.
    const from = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const owner = await this.ownerOf(from, task.taskArn);
    if (owner && owner !== task.taskArn) {
      this.d.logger.warn({ from, task: task.taskArn, caller: owner }, "refused a task another task's credentials");
      return invalid();
    }
    const now = this.d.clock.now().getTime();
    const cached = this.cache.get(id);
    if (cached && cached.expiresAt - REFRESH_BEFORE_MS > now) return this.sendCached(res, cached);
    const p = parseArn(task.taskArn)!;
    const out = this.d.identity.assumeForTask(task, { account: p.account, region: p.region }, task.spec.taskRoleArn);
    if (!out.ok)
      return error(
        res,
        503,
        "CredentialsUninitialized",
        `CredentialsV2Request: ECS cannot assume the task role ${task.spec.taskRoleArn} (its trust policy must allow ecs-tasks.amazonaws.com)`,
      );
    const c = out.credentials;
    const body = JSON.stringify({
      RoleArn: out.role.Arn,
      AccessKeyId: c.AccessKeyId,
      SecretAccessKey: c.SecretAccessKey,
      Token: c.SessionToken,
      Expiration: expiration(c.Expiration.getTime()),
    });
    const entry = { body, expiresAt: c.Expiration.getTime() };
    this.cache.set(id, entry);
    return this.sendCached(res, entry);
  }

  private sendCached(res: ServerResponse, c: CachedCredentials) {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(c.body) });
    res.end(c.body);
  }

  private async metadata(res: ServerResponse, id: string, sub: string) {
    const rec = this.d.ids.resolve(id);
    const task = rec?.kind === "metadata" ? this.taskOf(rec.taskArn) : undefined;
    if (!rec || !task)
      return error(res, 404, "InvalidIdInRequest", `V4 metadata handler: unable to find a task for id ${id}`);
    const p = parseArn(task.taskArn)!;
    const scope = { account: p.account, region: p.region };
    const rt = this.d.runtimeOf?.(task) ?? this.d.runtime;
    const observed = (await rt.list({ [STORE_LABEL]: this.d.storeId, [TASK_LABEL]: task.taskArn })).filter(
      (c) => c.labels[CONTAINER_LABEL] && !c.labels[CONTAINER_LABEL].startsWith("~"),
    );
    const mine = observed.find((c) => c.labels[CONTAINER_LABEL] === rec.container);
    switch (sub) {
      case "":
        return json(res, 200, containerMetadata(task, scope, rec.container!, mine));
      case "/task":
      case "/taskWithTags":
        return json(res, 200, taskMetadata(task, scope, observed, sub === "/taskWithTags", this.d.clock.now()));
      case "/stats":
        return json(res, 200, mine ? await this.stats(rt, mine) : null);
      default: {
        const all: Record<string, unknown> = {};
        for (const c of observed) all[c.id] = await this.stats(rt, c);
        return json(res, 200, all);
      }
    }
  }

  private async stats(rt: ContainerRuntime, c: ObservedContainer) {
    const now = await rt.stats(c.id).catch(() => undefined);
    const previous = this.lastStats.get(c.id);
    if (now) this.lastStats.set(c.id, now);
    return statsDocument(c, now, previous);
  }
}
