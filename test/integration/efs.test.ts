import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();
const creds = rootOf(account);

/** EFS through the AWS CLI v2 against a Berth of its own (the test looks into its data dir and restarts it). */
describe("EFS", () => {
  let berth: RunningBerth;
  // biome-ignore lint/suspicious/noExplicitAny: CLI output is JSON
  const efs = async (...args: string[]): Promise<any> => {
    const r = await awsCli(berth.endpoint, creds, ["efs", ...args]);
    if (!r.ok) throw new Error(r.stderr);
    return r.json;
  };
  /** The error code and HTTP status the CLI prints for a failed call. */
  const failure = async (...args: string[]) => {
    const r = await awsCli(berth.endpoint, creds, ["efs", ...args]);
    if (r.ok) throw new Error(`expected ${args[0]} to fail`);
    return r.stderr;
  };
  const fsDir = (id: string) => join(berth.dataDir, "efs", account, "us-east-1", id);
  const waitAvailable = async (id: string) => {
    for (let i = 0; i < 50; i++) {
      const { FileSystems } = await efs("describe-file-systems", "--file-system-id", id);
      if (FileSystems[0].LifeCycleState === "available") return FileSystems[0];
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${id} never became available`);
  };

  beforeAll(async () => {
    berth = await startBerth();
  });
  afterAll(async () => {
    await berth?.stop();
    if (berth) rmSync(berth.dataDir, { recursive: true, force: true });
  });

  it("creates a file system as a directory that survives a restart, describes it, and deletes it", async () => {
    const created = await efs("create-file-system", "--creation-token", "app-data", "--tags", "Key=Name,Value=app");
    expect(created).toMatchObject({ LifeCycleState: "creating", Name: "app", PerformanceMode: "generalPurpose" });
    const id: string = created.FileSystemId;
    expect(id).toMatch(/^fs-[0-9a-f]{17}$/);
    expect(existsSync(fsDir(id))).toBe(true);
    expect(
      (await efs("create-file-system", "--creation-token", "app-data", "--tags", "Key=Name,Value=app")).FileSystemId,
    ).toBe(id);
    expect(await failure("create-file-system", "--creation-token", "app-data", "--performance-mode", "maxIO")).toMatch(
      /FileSystemAlreadyExists/,
    );
    const available = await waitAvailable(id);
    expect(available.SizeInBytes.Value).toBe(0);
    writeFileSync(join(fsDir(id), "hello.txt"), "x".repeat(1000));

    await berth.stop();
    berth = await startBerth({ dataDir: berth.dataDir });
    expect(readdirSync(fsDir(id))).toEqual(["hello.txt"]);
    const after = await efs("describe-file-systems", "--creation-token", "app-data");
    expect(after.FileSystems).toHaveLength(1);
    expect(after.FileSystems[0].SizeInBytes.Value).toBe(1000);

    await efs(
      "put-lifecycle-configuration",
      "--file-system-id",
      id,
      "--lifecycle-policies",
      "TransitionToIA=AFTER_30_DAYS",
    );
    expect((await efs("describe-lifecycle-configuration", "--file-system-id", id)).LifecyclePolicies).toEqual([
      { TransitionToIA: "AFTER_30_DAYS" },
    ]);
    await efs("put-backup-policy", "--file-system-id", id, "--backup-policy", "Status=ENABLED");
    expect((await efs("describe-backup-policy", "--file-system-id", id)).BackupPolicy.Status).toBe("ENABLED");
    expect(await failure("describe-file-system-policy", "--file-system-id", id)).toMatch(/PolicyNotFound/);
    expect(await failure("put-file-system-policy", "--file-system-id", id, "--policy", "{nope")).toMatch(
      /InvalidPolicyException/,
    );
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "elasticfilesystem:ClientMount", Resource: "*" }],
    });
    await efs("put-file-system-policy", "--file-system-id", id, "--policy", policy);
    expect(JSON.parse((await efs("describe-file-system-policy", "--file-system-id", id)).Policy)).toEqual(
      JSON.parse(policy),
    );
    await efs("delete-file-system-policy", "--file-system-id", id);
    await efs("tag-resource", "--resource-id", id, "--tags", "Key=team,Value=a");
    expect((await efs("list-tags-for-resource", "--resource-id", id)).Tags).toContainEqual({ Key: "team", Value: "a" });
    await efs("untag-resource", "--resource-id", id, "--tag-keys", "team");
    await efs("update-file-system", "--file-system-id", id, "--throughput-mode", "elastic");

    await efs("delete-file-system", "--file-system-id", id);
    expect(existsSync(fsDir(id))).toBe(false);
    expect(await failure("describe-file-systems", "--file-system-id", id)).toMatch(/FileSystemNotFound/);
  });

  it("mount targets: one per zone, with an address; a file system in use cannot be deleted", async () => {
    const { FileSystemId: id } = await efs("create-file-system", "--creation-token", "mt");
    await waitAvailable(id);
    const mt = await efs("create-mount-target", "--file-system-id", id, "--subnet-id", "subnet-0a1b2c3d4e5f60718");
    expect(mt.MountTargetId).toMatch(/^fsmt-[0-9a-f]{17}$/);
    expect(mt.IpAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(
      await failure("create-mount-target", "--file-system-id", id, "--subnet-id", "subnet-0a1b2c3d4e5f60718"),
    ).toMatch(/MountTargetConflict/);
    expect(await failure("delete-file-system", "--file-system-id", id)).toMatch(/FileSystemInUse/);
    expect(existsSync(fsDir(id))).toBe(true);
    expect((await efs("describe-mount-targets", "--file-system-id", id)).MountTargets).toHaveLength(1);
    expect(
      (await efs("describe-mount-target-security-groups", "--mount-target-id", mt.MountTargetId)).SecurityGroups,
    ).toHaveLength(1);
    await efs("delete-mount-target", "--mount-target-id", mt.MountTargetId);
    expect(await failure("delete-mount-target", "--mount-target-id", mt.MountTargetId)).toMatch(/MountTargetNotFound/);
    await efs("delete-file-system", "--file-system-id", id);
  });

  it("access points: POSIX user and root directory, bad input refused with nothing changed", async () => {
    const { FileSystemId: id } = await efs("create-file-system", "--creation-token", "ap");
    await waitAvailable(id);
    const ap = await efs(
      "create-access-point",
      "--file-system-id",
      id,
      "--posix-user",
      "Uid=1000,Gid=1000",
      "--root-directory",
      "Path=/app,CreationInfo={OwnerUid=1000,OwnerGid=1000,Permissions=755}",
    );
    expect(ap.AccessPointId).toMatch(/^fsap-[0-9a-f]{17}$/);
    expect(ap.AccessPointArn).toBe(`arn:aws:elasticfilesystem:us-east-1:${account}:access-point/${ap.AccessPointId}`);
    expect(ap.RootDirectory).toEqual({
      Path: "/app",
      CreationInfo: { OwnerUid: 1000, OwnerGid: 1000, Permissions: "755" },
    });
    for (const bad of [
      ["--root-directory", "Path=relative"],
      ["--root-directory", "Path=/a/../b"],
      ["--root-directory", "Path=/x,CreationInfo={OwnerUid=1,OwnerGid=1,Permissions=999}"],
    ])
      expect(await failure("create-access-point", "--file-system-id", id, ...bad)).toMatch(/BadRequest/);
    expect(await failure("create-access-point", "--file-system-id", "fs-0000000000000000a")).toMatch(
      /FileSystemNotFound/,
    );
    expect((await efs("describe-access-points", "--file-system-id", id)).AccessPoints).toHaveLength(1);
    await efs("delete-access-point", "--access-point-id", ap.AccessPointId);
    expect(await failure("describe-access-points", "--access-point-id", ap.AccessPointId)).toMatch(
      /AccessPointNotFound/,
    );
    await efs("delete-file-system", "--file-system-id", id);
  });

  it("replication configurations are recorded (a destination file system in the other region, no data copied); account preferences", async () => {
    const { FileSystemId: id } = await efs("create-file-system", "--creation-token", "repl");
    await waitAvailable(id);
    expect(await failure("describe-replication-configurations", "--file-system-id", id)).toMatch(/ReplicationNotFound/);
    const created = await efs(
      "create-replication-configuration",
      "--source-file-system-id",
      id,
      "--destinations",
      "Region=eu-west-1",
    );
    expect(created).toMatchObject({ SourceFileSystemId: id, SourceFileSystemRegion: "us-east-1" });
    const dest: string = created.Destinations[0].FileSystemId;
    expect(created.Destinations[0]).toMatchObject({ Region: "eu-west-1", Status: "ENABLED" });
    expect(existsSync(join(berth.dataDir, "efs", account, "eu-west-1", dest))).toBe(true);
    const listed = await efs("describe-replication-configurations", "--region", "eu-west-1");
    expect(listed.Replications.map((r: { SourceFileSystemId: string }) => r.SourceFileSystemId)).toEqual([id]);
    expect(await failure("delete-file-system", "--file-system-id", id)).toMatch(/FileSystemInUse/);
    await efs("delete-replication-configuration", "--source-file-system-id", id);
    expect((await efs("describe-replication-configurations")).Replications).toEqual([]);
    await efs("delete-file-system", "--file-system-id", id);

    expect((await efs("describe-account-preferences")).ResourceIdPreference.ResourceIdType).toBe("LONG_ID");
    await efs("put-account-preferences", "--resource-id-type", "SHORT_ID");
    expect((await efs("describe-account-preferences")).ResourceIdPreference.ResourceIdType).toBe("SHORT_ID");
  });
});
