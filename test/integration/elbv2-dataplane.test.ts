import { execFile, execFileSync } from "node:child_process";
import { Agent, request } from "node:http";
import { type Server, type Socket, connect, createServer } from "node:net";
import { promisify } from "node:util";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type RuleCondition,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type Backend,
  cleanup,
  createAlb,
  createTargetGroup,
  elbClient,
  fastHealth,
  httpGet,
  startBackend,
  uniqueName,
  waitFor,
  waitForTargets,
} from "../support/elbv2.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const run = promisify(execFile);

/**
 * The data plane through real sockets: backends are Node HTTP servers on 127.0.0.1 (and one
 * busybox container), load balancers listen on their own loopback addresses.
 */
describe("ELBv2 data plane", () => {
  const endpoint = inject("endpoint");
  const elb = elbClient(endpoint);
  const lbs: string[] = [];
  const tgs: string[] = [];
  const backends: Backend[] = [];
  afterAll(async () => {
    await cleanup(elb, lbs, tgs);
    await Promise.all(backends.map((b) => b.close()));
  });

  const backend = async (name: string) => {
    const b = await startBackend(name);
    backends.push(b);
    return b;
  };
  const targetGroup = async (label: string, members: Backend[], deregistrationDelay = "1") => {
    const arn = await createTargetGroup(elb, label, {}, deregistrationDelay);
    tgs.push(arn);
    if (members.length)
      await elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: members.map((b) => ({ Id: "127.0.0.1", Port: b.port })),
        }),
      );
    return arn;
  };
  const alb = async (label: string, tgArn: string, port = 8080) => {
    const a = await createAlb(elb, label, tgArn, port);
    lbs.push(a.loadBalancerArn);
    return a;
  };
  const rule = (listenerArn: string, priority: number, conditions: RuleCondition[], tgArn: string) =>
    elb.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: priority,
        Conditions: conditions,
        Actions: [{ Type: "forward", TargetGroupArn: tgArn }],
      }),
    );

  describe("routing rules", () => {
    let url: string;
    beforeAll(async () => {
      const names = ["default", "path", "host", "header", "method", "query", "source", "weighted-a", "weighted-b"];
      const bs = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await backend(n)] as const)));
      const groups = Object.fromEntries(
        await Promise.all(names.map(async (n) => [n, await targetGroup(n, [bs[n]])] as const)),
      );
      const a = await alb("routing", groups.default);
      url = a.url;
      const l = a.listenerArn;
      await rule(l, 10, [{ Field: "path-pattern", Values: ["/api/*"] }], groups.path);
      await rule(l, 20, [{ Field: "host-header", Values: ["*.example.com"] }], groups.host);
      await rule(
        l,
        30,
        [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["canary*"] } }],
        groups.header,
      );
      await rule(
        l,
        40,
        [{ Field: "http-request-method", HttpRequestMethodConfig: { Values: ["DELETE"] } }],
        groups.method,
      );
      await rule(
        l,
        50,
        [{ Field: "query-string", QueryStringConfig: { Values: [{ Key: "version", Value: "v2" }] } }],
        groups.query,
      );
      await rule(l, 60, [{ Field: "source-ip", SourceIpConfig: { Values: ["10.0.0.0/8"] } }], groups.default);
      await rule(
        l,
        70,
        [
          { Field: "source-ip", SourceIpConfig: { Values: ["127.0.0.0/8"] } },
          { Field: "path-pattern", Values: ["/src"] },
        ],
        groups.source,
      );
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: l,
          Priority: 80,
          Conditions: [{ Field: "path-pattern", Values: ["/weighted"] }],
          Actions: [
            {
              Type: "forward",
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: groups["weighted-a"], Weight: 3 },
                  { TargetGroupArn: groups["weighted-b"], Weight: 1 },
                ],
              },
            },
          ],
        }),
      );
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: l,
          Priority: 90,
          Conditions: [{ Field: "path-pattern", Values: ["/old/*"] }],
          Actions: [
            {
              Type: "redirect",
              RedirectConfig: { Path: "/new/#{path}", Query: "from=old&#{query}", StatusCode: "HTTP_301" },
            },
          ],
        }),
      );
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: l,
          Priority: 95,
          Conditions: [{ Field: "path-pattern", Values: ["/https"] }],
          Actions: [
            {
              Type: "redirect",
              RedirectConfig: { Protocol: "HTTPS", Port: "443", Host: "secure.#{host}", StatusCode: "HTTP_302" },
            },
          ],
        }),
      );
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: l,
          Priority: 100,
          Conditions: [{ Field: "path-pattern", Values: ["/teapot"] }],
          Actions: [
            {
              Type: "fixed-response",
              FixedResponseConfig: { StatusCode: "418", ContentType: "application/json", MessageBody: '{"tea":true}' },
            },
          ],
        }),
      );
      await Promise.all(Object.values(groups).map((arn) => waitForTargets(elb, arn, "healthy", 1)));
    });

    const who = async (path: string, opts: Parameters<typeof httpGet>[1] = {}) =>
      (await httpGet(`${url}${path}`, opts)).body.split(" ")[0];

    it.each<[string, string, Parameters<typeof httpGet>[1], string]>([
      ["no rule matches: the default action", "/", {}, "default"],
      ["path-pattern", "/api/users", {}, "path"],
      ["host-header (port ignored, case-insensitive)", "/", { headers: { host: "Shop.Example.com:8080" } }, "host"],
      ["http-header", "/", { headers: { "x-env": "canary-1" } }, "header"],
      ["http-request-method", "/", { method: "DELETE" }, "method"],
      ["query-string", "/?a=1&version=v2", {}, "query"],
      ["source-ip (and path) ANDed", "/src", {}, "source"],
      ["priority order: path rule beats the host rule", "/api/x", { headers: { host: "a.example.com" } }, "path"],
    ])("%s", async (_, path, opts, expected) => {
      expect(await who(path, opts)).toBe(expected);
    });

    it("forwards to weighted target groups in proportion (3:1)", async () => {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 40; i++) {
        const w = await who("/weighted");
        counts[w] = (counts[w] ?? 0) + 1;
      }
      expect(counts).toEqual({ "weighted-a": 30, "weighted-b": 10 });
    });

    it("redirects with #{…} placeholders as AWS does", async () => {
      const r = await httpGet(`${url}/old/a/b?x=1`);
      expect(r.status).toBe(301);
      expect(r.headers.location).toBe(`${url}/new/old/a/b?from=old&x=1`);
      expect(r.headers.server).toBe("awselb/2.0");
      const s = await httpGet(`${url}/https`, { headers: { host: "app.test" } });
      expect(s.status).toBe(302);
      expect(s.headers.location).toBe("https://secure.app.test:443/https");
    });

    it("answers fixed responses itself", async () => {
      const r = await httpGet(`${url}/teapot`);
      expect(r).toMatchObject({ status: 418, body: '{"tea":true}' });
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers.server).toBe("awselb/2.0");
    });

    it("adds X-Forwarded-For/Proto/Port and X-Amzn-Trace-Id, keeps an incoming trace id", async () => {
      const b = backends.find((x) => x.name === "default")!;
      b.seen.length = 0;
      await httpGet(`${url}/headers`, { headers: { "x-forwarded-for": "203.0.113.9" } });
      await httpGet(`${url}/headers`, { headers: { "x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793" } });
      const [first, second] = b.seen;
      expect(first.headers).toMatchObject({
        "x-forwarded-for": "203.0.113.9, 127.0.0.1",
        "x-forwarded-proto": "http",
        "x-forwarded-port": "8080",
        "x-amzn-trace-id": expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
      });
      expect(second.headers["x-amzn-trace-id"]).toBe("Root=1-5759e988-bd862e3fe1be46a994272793");
    });

    it("keeps client connections alive and reuses connections to targets", async () => {
      const b = backends.find((x) => x.name === "default")!;
      b.seen.length = 0;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      try {
        for (let i = 0; i < 20; i++) {
          const res = await new Promise<{ status: number }>((resolve, reject) => {
            const req = request(`${url}/ka`, { agent }, (r) => {
              sockets.add(r.socket);
              r.resume();
              r.on("end", () => resolve({ status: r.statusCode ?? 0 }));
            });
            req.on("error", reject);
            req.end();
          });
          expect(res.status).toBe(200);
        }
      } finally {
        agent.destroy();
      }
      expect(sockets.size).toBe(1);
      // The load balancer reused its connection to the target instead of opening one per request.
      expect(b.seen).toHaveLength(20);
      expect(new Set(b.seen.map((s) => s.remotePort)).size).toBeLessThanOrEqual(2);
    });
  });

  describe("target selection and errors", () => {
    it("round robins across healthy targets and skips unhealthy ones", async () => {
      const a = await backend("rr-a");
      const b = await backend("rr-b");
      const c = await backend("rr-c");
      c.handler = (req, res) => {
        res.statusCode = req.url === "/health" ? 500 : 200;
        res.end("rr-c\n");
      };
      const tg = await targetGroup("rr", [a, b, c]);
      const lb = await alb("rr", tg);
      await waitFor(
        "two healthy, one unhealthy",
        async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!,
        (d) =>
          d.filter((t) => t.TargetHealth?.State === "healthy").length === 2 &&
          d.some((t) => t.TargetHealth?.State === "unhealthy"),
      );
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push((await httpGet(`${lb.url}/`)).body.split(" ")[0]);
      expect(seen.filter((s) => s === "rr-a")).toHaveLength(3);
      expect(seen.filter((s) => s === "rr-b")).toHaveLength(3);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    });

    it("least outstanding requests avoids a target busy with a slow request", async () => {
      const slow = await backend("lor-slow");
      const fast = await backend("lor-fast");
      const held: (() => void)[] = [];
      slow.handler = (req, res) => {
        if (req.url === "/health") return void res.end("ok");
        held.push(() => res.end("lor-slow\n"));
      };
      const tg = await targetGroup("lor", [slow, fast]);
      await elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: tg,
          Attributes: [{ Key: "load_balancing.algorithm.type", Value: "least_outstanding_requests" }],
        }),
      );
      const lb = await alb("lor", tg);
      await waitForTargets(elb, tg, "healthy", 2);
      // Keep one request outstanding on the slow target, then every other request goes to the fast one.
      const pending: Promise<unknown>[] = [];
      let sawSlow = false;
      for (let i = 0; i < 2 && !sawSlow; i++) {
        const p = httpGet(`${lb.url}/`);
        pending.push(p);
        await waitFor(
          "request to arrive",
          async () => held.length + fast.seen.length,
          (n) => n > i,
          5000,
          20,
        );
        sawSlow = held.length > 0;
      }
      expect(held.length).toBe(1);
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push((await httpGet(`${lb.url}/`)).body.trim());
      expect(answers.every((x) => x.startsWith("lor-fast"))).toBe(true);
      for (const release of held) release();
      await Promise.all(pending);
    });

    it("503 when the target group has no registered targets, or none past initial", async () => {
      const tg = await targetGroup("empty", []);
      const lb = await alb("empty", tg);
      const r = await httpGet(`${lb.url}/`);
      expect(r.status).toBe(503);
      expect(r.body).toContain("503 Service Temporarily Unavailable");
      expect(r.headers.server).toBe("awselb/2.0");
    });

    it("502 when the target resets the connection, 504 when it does not answer within the idle timeout", async () => {
      const broken = await backend("broken");
      broken.handler = (req, res) => {
        if (req.url === "/health") return void res.end("ok");
        if (req.url === "/reset") return void req.socket.destroy();
        // /hang: never answer
      };
      const tg = await targetGroup("errors", [broken]);
      const lb = await alb("errors", tg);
      await elb.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: lb.loadBalancerArn,
          Attributes: [{ Key: "idle_timeout.timeout_seconds", Value: "1" }],
        }),
      );
      await waitForTargets(elb, tg, "healthy", 1);
      const reset = await httpGet(`${lb.url}/reset`);
      expect(reset.status).toBe(502);
      expect(reset.body).toContain("502 Bad Gateway");
      const started = Date.now();
      const hang = await httpGet(`${lb.url}/hang`);
      expect(hang.status).toBe(504);
      expect(hang.body).toContain("504 Gateway Time-out");
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe("health checks", () => {
    it("moves targets initial → healthy → unhealthy with AWS's reason codes, and back", async () => {
      const b = await backend("hc");
      let mode: "ok" | "500" | "hang" = "ok";
      b.handler = (req, res) => {
        if (req.url !== "/health") return void res.end("hc\n");
        if (mode === "ok") return void res.end("ok");
        if (mode === "500") {
          res.statusCode = 500;
          return void res.end("no");
        }
      };
      const tg = await targetGroup("hc", [b]);
      await alb("hc", tg);
      const state = async () =>
        (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions![0]
          .TargetHealth!;
      // initial until the first check passes, which may already have happened (one pass suffices)
      expect((await state()).State).toMatch(/^(initial|healthy)$/);
      await waitFor("healthy", state, (h) => h.State === "healthy");
      mode = "500";
      expect(await waitFor("unhealthy", state, (h) => h.State === "unhealthy")).toEqual({
        State: "unhealthy",
        Reason: "Target.ResponseCodeMismatch",
        Description: "Health checks failed with these codes: [500]",
      });
      mode = "hang";
      expect(await waitFor("timeout", state, (h) => h.Reason === "Target.Timeout")).toEqual({
        State: "unhealthy",
        Reason: "Target.Timeout",
        Description: "Request timed out",
      });
      mode = "ok";
      await waitFor("healthy again", state, (h) => h.State === "healthy");
    });

    it("reports Target.FailedHealthChecks when nothing listens on the target port", async () => {
      const b = await backend("gone");
      const tg = await targetGroup("gone", [b]);
      await alb("gone", tg);
      await waitForTargets(elb, tg, "healthy", 1);
      await b.close();
      const h = await waitFor(
        "unhealthy",
        async () =>
          (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions![0]
            .TargetHealth!,
        (x) => x.State === "unhealthy",
      );
      expect(h).toEqual({
        State: "unhealthy",
        Reason: "Target.FailedHealthChecks",
        Description: "Health checks failed",
      });
    });
  });

  describe("deregistration", () => {
    it("lets in-flight requests finish, sends no new ones, drains for the delay, then forgets the target", async () => {
      const leaving = await backend("leaving");
      const staying = await backend("staying");
      leaving.handler = (req, res) => {
        if (req.url === "/health") return void res.end("ok");
        if (req.url === "/slow") return void setTimeout(() => res.end("leaving slow\n"), 1500);
        res.end("leaving\n");
      };
      const tg = await targetGroup("drain", [leaving, staying], "3");
      const lb = await alb("drain", tg);
      await waitForTargets(elb, tg, "healthy", 2);
      // Start slow requests until one lands on the leaving target.
      let inflight: Promise<{ status: number; body: string }> | undefined;
      for (let i = 0; i < 4 && !inflight; i++) {
        const p = httpGet(`${lb.url}/slow`);
        const landed = await waitFor(
          "the slow request to land",
          async () =>
            leaving.seen.filter((s) => s.url === "/slow").length + staying.seen.filter((s) => s.url === "/slow").length,
          (n) => n > i,
          5000,
          10,
        );
        if (leaving.seen.some((s) => s.url === "/slow")) inflight = p;
        else await p;
        void landed;
      }
      expect(inflight).toBeDefined();
      const deregisteredAt = Date.now();
      await elb.send(
        new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: "127.0.0.1", Port: leaving.port }] }),
      );
      const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
      const drained = health.TargetHealthDescriptions!.find((d) => d.Target?.Port === leaving.port)!;
      expect(drained.TargetHealth).toEqual({
        State: "draining",
        Reason: "Target.DeregistrationInProgress",
        Description: "Target deregistration is in progress",
      });
      const before = leaving.seen.length;
      for (let i = 0; i < 6; i++) expect((await httpGet(`${lb.url}/x`)).body).toBe("staying GET /x\n");
      expect(leaving.seen.length).toBe(before);
      expect(await inflight!).toEqual(expect.objectContaining({ status: 200, body: "leaving slow\n" }));
      await waitFor(
        "the target to be gone",
        async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!,
        (d) => d.length === 1,
        10_000,
      );
      expect(Date.now() - deregisteredAt).toBeGreaterThanOrEqual(2900);
    });
  });

  describe("load balancers side by side", () => {
    it("two load balancers with the same listener port both work", async () => {
      const one = await backend("one");
      const two = await backend("two");
      const tg1 = await targetGroup("same-1", [one]);
      const tg2 = await targetGroup("same-2", [two]);
      const a = await alb("same-a", tg1, 8090);
      const b = await alb("same-b", tg2, 8090);
      await Promise.all([waitForTargets(elb, tg1, "healthy", 1), waitForTargets(elb, tg2, "healthy", 1)]);
      expect(a.dnsName).not.toBe(b.dnsName);
      // curl runs asynchronously: the backends live in this process.
      const curl = async (u: string) => (await run("curl", ["-sS", "--max-time", "5", u])).stdout;
      expect(await curl(`${a.url}/`)).toBe("one GET /\n");
      expect(await curl(`${b.url}/`)).toBe("two GET /\n");
    });
  });

  describe("network load balancers", () => {
    const echoServer = async (greeting: string) => {
      const sockets = new Set<Socket>();
      const server: Server = createServer((s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("data", (d) => s.write(`${greeting}:${d}`));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      const port = (server.address() as { port: number }).port;
      return {
        port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      };
    };
    const talk = (host: string, port: number, text: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(port, host);
        let out = "";
        s.setTimeout(5000, () => s.destroy(new Error("timeout")));
        s.on("connect", () => s.write(text));
        s.on("data", (d) => {
          out += d;
          s.end();
        });
        s.on("close", () => resolve(out));
        s.on("error", reject);
      });

    it("forwards TCP to targets checked by TCP health checks", async () => {
      const echo = await echoServer("echo");
      try {
        const tg = (
          await elb.send(
            new CreateTargetGroupCommand({
              Name: uniqueName("nlb"),
              Protocol: "TCP",
              Port: echo.port,
              TargetType: "ip",
              ...fastHealth,
            }),
          )
        ).TargetGroups![0].TargetGroupArn!;
        tgs.push(tg);
        await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: "127.0.0.1" }] }));
        const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: uniqueName("nlb"), Type: "network" })))
          .LoadBalancers![0];
        lbs.push(lb.LoadBalancerArn!);
        await elb.send(
          new CreateListenerCommand({
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "TCP",
            Port: 9000,
            DefaultActions: [{ Type: "forward", TargetGroupArn: tg }],
          }),
        );
        await waitForTargets(elb, tg, "healthy", 1);
        expect(await talk(lb.DNSName!, 9000, "hello")).toBe("echo:hello");
      } finally {
        await echo.close();
      }
    });

    it("forwards TCP to targets checked by HTTP health checks", async () => {
      const b = await backend("nlb-http");
      const tg = (
        await elb.send(
          new CreateTargetGroupCommand({
            Name: uniqueName("nlb-http"),
            Protocol: "TCP",
            Port: b.port,
            TargetType: "ip",
            HealthCheckProtocol: "HTTP",
            HealthCheckPath: "/health",
            ...fastHealth,
          }),
        )
      ).TargetGroups![0].TargetGroupArn!;
      tgs.push(tg);
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: "127.0.0.1" }] }));
      const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: uniqueName("nlbh"), Type: "network" })))
        .LoadBalancers![0];
      lbs.push(lb.LoadBalancerArn!);
      await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: "TCP",
          Port: 9001,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg }],
        }),
      );
      await waitForTargets(elb, tg, "healthy", 1);
      const r = await httpGet(`http://${lb.DNSName}:9001/through-nlb`);
      expect(r.body).toBe("nlb-http GET /through-nlb\n");
      // An NLB does not touch HTTP: no X-Forwarded-* headers.
      expect(b.seen.at(-1)?.headers["x-forwarded-for"]).toBeUndefined();
    });
  });

  describe("containers as targets", () => {
    let container: string | undefined;
    afterAll(() => {
      if (container) execFileSync("docker", ["rm", "-f", container], { stdio: "ignore" });
    });

    it("routes to a busybox httpd container registered by its IP on Docker's bridge", async () => {
      container = execFileSync(
        "docker",
        [
          "run",
          "-d",
          "--rm",
          "--label",
          "berth-test=elbv2",
          BUSYBOX_IMAGE,
          "sh",
          "-c",
          "echo from-container > /www/index.html; echo ok > /www/health; exec httpd -f -p 8080 -h /www",
        ],
        { encoding: "utf8" },
      ).trim();
      const ip = execFileSync("docker", ["inspect", "-f", "{{.NetworkSettings.IPAddress}}", container], {
        encoding: "utf8",
      }).trim();
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const tg = await createTargetGroup(elb, "ctr", { Port: 8080 });
      tgs.push(tg);
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: ip }] }));
      const lb = await alb("ctr", tg);
      await waitForTargets(elb, tg, "healthy", 1);
      expect((await httpGet(`${lb.url}/`)).body).toBe("from-container\n");
    });
  });
});
