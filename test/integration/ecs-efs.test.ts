import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type ContainerDefinition,
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Volume,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsvpc, dockerIds, removeContainersOf, stopped, waitForTask } from "../support/ecs.js";
import { clientOptions, awsCli, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const account = newAccount();
const root = rootOf(account);

const cluster = "efs";

describe("ECS tasks mounting EFS", () => {
  let berth: RunningBerth;
  let dataDir: string;
  let ecs: ECSClient;
  let fileSystemId: string;
  /** The AWS CLI v2 as this account's root, as a new user would run it; the parsed JSON output. */
  const aws = async (...args: string[]) => {
    const out = await awsCli(berth.endpoint, root, args);
    if (!out.ok) throw new Error(`aws ${args.join(" ")}: ${out.stderr}`);
    return out.json as Record<string, unknown>;
  };
  const waitAvailable = async (id: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const d = await aws("efs", "describe-file-systems", "--file-system-id", id);
      const state = (d.FileSystems as { LifeCycleState: string }[])[0].LifeCycleState;
      if (state === "available") return;
      if (Date.now() > deadline) throw new Error(`file system ${id} still ${state}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  let accessPointId: string;

  const efsVolume = (efsVolumeConfiguration: Volume["efsVolumeConfiguration"]): Volume => ({
    name: "shared",
    efsVolumeConfiguration,
  });

  async function register(
    family: string,
    volume: Volume,
    container: Partial<ContainerDefinition>,
    taskRoleArn?: string,
  ) {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        taskRoleArn,
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
  const fileSystemDir = () => join(dataDir, "efs", account, "us-east-1", fileSystemId);

  beforeAll(async () => {
    berth = await startBerth();
    dataDir = berth.dataDir;
    ecs = new ECSClient(clientOptions(berth.endpoint, root));
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const fs = await aws("efs", "create-file-system", "--creation-token", "it-efs", "--tags", "Key=Name,Value=it");
    fileSystemId = fs.FileSystemId as string;
    expect(fileSystemId).toMatch(/^fs-[0-9a-f]+$/);
    await waitAvailable(fileSystemId);
    const ap = await aws(
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
    const top = statSync(dir);
    expect([top.uid, top.gid, top.mode & 0o777]).toEqual([1234, 2345, 0o750]);
  }, 120_000);

  it("a container with its own user keeps it, and what it creates through the access point is the PosixUser's", async () => {
    const volume = efsVolume({ fileSystemId, transitEncryption: "ENABLED", authorizationConfig: { accessPointId } });
    const asUser = await runToEnd(
      await register("efs-own-user", volume, {
        user: "5678:5678",
        command: ["sh", "-c", "id -u > /mnt/efs/own-uid && mkdir /mnt/efs/own-dir"],
        mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
      }),
    );
    expect(asUser.containers![0].exitCode).toBe(0);
    // Root in the container stays root (it could bind port 80), but cannot give files away through the access point.
    const asRoot = await runToEnd(
      await register("efs-own-root", volume, {
        user: "0",
        command: ["sh", "-c", "id -u > /mnt/efs/root-uid && ! chown 0:0 /mnt/efs/root-uid"],
        mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
      }),
    );
    expect(asRoot.containers![0].exitCode).toBe(0);

    const dir = join(fileSystemDir(), "app");
    expect(readFileSync(join(dir, "own-uid"), "utf8")).toBe("5678\n");
    expect(readFileSync(join(dir, "root-uid"), "utf8")).toBe("0\n");
    for (const made of ["own-uid", "own-dir", "root-uid"]) {
      const st = statSync(join(dir, made));
      expect([made, st.uid, st.gid]).toEqual([made, 1234, 2345]);
    }
  }, 120_000);

  it("keeps the data across a Berth restart", async () => {
    await berth.stop();
    berth = await startBerth({ dataDir });
    ecs = new ECSClient(clientOptions(berth.endpoint, root));
    const read = await runToEnd("efs-reader");
    expect(read.containers![0].exitCode).toBe(0);
  }, 120_000);

  it("refuses Fargate 1.3.0, and stops a task whose file system does not exist with the reason, leaving nothing behind", async () => {
    const td = await register("efs-missing", efsVolume({ fileSystemId: "fs-0123456789abcdef0" }), {
      command: ["sh", "-c", "exit 0"],
      mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
    });
    await expect(
      ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition: td,
          launchType: "FARGATE",
          platformVersion: "1.3.0",
          networkConfiguration: awsvpc,
        }),
      ),
    ).rejects.toMatchObject({ name: "PlatformTaskDefinitionIncompatibilityException" });
    const t = await runToEnd(td);
    expect(t.desiredStatus).toBe("STOPPED");
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toMatch(/^ResourceInitializationError: /);
    expect(t.stoppedReason).toContain("fs-0123456789abcdef0");
    expect(t.containers![0].exitCode).toBeUndefined();
    expect(dockerIds(`berth.task-arn=${t.taskArn}`)).toEqual([]);
  }, 60_000);

  it("with IAM authorization: only ClientMount mounts read-only, no ClientMount stops the task; an anonymous mount is refused by a policy that grants * nothing", async () => {
    const iam = iamClient(berth.endpoint, root);
    const ecsTasks = trustPolicy({ Service: "ecs-tasks.amazonaws.com" });
    const roleArn = async (name: string) =>
      (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ecsTasks }))).Role!.Arn!;
    const reader = await roleArn("efs-mount-only");
    const stranger = await roleArn("efs-stranger");
    const fs = await aws("efs", "create-file-system", "--creation-token", "it-efs-iam");
    const id = fs.FileSystemId as string;
    await waitAvailable(id);
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: reader }, Action: "elasticfilesystem:ClientMount", Resource: "*" },
      ],
    };
    await aws("efs", "put-file-system-policy", "--file-system-id", id, "--policy", JSON.stringify(policy));
    const volume = efsVolume({
      fileSystemId: id,
      transitEncryption: "ENABLED",
      authorizationConfig: { iam: "ENABLED" },
    });
    const container = {
      command: ["sh", "-c", "ls /mnt/efs && ! touch /mnt/efs/x"],
      mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
    };

    const ro = await runToEnd(await register("efs-iam-ro", volume, container, reader));
    expect(ro.stopCode).toBe("EssentialContainerExited");
    expect(ro.containers![0].exitCode).toBe(0);
    expect(existsSync(join(dataDir, "efs", account, "us-east-1", id, "x"))).toBe(false);

    const denied = await runToEnd(await register("efs-iam-denied", volume, container, stranger));
    expect(denied.stopCode).toBe("TaskFailedToStart");
    expect(denied.stoppedReason).toMatch(/^ResourceInitializationError: .*access denied by server/);
    expect(dockerIds(`berth.task-arn=${denied.taskArn}`)).toEqual([]);

    // Without IAM authorization the client is anonymous: this policy grants `*` nothing.
    const anonymous = await runToEnd(
      await register("efs-anonymous", efsVolume({ fileSystemId: id, transitEncryption: "ENABLED" }), container, reader),
    );
    expect(anonymous.stopCode).toBe("TaskFailedToStart");
    expect(anonymous.stoppedReason).toMatch(/access denied by server/);
  }, 90_000);

  it("without ClientRootAccess root in the task is squashed to 65534; an access point's SecondaryGids are the task's groups", async () => {
    const iam = iamClient(berth.endpoint, root);
    const ecsTasks = trustPolicy({ Service: "ecs-tasks.amazonaws.com" });
    const role = (await iam.send(new CreateRoleCommand({ RoleName: "efs-writer", AssumeRolePolicyDocument: ecsTasks })))
      .Role!.Arn!;
    const fs = await aws("efs", "create-file-system", "--creation-token", "it-efs-root");
    const id = fs.FileSystemId as string;
    await waitAvailable(id);
    const policy = (actions: string[]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: role }, Action: actions, Resource: "*" }],
      });
    await aws(
      "efs",
      "put-file-system-policy",
      "--file-system-id",
      id,
      "--policy",
      policy(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]),
    );
    const dir = join(dataDir, "efs", account, "us-east-1", id);
    mkdirSync(join(dir, "open"));
    chmodSync(join(dir, "open"), 0o1777);
    const volume = efsVolume({
      fileSystemId: id,
      transitEncryption: "ENABLED",
      authorizationConfig: { iam: "ENABLED" },
    });
    const writeAs = (file: string) => ({
      command: ["sh", "-c", `id -u > /mnt/efs/open/${file} && ! touch /mnt/efs/top`],
      mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
    });
    const squashed = await runToEnd(await register("efs-squashed", volume, writeAs("squashed"), role));
    expect(squashed.containers![0].exitCode).toBe(0);
    expect(readFileSync(join(dir, "open", "squashed"), "utf8")).toBe("65534\n");
    expect(statSync(join(dir, "open", "squashed")).uid).toBe(65534);
    expect(existsSync(join(dir, "top"))).toBe(false);

    await aws(
      "efs",
      "put-file-system-policy",
      "--file-system-id",
      id,
      "--policy",
      policy(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]),
    );
    const rooted = await runToEnd(
      await register(
        "efs-rooted",
        volume,
        { ...writeAs("rooted"), command: ["sh", "-c", "id -u > /mnt/efs/open/rooted && touch /mnt/efs/top"] },
        role,
      ),
    );
    expect(rooted.containers![0].exitCode).toBe(0);
    expect(readFileSync(join(dir, "open", "rooted"), "utf8")).toBe("0\n");
    expect(statSync(join(dir, "top")).uid).toBe(0);

    const ap = await aws(
      "efs",
      "create-access-point",
      "--file-system-id",
      id,
      "--posix-user",
      "Uid=1234,Gid=2345,SecondaryGids=3456,4567",
      "--root-directory",
      "Path=/groups,CreationInfo={OwnerUid=1234,OwnerGid=2345,Permissions=750}",
    );
    const grouped = await runToEnd(
      await register(
        "efs-groups",
        efsVolume({
          fileSystemId: id,
          transitEncryption: "ENABLED",
          authorizationConfig: { accessPointId: ap.AccessPointId as string, iam: "ENABLED" },
        }),
        {
          command: ["sh", "-c", "id -G > /mnt/efs/groups"],
          mountPoints: [{ sourceVolume: "shared", containerPath: "/mnt/efs" }],
        },
        role,
      ),
    );
    expect(grouped.containers![0].exitCode).toBe(0);
    expect(
      readFileSync(join(dir, "groups", "groups"), "utf8")
        .trim()
        .split(" ")
        .sort(),
    ).toEqual(["2345", "3456", "4567"]);
  }, 120_000);
});
