import { execFileSync } from "node:child_process";
import {
  CreateClusterCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import {
  awsvpc,
  curl,
  dockerIds,
  ecsClient,
  removeContainersOf,
  running,
  stopped,
  waitForTask,
} from "../support/ecs.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

describe("a Berth restart in the middle", () => {
  let berth: RunningBerth | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await berth?.stop();
    if (dataDir) removeContainersOf(dataDir);
  });

  it("adopts running tasks, keeps acknowledged state, and stops tasks whose containers vanished", async () => {
    berth = await startBerth();
    dataDir = berth.dataDir;
    let ecs = ecsClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: "restart" }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "survivor",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [
          {
            name: "web",
            image: BUSYBOX_IMAGE,
            stopTimeout: 1,
            command: ["sh", "-c", "echo up > /www/index.html; exec httpd -f -p 8080 -h /www"],
            portMappings: [{ containerPort: 8080 }],
          },
        ],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: "restart",
        taskDefinition: "survivor",
        count: 2,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
      }),
    );
    const [keep, lose] = run.tasks!.map((t) => t.taskArn!);
    const before = await waitForTask(ecs, "restart", keep, running);
    await waitForTask(ecs, "restart", lose, running);
    const port = before.containers![0].networkBindings![0].hostPort;

    // Crash (no clean shutdown), then remove one task's containers while Berth is down.
    await berth.kill();
    execFileSync("docker", ["rm", "-f", ...dockerIds(`berth.task-arn=${lose}`)], { stdio: "ignore" });
    expect(curl(`http://127.0.0.1:${port}/index.html`)).toContain("up"); // tasks outlive Berth

    berth = await startBerth({ dataDir });
    ecs = ecsClient(berth.endpoint);
    const adopted = await waitForTask(ecs, "restart", keep, running);
    expect(adopted.containers![0].networkBindings![0].hostPort).toBe(port);
    expect(adopted.startedAt).toEqual(before.startedAt);
    const gone = await waitForTask(ecs, "restart", lose, stopped);
    expect(gone.stopCode).toBe("EssentialContainerExited");
    expect(gone.stoppedReason).toMatch(/no longer exist/);

    await ecs.send(new StopTaskCommand({ cluster: "restart", task: keep }));
    await waitForTask(ecs, "restart", keep, stopped);
    expect(dockerIds(`berth.task-arn=${keep}`)).toEqual([]);
  });

  it("removes containers of a Berth whose data directory is gone", async () => {
    const first = await startBerth();
    const ecs = ecsClient(first.endpoint);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "orphan",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "s", image: BUSYBOX_IMAGE, command: ["sleep", "600"] }],
      }),
    );
    const out = await ecs.send(
      new RunTaskCommand({ taskDefinition: "orphan", launchType: "FARGATE", networkConfiguration: awsvpc }),
    );
    await waitForTask(ecs, undefined, out.tasks![0].taskArn!, running);
    await first.kill();
    execFileSync("rm", ["-rf", first.dataDir]);
    expect(dockerIds(`berth.data-dir=${first.dataDir}`).length).toBeGreaterThan(0);
    // Any Berth sweeps containers that belong to no Berth.
    const other = await startBerth();
    try {
      const deadline = Date.now() + 20_000;
      while (dockerIds(`berth.data-dir=${first.dataDir}`).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(dockerIds(`berth.data-dir=${first.dataDir}`)).toEqual([]);
    } finally {
      await other.stop();
      removeContainersOf(first.dataDir);
    }
  });
});
