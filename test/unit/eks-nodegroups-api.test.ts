import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.js";
import type { ServiceError } from "../../src/core/errors.js";
import { createLogger } from "../../src/core/logger.js";
import type { CallerIdentity } from "../../src/iam/identity.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { eksModule } from "../../src/services/eks/module.js";
import { checkScaling, mergeTaints } from "../../src/services/eks/nodegroup-validate.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const ACCOUNT = "111122223333";
const scope = { account: ACCOUNT, region: "us-west-2" };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/eks`;
const NODE_ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-node`;

describe("checkScaling", () => {
  it.each([
    [{ minSize: 1, maxSize: 2, desiredSize: 2 }, undefined],
    [{ minSize: 0, maxSize: 1, desiredSize: 0 }, undefined],
    [{ minSize: 3, maxSize: 2, desiredSize: 2 }, "minSize can't be greater than maxSize"],
    [{ minSize: 1, maxSize: 2, desiredSize: 3 }, "desiredSize can't be greater than maxSize"],
    [{ minSize: 2, maxSize: 3, desiredSize: 1 }, "minSize can't be greater than desiredSize"],
    [{ minSize: 0, maxSize: 0, desiredSize: 0 }, "maxSize can't be less than 1"],
  ])("%j → %s", (s, msg) => expect(checkScaling(s)).toBe(msg));

  it("accepts exactly the configs with 0 ≤ min ≤ desired ≤ max, 1 ≤ max ≤ 1000", () => {
    fc.assert(
      fc.property(fc.nat(1200), fc.nat(1200), fc.nat(1200), (minSize, desiredSize, maxSize) => {
        const ok = minSize <= desiredSize && desiredSize <= maxSize && maxSize >= 1 && maxSize <= 1000;
        expect(checkScaling({ minSize, maxSize, desiredSize }) === undefined).toBe(ok);
      }),
    );
  });
});

describe("mergeTaints", () => {
  it("replaces a taint of the same key and effect and removes by key (and effect when given)", () => {
    const base = [
      { key: "a", value: "1", effect: "NO_SCHEDULE" as const },
      { key: "b", effect: "NO_EXECUTE" as const },
    ];
    expect(mergeTaints(base, [{ key: "a", value: "2", effect: "NO_SCHEDULE" }], [{ key: "b" }])).toEqual([
      { key: "a", value: "2", effect: "NO_SCHEDULE" },
    ]);
  });
});

describe("EKS node groups API", () => {
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
  const create = (name: string, extra: Record<string, unknown> = {}) =>
    call("CreateNodegroup", {
      clusterName: "dev",
      nodegroupName: name,
      nodeRole: NODE_ROLE,
      subnets: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
      ...extra,
    });
  const describe_ = async (name: string) =>
    (await call("DescribeNodegroup", { clusterName: "dev", nodegroupName: name })).nodegroup;

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
        fargateCreateDelayMs: 0,
        fargateDeleteDelayMs: 0,
        nodegroupCreateDelayMs: 1000,
        nodegroupDrainTimeoutMs: 60_000,
      },
      keys: { rootAccessKeyId: "test", rootSecretAccessKey: "test", auth: "strict", defaultAccount: "000000000000" },
      lookup: () => ({ kind: "unknown" }),
      endpoints: { serve: async () => {}, close: async () => {} },
    });
    await call("CreateCluster", { name: "dev", roleArn: ROLE, resourcesVpcConfig: { subnetIds: ["subnet-0a1b2c3d"] } });
  });
  afterEach(() => db.close());

  it("creates with EKS's defaults: CREATING, then ACTIVE", async () => {
    const { nodegroup } = await create("ng1");
    expect(nodegroup).toMatchObject({
      nodegroupName: "ng1",
      clusterName: "dev",
      status: "CREATING",
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 2 },
      instanceTypes: ["t3.medium"],
      amiType: "AL2023_x86_64_STANDARD",
      diskSize: 20,
      version: "1.33",
      updateConfig: { maxUnavailable: 1 },
      health: { issues: [] },
    });
    expect(nodegroup.nodegroupArn).toMatch(/^arn:aws:eks:us-west-2:111122223333:nodegroup\/dev\/ng1\/[0-9a-f-]{36}$/);
    expect(nodegroup.resources.autoScalingGroups[0].name).toMatch(/^eks-ng1-/);
    now += 1000;
    expect((await describe_("ng1")).status).toBe("ACTIVE");
    expect((await call("ListNodegroups", { clusterName: "dev" })).nodegroups).toEqual(["ng1"]);
  });

  it("refuses bad input with EKS's errors and changes nothing", async () => {
    const cases: [Record<string, unknown>, string, string | RegExp][] = [
      [
        { scalingConfig: { minSize: 3, maxSize: 2, desiredSize: 2 } },
        "InvalidParameterException",
        "minSize can't be greater than maxSize",
      ],
      [
        { scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 5 } },
        "InvalidParameterException",
        "desiredSize can't be greater than maxSize",
      ],
      [{ instanceTypes: ["x9.huge"] }, "InvalidParameterException", /Instance type x9.huge/],
      [
        { instanceTypes: ["t4g.medium"], amiType: "AL2023_x86_64_STANDARD" },
        "InvalidParameterException",
        /architecture/,
      ],
      [{ nodeRole: "eks-node" }, "InvalidParameterException", /nodeRole/],
      [{ labels: { "kubernetes.io/role": "x" } }, "InvalidParameterException", /reserved prefix/],
      [{ taints: [{ key: "a" }] }, "InvalidParameterException", /effect/],
      [{ updateConfig: { maxUnavailable: 5 } }, "InvalidParameterException", /max-unavailable/],
      [{ version: "1.34" }, "InvalidParameterException", /newer than the cluster/],
    ];
    for (const [extra, code, msg] of cases) {
      const e = await fails(create("bad", extra));
      expect(e.code, JSON.stringify(extra)).toBe(code);
      expect(e.message).toMatch(msg);
    }
    expect((await call("ListNodegroups", { clusterName: "dev" })).nodegroups).toEqual([]);
    expect((await fails(create("x", { clusterName: "nope" }))).code).toBe("ResourceNotFoundException");
    expect((await fails(describe_("nope"))).code).toBe("ResourceNotFoundException");
    await create("ng1");
    const dup = await fails(create("ng1"));
    expect(dup.code).toBe("ResourceInUseException");
    expect(dup.message).toBe("NodeGroup already exists with name ng1 and cluster name dev");
  });

  it("arm instance types get the ARM AMI; SPOT is kept", async () => {
    const { nodegroup } = await create("arm", { instanceTypes: ["t4g.large", "m6g.large"], capacityType: "SPOT" });
    expect(nodegroup).toMatchObject({ amiType: "AL2023_ARM_64_STANDARD", capacityType: "SPOT" });
  });

  it("UpdateNodegroupConfig is an update of the node group, applied when Successful", async () => {
    await create("ng1", { labels: { team: "a" } });
    now += 1000;
    const { update } = await call("UpdateNodegroupConfig", {
      clusterName: "dev",
      nodegroupName: "ng1",
      scalingConfig: { desiredSize: 1 },
      labels: { addOrUpdateLabels: { tier: "web" }, removeLabels: ["team"] },
      taints: { addOrUpdateTaints: [{ key: "dedicated", value: "web", effect: "NO_SCHEDULE" }] },
    });
    expect(update).toMatchObject({ type: "ConfigUpdate", status: "InProgress" });
    expect(update.params).toContainEqual({ type: "DesiredSize", value: "1" });
    expect((await describe_("ng1")).status).toBe("UPDATING");
    const busy = await fails(
      call("UpdateNodegroupConfig", { clusterName: "dev", nodegroupName: "ng1", scalingConfig: { desiredSize: 2 } }),
    );
    expect(busy.code).toBe("ResourceInUseException");
    const listed = await call("ListUpdates", { name: "dev", nodegroupName: "ng1" });
    expect(listed.updateIds).toEqual([update.id]);
    expect((await call("ListUpdates", { name: "dev" })).updateIds).toEqual([]);
    now += 1000;
    const done = await call("DescribeUpdate", { name: "dev", nodegroupName: "ng1", updateId: update.id });
    expect(done.update.status).toBe("Successful");
    expect(await describe_("ng1")).toMatchObject({
      status: "ACTIVE",
      scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 },
      labels: { tier: "web" },
      taints: [{ key: "dedicated", value: "web", effect: "NO_SCHEDULE" }],
    });
    const bad = await fails(
      call("UpdateNodegroupConfig", { clusterName: "dev", nodegroupName: "ng1", scalingConfig: { minSize: 3 } }),
    );
    expect(bad.code).toBe("InvalidParameterException");
    expect(bad.message).toBe("minSize can't be greater than maxSize");
    expect((await fails(call("DescribeUpdate", { name: "dev", updateId: update.id }))).code).toBe(
      "ResourceNotFoundException",
    );
  });

  it("UpdateNodegroupVersion moves a node group up to the cluster's version", async () => {
    await create("old", { version: "1.32" });
    now += 1000;
    const { update } = await call("UpdateNodegroupVersion", { clusterName: "dev", nodegroupName: "old" });
    expect(update.type).toBe("VersionUpdate");
    expect(update.params).toContainEqual({ type: "Version", value: "1.33" });
    now += 1000;
    expect((await describe_("old")).version).toBe("1.33");
    const again = await fails(call("UpdateNodegroupVersion", { clusterName: "dev", nodegroupName: "old" }));
    expect(again.code).toBe("InvalidParameterException");
  });

  it("DeleteCluster is refused while node groups exist; DeleteNodegroup makes it DELETING", async () => {
    await create("ng1");
    const refused = await fails(call("DeleteCluster", { name: "dev" }));
    expect(refused.code).toBe("ResourceInUseException");
    expect(refused.message).toBe("Cluster has nodegroups attached");
    const { nodegroup } = await call("DeleteNodegroup", { clusterName: "dev", nodegroupName: "ng1" });
    expect(nodegroup.status).toBe("DELETING");
    eks.nodegroups.finishDelete({ scope, name: "dev" }, "ng1");
    expect((await fails(describe_("ng1"))).code).toBe("ResourceNotFoundException");
    await call("DeleteCluster", { name: "dev" });
  });

  it("health issues reported by the controller show as DEGRADED", async () => {
    await create("ng1");
    now += 1000;
    await describe_("ng1");
    eks.nodegroups.reportIssues({ scope, name: "dev" }, "ng1", [
      { code: "PodEvictionFailure", message: "x", resourceIds: ["i-1"] },
    ]);
    expect(await describe_("ng1")).toMatchObject({
      status: "DEGRADED",
      health: { issues: [{ code: "PodEvictionFailure" }] },
    });
  });
});
