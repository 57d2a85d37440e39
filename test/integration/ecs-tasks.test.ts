import {
  type ContainerDefinition,
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { awsvpc, curl, dockerIds, dockerInspect, ecsClient, running, stopped, waitForTask } from "../support/ecs.js";

const cluster = `tasks-${Date.now()}`;
const started: string[] = [];

const web = (name = "web", extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
  name,
  image: BUSYBOX_IMAGE,
  essential: true,
  stopTimeout: 2,
  command: ["sh", "-c", `echo "<h1>${name}</h1>" > /www/index.html; exec httpd -f -p 8080 -h /www`],
  portMappings: [{ containerPort: 8080, protocol: "tcp" }],
  ...extra,
});

async function register(ecs: ECSClient, family: string, containerDefinitions: ContainerDefinition[]) {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      containerDefinitions,
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function run(ecs: ECSClient, taskDefinition: string, extra: Record<string, unknown> = {}) {
  const out = await ecs.send(
    new RunTaskCommand({ cluster, taskDefinition, launchType: "FARGATE", networkConfiguration: awsvpc, ...extra }),
  );
  expect(out.failures).toEqual([]);
  const arns = out.tasks!.map((t) => t.taskArn!);
  started.push(...arns);
  return arns;
}

describe("ECS tasks on Docker", () => {
  let ecs: ECSClient;

  beforeAll(async () => {
    ecs = ecsClient(inject("endpoint"));
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  });

  afterAll(async () => {
    for (const task of started) await ecs.send(new StopTaskCommand({ cluster, task })).catch(() => {});
    for (const task of started) await waitForTask(ecs, cluster, task, stopped, 60_000).catch(() => {});
  });

  it("runs a task whose port is reachable on 127.0.0.1 and reports its ENI and bindings", async () => {
    const td = await register(ecs, "it-web", [web()]);
    const [arn] = await run(ecs, td, { startedBy: "it", group: "g1", tags: [{ key: "k", value: "v" }] });
    const task = await waitForTask(ecs, cluster, arn, running);
    expect(task.launchType).toBe("FARGATE");
    expect(task.startedBy).toBe("it");
    expect(task.group).toBe("g1");
    expect(task.cpu).toBe("256");
    expect(task.memory).toBe("512");
    expect(task.createdAt).toBeInstanceOf(Date);
    expect(task.startedAt!.getTime()).toBeGreaterThanOrEqual(task.createdAt!.getTime());
    expect(task.pullStartedAt).toBeInstanceOf(Date);
    expect(task.connectivity).toBe("CONNECTED");
    const eni = task.attachments!.find((a) => a.type === "ElasticNetworkInterface")!;
    expect(eni.status).toBe("ATTACHED");
    const ip = eni.details!.find((d) => d.name === "privateIPv4Address")!.value!;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const c = task.containers![0];
    expect(c.lastStatus).toBe("RUNNING");
    expect(c.runtimeId).toMatch(/^[0-9a-f]{64}$/);
    expect(c.networkInterfaces![0].privateIpv4Address).toBe(ip);
    const binding = c.networkBindings![0];
    expect(binding).toMatchObject({ bindIP: "127.0.0.1", containerPort: 8080, protocol: "tcp" });
    expect(curl(`http://127.0.0.1:${binding.hostPort}/index.html`)).toContain("<h1>web</h1>");

    const listed = await ecs.send(new ListTasksCommand({ cluster, startedBy: "it" }));
    expect(listed.taskArns).toContain(arn);
    const counts = await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }));
    expect(counts.clusters![0].runningTasksCount).toBeGreaterThanOrEqual(1);
    await expect(ecs.send(new DeleteClusterCommand({ cluster }))).rejects.toMatchObject({
      name: "ClusterContainsTasksException",
    });

    const stop = await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    expect(stop.task!.desiredStatus).toBe("STOPPED");
    const done = await waitForTask(ecs, cluster, arn, stopped);
    expect(done.stopCode).toBe("UserInitiated");
    expect(done.stoppedReason).toBe("Task stopped by user");
    expect(done.stoppedAt).toBeInstanceOf(Date);
    expect(done.containers![0].lastStatus).toBe("STOPPED");
    expect(typeof done.containers![0].exitCode).toBe("number");
    expect(dockerIds(`berth.task-arn=${arn}`)).toEqual([]);
    const after = await ecs.send(new ListTasksCommand({ cluster, startedBy: "it" }));
    expect(after.taskArns).not.toContain(arn);
    const stoppedList = await ecs.send(new ListTasksCommand({ cluster, desiredStatus: "STOPPED" }));
    expect(stoppedList.taskArns).toContain(arn);
  });

  it("stops the task when an essential container exits, reporting its exit code", async () => {
    const td = await register(ecs, "it-exit", [
      { name: "main", image: BUSYBOX_IMAGE, essential: true, command: ["sh", "-c", "sleep 1; exit 3"] },
      { name: "side", image: BUSYBOX_IMAGE, essential: false, stopTimeout: 1, command: ["sleep", "600"] },
    ]);
    const [arn] = await run(ecs, td);
    const t = await waitForTask(ecs, cluster, arn, stopped);
    expect(t.stopCode).toBe("EssentialContainerExited");
    expect(t.stoppedReason).toBe("Essential container in task exited");
    const main = t.containers!.find((c) => c.name === "main")!;
    expect(main.exitCode).toBe(3);
    expect(t.containers!.find((c) => c.name === "side")!.lastStatus).toBe("STOPPED");
  });

  it("shares one network namespace between the containers of an awsvpc task", async () => {
    const td = await register(ecs, "it-localhost", [
      web("server"),
      {
        name: "client",
        image: BUSYBOX_IMAGE,
        essential: false,
        dependsOn: [{ containerName: "server", condition: "START" }],
        command: [
          "sh",
          "-c",
          "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O- http://localhost:8080/index.html && exit 0; sleep 0.5; done; exit 1",
        ],
      },
    ]);
    const [arn] = await run(ecs, td);
    const t = await waitForTask(
      ecs,
      cluster,
      arn,
      (x) => x.containers?.find((c) => c.name === "client")?.lastStatus === "STOPPED",
    );
    expect(t.containers!.find((c) => c.name === "client")!.exitCode).toBe(0);
    expect(t.lastStatus).toBe("RUNNING"); // a non-essential container exiting leaves the task running
  });

  it("starts containers in dependsOn order (SUCCESS) and reports health from health checks", async () => {
    const td = await register(ecs, "it-deps", [
      { name: "init", image: BUSYBOX_IMAGE, essential: false, command: ["sh", "-c", "sleep 1; exit 0"] },
      web("app", {
        dependsOn: [{ containerName: "init", condition: "SUCCESS" }],
        healthCheck: {
          command: ["CMD-SHELL", "wget -q -O- http://localhost:8080/index.html || exit 1"],
          interval: 5,
          timeout: 2,
          retries: 3,
        },
      }),
    ]);
    const [arn] = await run(ecs, td);
    const t = await waitForTask(ecs, cluster, arn, (x) => x.healthStatus === "HEALTHY", 60_000);
    const init = t.containers!.find((c) => c.name === "init")!;
    const app = t.containers!.find((c) => c.name === "app")!;
    expect(init.exitCode).toBe(0);
    expect(app.healthStatus).toBe("HEALTHY");
    const initInfo = dockerInspect(init.runtimeId!) as { State: { FinishedAt: string } };
    const appInfo = dockerInspect(app.runtimeId!) as { State: { StartedAt: string } };
    expect(Date.parse(appInfo.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(initInfo.State.FinishedAt));
  });

  it("fails a task whose SUCCESS dependency exits non-zero", async () => {
    const td = await register(ecs, "it-depfail", [
      { name: "init", image: BUSYBOX_IMAGE, essential: false, command: ["sh", "-c", "exit 4"] },
      web("app", { dependsOn: [{ containerName: "init", condition: "SUCCESS" }] }),
    ]);
    const [arn] = await run(ecs, td);
    const t = await waitForTask(ecs, cluster, arn, stopped);
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toContain("init");
    expect(t.stoppedReason).toContain("4");
  });

  it("enforces cpu and memory limits on the containers", async () => {
    const td = await register(ecs, "it-limits", [web("web", { memory: 256, cpu: 128 })]);
    const [arn] = await run(ecs, td);
    const t = await waitForTask(ecs, cluster, arn, running);
    const info = dockerInspect(t.containers![0].runtimeId!) as { HostConfig: { Memory: number; NanoCpus: number } };
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(125_000_000);
  });

  it("stops a task whose image cannot be had with TaskFailedToStart naming the image", async () => {
    const td = await register(ecs, "it-noimage", [{ name: "x", image: "localhost:1/berth/nope:1", essential: true }]);
    const [arn] = await run(ecs, td);
    const t = await waitForTask(ecs, cluster, arn, stopped, 90_000);
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toContain("CannotPullContainerError");
    expect(t.stoppedReason).toContain("localhost:1/berth/nope:1");
  });

  it("applies container overrides and runs up to 10 tasks per call", async () => {
    const td = await register(ecs, "it-overrides", [
      { name: "main", image: BUSYBOX_IMAGE, essential: true, command: ["sh", "-c", "exit 1"] },
    ]);
    const arns = await run(ecs, td, {
      count: 2,
      overrides: {
        containerOverrides: [
          { name: "main", command: ["sh", "-c", "exit $CODE"], environment: [{ name: "CODE", value: "7" }] },
        ],
      },
    });
    expect(arns).toHaveLength(2);
    for (const arn of arns) {
      const t = await waitForTask(ecs, cluster, arn, stopped);
      expect(t.containers![0].exitCode).toBe(7);
      expect(t.overrides?.containerOverrides?.[0].name).toBe("main");
    }
  });
});
