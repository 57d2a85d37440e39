import { createServer } from "node:net";
import {
  type ContainerDefinition,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { credentials } from "../support/berth.js";
import { curl, ecsClient, running, stopped, waitForTask } from "../support/ecs.js";
import { cleanup, createAlb, createTargetGroup, elbClient, waitForTargets } from "../support/elbv2.js";
import { awsCli } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const cluster = `ec2-${Date.now()}`;

/** A TCP port nothing listens on right now (for fixed host ports and host-mode tasks). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const httpd = (text: string, port: number, extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
  name: "web",
  image: BUSYBOX_IMAGE,
  memory: 64,
  stopTimeout: 1,
  command: ["sh", "-c", `echo ${text} > /www/index.html; exec httpd -f -p ${port} -h /www`],
  ...extra,
});

/** EC2 launch type on the local Docker host: bridge and host network modes, placement, container instances. */
describe("ECS EC2 launch type", () => {
  const endpoint = inject("endpoint");
  let ecs: ECSClient;
  const elb = elbClient(endpoint);
  const started: string[] = [];
  const lbs: string[] = [];
  const tgs: string[] = [];

  const register = async (family: string, networkMode: "bridge" | "host", defs: ContainerDefinition[]) =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode,
          requiresCompatibilities: ["EC2"],
          containerDefinitions: defs,
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
  const run = async (taskDefinition: string, count = 1) => {
    const out = await ecs.send(new RunTaskCommand({ cluster, taskDefinition, launchType: "EC2", count }));
    started.push(...(out.tasks ?? []).map((t) => t.taskArn!));
    return out;
  };
  const instances = async () =>
    (await ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns ?? [];

  beforeAll(async () => {
    ecs = ecsClient(endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  });
  afterAll(async () => {
    await ecs.send(new DeleteServiceCommand({ cluster, service: "bridged", force: true })).catch(() => {});
    await cleanup(elb, lbs, tgs);
    for (const task of started) await ecs.send(new StopTaskCommand({ cluster, task })).catch(() => {});
  });

  it("a bridge task with a dynamic host port: the host joins as a container instance and the port answers", async () => {
    expect(await instances()).toEqual([]);
    const def = await register("ec2-bridge", "bridge", [
      httpd("bridged", 8080, { portMappings: [{ containerPort: 8080, hostPort: 0 }] }),
    ]);
    // the AWS CLI v2, as a user would
    const cli = await awsCli(endpoint, credentials, [
      "ecs",
      "run-task",
      "--cluster",
      cluster,
      "--task-definition",
      def,
      "--launch-type",
      "EC2",
    ]);
    expect(cli.ok).toBe(true);
    const arn = (cli as { json: { tasks: { taskArn: string }[] } }).json.tasks[0].taskArn;
    started.push(arn);
    const task = await waitForTask(ecs, cluster, arn, running);
    const [instance] = await instances();
    expect(task).toMatchObject({ launchType: "EC2", containerInstanceArn: instance, attachments: [] });
    expect(task.platformVersion).toBeUndefined();
    const binding = task.containers![0].networkBindings![0];
    expect(binding).toMatchObject({ containerPort: 8080, protocol: "tcp" });
    expect(binding.hostPort).toBeGreaterThan(0);
    expect(curl(`http://127.0.0.1:${binding.hostPort}/`).trim()).toBe("bridged");

    const [described] = (
      await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [instance] }))
    ).containerInstances!;
    const registered = (n: string) => described.registeredResources!.find((r) => r.name === n)!.integerValue!;
    const remaining = (n: string) => described.remainingResources!.find((r) => r.name === n)!.integerValue!;
    expect(described).toMatchObject({ status: "ACTIVE", agentConnected: true, runningTasksCount: 1 });
    expect(described.ec2InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(registered("MEMORY") - remaining("MEMORY")).toBe(64);
    expect((await ecs.send(new ListTasksCommand({ cluster, containerInstance: instance }))).taskArns).toEqual([arn]);
    expect(
      (await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }))).clusters![0]
        .registeredContainerInstancesCount,
    ).toBe(1);
  });

  it("a fixed host port holds one task; a task larger than the host fails with RESOURCE:MEMORY; nothing else starts", async () => {
    const port = await freePort();
    const fixed = await register("ec2-fixed", "bridge", [
      httpd("fixed", 8080, { portMappings: [{ containerPort: 8080, hostPort: port }] }),
    ]);
    const out = await run(fixed, 2);
    expect(out.tasks).toHaveLength(1);
    expect(out.failures).toEqual([{ arn: (await instances())[0], reason: "RESOURCE:PORTS" }]);
    const task = await waitForTask(ecs, cluster, out.tasks![0].taskArn!, running);
    expect(task.containers![0].networkBindings![0]).toMatchObject({ containerPort: 8080, hostPort: port });
    expect(curl(`http://127.0.0.1:${port}/`).trim()).toBe("fixed");

    const huge = await register("ec2-huge", "bridge", [httpd("huge", 8080, { memory: 64 * 1024 * 1024 })]);
    const before = (await ecs.send(new ListTasksCommand({ cluster }))).taskArns!.length;
    const refused = await run(huge);
    expect(refused.tasks).toEqual([]);
    expect(refused.failures).toEqual([{ arn: (await instances())[0], reason: "RESOURCE:MEMORY" }]);
    expect((await ecs.send(new ListTasksCommand({ cluster }))).taskArns).toHaveLength(before);
  });

  it("a host network mode task answers on the host's own port", async () => {
    const port = await freePort();
    const def = await register("ec2-host", "host", [
      httpd("host-mode", port, { portMappings: [{ containerPort: port }] }),
    ]);
    const out = await run(def);
    expect(out.failures).toEqual([]);
    const task = await waitForTask(ecs, cluster, out.tasks![0].taskArn!, running);
    expect(task.containers![0].networkBindings).toEqual([
      { bindIP: "0.0.0.0", containerPort: port, hostPort: port, protocol: "tcp" },
    ]);
    expect(curl(`http://127.0.0.1:${port}/`).trim()).toBe("host-mode");
  });

  it("a service with launchType EC2 behind an ALB: bridge tasks on their own host ports, registered as instance targets", async () => {
    const def = await register("ec2-svc", "bridge", [
      httpd("service", 8080, { portMappings: [{ containerPort: 8080 }] }),
    ]);
    const tg = await createTargetGroup(elb, "ec2-inst", { TargetType: "instance", HealthCheckPath: "/" });
    tgs.push(tg);
    const ipTg = await createTargetGroup(elb, "ec2-ip", { HealthCheckPath: "/" });
    tgs.push(ipTg);
    const alb = await createAlb(elb, "ec2-alb", tg, 80);
    lbs.push(alb.loadBalancerArn);
    lbs.push((await createAlb(elb, "ec2-alb-ip", ipTg, 80)).loadBalancerArn);
    const service = (targetGroupArn: string) =>
      new CreateServiceCommand({
        cluster,
        serviceName: "bridged",
        taskDefinition: def,
        desiredCount: 2,
        launchType: "EC2",
        loadBalancers: [{ targetGroupArn, containerName: "web", containerPort: 8080 }],
      });
    // bridge tasks are instance targets, as in AWS
    await expect(ecs.send(service(ipTg))).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: expect.stringContaining("incompatible with the bridge network mode"),
    });
    await ecs.send(service(tg));
    const deadline = Date.now() + 60_000;
    let runningCount = 0;
    while (Date.now() < deadline) {
      const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: ["bridged"] }))).services![0];
      expect(svc.launchType).toBe("EC2");
      runningCount = svc.runningCount ?? 0;
      if (runningCount === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(runningCount).toBe(2);
    const listed = async (launchType: "EC2" | "FARGATE") =>
      (await ecs.send(new ListServicesCommand({ cluster, launchType }))).serviceArns!.map((a) => a.split("/").pop());
    expect(await listed("EC2")).toEqual(["bridged"]);
    expect(await listed("FARGATE")).toEqual([]);
    const arns = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "bridged" }))).taskArns!;
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks!;
    const ports = tasks.map((t) => t.containers![0].networkBindings![0].hostPort!);
    expect(new Set(ports).size).toBe(2);
    for (const p of ports) expect(curl(`http://127.0.0.1:${p}/`).trim()).toBe("service");
    const [instance] = await instances();
    const [described] = (
      await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [instance] }))
    ).containerInstances!;
    const healthy = await waitForTargets(elb, tg, "healthy", 2);
    expect(healthy.map((d) => [d.Target!.Id, d.Target!.Port]).sort()).toEqual(
      ports.map((p) => [described.ec2InstanceId, p]).sort(),
    );
    for (let i = 0; i < 4; i++) expect(curl(`${alb.url}/`).trim()).toBe("service");
    await ecs.send(new DeleteServiceCommand({ cluster, service: "bridged", force: true }));
    for (const t of arns) await waitForTask(ecs, cluster, t, stopped);
  }, 120_000);

  it("StartTask puts one task on each named container instance; an unknown one is MISSING", async () => {
    const [instance] = await instances();
    const def = await register("ec2-start", "bridge", [
      httpd("started", 8080, { portMappings: [{ containerPort: 8080 }] }),
    ]);
    const out = await ecs.send(
      new StartTaskCommand({
        cluster,
        taskDefinition: def,
        containerInstances: [instance, "0123456789abcdef0123456789abcdef"],
      }),
    );
    started.push(...out.tasks!.map((t) => t.taskArn!));
    expect(out.tasks!.map((t) => [t.launchType, t.containerInstanceArn])).toEqual([["EC2", instance]]);
    expect(out.failures).toEqual([{ arn: "0123456789abcdef0123456789abcdef", reason: "MISSING" }]);
    const task = await waitForTask(ecs, cluster, out.tasks![0].taskArn!, running);
    expect(curl(`http://127.0.0.1:${task.containers![0].networkBindings![0].hostPort}/`).trim()).toBe("started");
  });

  it("deregistering the instance: refused while tasks run, then EC2 tasks find no container instances", async () => {
    const [instance] = await instances();
    await expect(
      ecs.send(new DeregisterContainerInstanceCommand({ cluster, containerInstance: instance })),
    ).rejects.toMatchObject({ name: "InvalidParameterException", message: expect.stringContaining("force") });
    for (const task of started) await ecs.send(new StopTaskCommand({ cluster, task }));
    for (const task of started) await waitForTask(ecs, cluster, task, stopped);
    const out = await ecs.send(new DeregisterContainerInstanceCommand({ cluster, containerInstance: instance }));
    expect(out.containerInstance).toMatchObject({ status: "INACTIVE", runningTasksCount: 0 });
    expect(await instances()).toEqual([]);
    const def = await register("ec2-after", "bridge", [httpd("after", 8080)]);
    const refused = await run(def);
    expect(refused.tasks).toEqual([]);
    expect(refused.failures).toEqual([
      {
        arn: `arn:aws:ecs:us-east-1:000000000000:cluster/${cluster}`,
        reason: "No Container Instances were found in your cluster.",
      },
    ]);
    expect(
      (await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }))).clusters![0]
        .registeredContainerInstancesCount,
    ).toBe(0);
    await ecs.send(new DeleteClusterCommand({ cluster }));
  }, 60_000);
});
