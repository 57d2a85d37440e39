import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { awsCli, clientOptions, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();
const TOKEN = (n: number) => `${String(n).padStart(8, "0")}-aaaa-bbbb-cccc-dddddddddddd`;

describe("Secrets Manager", () => {
  const endpoint = inject("endpoint");
  let sm: SecretsManagerClient;

  beforeAll(() => {
    sm = new SecretsManagerClient(clientOptions(endpoint, rootOf(account)));
  });

  it("creates a secret with an ARN carrying a random suffix and reads it by name, ARN and partial ARN", async () => {
    const created = await sm.send(
      new CreateSecretCommand({
        Name: "prod/db",
        SecretString: JSON.stringify({ username: "admin", password: "hunter2" }),
        Description: "database",
        Tags: [{ Key: "team", Value: "blue" }],
        ClientRequestToken: TOKEN(1),
      }),
    );
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:${account}:secret:prod/db-[A-Za-z0-9]{6}$`),
    );
    expect(created.VersionId).toBe(TOKEN(1));
    for (const id of ["prod/db", created.ARN!, `arn:aws:secretsmanager:us-east-1:${account}:secret:prod/db`]) {
      const v = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      expect(v).toMatchObject({
        ARN: created.ARN,
        Name: "prod/db",
        VersionId: TOKEN(1),
        VersionStages: ["AWSCURRENT"],
      });
      expect(JSON.parse(v.SecretString!).password).toBe("hunter2");
    }
    // the same token and value again is idempotent; a clash is not
    expect(
      (
        await sm.send(
          new CreateSecretCommand({
            Name: "prod/db",
            SecretString: JSON.stringify({ username: "admin", password: "hunter2" }),
            ClientRequestToken: TOKEN(1),
          }),
        )
      ).ARN,
    ).toBe(created.ARN);
    await expect(sm.send(new CreateSecretCommand({ Name: "prod/db", SecretString: "other" }))).rejects.toMatchObject({
      name: "ResourceExistsException",
    });
  });

  it("rotates versions through AWSCURRENT and AWSPREVIOUS and moves stages explicitly", async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "v2", ClientRequestToken: TOKEN(2) }));
    await sm.send(new UpdateSecretCommand({ SecretId: "prod/db", SecretString: "v3", ClientRequestToken: TOKEN(3) }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: "prod/db" }));
    expect(d.VersionIdsToStages).toEqual({ [TOKEN(2)]: ["AWSPREVIOUS"], [TOKEN(3)]: ["AWSCURRENT"] });
    expect(d).toMatchObject({
      Description: "database",
      Tags: [{ Key: "team", Value: "blue" }],
      RotationEnabled: false,
    });
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: "prod/db", VersionStage: "AWSPREVIOUS" }))).SecretString,
    ).toBe("v2");
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: "prod/db", VersionId: TOKEN(1) }))).SecretString,
    ).toContain("hunter2");
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: "prod/db",
        VersionStage: "AWSCURRENT",
        RemoveFromVersionId: TOKEN(3),
        MoveToVersionId: TOKEN(1),
      }),
    );
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "prod/db" }))).VersionId).toBe(TOKEN(1));
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "prod/db", IncludeDeprecated: true }));
    expect(Object.fromEntries(versions.Versions!.map((v) => [v.VersionId, v.VersionStages]))).toEqual({
      [TOKEN(1)]: ["AWSCURRENT"],
      [TOKEN(2)]: [],
      [TOKEN(3)]: ["AWSPREVIOUS"],
    });
    await expect(
      sm.send(
        new PutSecretValueCommand({ SecretId: "prod/db", SecretString: "changed", ClientRequestToken: TOKEN(2) }),
      ),
    ).rejects.toMatchObject({ name: "ResourceExistsException" });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: "prod/db", VersionStage: "NOPE" })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("stores binary secrets", async () => {
    await sm.send(new CreateSecretCommand({ Name: "bin", SecretBinary: new Uint8Array([0, 1, 2, 255]) }));
    const v = await sm.send(new GetSecretValueCommand({ SecretId: "bin" }));
    expect([...v.SecretBinary!]).toEqual([0, 1, 2, 255]);
    expect(v.SecretString).toBeUndefined();
    await sm.send(new DeleteSecretCommand({ SecretId: "bin", ForceDeleteWithoutRecovery: true }));
  });

  it("deletes with a recovery window, refuses use while scheduled, restores, and force-deletes", async () => {
    await sm.send(new CreateSecretCommand({ Name: "temp", SecretString: "x" }));
    await expect(sm.send(new DeleteSecretCommand({ SecretId: "temp", RecoveryWindowInDays: 3 }))).rejects.toMatchObject(
      { name: "InvalidParameterException" },
    );
    await expect(
      sm.send(new DeleteSecretCommand({ SecretId: "temp", RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });
    const del = await sm.send(new DeleteSecretCommand({ SecretId: "temp", RecoveryWindowInDays: 7 }));
    const days = (del.DeletionDate!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: "temp" }))).rejects.toMatchObject({
      name: "InvalidRequestException",
    });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "temp" }))).DeletedDate).toBeInstanceOf(Date);
    const listed = await sm.send(new ListSecretsCommand({}));
    expect(listed.SecretList!.map((s) => s.Name)).not.toContain("temp");
    const withDeleted = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    expect(withDeleted.SecretList!.map((s) => s.Name)).toContain("temp");
    await expect(sm.send(new CreateSecretCommand({ Name: "temp", SecretString: "y" }))).rejects.toMatchObject({
      name: "InvalidRequestException",
    });
    await sm.send(new RestoreSecretCommand({ SecretId: "temp" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "temp" }))).SecretString).toBe("x");
    await sm.send(new DeleteSecretCommand({ SecretId: "temp", ForceDeleteWithoutRecovery: true }));
    await expect(sm.send(new DescribeSecretCommand({ SecretId: "temp" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it("lists with filters, tags, batches reads and makes passwords", async () => {
    await sm.send(new CreateSecretCommand({ Name: "dev/api", SecretString: "k" }));
    await sm.send(new TagResourceCommand({ SecretId: "dev/api", Tags: [{ Key: "env", Value: "dev" }] }));
    const byName = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["dev/"] }] }));
    expect(byName.SecretList!.map((s) => s.Name)).toEqual(["dev/api"]);
    const byTag = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "tag-value", Values: ["dev"] }] }));
    expect(byTag.SecretList!.map((s) => s.Name)).toEqual(["dev/api"]);
    await sm.send(new UntagResourceCommand({ SecretId: "dev/api", TagKeys: ["env"] }));
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ["dev/api", "missing"] }));
    expect(batch.SecretValues!.map((v) => v.SecretString)).toEqual(["k"]);
    expect(batch.Errors!.map((e) => [e.SecretId, e.ErrorCode])).toEqual([["missing", "ResourceNotFoundException"]]);
    const pw = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 24, ExcludePunctuation: true }));
    expect(pw.RandomPassword).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it("keeps resource policies, refusing malformed and public ones", async () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${account}:role/reader` },
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
        },
      ],
    });
    await sm.send(new PutResourcePolicyCommand({ SecretId: "dev/api", ResourcePolicy: policy }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: "dev/api" }))).ResourcePolicy).toBe(policy);
    await expect(
      sm.send(new PutResourcePolicyCommand({ SecretId: "dev/api", ResourcePolicy: "{bad" })),
    ).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
    const everyone = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*" }],
    });
    await expect(
      sm.send(new PutResourcePolicyCommand({ SecretId: "dev/api", ResourcePolicy: everyone, BlockPublicPolicy: true })),
    ).rejects.toMatchObject({ name: "PublicPolicyException" });
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: "dev/api" }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: "dev/api" }))).ResourcePolicy).toBeUndefined();
  });

  it("works from the AWS CLI v2, and answers missing secrets with ResourceNotFoundException", async () => {
    const creds = rootOf(account);
    const made = await awsCli(endpoint, creds, [
      "secretsmanager",
      "create-secret",
      "--name",
      "cli/s",
      "--secret-string",
      "v",
    ]);
    expect(made.ok).toBe(true);
    const got = await awsCli(endpoint, creds, [
      "secretsmanager",
      "get-secret-value",
      "--secret-id",
      "cli/s",
      "--query",
      "SecretString",
    ]);
    expect(got.ok && got.json).toBe("v");
    const missing = await awsCli(endpoint, creds, ["secretsmanager", "get-secret-value", "--secret-id", "nope"]);
    expect(!missing.ok && missing.stderr).toContain(
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.",
    );
    for (const id of ["cli/s", "dev/api", "prod/db"])
      await sm.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
  });
});
