import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import {
  AssumeRoleCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { clientConfig } from "../support/berth.js";
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

describe("sts over awsQuery", () => {
  const endpoint = inject("endpoint");

  it("answers GetCallerIdentity for the root key with the default account", async () => {
    const sts = new STSClient(clientConfig(endpoint));
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe("000000000000");
    expect(id.Arn).toBe("arn:aws:iam::000000000000:root");
    expect(id.UserId).toBe("000000000000");
  });

  it("selects the account named by a 12-digit access key id", async () => {
    const sts = new STSClient({
      ...clientConfig(endpoint),
      credentials: { accessKeyId: "111122223333", secretAccessKey: "x" },
    });
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe("111122223333");
  });

  it("refuses the root key with a wrong secret with SignatureDoesNotMatch", async () => {
    const sts = new STSClient({
      ...clientConfig(endpoint),
      credentials: { accessKeyId: "test", secretAccessKey: "wrong" },
    });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe("AssumeRole, GetSessionToken and the keys Berth issues", () => {
  const endpoint = inject("endpoint");
  const account = newAccount();
  const root = rootOf(account);
  let iam: IAMClient;
  let sts: STSClient;
  const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
  const asCreds = (c: {
    AccessKeyId?: string;
    SecretAccessKey?: string;
    SessionToken?: string;
  }): AwsCredentialIdentity => ({
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken,
  });

  beforeAll(async () => {
    iam = iamClient(endpoint, root);
    sts = stsClient(endpoint, root);
    await iam.send(
      new CreateRoleCommand({
        RoleName: "deployer",
        AssumeRolePolicyDocument: trustPolicy({ AWS: `arn:aws:iam::${account}:root` }),
        MaxSessionDuration: 7200,
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "deployer",
        PolicyName: "ssm",
        PolicyDocument: allow(["ssm:*", "iam:ListRoles"]),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: "tasks-only",
        AssumeRolePolicyDocument: trustPolicy({ Service: "ecs-tasks.amazonaws.com" }),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: "partner",
        AssumeRolePolicyDocument: trustPolicy(
          { AWS: account },
          { Condition: { StringEquals: { "sts:ExternalId": "shared-secret" } } },
        ),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: "chained",
        AssumeRolePolicyDocument: trustPolicy({ AWS: roleArn("deployer") }),
      }),
    );
  });

  it("assumes a role whose trust policy allows the caller; the session is the assumed role", async () => {
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "ci-run-1", DurationSeconds: 900 }),
    );
    expect(out.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${account}:assumed-role/deployer/ci-run-1`);
    expect(out.AssumedRoleUser!.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:ci-run-1$/);
    expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(850_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
    const me = await stsClient(endpoint, asCreds(out.Credentials!)).send(new GetCallerIdentityCommand({}));
    expect(me).toMatchObject({
      Account: account,
      Arn: out.AssumedRoleUser!.Arn,
      UserId: out.AssumedRoleUser!.AssumedRoleId,
    });
  });

  it("refuses callers the trust policy does not allow, and roles that do not exist, with AccessDenied", async () => {
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("tasks-only"), RoleSessionName: "s1" })),
    ).rejects.toMatchObject({
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
      message: `User: arn:aws:iam::${account}:root is not authorized to perform: sts:AssumeRole on resource: ${roleArn("tasks-only")}`,
    });
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("nope"), RoleSessionName: "s1" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("checks conditions such as sts:ExternalId", async () => {
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("partner"), RoleSessionName: "s1" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("partner"), RoleSessionName: "s1", ExternalId: "guess" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    const ok = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn("partner"), RoleSessionName: "s1", ExternalId: "shared-secret" }),
    );
    expect(ok.AssumedRoleUser!.Arn).toContain("assumed-role/partner/s1");
  });

  it("validates durations, session names and session policies", async () => {
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "s1", DurationSeconds: 10_800 })),
    ).rejects.toMatchObject({ name: "ValidationError" });
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "bad name" })),
    ).rejects.toMatchObject({ name: "ValidationError" });
    await expect(
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "s1", Policy: "{nope" })),
    ).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
  });

  it("narrows a session with a session policy: only what both the role and the policy allow", async () => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn("deployer"),
        RoleSessionName: "narrow",
        Policy: allow(["ssm:GetParameter", "ssm:PutParameter"], `arn:aws:ssm:*:*:parameter/narrow/*`),
      }),
    );
    const ssm = new SSMClient(clientOptions(endpoint, asCreds(out.Credentials!)));
    await ssm.send(new PutParameterCommand({ Name: "/narrow/a", Value: "1", Type: "String" }));
    expect((await ssm.send(new GetParameterCommand({ Name: "/narrow/a" }))).Parameter!.Value).toBe("1");
    await expect(
      ssm.send(new PutParameterCommand({ Name: "/wide/a", Value: "1", Type: "String" })),
    ).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining("because no session policy allows the ssm:PutParameter action"),
    });
  });

  it("chains roles: a session assumes a role that trusts its role, for at most an hour", async () => {
    const first = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "one" }));
    const fromSession = stsClient(endpoint, asCreds(first.Credentials!));
    await expect(
      fromSession.send(
        new AssumeRoleCommand({ RoleArn: roleArn("chained"), RoleSessionName: "two", DurationSeconds: 7200 }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
    const second = await fromSession.send(
      new AssumeRoleCommand({ RoleArn: roleArn("chained"), RoleSessionName: "two" }),
    );
    expect(second.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${account}:assumed-role/chained/two`);
    await expect(fromSession.send(new GetSessionTokenCommand({}))).rejects.toMatchObject({
      name: "AccessDenied",
      message: "Cannot call GetSessionToken with session credentials",
    });
  });

  it("authenticates IAM users by their own keys and refuses wrong secrets, inactive and deleted keys", async () => {
    await iam.send(new CreateUserCommand({ UserName: "bob" }));
    await iam.send(new PutUserPolicyCommand({ UserName: "bob", PolicyName: "sts", PolicyDocument: allow("sts:*") }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "bob" }))).AccessKey!;
    const creds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const me = await stsClient(endpoint, creds).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:iam::${account}:user/bob`);
    expect(me.UserId).toMatch(/^AIDA/);
    expect(me.Account).toBe(account);
    const lastUsed = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId! }));
    expect(lastUsed).toMatchObject({ UserName: "bob", AccessKeyLastUsed: { ServiceName: "sts", Region: "us-east-1" } });
    expect(lastUsed.AccessKeyLastUsed!.LastUsedDate).toBeInstanceOf(Date);
    expect(
      (await stsClient(endpoint, creds).send(new GetAccessKeyInfoCommand({ AccessKeyId: key.AccessKeyId! }))).Account,
    ).toBe(account);

    await expect(
      stsClient(endpoint, { ...creds, secretAccessKey: "wrong-secret" }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 } });
    const wrongJson = new SSMClient(clientOptions(endpoint, { ...creds, secretAccessKey: "wrong-secret" }));
    await expect(wrongJson.send(new GetParameterCommand({ Name: "x" }))).rejects.toMatchObject({
      name: "InvalidSignatureException",
    });

    // GetSessionToken: temporary credentials that act as the user
    const session = await stsClient(endpoint, creds).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const asSession = await stsClient(endpoint, asCreds(session.Credentials!)).send(new GetCallerIdentityCommand({}));
    expect(asSession.Arn).toBe(`arn:aws:iam::${account}:user/bob`);

    await iam.send(new UpdateAccessKeyCommand({ UserName: "bob", AccessKeyId: key.AccessKeyId!, Status: "Inactive" }));
    await expect(stsClient(endpoint, creds).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
      $metadata: { httpStatusCode: 403 },
    });
    await iam.send(new DeleteAccessKeyCommand({ UserName: "bob", AccessKeyId: key.AccessKeyId! }));
    // A deleted key is refused, never mistaken for an unknown key (which lenient mode takes as root).
    await expect(stsClient(endpoint, creds).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
    const deletedJson = new SSMClient(clientOptions(endpoint, creds));
    await expect(deletedJson.send(new GetParameterCommand({ Name: "x" }))).rejects.toMatchObject({
      name: "UnrecognizedClientException",
    });
  });

  it("refuses tampered session tokens and tokens paired with another key", async () => {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "t1" }));
    const c = asCreds(out.Credentials!);
    const token = c.sessionToken!;
    const flipped = `${token.slice(0, 40)}${token[40] === "A" ? "B" : "A"}${token.slice(41)}`;
    await expect(
      stsClient(endpoint, { ...c, sessionToken: flipped }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: "InvalidClientTokenId" });
    const other = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn("deployer"), RoleSessionName: "u1" }));
    await expect(
      stsClient(endpoint, { ...c, sessionToken: other.Credentials!.SessionToken }).send(
        new GetCallerIdentityCommand({}),
      ),
    ).rejects.toMatchObject({ name: "InvalidClientTokenId" });
    await expect(
      stsClient(endpoint, { ...c, secretAccessKey: "x".repeat(40) }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: "SignatureDoesNotMatch" });
  });

  it("works from the AWS CLI v2: assume-role, then act as the session", async () => {
    const assumed = await awsCli(endpoint, root, [
      "sts",
      "assume-role",
      "--role-arn",
      roleArn("deployer"),
      "--role-session-name",
      "cli",
    ]);
    expect(assumed.ok).toBe(true);
    const c = (
      assumed as { json: { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } } }
    ).json.Credentials;
    const session = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const me = await awsCli(endpoint, session, ["sts", "get-caller-identity"]);
    expect(me.ok && (me.json as { Arn: string }).Arn).toBe(`arn:aws:sts::${account}:assumed-role/deployer/cli`);
    const roles = await awsCli(endpoint, session, ["iam", "list-roles", "--query", "Roles[].RoleName"]);
    expect(roles.ok && roles.json).toEqual(expect.arrayContaining(["deployer", "partner"]));
    const denied = await awsCli(endpoint, session, ["iam", "create-user", "--user-name", "x"]);
    expect(!denied.ok && denied.stderr).toContain(
      `An error occurred (AccessDenied) when calling the CreateUser operation: User: arn:aws:sts::${account}:assumed-role/deployer/cli is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${account}:user/x because no identity-based policy allows the iam:CreateUser action`,
    );
    expect((await iam.send(new ListRolesCommand({}))).Roles!.length).toBeGreaterThanOrEqual(4);
  });
});
