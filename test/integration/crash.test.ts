import { execFileSync } from "node:child_process";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterEach, describe, expect, it } from "vitest";
import { clientConfig, type RunningBerth, startBerth } from "../support/berth.js";
import { awsvpc, ecsClient, removeContainersOf } from "../support/ecs.js";
import { cleanup, createAlb, createTargetGroup, elbClient, httpGet, waitFor } from "../support/elbv2.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

// `kill -9` of Berth in the middle of work: what it acknowledged must be there after a restart on the
// same data dir, services converge to exactly desiredCount tasks, and nothing is left twice (containers,
// target registrations). A write in flight at the kill may or may not be stored; an acknowledged one must.

const cluster = "crash";

/** The task ARNs that own Berth's containers (label berth.task-arn), from the docker CLI. */
function containerTaskArns(dataDir: string): string[] {
  const out = execFileSync(
    "docker",
    ["ps", "-a", "--filter", `label=berth.data-dir=${dataDir}`, "--format", '{{.Label "berth.task-arn"}}'],
    { encoding: "utf8" },
  );
  return [...new Set(out.split("\n").filter(Boolean))].sort();
}

async function runningTasks(ecs: ECSClient, serviceName: string) {
  const arns =
    (await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus: "RUNNING" }))).taskArns ?? [];
  if (arns.length === 0) return [];
  return (await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [];
}

const webDefinition = (family: string, version: string) =>
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
        command: [
          "sh",
          "-c",
          `echo "${version} $(hostname)" > /www/index.html; echo ok > /www/health; exec httpd -f -p 8080 -h /www`,
        ],
        portMappings: [{ containerPort: 8080 }],
      },
    ],
  });

/** Waits until the service runs exactly `count` tasks of `taskDefinition`, steadily (seen twice, 1 s apart). */
async function converged(ecs: ECSClient, serviceName: string, taskDefinition: string, count: number) {
  let seen = 0;
  return waitFor(
    `${serviceName} at exactly ${count} running tasks of ${taskDefinition}`,
    async () => {
      const tasks = await runningTasks(ecs, serviceName);
      const service = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }))).services![0];
      const ok =
        tasks.length === count &&
        tasks.every((t) => t.lastStatus === "RUNNING" && t.taskDefinitionArn === taskDefinition) &&
        service.runningCount === count &&
        service.deployments!.length === 1;
      seen = ok ? seen + 1 : 0;
      return { tasks, seen };
    },
    (v) => v.seen >= 2,
    150_000,
    1_000,
  );
}

describe("kill -9 of Berth", () => {
  let berth: RunningBerth | undefined;
  const dataDirs: string[] = [];
  afterEach(async () => {
    await berth?.stop();
    berth = undefined;
    for (const dir of dataDirs.splice(0)) removeContainersOf(dir);
  });

  it("during acknowledged writes loses none of them, and a 3-task service comes back at exactly 3", async () => {
    berth = await startBerth();
    const { dataDir } = berth;
    dataDirs.push(dataDir);
    let ecs = ecsClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const web = (await ecs.send(webDefinition("crash-web", "v1"))).taskDefinition!.taskDefinitionArn!;
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: "web",
        taskDefinition: web,
        desiredCount: 3,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
      }),
    );
    await converged(ecs, "web", web, 3);

    // Writers in three services, each recording what Berth acknowledged (a 200 came back).
    const acked = { parameters: [] as string[], revisions: [] as number[], secrets: [] as string[] };
    const ssm = new SSMClient(clientConfig(berth.endpoint));
    const sm = new SecretsManagerClient(clientConfig(berth.endpoint));
    const writersEcs = ecs;
    let stop = false;
    const loop = async (write: (i: number) => Promise<void>) => {
      for (let i = 0; i < 5_000 && !stop; i++) {
        try {
          await write(i);
        } catch {
          return; // Berth is gone: this write was not acknowledged
        }
      }
    };
    const writers = [
      loop(async (i) => {
        await ssm.send(new PutParameterCommand({ Name: `/crash/p${i}`, Value: `v${i}`, Type: "String" }));
        acked.parameters.push(`/crash/p${i}`);
      }),
      loop(async () => {
        const td = await writersEcs.send(webDefinition("crash-revisions", "r"));
        acked.revisions.push(td.taskDefinition!.revision!);
      }),
      loop(async (i) => {
        await sm.send(new CreateSecretCommand({ Name: `crash/s${i}`, SecretString: `s${i}` }));
        acked.secrets.push(`crash/s${i}`);
      }),
    ];
    await waitFor(
      "some acknowledged writes of each kind",
      async () => acked,
      (a) => a.parameters.length >= 15 && a.revisions.length >= 15 && a.secrets.length >= 15,
      60_000,
      50,
    );
    await berth.kill(); // mid-stream: each writer has a request in flight
    stop = true;
    await Promise.all(writers);

    berth = await startBerth({ dataDir });
    ecs = ecsClient(berth.endpoint);
    const ssmAfter = new SSMClient(clientConfig(berth.endpoint));
    for (let i = 0; i < acked.parameters.length; i += 10) {
      const names = acked.parameters.slice(i, i + 10);
      const got = await ssmAfter.send(new GetParametersCommand({ Names: names }));
      expect(got.InvalidParameters ?? []).toEqual([]);
      expect(got.Parameters!.map((p) => p.Value).sort()).toEqual(
        names.map((n) => `v${n.slice("/crash/p".length)}`).sort(),
      );
    }
    for (const revision of acked.revisions) {
      const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `crash-revisions:${revision}` }));
      expect(td.taskDefinition!.status).toBe("ACTIVE");
    }
    expect(new Set(acked.revisions).size).toBe(acked.revisions.length); // no revision number handed out twice
    const smAfter = new SecretsManagerClient(clientConfig(berth.endpoint));
    for (const name of acked.secrets) {
      const value = await smAfter.send(new GetSecretValueCommand({ SecretId: name }));
      expect(value.SecretString).toBe(`s${name.slice("crash/s".length)}`);
    }

    // The service: exactly 3 tasks, and every Berth container belongs to one of them (no orphans).
    const { tasks } = await converged(ecs, "web", web, 3);
    const live = tasks.map((t) => t.taskArn!).sort();
    await waitFor(
      "no orphan containers",
      async () => containerTaskArns(dataDir),
      (owners) => owners.join() === live.join(),
    );
    await ecs.send(new DeleteServiceCommand({ cluster, service: "web", force: true }));
  });

  it("during a rolling deployment behind an ALB converges to desiredCount with no duplicate registrations", async () => {
    berth = await startBerth();
    const { dataDir } = berth;
    dataDirs.push(dataDir);
    let ecs = ecsClient(berth.endpoint);
    let elb = elbClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const tg = await createTargetGroup(elb, "crash", { Port: 8080, HealthCheckPath: "/health" });
    const alb = await createAlb(elb, "crash", tg, 8094);
    const v1 = (await ecs.send(webDefinition("crash-roll", "v1"))).taskDefinition!.taskDefinitionArn!;
    const v2 = (await ecs.send(webDefinition("crash-roll", "v2"))).taskDefinition!.taskDefinitionArn!;
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: "roll",
        taskDefinition: v1,
        desiredCount: 2,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
        healthCheckGracePeriodSeconds: 5,
        loadBalancers: [{ targetGroupArn: tg, containerName: "web", containerPort: 8080 }],
      }),
    );
    await converged(ecs, "roll", v1, 2);

    await ecs.send(new UpdateServiceCommand({ cluster, service: "roll", taskDefinition: v2 }));
    // Kill once the new deployment has started a task: old and new revisions are both live.
    await waitFor(
      "a v2 task started",
      async () => runningTasks(ecs, "roll"),
      (tasks) => tasks.some((t) => t.taskDefinitionArn === v2),
      60_000,
      100,
    );
    await berth.kill();

    berth = await startBerth({ dataDir });
    ecs = ecsClient(berth.endpoint);
    elb = elbClient(berth.endpoint);
    const { tasks } = await converged(ecs, "roll", v2, 2);
    const ips = tasks
      .map((t) => t.attachments![0].details!.find((d) => d.name === "privateIPv4Address")!.value!)
      .sort();

    // Target group: exactly the two live tasks, each once, healthy (draining ones gone after the 1 s delay).
    const targets = await waitFor(
      "exactly the live tasks registered and healthy",
      async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!,
      (d) =>
        d.length === 2 &&
        d.every((t) => t.TargetHealth!.State === "healthy") &&
        d
          .map((t) => t.Target!.Id!)
          .sort()
          .join() === ips.join(),
      60_000,
      500,
    );
    expect(targets.map((t) => `${t.Target!.Id}:${t.Target!.Port}`).sort()).toEqual(ips.map((ip) => `${ip}:8080`));
    const live = tasks.map((t) => t.taskArn!).sort();
    await waitFor(
      "no orphan containers",
      async () => containerTaskArns(dataDir),
      (owners) => owners.join() === live.join(),
    );

    // And the ALB serves the new revision from both.
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await httpGet(`${alb.url}/index.html`);
      expect(r.status).toBe(200);
      answers.add(r.body.trim());
    }
    expect([...answers].every((a) => a.startsWith("v2 "))).toBe(true);

    await ecs.send(new DeleteServiceCommand({ cluster, service: "roll", force: true }));
    await cleanup(elb, [alb.loadBalancerArn], [tg]);
  });
});
