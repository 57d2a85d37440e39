import { execFileSync } from "node:child_process";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  type ECSClient,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsvpc, dockerIds, ecsClient, removeContainersOf } from "../support/ecs.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const cluster = "svc";

/** Polls DescribeServices until the predicate holds. */
async function waitForService(
  ecs: ECSClient,
  name: string,
  ok: (s: NonNullable<Awaited<ReturnType<typeof describeService>>>) => boolean,
  ms = 60_000,
) {
  const deadline = Date.now() + ms;
  let last: Awaited<ReturnType<typeof describeService>>;
  while (Date.now() < deadline) {
    last = await describeService(ecs, name);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`service ${name} did not settle: ${JSON.stringify(last!, null, 1)}`);
}
const describeService = async (ecs: ECSClient, name: string) =>
  (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services?.[0];

describe("ECS services", () => {
  let berth: RunningBerth;
  let ecs: ECSClient;

  const register = async (family: string, command: string) =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          cpu: "256",
          memory: "512",
          containerDefinitions: [
            {
              name: "web",
              image: BUSYBOX_IMAGE,
              stopTimeout: 1,
              command: ["sh", "-c", command],
              portMappings: [{ containerPort: 8080 }],
            },
          ],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;

  beforeAll(async () => {
    // Its own Berth, so the "healthy after" grace can be short.
    berth = await startBerth({ env: { BERTH_ECS_HEALTHY_AFTER_MS: "1000" } });
    ecs = ecsClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  });
  afterAll(async () => {
    await berth?.stop();
    if (berth) removeContainersOf(berth.dataDir);
  });

  it("keeps desiredCount tasks running, rolls to a new revision, and replaces a killed task", async () => {
    const v1 = await register("svc-web", "echo v1 > /www/index.html; exec httpd -f -p 8080 -h /www");
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: "web",
        taskDefinition: v1,
        desiredCount: 2,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
      }),
    );
    expect(created.service).toMatchObject({ status: "ACTIVE", desiredCount: 2, launchType: "FARGATE" });
    expect(created.service!.deployments![0].id).toMatch(/^ecs-svc\/\d{19}$/);
    await waitUntilServicesStable(
      { client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { cluster, services: ["web"] },
    );
    const stable = await waitForService(ecs, "web", (s) => s.deployments![0].rolloutState === "COMPLETED");
    expect(stable.runningCount).toBe(2);
    expect(stable.events![0].message).toBe("(service web) has reached a steady state.");
    expect((await ecs.send(new ListServicesCommand({ cluster }))).serviceArns).toEqual([stable.serviceArn]);

    const v2 = await register("svc-web", "echo v2 > /www/index.html; exec httpd -f -p 8080 -h /www");
    await ecs.send(new UpdateServiceCommand({ cluster, service: "web", taskDefinition: v2 }));
    const rolled = await waitForService(
      ecs,
      "web",
      (s) =>
        s.deployments!.length === 1 &&
        s.deployments![0].taskDefinition === v2 &&
        s.deployments![0].rolloutState === "COMPLETED",
    );
    expect(rolled.runningCount).toBe(2);
    const tasks = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns!;
    expect(tasks).toHaveLength(2);

    // Kill one task's container behind Berth's back: the scheduler replaces it.
    execFileSync("docker", ["rm", "-f", ...dockerIds(`berth.task-arn=${tasks[0]}`)], { stdio: "ignore" });
    await waitForService(
      ecs,
      "web",
      (s) => s.runningCount === 2 && s.events!.some((e) => /has started 1 tasks/.test(e.message ?? "")),
    );
    const after = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns!;
    expect(after).toHaveLength(2);
    expect(after).not.toContain(tasks[0]);
  });

  it("trips the circuit breaker on a crashing revision and rolls back", async () => {
    const good = await register("svc-cb", "exec httpd -f -p 8080 -h /www");
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: "cb",
        taskDefinition: good,
        desiredCount: 2,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    await waitForService(ecs, "cb", (s) => s.deployments![0].rolloutState === "COMPLETED");
    const bad = await register("svc-cb", "exit 1");
    await ecs.send(new UpdateServiceCommand({ cluster, service: "cb", taskDefinition: bad }));
    const back = await waitForService(
      ecs,
      "cb",
      (s) => s.taskDefinition === good && s.deployments!.length === 1 && s.deployments![0].rolloutState === "COMPLETED",
    );
    const messages = back.events!.map((e) => e.message);
    expect(messages.some((m) => /deployment failed: tasks failed to start/.test(m ?? ""))).toBe(true);
    expect(messages.some((m) => /rolling back to deployment/.test(m ?? ""))).toBe(true);
    expect(back.runningCount).toBe(2);
  });

  it("survives a Berth restart without duplicating tasks, then deletes cleanly", async () => {
    const before = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns!.sort();
    await berth.kill();
    berth = await startBerth({ dataDir: berth.dataDir, env: { BERTH_ECS_HEALTHY_AFTER_MS: "1000" } });
    ecs = ecsClient(berth.endpoint);
    await new Promise((r) => setTimeout(r, 3000));
    const s = await describeService(ecs, "web");
    expect(s!.runningCount).toBe(2);
    expect((await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns!.sort()).toEqual(before);

    await expect(ecs.send(new DeleteServiceCommand({ cluster, service: "web" }))).rejects.toMatchObject({
      name: "InvalidParameterException",
    });
    await ecs.send(new DeleteServiceCommand({ cluster, service: "web", force: true }));
    await ecs.send(new DeleteServiceCommand({ cluster, service: "cb", force: true }));
    await waitForService(ecs, "web", (x) => x.status === "INACTIVE");
    await waitForService(ecs, "cb", (x) => x.status === "INACTIVE");
    expect((await ecs.send(new ListServicesCommand({ cluster }))).serviceArns).toEqual([]);
  });

  it("rejects bad service input with AWS's errors", async () => {
    await expect(
      ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: "x",
          taskDefinition: "no-such-family",
          desiredCount: 1,
          launchType: "FARGATE",
          networkConfiguration: awsvpc,
        }),
      ),
    ).rejects.toMatchObject({ name: "ClientException" });
    await expect(
      ecs.send(
        new CreateServiceCommand({
          cluster: "nope",
          serviceName: "x",
          taskDefinition: "svc-web",
          desiredCount: 1,
          launchType: "FARGATE",
        }),
      ),
    ).rejects.toMatchObject({ name: "ClusterNotFoundException" });
    await expect(
      ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: "lb",
          taskDefinition: "svc-web",
          desiredCount: 1,
          launchType: "FARGATE",
          networkConfiguration: awsvpc,
          loadBalancers: [
            {
              targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/0123456789abcdef",
              containerName: "web",
              containerPort: 8080,
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(
      ecs.send(new UpdateServiceCommand({ cluster, service: "ghost", desiredCount: 1 })),
    ).rejects.toMatchObject({ name: "ServiceNotActiveException" });
  });
});
