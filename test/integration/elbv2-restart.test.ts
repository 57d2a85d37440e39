import {
  DeregisterTargetsCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import {
  type Backend,
  createAlb,
  createTargetGroup,
  elbClient,
  httpGet,
  startBackend,
  waitFor,
  waitForTargets,
} from "../support/elbv2.js";

describe("ELBv2 across a Berth crash and restart", () => {
  let berth: RunningBerth | undefined;
  const backends: Backend[] = [];
  afterAll(async () => {
    await berth?.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  it("listens again on every stored listener, with targets' health and draining carried over", async () => {
    berth = await startBerth();
    const dataDir = berth.dataDir;
    let elb = elbClient(berth.endpoint);
    const a = await startBackend("a");
    const b = await startBackend("b");
    backends.push(a, b);
    const tg = await createTargetGroup(elb, "restart", {}, "4");
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tg,
        Targets: [
          { Id: "127.0.0.1", Port: a.port },
          { Id: "127.0.0.1", Port: b.port },
        ],
      }),
    );
    const lb = await createAlb(elb, "restart", tg, 8080);
    await waitForTargets(elb, tg, "healthy", 2);
    expect((await httpGet(`${lb.url}/before`)).status).toBe(200);

    await berth.kill(); // SIGKILL: no shutdown, the listening sockets just vanish
    await expect(httpGet(`${lb.url}/down`, { timeoutMs: 2000 })).rejects.toThrow(/ECONNREFUSED/);

    berth = await startBerth({ dataDir });
    elb = elbClient(berth.endpoint);
    // The listener is back as soon as Berth serves, and targets keep their last known health.
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(health.TargetHealthDescriptions!.map((d) => d.TargetHealth?.State)).toEqual(["healthy", "healthy"]);
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add((await httpGet(`${lb.url}/after`)).body.split(" ")[0]);
    expect([...answers].sort()).toEqual(["a", "b"]);
    const described = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.loadBalancerArn] }));
    expect(described.LoadBalancers![0]).toMatchObject({ DNSName: lb.dnsName, State: { Code: "active" } });

    // Draining survives a crash too: the target stays draining until its deadline, then goes.
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: "127.0.0.1", Port: a.port }] }));
    await berth.kill();
    berth = await startBerth({ dataDir });
    elb = elbClient(berth.endpoint);
    const drain = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(drain.TargetHealthDescriptions!.find((d) => d.Target?.Port === a.port)?.TargetHealth?.State).toBe(
      "draining",
    );
    for (let i = 0; i < 4; i++) expect((await httpGet(`${lb.url}/drain`)).body).toBe("b GET /drain\n");
    await waitFor(
      "draining to end",
      async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!,
      (d) => d.length === 1,
      15_000,
    );
  });
});
