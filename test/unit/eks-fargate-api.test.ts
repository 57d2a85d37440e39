import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.js";
import type { ServiceError } from "../../src/core/errors.js";
import { createLogger } from "../../src/core/logger.js";
import type { CallerIdentity } from "../../src/iam/identity.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { eksModule } from "../../src/services/eks/module.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const ACCOUNT = "111122223333";
const scope = { account: ACCOUNT, region: "us-west-2" };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/eks`;
const POD_ROLE = `arn:aws:iam::${ACCOUNT}:role/AmazonEKSFargatePodExecutionRole`;

describe("EKS Fargate profiles API", () => {
  let db: Db;
  let now: number;
  let eks: ReturnType<typeof eksModule>;
  const clock: Clock = { now: () => new Date(now) };
  const user: CallerIdentity = {
    kind: "user",
    account: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    userId: "AIDAALICE",
    userName: "alice",
    accessKeyId: "AKIAALICE",
    permissive: false,
  };
  const ctx: RequestContext = { ...scope, requestId: "t", principal: user };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  const call = async (op: string, input: any): Promise<any> => eks.definitions[0].provider[op]!(input, ctx);
  const fails = async (p: Promise<unknown>): Promise<ServiceError> => {
    try {
      await p;
    } catch (e) {
      return e as ServiceError;
    }
    throw new Error("expected a failure");
  };
  const createProfile = (name: string, extra: Record<string, unknown> = {}) =>
    call("CreateFargateProfile", {
      clusterName: "dev",
      fargateProfileName: name,
      podExecutionRoleArn: POD_ROLE,
      selectors: [{ namespace: "game" }],
      ...extra,
    });
  const status = async (name: string) =>
    (await call("DescribeFargateProfile", { clusterName: "dev", fargateProfileName: name })).fargateProfile.status;

  beforeEach(async () => {
    now = Date.now();
    db = openDb(":memory:");
    const base = 30_000 + Math.floor(Math.random() * 300) * 100;
    eks = eksModule({
      store: new DocumentStore(db),
      clock,
      logger: createLogger("silent"),
      config: {
        host: "127.0.0.1",
        ports: { base, count: 50 },
        createDelayMs: 0,
        deleteDelayMs: 0,
        updateDelayMs: 1000,
        fargateCreateDelayMs: 1000,
        fargateDeleteDelayMs: 1000,
      },
      keys: { rootAccessKeyId: "test", rootSecretAccessKey: "test", auth: "strict", defaultAccount: "000000000000" },
      lookup: () => ({ kind: "unknown" }),
      endpoints: { serve: async () => {}, close: async () => {} },
    });
    await call("CreateCluster", {
      name: "dev",
      roleArn: ROLE,
      resourcesVpcConfig: { subnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] },
    });
  });
  afterEach(() => db.close());

  it("creates a profile CREATING, ACTIVE after the delay, with the cluster's subnets", async () => {
    const { fargateProfile } = await createProfile("fp-game", {
      selectors: [{ namespace: "game", labels: { app: "web" } }],
      tags: { team: "a" },
    });
    expect(fargateProfile).toMatchObject({
      fargateProfileName: "fp-game",
      clusterName: "dev",
      podExecutionRoleArn: POD_ROLE,
      subnets: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
      selectors: [{ namespace: "game", labels: { app: "web" } }],
      status: "CREATING",
      tags: { team: "a" },
      health: { issues: [] },
    });
    expect(fargateProfile.fargateProfileArn).toMatch(
      new RegExp(`^arn:aws:eks:us-west-2:${ACCOUNT}:fargateprofile/dev/fp-game/[0-9a-f-]{36}$`),
    );
    expect(eks.fargateProfiles.profiles({ scope, name: "dev" })).toMatchObject([
      { name: "fp-game", status: "CREATING" },
    ]);
    now += 1000;
    expect(await status("fp-game")).toBe("ACTIVE");
    expect(eks.fargateProfiles.profiles({ scope, name: "dev" })[0].zones.length).toBeGreaterThan(0);
  });

  it("lets one profile of a cluster be CREATING or DELETING at a time", async () => {
    await createProfile("a");
    const e = await fails(createProfile("b"));
    expect(e).toMatchObject({
      code: "ResourceInUseException",
      message: "Cannot create Fargate Profile b because cluster dev currently has Fargate profile a in status CREATING",
    });
    now += 1000;
    await createProfile("b");
    now += 1000;
    await call("DeleteFargateProfile", { clusterName: "dev", fargateProfileName: "a" });
    const d = await fails(call("DeleteFargateProfile", { clusterName: "dev", fargateProfileName: "b" }));
    expect(d).toMatchObject({
      code: "ResourceInUseException",
      message: "Cannot Delete Fargate Profile b because cluster dev currently has Fargate profile a in status DELETING",
    });
    expect(await status("a")).toBe("DELETING");
    now += 1000;
    const gone = await fails(call("DescribeFargateProfile", { clusterName: "dev", fargateProfileName: "a" }));
    expect(gone).toMatchObject({
      code: "ResourceNotFoundException",
      message: "No Fargate Profile found with name: a.",
    });
  });

  it("refuses a second profile of the same name, unless it is the same request again", async () => {
    const first = await createProfile("a", { clientRequestToken: "tok" });
    const again = await createProfile("a", { clientRequestToken: "tok" });
    expect(again.fargateProfile.fargateProfileArn).toBe(first.fargateProfile.fargateProfileArn);
    now += 1000;
    expect(await fails(createProfile("a", { clientRequestToken: "other" }))).toMatchObject({
      code: "ResourceInUseException",
      message: "A Fargate Profile already exists with this name in this cluster.",
    });
  });

  it.each([
    [{ selectors: [] }, /at least one selector/],
    [{ selectors: [{ labels: { a: "b" } }] }, /no namespace/],
    [{ selectors: Array.from({ length: 6 }, () => ({ namespace: "x" })) }, /at most 5 selectors/],
    [{ podExecutionRoleArn: "not-a-role" }, /podExecutionRoleArn not-a-role is not a valid IAM role ARN/],
    [{ subnets: ["sn-1"] }, /subnet ID 'sn-1' is malformed/],
    [{ fargateProfileName: "-bad" }, /Fargate profile name "-bad" is invalid/],
  ])("refuses %j with InvalidParameterException", async (extra, message) => {
    const e = await fails(createProfile("p", extra));
    expect(e.code).toBe("InvalidParameterException");
    expect(e.message).toMatch(message);
    expect((await call("ListFargateProfiles", { clusterName: "dev" })).fargateProfileNames).toEqual([]);
  });

  it("answers unknown clusters and profiles as EKS does", async () => {
    expect(await fails(call("ListFargateProfiles", { clusterName: "nope" }))).toMatchObject({
      code: "ResourceNotFoundException",
      message: "No cluster found for name: nope.",
    });
    expect(await fails(call("DeleteFargateProfile", { clusterName: "dev", fargateProfileName: "x" }))).toMatchObject({
      code: "ResourceNotFoundException",
      message: "No Fargate Profile found with name: x.",
    });
  });

  it("lists names in pages", async () => {
    for (const n of ["c", "a", "b"]) {
      await createProfile(n);
      now += 1000;
    }
    const p1 = await call("ListFargateProfiles", { clusterName: "dev", maxResults: 2 });
    expect(p1.fargateProfileNames).toEqual(["a", "b"]);
    const p2 = await call("ListFargateProfiles", { clusterName: "dev", maxResults: 2, nextToken: p1.nextToken });
    expect(p2).toEqual({ fargateProfileNames: ["c"] });
  });

  it("keeps a cluster with profiles from being deleted", async () => {
    await createProfile("a");
    expect(await fails(call("DeleteCluster", { name: "dev" }))).toMatchObject({
      code: "ResourceInUseException",
      message: "Cluster has Fargate Profiles in ACTIVE/CREATING state",
    });
    now += 1000;
    await call("DeleteFargateProfile", { clusterName: "dev", fargateProfileName: "a" });
    now += 1000;
    await call("DeleteCluster", { name: "dev" });
  });

  it("tags profiles by ARN", async () => {
    const arn = (await createProfile("a", { tags: { x: "1" } })).fargateProfile.fargateProfileArn;
    await call("TagResource", { resourceArn: arn, tags: { y: "2" } });
    await call("UntagResource", { resourceArn: arn, tagKeys: ["x"] });
    expect((await call("ListTagsForResource", { resourceArn: arn })).tags).toEqual({ y: "2" });
  });

  it("holds at most 10 profiles per cluster", async () => {
    for (let i = 0; i < 10; i++) {
      await createProfile(`p${i}`);
      now += 1000;
    }
    expect(await fails(createProfile("p10"))).toMatchObject({ code: "ResourceLimitExceededException" });
  });
});
