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

describe("EKS add-ons API", () => {
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
        addonDelayMs: 1000,
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
  const status = async (name: string) =>
    (await call("DescribeAddon", { clusterName: "dev", addonName: name })).addon.status;

  it("creates, lists, describes: CREATING then ACTIVE with the default version", async () => {
    const out = await call("CreateAddon", { clusterName: "dev", addonName: "aws-ebs-csi-driver" });
    expect(out.addon).toMatchObject({
      addonName: "aws-ebs-csi-driver",
      status: "CREATING",
      addonVersion: "v1.48.0-eksbuild.2",
    });
    expect(out.addon.addonArn).toMatch(new RegExp(`^arn:aws:eks:us-west-2:${ACCOUNT}:addon/dev/aws-ebs-csi-driver/`));
    expect(eks.csiDrivers.drivers({ scope, name: "dev" })).toEqual([]);
    now += 1500;
    expect(await status("aws-ebs-csi-driver")).toBe("ACTIVE");
    expect(eks.csiDrivers.drivers({ scope, name: "dev" })).toEqual(["ebs.csi.aws.com"]);
    await call("CreateAddon", { clusterName: "dev", addonName: "vpc-cni" });
    expect((await call("ListAddons", { clusterName: "dev" })).addons).toEqual(["aws-ebs-csi-driver", "vpc-cni"]);
  });

  it("errors as EKS: unknown cluster, add-on, version; duplicates", async () => {
    expect((await fails(call("DescribeAddon", { clusterName: "nope", addonName: "vpc-cni" }))).code).toBe(
      "ResourceNotFoundException",
    );
    const missing = await fails(call("DescribeAddon", { clusterName: "dev", addonName: "coredns" }));
    expect([missing.code, missing.message]).toEqual([
      "ResourceNotFoundException",
      "No addon: coredns found in cluster: dev",
    ]);
    const bad = await fails(call("CreateAddon", { clusterName: "dev", addonName: "flannel" }));
    expect([bad.code, bad.message]).toEqual([
      "InvalidParameterException",
      "Addon flannel specified is not supported in 1.33 kubernetes version",
    ]);
    const v = await fails(call("CreateAddon", { clusterName: "dev", addonName: "coredns", addonVersion: "v0.0.1" }));
    expect(v.code).toBe("InvalidParameterException");
    await call("CreateAddon", { clusterName: "dev", addonName: "coredns" });
    expect((await fails(call("CreateAddon", { clusterName: "dev", addonName: "coredns" }))).code).toBe(
      "ResourceInUseException",
    );
    expect((await call("ListAddons", { clusterName: "dev" })).addons).toEqual(["coredns"]);
  });

  it("updates (an AddonUpdate InProgress, then applied) and deletes", async () => {
    await call("CreateAddon", { clusterName: "dev", addonName: "aws-efs-csi-driver" });
    now += 1500;
    const { update } = await call("UpdateAddon", {
      clusterName: "dev",
      addonName: "aws-efs-csi-driver",
      addonVersion: "v2.1.10-eksbuild.1",
    });
    expect(update).toMatchObject({ type: "AddonUpdate", status: "InProgress" });
    expect(await status("aws-efs-csi-driver")).toBe("UPDATING");
    now += 1500;
    const d = await call("DescribeUpdate", { name: "dev", addonName: "aws-efs-csi-driver", updateId: update.id });
    expect(d.update.status).toBe("Successful");
    expect(
      (await call("DescribeAddon", { clusterName: "dev", addonName: "aws-efs-csi-driver" })).addon.addonVersion,
    ).toBe("v2.1.10-eksbuild.1");
    expect((await call("ListUpdates", { name: "dev", addonName: "aws-efs-csi-driver" })).updateIds).toEqual([
      update.id,
    ]);
    expect((await call("DeleteAddon", { clusterName: "dev", addonName: "aws-efs-csi-driver" })).addon.status).toBe(
      "DELETING",
    );
    now += 1500;
    expect((await call("ListAddons", { clusterName: "dev" })).addons).toEqual([]);
  });

  it("DescribeAddonVersions by name and Kubernetes version", async () => {
    const out = await call("DescribeAddonVersions", { addonName: "kube-proxy", kubernetesVersion: "1.31" });
    expect(out.addons).toHaveLength(1);
    expect(out.addons[0].addonVersions.map((v: { addonVersion: string }) => v.addonVersion)).toEqual([
      "v1.31.12-eksbuild.2",
    ]);
    const storage = await call("DescribeAddonVersions", { types: ["storage"] });
    expect(storage.addons.map((a: { addonName: string }) => a.addonName).sort()).toEqual([
      "aws-ebs-csi-driver",
      "aws-efs-csi-driver",
    ]);
  });
});
