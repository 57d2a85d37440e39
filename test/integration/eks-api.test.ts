import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  type IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  EKSClient,
  ListAccessEntriesCommand,
  ListAccessPoliciesCommand,
  ListAssociatedAccessPoliciesCommand,
  ListClustersCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAccessEntryCommand,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { systemClock } from "../../src/core/clock.js";
import { createIdentity } from "../../src/iam/index.js";
import { eksAuthenticator } from "../../src/services/eks/authenticator.js";
import { tokenOf } from "../../src/services/eks/token.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { EksRecords } from "../../src/store/schema/eks.js";
import { type RunningBerth, region, startBerth } from "../support/berth.js";
import {
  allow,
  awsCli,
  clientOptions,
  iamClient,
  newAccount,
  rootOf,
  stsClient,
  trustPolicy,
} from "../support/identity.js";

const account = newAccount();
const root = rootOf(account);
const portBase = 20_000 + Math.floor(Math.random() * 400) * 100;
const env = {
  BERTH_EKS_CREATE_MS: "300",
  BERTH_EKS_DELETE_MS: "300",
  BERTH_EKS_UPDATE_MS: "2500",
  BERTH_EKS_PORT_BASE: String(portBase),
  BERTH_EKS_PORT_COUNT: "100",
};
const scope = { account, region };

/** EKS through the AWS CLI v2 (and @aws-sdk/client-eks) against a Berth of its own. */
describe("EKS API", () => {
  let berth: RunningBerth;
  let iam: IAMClient;
  let admin: AwsCredentialIdentity;
  let stranger: AwsCredentialIdentity;
  const tmp = mkdtempSync(join(tmpdir(), "berth-eks-"));
  // biome-ignore lint/suspicious/noExplicitAny: CLI output is JSON
  const cli = async (creds: AwsCredentialIdentity, ...args: string[]): Promise<any> => {
    const r = await awsCli(berth.endpoint, creds, ["eks", ...args]);
    if (!r.ok) throw new Error(r.stderr);
    return r.json;
  };
  const failure = async (creds: AwsCredentialIdentity, ...args: string[]) => {
    const r = await awsCli(berth.endpoint, creds, ["eks", ...args]);
    if (r.ok) throw new Error(`expected eks ${args[0]} to fail`);
    return r.stderr;
  };
  const roleArn = `arn:aws:iam::${account}:role/eks-cluster`;
  const createCluster = (creds: AwsCredentialIdentity, name: string, ...extra: string[]) =>
    cli(
      creds,
      "create-cluster",
      "--name",
      name,
      "--role-arn",
      roleArn,
      "--resources-vpc-config",
      "subnetIds=subnet-a,subnet-b",
      ...extra,
    );

  /** The Authenticator over the running Berth's store (its data dir), as the Kubernetes API server builds it. */
  const authenticator = () => {
    const store = new DocumentStore(openDb(join(berth.dataDir, "berth.db")));
    const identity = createIdentity({ store, dataDir: berth.dataDir, clock: systemClock });
    const records = new EksRecords(store);
    const auth = eksAuthenticator({
      records,
      rules: { rootAccessKeyId: "test", rootSecretAccessKey: "test", auth: "lenient", defaultAccount: "000000000000" },
      lookup: identity.edge.lookup,
      clock: systemClock,
      ownHosts: () => [`127.0.0.1:${berth.port}`],
    });
    return { auth, records };
  };
  const eksSdk = (creds: AwsCredentialIdentity) => new EKSClient(clientOptions(berth.endpoint, creds));
  const getToken = async (creds: AwsCredentialIdentity, cluster: string) =>
    (await cli(creds, "get-token", "--cluster-name", cluster)).status.token as string;

  const newUser = async (name: string, policy?: string) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: "p", PolicyDocument: policy }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  };

  beforeAll(async () => {
    berth = await startBerth({ env });
    iam = iamClient(berth.endpoint, root);
    admin = await newUser("admin", allow(["eks:*", "sts:AssumeRole"]));
    stranger = await newUser("stranger");
  });
  afterAll(async () => {
    await berth?.stop();
    if (berth) rmSync(berth.dataDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  it("creates a cluster, waits for ACTIVE, describes it, and writes a kubeconfig whose CA verifies the API server's certificate", async () => {
    const created = (await createCluster(admin, "dev", "--tags", "team=platform")).cluster;
    expect(created).toMatchObject({
      name: "dev",
      arn: `arn:aws:eks:${region}:${account}:cluster/dev`,
      status: "CREATING",
      version: "1.33",
      roleArn,
      kubernetesNetworkConfig: { serviceIpv4Cidr: "10.100.0.0/16", ipFamily: "ipv4" },
      tags: { team: "platform" },
    });
    // The CLI here (2.9) predates access entries; the SDK shows the access config.
    expect((await eksSdk(admin).send(new DescribeClusterCommand({ name: "dev" }))).cluster!.accessConfig).toEqual({
      authenticationMode: "API_AND_CONFIG_MAP",
      bootstrapClusterCreatorAdminPermissions: true,
    });
    expect(created.endpoint).toBeUndefined();

    const started = Date.now();
    const waited = await awsCli(berth.endpoint, admin, ["eks", "wait", "cluster-active", "--name", "dev"]);
    expect(waited.ok).toBe(true);
    const waitMs = Date.now() - started;
    expect(waitMs).toBeLessThan(20_000);

    const c = (await cli(admin, "describe-cluster", "--name", "dev")).cluster;
    expect(c.status).toBe("ACTIVE");
    expect(c.platformVersion).toMatch(/^eks\.\d+$/);
    expect(c.identity.oidc.issuer).toMatch(
      new RegExp(`^https://oidc\\.eks\\.${region}\\.amazonaws\\.com/id/[0-9A-F]{32}$`),
    );
    expect(c.health).toEqual({ issues: [] });
    const port = Number(new URL(c.endpoint).port);
    expect(c.endpoint).toBe(`https://127.0.0.1:${port}`);
    expect(port).toBeGreaterThanOrEqual(portBase);
    expect(port).toBeLessThan(portBase + 100);

    const kubeconfig = join(tmp, "config");
    const { stdout } = await promisify(execFile)(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "eks", "update-kubeconfig", "--name", "dev", "--kubeconfig", kubeconfig],
      { env: cliEnv(admin) },
    );
    expect(stdout).toMatch(/Added new context arn:aws:eks:.*:cluster\/dev/);
    const kc = parseYaml(readFileSync(kubeconfig, "utf8"));
    expect(kc.clusters[0].cluster.server).toBe(c.endpoint);
    expect(kc.clusters[0].cluster["certificate-authority-data"]).toBe(c.certificateAuthority.data);
    expect(kc.users[0].user.exec.args).toEqual(expect.arrayContaining(["eks", "get-token", "--cluster-name", "dev"]));

    const ca = new X509Certificate(Buffer.from(c.certificateAuthority.data, "base64"));
    expect(ca.subject).toBe("CN=kubernetes");
    expect(ca.ca).toBe(true);
    const server = await serverCertificate(port, ca.toString());
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(server.checkHost("localhost")).toBe("localhost");
    console.log(`eks: create-cluster → wait cluster-active took ${waitMs} ms (CLI included)`);

    /** The API server's certificate: from its TLS listener when one serves, else from the cluster record. */
    async function serverCertificate(p: number, caPem: string): Promise<X509Certificate> {
      const live = await new Promise<X509Certificate | undefined>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: p, ca: caPem, servername: "localhost" }, () => {
          const cert = socket.getPeerX509Certificate();
          socket.destroy();
          resolve(cert);
        });
        socket.on("error", (err: NodeJS.ErrnoException) =>
          err.code === "ECONNREFUSED" ? resolve(undefined) : reject(err),
        );
      });
      if (live) return live;
      const { records } = authenticator();
      return new X509Certificate(records.clusters.get(scope, "dev")!.pki.serverCertPem);
    }
  });

  it("gives the creator an admin access entry and manages access entries and policies (@aws-sdk/client-eks)", async () => {
    const eks = eksSdk(admin);
    const adminArn = `arn:aws:iam::${account}:user/admin`;
    const clusterName = "dev";
    expect((await eks.send(new ListAccessEntriesCommand({ clusterName }))).accessEntries).toEqual([adminArn]);
    const entry = (await eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn: adminArn }))).accessEntry;
    expect(entry).toMatchObject({ principalArn: adminArn, username: adminArn, type: "STANDARD", kubernetesGroups: [] });
    const policies = await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName, principalArn: adminArn }));
    expect(policies.associatedAccessPolicies).toMatchObject([
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
    ]);
    const all = (await eks.send(new ListAccessPoliciesCommand({}))).accessPolicies!.map((p) => p.name);
    expect(all).toEqual(expect.arrayContaining(["AmazonEKSClusterAdminPolicy", "AmazonEKSViewPolicy"]));

    const strangerArn = `arn:aws:iam::${account}:user/stranger`;
    await expect(
      eks.send(
        new CreateAccessEntryCommand({ clusterName, principalArn: strangerArn, kubernetesGroups: ["system:masters"] }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterException", clusterName });
    const created = await eks.send(
      new CreateAccessEntryCommand({ clusterName, principalArn: strangerArn, kubernetesGroups: ["dev-team"] }),
    );
    expect(created.accessEntry).toMatchObject({ username: strangerArn, kubernetesGroups: ["dev-team"] });
    await expect(
      eks.send(new CreateAccessEntryCommand({ clusterName, principalArn: strangerArn })),
    ).rejects.toMatchObject({
      name: "ResourceInUseException",
    });
    const view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    const associated = await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName,
        principalArn: strangerArn,
        policyArn: view,
        accessScope: { type: "namespace", namespaces: ["apps"] },
      }),
    );
    expect(associated.associatedAccessPolicy!.accessScope).toEqual({ type: "namespace", namespaces: ["apps"] });
    const filtered = await eks.send(new ListAccessEntriesCommand({ clusterName, associatedPolicyArn: view }));
    expect(filtered.accessEntries).toEqual([strangerArn]);
    await eks.send(new UpdateAccessEntryCommand({ clusterName, principalArn: strangerArn, username: "jane" }));
    expect(
      (await eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn: strangerArn }))).accessEntry!
        .username,
    ).toBe("jane");
    await expect(
      eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn: `arn:aws:iam::${account}:user/ghost` })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("authenticates `aws eks get-token` tokens like EKS and refuses tampered, expired, foreign and unknown ones", async () => {
    const { auth } = authenticator();
    const dev = { scope, name: "dev" };
    const adminArn = `arn:aws:iam::${account}:user/admin`;

    const token = await getToken(admin, "dev");
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const user = await auth.authenticate(dev, token);
    expect(user).toMatchObject({ username: adminArn, groups: ["system:authenticated"] });
    expect(user!.extra!.canonicalArn).toEqual([adminArn]);
    expect(auth.associationsFor(dev, user!)).toEqual([
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
    ]);

    // The stranger's entry (made above): username "jane", its groups, the namespaced view policy.
    const jane = await auth.authenticate(dev, await getToken(stranger, "dev"));
    expect(jane).toMatchObject({ username: "jane", groups: ["dev-team", "system:authenticated"] });
    expect(auth.associationsFor(dev, jane!)).toEqual([
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        accessScope: { type: "namespace", namespaces: ["apps"] },
      },
    ]);

    // A token for another cluster, an altered signature, an unknown user, a key Berth never issued.
    expect(await auth.authenticate(dev, await getToken(admin, "other"))).toBeUndefined();
    const url = Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString();
    const sig = /X-Amz-Signature=([0-9a-f]+)/.exec(url)![1];
    const flipped = sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0");
    expect(await auth.authenticate(dev, tokenOf(url.replace(sig, flipped)))).toBeUndefined();
    const nobody = await newUser("nobody");
    expect(await auth.authenticate(dev, await getToken(nobody, "dev"))).toBeUndefined();
    expect(await auth.authenticate(dev, await getToken({ ...admin, secretAccessKey: "wrong" }, "dev"))).toBeUndefined();
    expect(await auth.authenticate(dev, "not-a-token")).toBeUndefined();

    // Expired: presigned 16 minutes ago with the right secret.
    const old = await presign(admin, "dev", new Date(Date.now() - 16 * 60_000));
    expect(await auth.verify(dev, old)).toEqual({ reason: expect.stringMatching(/expired/) });
    const fresh = await presign(admin, "dev", new Date());
    expect(await auth.authenticate(dev, fresh)).toMatchObject({ username: adminArn });
  });

  it("maps a role session through its role's access entry with the {{SessionName}} username", async () => {
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: "deployer",
        AssumeRolePolicyDocument: trustPolicy({ AWS: `arn:aws:iam::${account}:root` }),
      }),
    );
    await iam.send(new PutRolePolicyCommand({ RoleName: "deployer", PolicyName: "p", PolicyDocument: allow("eks:*") }));
    const entry = await eksSdk(admin).send(
      new CreateAccessEntryCommand({ clusterName: "dev", principalArn: role.Role!.Arn! }),
    );
    expect(entry.accessEntry!.username).toBe(`arn:aws:sts::${account}:assumed-role/deployer/{{SessionName}}`);
    const session = (
      await stsClient(berth.endpoint, admin).send(
        new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: "ci@build" }),
      )
    ).Credentials!;
    const creds = {
      accessKeyId: session.AccessKeyId!,
      secretAccessKey: session.SecretAccessKey!,
      sessionToken: session.SessionToken!,
    };
    const { auth } = authenticator();
    const user = await auth.authenticate({ scope, name: "dev" }, await getToken(creds, "dev"));
    expect(user).toMatchObject({
      username: `arn:aws:sts::${account}:assumed-role/deployer/ci-build`,
      groups: ["system:authenticated"],
    });
    expect(user!.extra!.canonicalArn).toEqual([role.Role!.Arn!]);
  });

  it("answers bad input with AWS's errors", async () => {
    expect(await failure(admin, "describe-cluster", "--name", "nope")).toMatch(
      /ResourceNotFoundException.*No cluster found for name: nope\./,
    );
    expect(
      await failure(
        admin,
        "create-cluster",
        "--name",
        "dev",
        "--role-arn",
        roleArn,
        "--resources-vpc-config",
        "subnetIds=subnet-a",
      ),
    ).toMatch(/ResourceInUseException.*Cluster already exists with name: dev/);
    expect(
      await failure(
        admin,
        "create-cluster",
        "--name",
        "old",
        "--role-arn",
        roleArn,
        "--resources-vpc-config",
        "subnetIds=subnet-a",
        "--kubernetes-version",
        "1.20",
      ),
    ).toMatch(/InvalidParameterException.*unsupported Kubernetes version/);
    expect(
      await failure(
        admin,
        "create-cluster",
        "--name",
        "bad",
        "--role-arn",
        "not-an-arn",
        "--resources-vpc-config",
        "subnetIds=subnet-a",
      ),
    ).toMatch(/InvalidParameterException/);
    expect(await failure(admin, "update-cluster-version", "--name", "dev", "--kubernetes-version", "1.31")).toMatch(
      /InvalidParameterException.*Unsupported Kubernetes minor version update from 1\.33 to 1\.31/,
    );
    expect(
      await failure(admin, "describe-update", "--name", "dev", "--update-id", "00000000-0000-0000-0000-000000000000"),
    ).toMatch(/ResourceNotFoundException/);
    // The stranger has no IAM permission for EKS at all.
    expect(await failure(stranger, "list-clusters")).toMatch(/AccessDeniedException/);
  });

  it("upgrades one minor version and changes config as Update objects (InProgress → Successful)", async () => {
    await createCluster(admin, "up", "--kubernetes-version", "1.32");
    expect((await awsCli(berth.endpoint, admin, ["eks", "wait", "cluster-active", "--name", "up"])).ok).toBe(true);
    const { update } = await cli(admin, "update-cluster-version", "--name", "up", "--kubernetes-version", "1.33");
    expect(update).toMatchObject({ type: "VersionUpdate", status: "InProgress" });
    expect(update.params).toEqual(expect.arrayContaining([{ type: "Version", value: "1.33" }]));
    const sdk = eksSdk(admin);
    expect((await sdk.send(new DescribeClusterCommand({ name: "up" }))).cluster!.status).toBe("UPDATING");
    await expect(
      sdk.send(
        new UpdateClusterConfigCommand({
          name: "up",
          logging: { clusterLogging: [{ types: ["api"], enabled: true }] },
        }),
      ),
    ).rejects.toMatchObject({ name: "ResourceInUseException" });
    const done = await until(async () => {
      const u = (await cli(admin, "describe-update", "--name", "up", "--update-id", update.id)).update;
      return u.status === "Successful" ? u : undefined;
    });
    expect(done.type).toBe("VersionUpdate");
    const after = (await cli(admin, "describe-cluster", "--name", "up")).cluster;
    expect(after).toMatchObject({ status: "ACTIVE", version: "1.33" });

    const logging = await cli(
      admin,
      "update-cluster-config",
      "--name",
      "up",
      "--logging",
      '{"clusterLogging":[{"types":["api","audit"],"enabled":true}]}',
    );
    expect(logging.update.type).toBe("LoggingUpdate");
    await until(async () =>
      (await cli(admin, "describe-update", "--name", "up", "--update-id", logging.update.id)).update.status ===
      "Successful"
        ? true
        : undefined,
    );
    const logged = (await cli(admin, "describe-cluster", "--name", "up")).cluster.logging.clusterLogging;
    expect(logged).toEqual([
      { types: ["api", "audit"], enabled: true },
      { types: ["authenticator", "controllerManager", "scheduler"], enabled: false },
    ]);
    const access = await sdk.send(
      new UpdateClusterConfigCommand({ name: "up", accessConfig: { authenticationMode: "API" } }),
    );
    expect(access.update).toMatchObject({
      type: "AccessConfigUpdate",
      params: [{ type: "AuthenticationMode", value: "API" }],
    });
    expect((await cli(admin, "list-updates", "--name", "up")).updateIds).toEqual([
      update.id,
      logging.update.id,
      access.update!.id,
    ]);
  });

  it("lists with pagination and tags clusters (@aws-sdk/client-eks)", async () => {
    const eks = new EKSClient(clientOptions(berth.endpoint, admin));
    const first = await eks.send(new ListClustersCommand({ maxResults: 1 }));
    expect(first.clusters).toEqual(["dev"]);
    const second = await eks.send(new ListClustersCommand({ maxResults: 1, nextToken: first.nextToken }));
    expect(second.clusters).toEqual(["up"]);
    expect(second.nextToken).toBeUndefined();
    const arn = `arn:aws:eks:${region}:${account}:cluster/dev`;
    await eks.send(new TagResourceCommand({ resourceArn: arn, tags: { env: "test" } }));
    await eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["team"] }));
    expect((await eks.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ env: "test" });
  });

  it("keeps each cluster's endpoint port and CA across a restart", async () => {
    const before = (await cli(admin, "describe-cluster", "--name", "dev")).cluster;
    await berth.stop();
    berth = await startBerth({ dataDir: berth.dataDir, env });
    const after = (await cli(admin, "describe-cluster", "--name", "dev")).cluster;
    expect(after.endpoint).toBe(before.endpoint);
    expect(after.certificateAuthority.data).toBe(before.certificateAuthority.data);
    expect(after.status).toBe("ACTIVE");
  });

  it("deletes a cluster: DELETING, then gone with its access entries", async () => {
    const { cluster } = await cli(admin, "delete-cluster", "--name", "dev");
    expect(cluster.status).toBe("DELETING");
    expect((await awsCli(berth.endpoint, admin, ["eks", "wait", "cluster-deleted", "--name", "dev"])).ok).toBe(true);
    expect(await failure(admin, "describe-cluster", "--name", "dev")).toMatch(/ResourceNotFoundException/);
    expect((await cli(admin, "list-clusters")).clusters).toEqual(["up"]);
    await expect(eksSdk(admin).send(new ListAccessEntriesCommand({ clusterName: "dev" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});

const cliEnv = (creds: AwsCredentialIdentity) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  AWS_ACCESS_KEY_ID: creds.accessKeyId,
  AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
  AWS_DEFAULT_REGION: region,
  AWS_PAGER: "",
});

/** A token presigned at `date` exactly as `aws eks get-token` does (smithy's signer), for expiry tests. */
async function presign(creds: AwsCredentialIdentity, cluster: string, date: Date) {
  const signer = new SignatureV4({ credentials: creds, region, service: "sts", sha256: Sha256 });
  const request = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname: `sts.${region}.amazonaws.com`,
    path: "/",
    query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
    headers: { host: `sts.${region}.amazonaws.com`, "x-k8s-aws-id": cluster },
  });
  const signed = await signer.presign(request, { signingDate: date, expiresIn: 60 });
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  return tokenOf(`https://sts.${region}.amazonaws.com/?${query}`);
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}
