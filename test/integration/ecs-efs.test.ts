import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type ContainerDefinition,
  CreateClusterCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Volume,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsvpc, dockerIds, ecsClient, removeContainersOf, stopped, waitForTask } from "../support/ecs.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const cluster = "efs";

/** The AWS CLI against this Berth, as a new user would run it; returns the parsed JSON output. */
function aws(endpoint: string, ...args: string[]): Record<string, unknown> {
  const out = execFileSync("aws", ["--endpoint-url", endpoint, "--output", "json", ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
    },
  });
  return out.trim() ? JSON.parse(out) : {};
}

describe("ECS tasks mounting EFS", () => {
  let berth: RunningBerth;
  let dataDir: string;
  let ecs: ECSClient;
  let fileSystemId: string;
  let accessPointId: string;

  const efsVolume = (efsVolumeConfiguration: Volume["efsVolumeConfiguration"]): Volume => ({
    name: "shared",
    efsVolumeConfiguration,
  });

  async function register(family: string, volume: Volume, container: Partial<ContainerDefinition>) {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        volumes: [volume],
        containerDefinitions: [{ name: "main", image: BUSYBOX_IMAGE, essential: true, ...container }],
      }),
    );
    return out.taskDefinition!.taskDefinitionArn!;
  }

  /** Runs one task to its end and returns it as DescribeTasks shows it. */
  async function runToEnd(taskDefinition: string) {
    const out = await ecs.send(
      new RunTaskCommand({ cluster, taskDefinition, launchType: "FARGATE", networkConfiguration: awsvpc }),
    );
    expect(out.failures).toEqual([]);
    return waitForTask(ecs, cluster, out.tasks![0].taskArn!, stopped, 60_000);
  }

  /** The file system's directory on the host (Berth keeps it under its data dir). */
  const fileSystemDir = () => {
    const root = join(dataDir, "efs");
    for (const account of readdirSync(root))
      for (const region of readdirSync(join(root, account))) {
        const dir = join(root, account, region, fileSystemId);
        if (existsSync(dir)) return dir;
      }
    throw new Error(`no directory for ${fileSystemId} under ${root}`);
  };

  beforeAll(async () => {
    berth = await startBerth();
    dataDir = berth.dataDir;
    ecs = ecsClient(berth.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const fs = aws(
      berth.endpoint,
      "efs",
      "create-file-system",
      "--creation-token",
      "it-efs",
      "--tags",
      "Key=Name,Value=it",
    );
    fileSystemId = fs.FileSystemId as string;
    expect(fileSystemId).toMatch(/^fs-[0-9a-f]+$/);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const d = aws(berth.endpoint, "efs", "describe-file-systems", "--file-system-id", fileSystemId);
      const state = (d.FileSystems as { LifeCycleState: string }[])[0].LifeCycleState;
      if (state === "available") break;
      if (Date.now() > deadline) throw new Error(`file system still ${state}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const ap = aws(
      berth.endpoint,
      "efs",
      "create-access-point",
      "--file-system-id",
      fileSystemId,
      "--posix-user",
      "Uid=1234,Gid=2345",
      "--root-directory",
      "Path=/app,CreationInfo={OwnerUid=1234,OwnerGid=2345,Permissions=750}",
    );
    accessPointId = ap.AccessPointId as string;
    expect(accessPointId).toMatch(/^fsap-[0-9a-f]+$/);
  }, 90_000);

  afterAll(async () => {
    await berth?.stop();
    if (dataDir) removeContainersOf(dataDir);
  });

  it("a task writes through an access point, another task definition reads it, and the access point's ids own the file", async () => {
    const writer = await register(
      "efs-writer",
      efsVolume({ fileSystemId, transitEncryption: "ENABLED", authorizationConfig: { accessPointId } }),
      {
        command: ["sh", "-c", "echo hello-efs > /mnt/efs/greeting && id -u > /mnt/efs/uid"],
        mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
      },
    );
    const wrote = await runToEnd(writer);
    expect(wrote.stopCode).toBe("EssentialContainerExited");
    expect(wrote.containers![0].exitCode).toBe(0);

    // The access point's root is /app of the file system; the reader mounts that directory read-only.
    const reader = await register("efs-reader", efsVolume({ fileSystemId, rootDirectory: "/app" }), {
      command: ["sh", "-c", 'cat /data/greeting; test "$(cat /data/greeting)" = hello-efs && ! touch /data/x'],
      mountPoints: [{ sourceVolume: "shared", containerPath: "/data", readOnly: true }],
    });
    const read = await runToEnd(reader);
    expect(read.containers![0].exitCode).toBe(0);

    const dir = join(fileSystemDir(), "app");
    expect(readFileSync(join(dir, "greeting"), "utf8")).toBe("hello-efs\n");
    expect(readFileSync(join(dir, "uid"), "utf8")).toBe("1234\n");
    const st = statSync(join(dir, "greeting"));
    expect([st.uid, st.gid]).toEqual([1234, 2345]);
    const root = statSync(dir);
    expect([root.uid, root.gid, root.mode & 0o777]).toEqual([1234, 2345, 0o750]);
  }, 120_000);

  it("keeps the data across a Berth restart", async () => {
    await berth.stop();
    berth = await startBerth({ dataDir });
    ecs = ecsClient(berth.endpoint);
    const read = await runToEnd("efs-reader");
    expect(read.containers![0].exitCode).toBe(0);
  }, 120_000);

  it("stops a task whose file system does not exist, with the reason, leaving nothing behind", async () => {
    const td = await register("efs-missing", efsVolume({ fileSystemId: "fs-0123456789abcdef0" }), {
      command: ["sh", "-c", "exit 0"],
      mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
    });
    const t = await runToEnd(td);
    expect(t.desiredStatus).toBe("STOPPED");
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toMatch(/^ResourceInitializationError: /);
    expect(t.stoppedReason).toContain("fs-0123456789abcdef0");
    expect(t.containers![0].exitCode).toBeUndefined();
    expect(dockerIds(`berth.task-arn=${t.taskArn}`)).toEqual([]);
  }, 60_000);
});
