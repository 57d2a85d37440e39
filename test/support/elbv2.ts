import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  type TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { clientConfig } from "./berth.js";

export const elbClient = (endpoint: string) => new ElasticLoadBalancingV2Client(clientConfig(endpoint));

/** A name no other test uses (the Berth is shared); at most 32 characters. */
export const uniqueName = (label: string) => `${label.slice(0, 20)}-${randomUUID().slice(0, 8)}`;

/** Health check settings that make targets healthy in about 5 s (AWS's minimum interval and thresholds). */
export const fastHealth: Partial<CreateTargetGroupCommandInput> = {
  HealthCheckIntervalSeconds: 5,
  HealthCheckTimeoutSeconds: 2,
  HealthyThresholdCount: 2,
  UnhealthyThresholdCount: 2,
};

export interface Backend {
  port: number;
  name: string;
  /** Requests this backend saw: method, url and headers. */
  seen: { method: string; url: string; headers: IncomingMessage["headers"]; remotePort?: number }[];
  /** Replaces how it answers (default: 200 "<name> <method> <url>"). */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

/** A plain Node HTTP server on 127.0.0.1, started by the test. */
export async function startBackend(name: string): Promise<Backend> {
  const backend: Backend = {
    port: 0,
    name,
    seen: [],
    handler: (req, res) => {
      if (req.url === "/health") {
        res.end("ok");
        return;
      }
      res.setHeader("content-type", "text/plain");
      res.end(`${name} ${req.method} ${req.url}\n`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    if (req.url !== "/health")
      backend.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    backend.handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  backend.port = (server.address() as AddressInfo).port;
  return backend;
}

export interface HttpResult {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
}

/** One HTTP request on a fresh connection (no keep-alive), with a timeout. */
export function httpGet(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`timed out: ${url}`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)} ${lastError ? String(lastError) : ""}`,
  );
}

export const healthStates = (d: TargetHealthDescription[] | undefined) =>
  (d ?? []).map((t) => `${t.Target?.Id}:${t.Target?.Port}=${t.TargetHealth?.State}`).sort();

/** Waits until DescribeTargetHealth shows exactly `count` targets, all in `state`. */
export async function waitForTargets(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  state: string,
  count: number,
  timeoutMs = 30_000,
) {
  return waitFor(
    `${count} target(s) ${state} in ${targetGroupArn}`,
    async () =>
      (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions ??
      [],
    (d) => d.length === count && d.every((t) => t.TargetHealth?.State === state),
    timeoutMs,
  );
}

/** An HTTP target group with fast health checks and a short deregistration delay. */
export async function createTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  label: string,
  over: Partial<CreateTargetGroupCommandInput> = {},
  deregistrationDelay = "1",
) {
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: uniqueName(label),
      Protocol: "HTTP",
      Port: 80,
      TargetType: "ip",
      HealthCheckPath: "/health",
      ...fastHealth,
      ...over,
    }),
  );
  const arn = tg.TargetGroups![0].TargetGroupArn!;
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: deregistrationDelay }],
    }),
  );
  return arn;
}

/** An ALB with one HTTP listener forwarding to `targetGroupArn`; returns ARNs and the base URL. */
export async function createAlb(
  elb: ElasticLoadBalancingV2Client,
  label: string,
  targetGroupArn: string,
  port: number,
) {
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: uniqueName(label) }))).LoadBalancers![0];
  const listener = (
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: "HTTP",
        Port: port,
        DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
      }),
    )
  ).Listeners![0];
  return {
    loadBalancerArn: lb.LoadBalancerArn!,
    listenerArn: listener.ListenerArn!,
    dnsName: lb.DNSName!,
    url: `http://${lb.DNSName}:${port}`,
  };
}

/** Deletes load balancers then target groups, ignoring what is already gone. */
export async function cleanup(elb: ElasticLoadBalancingV2Client, lbs: string[], tgs: string[]) {
  for (const arn of lbs) await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })).catch(() => undefined);
  for (const arn of tgs) await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })).catch(() => undefined);
}
