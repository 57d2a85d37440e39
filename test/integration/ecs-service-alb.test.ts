import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsvpc, ecsClient, removeContainersOf } from "../support/ecs.js";
import { cleanup, createAlb, createTargetGroup, elbClient, httpGet, waitFor } from "../support/elbv2.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const cluster = "alb";

describe("an ECS service behind an ALB", () => {
  let berth: RunningBerth;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let tg: string;
  let alb: Awaited<ReturnType<typeof createAlb>>;

  const register = async (version: string) =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "alb-web",
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          cpu: "256",
          memory: "512",
          containerDefinitions: [
            {
              name: "web",
              image: BUSYBOX_IMAGE,
              stopTimeout: 2,
              command: [
                "sh",
                "-c",
                `echo "${version} $(hostname)" > /www/index.html; echo ok > /www/health; exec httpd -f -p 8080 -h /www`,
              ],
              portMappings: [{ containerPort: 8080 }],
            },
          ],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;

  const stable = (name: string, taskDefinition: string) =>
    waitFor(
      `service ${name} on ${taskDefinition}`,
      async () => (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0],
      (s) =>
        s.deployments!.length === 1 &&
        s.deployments![0].taskDefinition === taskDefinition &&
        s.deployments![0].rolloutState === "COMPLETED",
      120_000,
      500,
    );

  beforeAll(async () => {
    berth = await startBerth();
    ecs = ecsClient(berth.endpoint);
    elb = elbClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    tg = await createTargetGroup(elb, "svc", { Port: 8080, HealthCheckPath: "/health" });
    alb = await createAlb(elb, "svc", tg, 8081);
  });
  afterAll(async () => {
    await ecs?.send(new DeleteServiceCommand({ cluster, service: "web", force: true })).catch(() => undefined);
    await cleanup(elb, [alb?.loadBalancerArn].filter(Boolean) as string[], [tg].filter(Boolean));
    await berth?.stop();
    if (berth) removeContainersOf(berth.dataDir);
  });

  it("registers healthy tasks, serves from all of them, and rolls a new revision with zero failed requests", async () => {
    const v1 = await register("v1");
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: "web",
        taskDefinition: v1,
        desiredCount: 2,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
        healthCheckGracePeriodSeconds: 10,
        loadBalancers: [{ targetGroupArn: tg, containerName: "web", containerPort: 8080 }],
      }),
    );
    await waitUntilServicesStable(
      { client: ecs, maxWaitTime: 120, minDelay: 1, maxDelay: 2 },
      { cluster, services: ["web"] },
    );
    await stable("web", v1);
    const health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!;
    expect(health.map((h) => h.TargetHealth!.State)).toEqual(["healthy", "healthy"]);

    const hosts = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await httpGet(`${alb.url}/index.html`);
      expect(r.status).toBe(200);
      hosts.add(r.body.trim());
    }
    expect(hosts.size).toBe(2); // both tasks answer

    // Continuous traffic (bounded in count and time) while the service rolls to v2.
    let done = false;
    const results = { ok: 0, failed: [] as string[], v2: 0 };
    const traffic = (async () => {
      const deadline = Date.now() + 150_000;
      for (let i = 0; i < 20_000 && !done && Date.now() < deadline; i++) {
        try {
          const r = await httpGet(`${alb.url}/index.html`, { timeoutMs: 5000 });
          if (r.status === 200) {
            results.ok++;
            if (r.body.startsWith("v2")) results.v2++;
          } else results.failed.push(`${r.status} ${r.body.slice(0, 80)}`);
        } catch (e) {
          results.failed.push((e as Error).message);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const v2 = await register("v2");
    await ecs.send(new UpdateServiceCommand({ cluster, service: "web", taskDefinition: v2 }));
    await stable("web", v2);
    await new Promise((r) => setTimeout(r, 1000));
    done = true;
    await traffic;
    expect(results.failed).toEqual([]);
    expect(results.ok).toBeGreaterThan(50);
    expect(results.v2).toBeGreaterThan(0);
    const after = await httpGet(`${alb.url}/index.html`);
    expect(after.body.startsWith("v2")).toBe(true);
  });

  it("replaces a task that fails its target group's health checks", async () => {
    const tg2 = await createTargetGroup(elb, "sick", { Port: 8080, HealthCheckPath: "/health" });
    const alb2 = await createAlb(elb, "sick", tg2, 8082);
    try {
      const sick = (
        await ecs.send(
          new RegisterTaskDefinitionCommand({
            family: "alb-sick",
            networkMode: "awsvpc",
            requiresCompatibilities: ["FARGATE"],
            cpu: "256",
            memory: "512",
            containerDefinitions: [
              {
                name: "web",
                image: BUSYBOX_IMAGE,
                stopTimeout: 1,
                // Healthy at first, then its health check starts failing.
                command: [
                  "sh",
                  "-c",
                  "echo ok > /www/health; (sleep 12; rm /www/health) & exec httpd -f -p 8080 -h /www",
                ],
                portMappings: [{ containerPort: 8080 }],
              },
            ],
          }),
        )
      ).taskDefinition!.taskDefinitionArn!;
      await ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: "sick",
          taskDefinition: sick,
          desiredCount: 1,
          launchType: "FARGATE",
          networkConfiguration: awsvpc,
          loadBalancers: [{ targetGroupArn: tg2, containerName: "web", containerPort: 8080 }],
        }),
      );
      const first = await waitFor(
        "the first task",
        async () => (await ecs.send(new ListTasksCommand({ cluster, serviceName: "sick" }))).taskArns ?? [],
        (a) => a.length === 1,
        30_000,
      );
      const replaced = await waitFor(
        "a replacement",
        async () => (await ecs.send(new DescribeServicesCommand({ cluster, services: ["sick"] }))).services![0],
        (s) =>
          (s.events ?? []).some((e) => /has stopped 1 running tasks/.test(e.message ?? "")) &&
          (s.events ?? []).filter((e) => /has started 1 tasks/.test(e.message ?? "")).length >= 2,
        90_000,
        500,
      );
      expect(replaced.events!.some((e) => e.message?.includes(first[0].split("/").pop()!))).toBe(true);
      const old = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: first }))).tasks![0];
      await waitFor(
        "the old task to stop",
        async () => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: first }))).tasks![0],
        (t) => t.lastStatus === "STOPPED",
        30_000,
      );
      const stoppedTask = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: first }))).tasks![0];
      expect(old.taskArn).toBe(first[0]);
      expect(stoppedTask.stopCode).toBe("ServiceSchedulerInitiated");
      expect(stoppedTask.stoppedReason).toBe(`Task failed ELB health checks in (target-group ${tg2})`);
    } finally {
      await ecs.send(new DeleteServiceCommand({ cluster, service: "sick", force: true })).catch(() => undefined);
      await cleanup(elb, [alb2.loadBalancerArn], []);
    }
  });

  it("keeps serving across a Berth restart without duplicating tasks", async () => {
    const before = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns!.sort();
    expect(before).toHaveLength(2);
    await berth.kill();
    berth = await startBerth({ dataDir: berth.dataDir });
    ecs = ecsClient(berth.endpoint);
    elb = elbClient(berth.endpoint);
    const r = await waitFor(
      "the ALB after restart",
      () => httpGet(`${alb.url}/index.html`).catch(() => ({ status: 0, body: "" })),
      (x) => x.status === 200,
      30_000,
    );
    expect(r.body.startsWith("v2")).toBe(true);
    await new Promise((res) => setTimeout(res, 3000));
    expect((await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns!.sort()).toEqual(before);
  });
});
