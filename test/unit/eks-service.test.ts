import { X509Certificate } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.js";
import type { ServiceError } from "../../src/core/errors.js";
import { createLogger } from "../../src/core/logger.js";
import type { CallerIdentity } from "../../src/iam/identity.js";
import type { ClusterEndpoint } from "../../src/kube/contracts.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import { eksModule } from "../../src/services/eks/module.js";
import { tokenOf } from "../../src/services/eks/token.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

const ACCOUNT = "111122223333";
const scope = { account: ACCOUNT, region: "us-east-1" };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/eks`;

/** The EKS module over an in-memory store, a clock the test moves, and endpoints it records. */
describe("EKS service", () => {
  let db: Db;
  let store: DocumentStore;
  let now: number;
  let eks: ReturnType<typeof eksModule>;
  let served: ClusterEndpoint[];
  let closed: string[];
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
    call("CreateCluster", { name, roleArn: ROLE, resourcesVpcConfig: { subnetIds: ["subnet-a"] }, ...extra });
  const tick = async (ms: number) => {
    now += ms;
  };
  const presign = async (cluster: string, secret = "alice-secret") => {
    const host = "sts.us-east-1.amazonaws.com";
    const signer = new SignatureV4({
      credentials: { accessKeyId: "AKIAALICE", secretAccessKey: secret },
      region: "us-east-1",
      service: "sts",
      sha256: Sha256,
    });
    const signed = await signer.presign(
      new HttpRequest({
        method: "GET",
        protocol: "https:",
        hostname: host,
        path: "/",
        query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
        headers: { host, "x-k8s-aws-id": cluster },
      }),
      { signingDate: new Date(now), expiresIn: 60 },
    );
    return tokenOf(`https://${host}/?${new URLSearchParams(signed.query as Record<string, string>)}`);
  };

  beforeEach(() => {
    now = Date.now();
    db = openDb(":memory:");
    store = new DocumentStore(db);
    served = [];
    closed = [];
    const base = 30_000 + Math.floor(Math.random() * 300) * 100;
    eks = eksModule({
      store,
      clock,
      logger: createLogger("silent"),
      config: {
        host: "127.0.0.1",
        ports: { base, count: 50 },
        createDelayMs: 1000,
        deleteDelayMs: 1000,
        updateDelayMs: 1000,
      },
      keys: { rootAccessKeyId: "test", rootSecretAccessKey: "test", auth: "strict", defaultAccount: "000000000000" },
      lookup: (id) =>
        id === "AKIAALICE" ? { kind: "known", identity: user, secretAccessKey: "alice-secret" } : { kind: "unknown" },
      endpoints: {
        serve: async (e) => {
          served.push(e);
        },
        close: async (c) => {
          closed.push(c.name);
        },
      },
    });
  });
  afterEach(() => db.close());

  it("creates a cluster CREATING, serves its endpoint once ACTIVE, and closes it when deleted", async () => {
    const { cluster } = await create("dev");
    expect(cluster).toMatchObject({ status: "CREATING", version: "1.33", certificateAuthority: {} });
    expect(cluster.endpoint).toBeUndefined();
    expect(served).toEqual([]);
    await tick(1000);
    const active = (await call("DescribeCluster", { name: "dev" })).cluster;
    expect(active.status).toBe("ACTIVE");
    expect(served).toHaveLength(1);
    const [endpoint] = served;
    expect(active.endpoint).toBe(`https://127.0.0.1:${endpoint.port}`);
    expect(Buffer.from(active.certificateAuthority.data, "base64").toString()).toBe(endpoint.caPem);
    const ca = new X509Certificate(endpoint.caPem);
    const cert = new X509Certificate(endpoint.certPem);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain("IP Address:10.100.0.1");
    await call("DescribeCluster", { name: "dev" });
    expect(served).toHaveLength(1);
    expect(eks.endpointOf({ scope, name: "dev" })).toEqual(endpoint);
    expect(eks.activeClusters()).toEqual([{ scope, name: "dev", version: "1.33" }]);

    const gone: string[] = [];
    eks.onClusterDeleted((c) => {
      gone.push(c.name);
    });
    expect((await call("DeleteCluster", { name: "dev" })).cluster.status).toBe("DELETING");
    await tick(1000);
    expect((await fails(call("DescribeCluster", { name: "dev" }))).code).toBe("ResourceNotFoundException");
    expect(closed).toEqual(["dev"]);
    expect(gone).toEqual(["dev"]);
    expect(eks.records.accessEntries.list(scope)).toEqual([]);
  });

  it("answers a repeated clientRequestToken with the same cluster and refuses a second cluster of that name", async () => {
    const first = (await create("dev", { clientRequestToken: "t1" })).cluster;
    expect((await create("dev", { clientRequestToken: "t1" })).cluster.id).toBe(first.id);
    const err = await fails(create("dev", { clientRequestToken: "t2" }));
    expect(err).toMatchObject({ code: "ResourceInUseException", message: "Cluster already exists with name: dev" });
    expect(err.fields).toMatchObject({ clusterName: "dev" });
  });

  it("gives clusters distinct ports", async () => {
    await create("a");
    await create("b");
    const ports = eks.records.clusters.list(scope).map((c) => c.port);
    expect(new Set(ports).size).toBe(2);
  });

  it("refuses DeleteCluster while a deletion guard names dependents", async () => {
    await create("dev");
    await tick(1000);
    eks.addDeletionGuard((c) => (c.name === "dev" ? "Cluster has nodegroups attached" : undefined));
    expect(await fails(call("DeleteCluster", { name: "dev" }))).toMatchObject({
      code: "ResourceInUseException",
      message: "Cluster has nodegroups attached",
    });
  });

  it("authenticates the creator through the bootstrap admin entry, with AmazonEKSClusterAdminPolicy", async () => {
    await create("dev");
    const ref = { scope, name: "dev" };
    expect(await eks.authenticator.authenticate(ref, await presign("dev"))).toBeUndefined(); // not ACTIVE yet
    await tick(1000);
    await call("DescribeCluster", { name: "dev" });
    const u = await eks.authenticator.authenticate(ref, await presign("dev"));
    expect(u).toMatchObject({ username: user.arn, groups: ["system:authenticated"] });
    expect(eks.associationsFor(ref, u!)).toEqual([
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
    ]);
    expect(await eks.authenticator.authenticate(ref, await presign("dev", "wrong"))).toBeUndefined();
    expect(await eks.authenticator.authenticate(ref, await presign("other"))).toBeUndefined();
    await call("DeleteAccessEntry", { clusterName: "dev", principalArn: user.arn });
    expect(await eks.authenticator.authenticate(ref, await presign("dev"))).toBeUndefined();
  });

  it("gives no entry without bootstrapClusterCreatorAdminPermissions, and none at all in CONFIG_MAP mode", async () => {
    await create("plain", { accessConfig: { bootstrapClusterCreatorAdminPermissions: false } });
    expect((await call("ListAccessEntries", { clusterName: "plain" })).accessEntries).toEqual([]);
    await create("legacy", { accessConfig: { authenticationMode: "CONFIG_MAP" } });
    expect(await fails(call("ListAccessEntries", { clusterName: "legacy" }))).toMatchObject({
      code: "InvalidRequestException",
    });
    await tick(1000);
    await call("ListClusters", {});
    // The creator of a CONFIG_MAP cluster is its kubernetes-admin, as in EKS.
    const admin = await eks.authenticator.authenticate({ scope, name: "legacy" }, await presign("legacy"));
    expect(admin).toMatchObject({ username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] });
    expect(await eks.authenticator.authenticate({ scope, name: "plain" }, await presign("plain"))).toBeUndefined();
  });

  it("maps principals without an access entry through the aws-auth ConfigMap unless the mode is API", async () => {
    await create("dev", { accessConfig: { bootstrapClusterCreatorAdminPermissions: false } });
    await tick(1000);
    await call("DescribeCluster", { name: "dev" });
    const ref = { scope, name: "dev" };
    expect(await eks.authenticator.authenticate(ref, await presign("dev"))).toBeUndefined();
    new ObjectStore(store).create(ref, R.configmaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "aws-auth", namespace: "kube-system" },
      data: { mapUsers: `- userarn: ${user.arn}\n  username: alice\n  groups: [ops]\n` },
    });
    expect(await eks.authenticator.authenticate(ref, await presign("dev"))).toMatchObject({
      username: "alice",
      groups: ["ops", "system:authenticated"],
    });
    await call("UpdateClusterConfig", { name: "dev", accessConfig: { authenticationMode: "API" } });
    await tick(1000);
    await call("DescribeCluster", { name: "dev" });
    expect(await eks.authenticator.authenticate(ref, await presign("dev"))).toBeUndefined();
  });

  it("runs updates one at a time and applies them when Successful", async () => {
    await create("dev", { version: "1.32" });
    await tick(1000);
    const { update } = await call("UpdateClusterVersion", { name: "dev", version: "1.33", clientRequestToken: "u1" });
    expect(update).toMatchObject({ status: "InProgress", type: "VersionUpdate" });
    expect(
      (await call("UpdateClusterVersion", { name: "dev", version: "1.33", clientRequestToken: "u1" })).update.id,
    ).toBe(update.id);
    expect((await fails(call("UpdateClusterConfig", { name: "dev", deletionProtection: true }))).code).toBe(
      "ResourceInUseException",
    );
    expect((await call("DescribeCluster", { name: "dev" })).cluster).toMatchObject({
      status: "UPDATING",
      version: "1.32",
    });
    await tick(1000);
    expect((await call("DescribeUpdate", { name: "dev", updateId: update.id })).update.status).toBe("Successful");
    expect((await call("DescribeCluster", { name: "dev" })).cluster).toMatchObject({
      status: "ACTIVE",
      version: "1.33",
      platformVersion: "eks.13",
    });
    expect(
      (await fails(call("UpdateClusterConfig", { name: "dev", logging: {}, deletionProtection: true }))).message,
    ).toBe("Only one type of update can be allowed.");
    await call("UpdateClusterConfig", { name: "dev", deletionProtection: true });
    await tick(1000);
    expect((await fails(call("DeleteCluster", { name: "dev" }))).code).toBe("InvalidRequestException");
    const endpoint = await call("UpdateClusterConfig", {
      name: "dev",
      resourcesVpcConfig: { endpointPrivateAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
    });
    expect(endpoint.update.type).toBe("EndpointAccessUpdate");
    await tick(1000);
    expect((await call("DescribeCluster", { name: "dev" })).cluster.resourcesVpcConfig).toMatchObject({
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24"],
    });
    expect((await call("ListUpdates", { name: "dev", maxResults: 2 })).updateIds).toHaveLength(2);
  });

  it("validates access entries and policy associations", async () => {
    await create("dev");
    const role = `arn:aws:iam::${ACCOUNT}:role/node`;
    const node = await call("CreateAccessEntry", { clusterName: "dev", principalArn: role, type: "EC2_LINUX" });
    expect(node.accessEntry).toMatchObject({ username: "system:node:{{EC2PrivateDNSName}}", type: "EC2_LINUX" });
    expect(node.accessEntry.accessEntryArn).toMatch(
      new RegExp(`^arn:aws:eks:us-east-1:${ACCOUNT}:access-entry/dev/role/${ACCOUNT}/node/[0-9a-f-]{36}$`),
    );
    expect(
      (
        await fails(
          call("AssociateAccessPolicy", {
            clusterName: "dev",
            principalArn: role,
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            accessScope: { type: "cluster" },
          }),
        )
      ).code,
    ).toBe("InvalidRequestException");
    expect(
      (await fails(call("CreateAccessEntry", { clusterName: "dev", principalArn: "arn:aws:iam::1:user/x" }))).code,
    ).toBe("InvalidParameterException");
    expect(
      (
        await fails(
          call("CreateAccessEntry", {
            clusterName: "dev",
            principalArn: `arn:aws:iam::${ACCOUNT}:user/bob`,
            username: "system:bob",
          }),
        )
      ).code,
    ).toBe("InvalidParameterException");
    expect(
      (
        await fails(
          call("AssociateAccessPolicy", {
            clusterName: "dev",
            principalArn: user.arn,
            policyArn: "arn:aws:eks::aws:cluster-access-policy/Nope",
            accessScope: { type: "cluster" },
          }),
        )
      ).code,
    ).toBe("ResourceNotFoundException");
    expect(
      (
        await fails(
          call("AssociateAccessPolicy", {
            clusterName: "dev",
            principalArn: user.arn,
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            accessScope: { type: "namespace" },
          }),
        )
      ).code,
    ).toBe("InvalidParameterException");
    await call("DisassociateAccessPolicy", {
      clusterName: "dev",
      principalArn: user.arn,
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    });
    expect(
      (await call("ListAssociatedAccessPolicies", { clusterName: "dev", principalArn: user.arn }))
        .associatedAccessPolicies,
    ).toEqual([]);
    expect((await fails(call("DescribeCluster", { name: "ghost" }))).message).toBe("No cluster found for name: ghost.");
  });
});
