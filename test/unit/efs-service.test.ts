import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EfsMountError } from "../../src/controllers/tasks/efs-volumes.js";
import type { Clock } from "../../src/core/clock.js";
import type { ServiceError } from "../../src/core/errors.js";
import { createIdentity } from "../../src/iam/index.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { efsModule } from "../../src/services/efs/module.js";
import { iamService } from "../../src/services/iam/provider.js";
import { registerIam } from "../../src/services/module.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const ACCOUNT = "000000000000";
const scope = { account: ACCOUNT, region: "us-east-1" };

/** The EFS provider and its volumes over an in-memory store, a temp data dir and a clock the test moves. */
describe("EFS service", () => {
  let db: Db;
  let dir: string;
  let now: number;
  let efs: ReturnType<typeof efsModule>;
  let iam: ReturnType<typeof iamService>;
  const clock: Clock = { now: () => new Date(now) };
  const ctx: RequestContext = {
    ...scope,
    requestId: "t",
    principal: { accessKeyId: "t", arn: `arn:aws:iam::${ACCOUNT}:root` },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  const call = async (op: string, input: any): Promise<any> => efs.definitions[0].provider[op]!(input, ctx);
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  const iamCall = async (op: string, input: any): Promise<any> => iam.provider[op]!(input, ctx);
  const fails = async (p: Promise<unknown>): Promise<ServiceError> => {
    try {
      await p;
    } catch (e) {
      return e as ServiceError;
    }
    throw new Error("expected a failure");
  };
  const available = () => {
    now += 2_000;
  };

  beforeEach(() => {
    now = Date.UTC(2026, 0, 1);
    db = openDb(":memory:");
    dir = mkdtempSync(join(tmpdir(), "efs-"));
    const store = new DocumentStore(db);
    const identity = createIdentity({ store, dataDir: dir, clock });
    efs = efsModule({ store, clock, dataDir: dir, authorizer: identity.authorizer, iam: identity.iam });
    iam = iamService({ ...identity, clock });
    registerIam(identity.authorizer, [efs]);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates a file system as a directory, idempotently by creation token, and removes it on delete", async () => {
    const fs = await call("CreateFileSystem", { CreationToken: "t1", Tags: [{ Key: "Name", Value: "data" }] });
    expect(fs.FileSystemId).toMatch(/^fs-[0-9a-f]{17}$/);
    expect(fs.FileSystemArn).toBe(`arn:aws:elasticfilesystem:us-east-1:${ACCOUNT}:file-system/${fs.FileSystemId}`);
    expect(fs.LifeCycleState).toBe("creating");
    expect(fs.Name).toBe("data");
    const root = join(dir, "efs", ACCOUNT, "us-east-1", fs.FileSystemId);
    expect(statSync(root).isDirectory()).toBe(true);
    expect((await call("CreateFileSystem", { CreationToken: "t1", Tags: [] })).FileSystemId).toBe(fs.FileSystemId);
    const clash = await fails(call("CreateFileSystem", { CreationToken: "t1", PerformanceMode: "maxIO" }));
    expect([clash.code, clash.status, clash.fields.FileSystemId]).toEqual([
      "FileSystemAlreadyExists",
      409,
      fs.FileSystemId,
    ]);
    available();
    writeFileSync(join(root, "f"), "12345");
    now += 10_000; // past the size cache
    const [d] = (await call("DescribeFileSystems", { CreationToken: "t1" })).FileSystems;
    expect(d.LifeCycleState).toBe("available");
    expect(d.SizeInBytes.Value).toBe(5);
    expect(d.SizeInBytes.ValueInStandard).toBe(5);
    await call("DeleteFileSystem", { FileSystemId: fs.FileSystemId });
    expect(existsSync(root)).toBe(false);
    expect((await fails(call("DescribeFileSystems", { FileSystemId: fs.FileSystemId }))).code).toBe(
      "FileSystemNotFound",
    );
  });

  it("pages DescribeFileSystems with Marker and MaxItems", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call("CreateFileSystem", { CreationToken: `p${i}` })).FileSystemId);
    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await call("DescribeFileSystems", { MaxItems: 2, Marker });
      expect(page.FileSystems.length).toBeLessThanOrEqual(2);
      seen.push(...page.FileSystems.map((f: { FileSystemId: string }) => f.FileSystemId));
      Marker = page.NextMarker;
    } while (Marker);
    expect(seen).toEqual([...ids].sort());
  });

  it("keeps one mount target per zone and refuses to delete a file system in use", async () => {
    const { FileSystemId } = await call("CreateFileSystem", { CreationToken: "m" });
    available();
    const mt = await call("CreateMountTarget", { FileSystemId, SubnetId: "subnet-0123456789abcdef0" });
    expect(mt.MountTargetId).toMatch(/^fsmt-[0-9a-f]{17}$/);
    expect(mt.IpAddress).toMatch(/^172\.31\.\d+\.\d+$/);
    expect(mt.AvailabilityZoneName).toMatch(/^us-east-1[abc]$/);
    const again = await fails(call("CreateMountTarget", { FileSystemId, SubnetId: "subnet-0123456789abcdef0" }));
    expect([again.code, again.status]).toEqual(["MountTargetConflict", 409]);
    const inUse = await fails(call("DeleteFileSystem", { FileSystemId }));
    expect([inUse.code, inUse.status]).toEqual(["FileSystemInUse", 409]);
    expect(
      (await call("DescribeMountTargetSecurityGroups", { MountTargetId: mt.MountTargetId })).SecurityGroups,
    ).toHaveLength(1);
    expect((await call("DescribeFileSystems", { FileSystemId })).FileSystems[0].NumberOfMountTargets).toBe(1);
    await call("DeleteMountTarget", { MountTargetId: mt.MountTargetId });
    expect((await fails(call("DeleteMountTarget", { MountTargetId: mt.MountTargetId }))).code).toBe(
      "MountTargetNotFound",
    );
    await call("DeleteFileSystem", { FileSystemId });
  });

  it("answers IncorrectFileSystemLifeCycleState to calls that change a file system still creating, and changes nothing", async () => {
    const { FileSystemId } = await call("CreateFileSystem", { CreationToken: "young" });
    const calls: [string, Record<string, unknown>][] = [
      ["CreateMountTarget", { SubnetId: "subnet-0123456789abcdef0" }],
      ["CreateAccessPoint", { ClientToken: "c" }],
      ["UpdateFileSystem", { ThroughputMode: "elastic" }],
      ["PutLifecycleConfiguration", { LifecyclePolicies: [{ TransitionToIA: "AFTER_30_DAYS" }] }],
      ["PutFileSystemPolicy", { Policy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }],
      ["DeleteFileSystemPolicy", {}],
      ["PutBackupPolicy", { BackupPolicy: { Status: "ENABLED" } }],
      ["UpdateFileSystemProtection", { ReplicationOverwriteProtection: "DISABLED" }],
      ["CreateReplicationConfiguration", { Destinations: [{ Region: "eu-west-1" }] }],
    ];
    for (const [op, input] of calls) {
      const e = await fails(call(op, { FileSystemId, SourceFileSystemId: FileSystemId, ...input }));
      expect([op, e.code, e.status, e.fields.ErrorCode]).toEqual([
        op,
        "IncorrectFileSystemLifeCycleState",
        409,
        "IncorrectFileSystemLifeCycleState",
      ]);
      expect(e.message).toContain("'creating'");
    }
    // Reads answer while it is creating.
    expect((await call("DescribeLifecycleConfiguration", { FileSystemId })).LifecyclePolicies).toEqual([]);
    expect((await call("DescribeBackupPolicy", { FileSystemId })).BackupPolicy.Status).toBe("DISABLED");
    const [d] = (await call("DescribeFileSystems", { FileSystemId })).FileSystems;
    expect([d.LifeCycleState, d.NumberOfMountTargets, d.ThroughputMode]).toEqual(["creating", 0, "bursting"]);
    expect(d.FileSystemProtection).toEqual({ ReplicationOverwriteProtection: "ENABLED" });
    expect((await call("DescribeAccessPoints", { FileSystemId })).AccessPoints).toEqual([]);
    available();
    await call("CreateMountTarget", { FileSystemId, SubnetId: "subnet-0123456789abcdef0" });
  });

  it("rejects bad access points with BadRequest and changes nothing", async () => {
    const { FileSystemId } = await call("CreateFileSystem", { CreationToken: "a" });
    available();
    const bad = [
      { PosixUser: { Uid: -1, Gid: 0 } },
      { PosixUser: { Uid: 1, Gid: 4294967296 } },
      { RootDirectory: { Path: "relative" } },
      { RootDirectory: { Path: "/a/../b" } },
      { RootDirectory: { Path: "/a/b/c/d/e" } },
      { RootDirectory: { Path: "/x", CreationInfo: { OwnerUid: 1, OwnerGid: 1, Permissions: "999" } } },
    ];
    for (const [i, extra] of bad.entries()) {
      const e = await fails(call("CreateAccessPoint", { ClientToken: `b${i}`, FileSystemId, ...extra }));
      expect([e.code, e.status]).toEqual(["BadRequest", 400]);
    }
    expect((await call("DescribeAccessPoints", { FileSystemId })).AccessPoints).toEqual([]);
    const missing = await fails(call("CreateAccessPoint", { ClientToken: "x", FileSystemId: "fs-00000000000000000" }));
    expect([missing.code, missing.status]).toEqual(["FileSystemNotFound", 404]);
  });

  it("validates file system policies and stores lifecycle and backup settings", async () => {
    const { FileSystemId } = await call("CreateFileSystem", { CreationToken: "pol" });
    available();
    expect((await fails(call("DescribeFileSystemPolicy", { FileSystemId }))).code).toBe("PolicyNotFound");
    const bad = await fails(call("PutFileSystemPolicy", { FileSystemId, Policy: "{not json" }));
    expect([bad.code, bad.status]).toEqual(["InvalidPolicyException", 400]);
    expect((await fails(call("DescribeFileSystemPolicy", { FileSystemId }))).code).toBe("PolicyNotFound");
    await call("PutLifecycleConfiguration", { FileSystemId, LifecyclePolicies: [{ TransitionToIA: "AFTER_30_DAYS" }] });
    expect((await call("DescribeLifecycleConfiguration", { FileSystemId })).LifecyclePolicies).toEqual([
      { TransitionToIA: "AFTER_30_DAYS" },
    ]);
    await call("PutBackupPolicy", { FileSystemId, BackupPolicy: { Status: "ENABLED" } });
    expect((await call("DescribeBackupPolicy", { FileSystemId })).BackupPolicy.Status).toBe("ENABLED");
    await call("TagResource", { ResourceId: FileSystemId, Tags: [{ Key: "k", Value: "v" }] });
    await call("UntagResource", { ResourceId: FileSystemId, TagKeys: ["k"] });
    expect((await call("ListTagsForResource", { ResourceId: FileSystemId })).Tags).toEqual([]);
  });

  it("prepares volumes: access point roots with their owner and mode, stop reasons, and IAM", async () => {
    const { FileSystemId, FileSystemArn } = await call("CreateFileSystem", { CreationToken: "v" });
    const notYet = await fails(efs.volumes.prepare(scope, { fileSystemId: FileSystemId, iam: false }));
    expect(notYet).toBeInstanceOf(EfsMountError);
    available();
    const ap = await call("CreateAccessPoint", {
      ClientToken: "ap",
      FileSystemId,
      PosixUser: { Uid: 1000, Gid: 1000 },
      RootDirectory: {
        Path: "/app/data",
        CreationInfo: { OwnerUid: process.getuid?.() ?? 0, OwnerGid: process.getgid?.() ?? 0, Permissions: "750" },
      },
    });
    const m = await efs.volumes.prepare(scope, {
      fileSystemId: FileSystemId,
      accessPointId: ap.AccessPointId,
      iam: false,
    });
    expect(m.hostPath).toBe(join(dir, "efs", ACCOUNT, "us-east-1", FileSystemId, "app", "data"));
    expect(statSync(m.hostPath).mode & 0o777).toBe(0o750);
    expect(m).toMatchObject({ readOnly: false, posixUser: { uid: 1000, gid: 1000 } });

    const unknown = await fails(efs.volumes.prepare(scope, { fileSystemId: "fs-0123456789abcdef0", iam: false }));
    expect((unknown as unknown as EfsMountError).reason).toMatch(
      /^ResourceInitializationError: failed to invoke EFS utils commands/,
    );
    const noDir = await fails(
      efs.volumes.prepare(scope, { fileSystemId: FileSystemId, rootDirectory: "/nope", iam: false }),
    );
    expect((noDir as unknown as EfsMountError).reason).toMatch(/No such file or directory/);

    // A role that may only mount; a policy that grants nothing to anyone: read-only.
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const role = (await iamCall("CreateRole", { RoleName: "reader", AssumeRolePolicyDocument: trust })).Role;
    await iamCall("PutRolePolicy", {
      RoleName: "reader",
      PolicyName: "mount",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "elasticfilesystem:ClientMount", Resource: FileSystemArn }],
      }),
    });
    const open = await efs.volumes.prepare(scope, { fileSystemId: FileSystemId, iam: true, taskRoleArn: role.Arn });
    expect([open.readOnly, open.rootSquash]).toEqual([false, undefined]); // the default policy: full access
    await call("PutFileSystemPolicy", {
      FileSystemId,
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
    const ro = await efs.volumes.prepare(scope, { fileSystemId: FileSystemId, iam: true, taskRoleArn: role.Arn });
    expect([ro.readOnly, ro.rootSquash]).toEqual([true, true]);
    // ClientRootAccess from the file system policy: root is not squashed.
    await call("PutFileSystemPolicy", {
      FileSystemId,
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: role.Arn },
            Action: ["elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"],
            Resource: FileSystemArn,
          },
        ],
      }),
    });
    const rooted = await efs.volumes.prepare(scope, { fileSystemId: FileSystemId, iam: true, taskRoleArn: role.Arn });
    expect([rooted.readOnly, rooted.rootSquash]).toEqual([false, undefined]);
    await iamCall("DeleteRolePolicy", { RoleName: "reader", PolicyName: "mount" });
    const denied = await fails(
      efs.volumes.prepare(scope, { fileSystemId: FileSystemId, iam: true, taskRoleArn: role.Arn }),
    );
    expect((denied as unknown as EfsMountError).reason).toMatch(/access denied by server/);
  });

  it("records file system protection and replication configurations (no data copied), and account preferences", async () => {
    const { FileSystemId: src } = await call("CreateFileSystem", { CreationToken: "src" });
    const { FileSystemId: other } = await call("CreateFileSystem", { CreationToken: "other" });
    available();
    expect((await fails(call("DescribeReplicationConfigurations", { FileSystemId: src }))).code).toBe(
      "ReplicationNotFound",
    );
    expect((await call("DescribeReplicationConfigurations", {})).Replications).toEqual([]);

    // An existing destination needs its overwrite protection disabled.
    const protectedDest = await fails(
      call("CreateReplicationConfiguration", {
        SourceFileSystemId: src,
        Destinations: [{ Region: "us-east-1", FileSystemId: other }],
      }),
    );
    expect([protectedDest.code, protectedDest.status]).toEqual(["ConflictException", 409]);
    expect(
      await call("UpdateFileSystemProtection", { FileSystemId: other, ReplicationOverwriteProtection: "DISABLED" }),
    ).toEqual({
      ReplicationOverwriteProtection: "DISABLED",
    });
    const bad = await fails(
      call("UpdateFileSystemProtection", { FileSystemId: other, ReplicationOverwriteProtection: "REPLICATING" }),
    );
    expect([bad.code, bad.status]).toEqual(["BadRequest", 400]);
    const two = await fails(
      call("CreateReplicationConfiguration", {
        SourceFileSystemId: src,
        Destinations: [{ Region: "eu-west-1" }, { Region: "eu-west-2" }],
      }),
    );
    expect([two.code, two.status]).toEqual(["ValidationException", 400]);

    const local = await call("CreateReplicationConfiguration", {
      SourceFileSystemId: src,
      Destinations: [{ Region: "us-east-1", FileSystemId: other }],
    });
    expect(local).toMatchObject({
      SourceFileSystemId: src,
      SourceFileSystemRegion: "us-east-1",
      Destinations: [{ Status: "ENABLED", FileSystemId: other, Region: "us-east-1", OwnerId: ACCOUNT }],
    });
    const [o] = (await call("DescribeFileSystems", { FileSystemId: other })).FileSystems;
    expect(o.FileSystemProtection).toEqual({ ReplicationOverwriteProtection: "REPLICATING" });
    // The destination mounts read-only; neither side can be deleted while replicating.
    expect((await efs.volumes.prepare(scope, { fileSystemId: other, iam: false })).readOnly).toBe(true);
    for (const id of [src, other])
      expect((await fails(call("DeleteFileSystem", { FileSystemId: id }))).code).toBe("FileSystemInUse");
    const already = await fails(
      call("UpdateFileSystemProtection", { FileSystemId: other, ReplicationOverwriteProtection: "ENABLED" }),
    );
    expect([already.code, already.status]).toEqual(["ReplicationAlreadyExists", 409]);
    expect(
      (
        await fails(
          call("CreateReplicationConfiguration", { SourceFileSystemId: src, Destinations: [{ Region: "eu-west-1" }] }),
        )
      ).code,
    ).toBe("ConflictException");
    // Described from either side, and in the list.
    expect((await call("DescribeReplicationConfigurations", { FileSystemId: other })).Replications).toEqual([local]);
    expect((await call("DescribeReplicationConfigurations", {})).Replications).toEqual([local]);
    // Deleting (here from the destination's side) re-enables the destination's protection and makes it writeable.
    await call("DeleteReplicationConfiguration", { SourceFileSystemId: other });
    expect((await call("DescribeFileSystems", { FileSystemId: other })).FileSystems[0].FileSystemProtection).toEqual({
      ReplicationOverwriteProtection: "ENABLED",
    });
    expect((await efs.volumes.prepare(scope, { fileSystemId: other, iam: false })).readOnly).toBe(false);
    expect((await fails(call("DeleteReplicationConfiguration", { SourceFileSystemId: src }))).code).toBe(
      "ReplicationNotFound",
    );

    // A new destination in another region: a file system there, REPLICATING, with its own directory.
    const remote = await call("CreateReplicationConfiguration", {
      SourceFileSystemId: src,
      Destinations: [{ Region: "eu-west-1" }],
    });
    const destId = remote.Destinations[0].FileSystemId;
    const eu = { ...ctx, region: "eu-west-1" };
    // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
    const callEu = async (op: string, input: any): Promise<any> => efs.definitions[0].provider[op]!(input, eu);
    const [d] = (await callEu("DescribeFileSystems", { FileSystemId: destId })).FileSystems;
    expect([d.Encrypted, d.FileSystemProtection.ReplicationOverwriteProtection]).toEqual([true, "REPLICATING"]);
    expect(existsSync(join(dir, "efs", ACCOUNT, "eu-west-1", destId))).toBe(true);
    expect((await callEu("DescribeReplicationConfigurations", {})).Replications).toEqual([remote]);
    expect((await fails(call("DescribeFileSystems", { FileSystemId: destId }))).code).toBe("FileSystemNotFound");
    await callEu("DeleteReplicationConfiguration", { SourceFileSystemId: destId });
    expect((await call("DescribeReplicationConfigurations", {})).Replications).toEqual([]);
    await call("DeleteFileSystem", { FileSystemId: src });

    expect((await call("DescribeAccountPreferences", {})).ResourceIdPreference).toEqual({
      ResourceIdType: "LONG_ID",
      Resources: ["FILE_SYSTEM", "MOUNT_TARGET"],
    });
    await call("PutAccountPreferences", { ResourceIdType: "SHORT_ID" });
    expect((await call("DescribeAccountPreferences", {})).ResourceIdPreference.ResourceIdType).toBe("SHORT_ID");
    expect((await fails(call("PutAccountPreferences", { ResourceIdType: "MEDIUM_ID" }))).code).toBe("BadRequest");
  });
});
