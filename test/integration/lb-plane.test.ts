import { randomBytes } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer, request } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../src/lb/health.js";
import type { PlaneSnapshot, PlaneSource, PlaneTargetGroup } from "../../src/lb/model.js";
import { DataPlane } from "../../src/lb/plane.js";
import type { StoredHealth } from "../../src/store/schema/elbv2.js";

/**
 * The data plane in-process, on real loopback sockets, against a static desired state: HTTP/1.1
 * details (bodies, chunking, pipelining, HTTP/1.0, 100-continue, upgrades, bad requests) and the
 * counters CloudWatch will publish.
 */

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as import("../../src/core/logger.js").Logger;
/** A port nothing listens on, for the target group whose only target never passes a check. */
const DOWN_PORT = 9;

describe("load balancer data plane (in-process)", () => {
  const address = `127.${1 + (randomBytes(1)[0] % 250)}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0] % 250)}`;
  const port = 18000 + (randomBytes(1)[0] % 200);
  let backendPort = 0;
  let upgradePort = 0;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  const backend = createServer((req, res) => handler(req, res));
  const backend2 = createServer((_req, res) => res.end("backend2"));
  let backend2Port = 0;
  let plane: DataPlane;
  const health = new Map<string, StoredHealth>();

  const tg = (arn: string, targets: { port: number; state: StoredHealth["state"] }[]): PlaneTargetGroup => ({
    arn,
    protocol: "HTTP",
    port: 80,
    healthCheck: {
      enabled: true,
      protocol: "HTTP",
      port: "traffic-port",
      path: "/",
      intervalSeconds: 300,
      timeoutSeconds: 5,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: "200",
    },
    algorithm: "round_robin",
    stickiness: { enabled: arn === "tg-sticky", durationSeconds: 60 },
    slowStartSeconds: 0,
    deregistrationDelaySeconds: 0,
    connectionTermination: true,
    loadBalancerArns: ["lb"],
    targets: targets.map((t) => ({
      key: `${arn}|127.0.0.1|${t.port}`,
      id: "127.0.0.1",
      port: t.port,
      address: "127.0.0.1",
      health: { state: t.state },
      registeredAt: new Date(),
    })),
  });

  beforeAll(async () => {
    await new Promise<void>((r) => backend.listen(0, "127.0.0.1", () => r()));
    backendPort = (backend.address() as AddressInfo).port;
    await new Promise<void>((r) => backend2.listen(0, "127.0.0.1", () => r()));
    backend2Port = (backend2.address() as AddressInfo).port;
    // A target that accepts WebSocket-style upgrades and then echoes.
    const upgrade = createServer();
    upgrade.on("upgrade", (_req, socket) => {
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
      socket.on("data", (d) => socket.write(d));
    });
    await new Promise<void>((r) => upgrade.listen(0, "127.0.0.1", () => r()));
    upgradePort = (upgrade.address() as AddressInfo).port;

    const snapshot = (): PlaneSnapshot => ({
      loadBalancers: [
        {
          arn: "lb",
          type: "application",
          address,
          idleTimeoutSeconds: 60,
          xffMode: "append",
          xffClientPort: false,
          provisioned: true,
        },
      ],
      listeners: [
        {
          arn: "listener",
          loadBalancerArn: "lb",
          address,
          port,
          protocol: "HTTP",
          rules: [
            {
              priority: 1,
              conditions: [{ Field: "path-pattern", Values: ["/ws"] }],
              action: { Type: "forward", TargetGroupArn: "tg-upgrade" },
            },
            {
              priority: 2,
              conditions: [{ Field: "path-pattern", Values: ["/sticky"] }],
              action: { Type: "forward", TargetGroupArn: "tg-sticky" },
            },
            {
              priority: 3,
              conditions: [{ Field: "path-pattern", Values: ["/down"] }],
              action: { Type: "forward", TargetGroupArn: "tg-down" },
            },
          ],
          defaultAction: { Type: "forward", TargetGroupArn: "tg" },
        },
      ],
      targetGroups: [
        tg("tg", [{ port: backendPort, state: "healthy" }]),
        tg("tg-upgrade", [{ port: upgradePort, state: "healthy" }]),
        tg("tg-sticky", [
          { port: backendPort, state: "healthy" },
          { port: backend2Port, state: "healthy" },
        ]),
        tg("tg-down", [{ port: DOWN_PORT, state: "initial" }]),
      ],
    });
    const source: PlaneSource = {
      read: snapshot,
      subscribe: () => () => undefined,
      setHealth: (_tg, key, h) => health.set(key, h),
      removeTarget: () => undefined,
      markProvisioned: () => undefined,
    };
    // Health checks pass at once, except tg-down's, which never answer: its target stays initial.
    plane = new DataPlane({
      source,
      logger: silent,
      healthCheck: (t): Promise<CheckResult> =>
        t.trafficPort === DOWN_PORT ? new Promise(() => undefined) : Promise.resolve({ ok: true }),
    });
    await plane.start();
  });

  afterAll(async () => {
    await plane.stop();
    for (const s of [backend, backend2]) {
      s.closeAllConnections();
      s.close();
    }
  });

  /** Sends raw bytes on one connection and collects everything until `done` says so (or the server closes). */
  const raw = (bytes: string | Buffer, done: (text: string) => boolean, timeoutMs = 5000) =>
    new Promise<string>((resolve, reject) => {
      const s = connect(port, address);
      let out = "";
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`timed out; got ${JSON.stringify(out)}`));
      }, timeoutMs);
      s.on("data", (d) => {
        out += d.toString("latin1");
        if (done(out)) {
          clearTimeout(timer);
          s.destroy();
          resolve(out);
        }
      });
      s.on("close", () => {
        clearTimeout(timer);
        resolve(out);
      });
      s.on("error", reject);
      s.write(bytes);
    });

  it("streams a 1 MiB request body and a 2 MiB chunked response through unchanged", async () => {
    const up = randomBytes(1024 * 1024);
    const down = randomBytes(2 * 1024 * 1024);
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const got = Buffer.concat(chunks);
        res.setHeader("x-got-equal", String(got.equals(up)));
        res.write(down.subarray(0, 1000));
        setTimeout(() => res.end(down.subarray(1000)), 10);
      });
    };
    const result = await new Promise<{ headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const req = request({ host: address, port, method: "POST", path: "/big", agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.write(up.subarray(0, 1000));
      setTimeout(() => req.end(up.subarray(1000)), 10); // chunked request body
    });
    expect(result.headers["x-got-equal"]).toBe("true");
    expect(result.headers["transfer-encoding"]).toBe("chunked");
    expect(result.body.equals(down)).toBe(true);
  });

  it("answers pipelined requests in order on one connection", async () => {
    handler = (req, res) => res.end(`r${req.url}`);
    const text = await raw(
      `GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n`,
      (t) => t.includes("r/3"),
    );
    expect(text.indexOf("r/1")).toBeLessThan(text.indexOf("r/2"));
    expect(text.indexOf("r/2")).toBeLessThan(text.indexOf("r/3"));
    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
  });

  it("serves HTTP/1.0 clients and closes unless they ask for keep-alive", async () => {
    handler = (_req, res) => res.end("old");
    const text = await raw("GET /old HTTP/1.0\r\n\r\n", () => false);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/Connection: close/i);
    expect(text.endsWith("old")).toBe(true);
  });

  it("passes 100 Continue through", async () => {
    handler = (req, res) => {
      let n = 0;
      req.on("data", (c) => {
        n += c.length;
      });
      req.on("end", () => res.end(`got ${n}`));
    };
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(port, address);
      let out = "";
      s.on("data", (d) => {
        out += d;
        if (out.includes("100 Continue") && !out.includes("got")) s.write("hello");
        if (out.includes("got 5")) {
          s.destroy();
          resolve(out);
        }
      });
      s.on("error", reject);
      s.write("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    });
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(text).toContain("got 5");
  });

  it("tunnels upgraded connections (WebSocket-style)", async () => {
    const text = await raw("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nping", (t) =>
      t.includes("ping"),
    );
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
    expect(text.endsWith("ping")).toBe(true);
  });

  it("answers malformed requests with 400 and closes", async () => {
    const text = await raw("NOT A REQUEST\r\n\r\n", () => false);
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toContain("Server: awselb/2.0");
  });

  it("sticks clients to a target with the AWSALB cookie", async () => {
    handler = (_req, res) => res.end("backend");
    const first = await new Promise<{ cookie: string; body: string }>((resolve, reject) => {
      request({ host: address, port, path: "/sticky", agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ cookie: String(res.headers["set-cookie"]?.[0] ?? ""), body }));
      })
        .on("error", reject)
        .end();
    });
    expect(first.cookie).toMatch(/^AWSALB=[^;]+; Expires=.+; Path=\/$/);
    const value = first.cookie.split(";")[0];
    for (let i = 0; i < 4; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: address, port, path: "/sticky", agent: false, headers: { cookie: value } }, (res) => {
          let b = "";
          res.on("data", (c) => {
            b += c;
          });
          res.on("end", () => resolve(b));
        })
          .on("error", reject)
          .end();
      });
      expect(body).toBe(first.body);
    }
  });

  it("counts requests, status classes, response times and hosts per load balancer and target group", async () => {
    handler = (req, res) => {
      res.statusCode = req.url === "/404" ? 404 : 200;
      res.end("x");
    };
    const before = plane.snapshot();
    const tgBefore = before.targetGroups.find((t) => t.targetGroupArn === "tg")!;
    const lbBefore = before.loadBalancers.find((l) => l.loadBalancerArn === "lb")!;
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: address, port, path, agent: false }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
          .on("error", reject)
          .end();
      });
    expect(await get("/ok")).toBe(200);
    expect(await get("/ok")).toBe(200);
    expect(await get("/404")).toBe(404);
    expect(await get("/down")).toBe(503); // only an initial target
    const after = plane.snapshot();
    const t = after.targetGroups.find((x) => x.targetGroupArn === "tg")!;
    const l = after.loadBalancers.find((x) => x.loadBalancerArn === "lb")!;
    expect(t.requestCount - tgBefore.requestCount).toBe(3);
    expect(t.httpCodeTarget2xx - tgBefore.httpCodeTarget2xx).toBe(2);
    expect(t.httpCodeTarget4xx - tgBefore.httpCodeTarget4xx).toBe(1);
    expect(t.targetResponseTimeCount - tgBefore.targetResponseTimeCount).toBe(3);
    expect(t.targetResponseTimeSum).toBeGreaterThan(tgBefore.targetResponseTimeSum);
    expect(t).toMatchObject({ loadBalancerArn: "lb", healthyHostCount: 1, unHealthyHostCount: 0 });
    expect(l.requestCount - lbBefore.requestCount).toBe(4);
    expect(l.httpCodeElb5xx - lbBefore.httpCodeElb5xx).toBe(1);
    expect(l.newConnectionCount - lbBefore.newConnectionCount).toBe(4);
    expect(after.targetGroups.find((x) => x.targetGroupArn === "tg-down")).toMatchObject({
      healthyHostCount: 0,
      unHealthyHostCount: 0,
    });
  });

  it("refuses to bind a port held by another process, and reports it", async () => {
    expect(await plane.probe(address, port)).toBeUndefined(); // its own listener
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port + 1, address, () => r()));
    try {
      expect(await plane.probe(address, port + 1)).toMatch(/in use/);
    } finally {
      squatter.close();
    }
  });
});
