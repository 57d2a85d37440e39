/**
 * Secrets Manager as AWS documents it (issue 16): ListSecrets filters (keys, several words,
 * repeated keys, negation, case rules, refused values), ClientRequestToken idempotency and
 * UpdateSecretVersionStage errors with AWS's texts — SDK v3 and the AWS CLI v2.
 */
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { awsCli, clientOptions, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();
const token = (n: number) => `${String(n).padStart(8, "0")}-0000-4000-8000-000000000000`;

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

describe("Secrets Manager fidelity", () => {
  const endpoint = inject("endpoint");
  const sm = new SecretsManagerClient(clientOptions(endpoint, rootOf(account)));
  const names = async (
    filters: { Key: "name" | "description" | "tag-key" | "tag-value" | "all" | "primary-region"; Values: string[] }[],
  ) => ((await sm.send(new ListSecretsCommand({ Filters: filters }))).SecretList ?? []).map((s) => s.Name).sort();

  beforeAll(async () => {
    await sm.send(
      new CreateSecretCommand({
        Name: "prod/DatabaseMain",
        SecretString: "a",
        Description: "Primary Postgres credentials",
        Tags: [
          { Key: "team", Value: "Payments" },
          { Key: "env", Value: "prod" },
        ],
      }),
    );
    await sm.send(
      new CreateSecretCommand({ Name: "dev/api-key", SecretString: "b", Tags: [{ Key: "Team", Value: "web" }] }),
    );
    await sm.send(new CreateSecretCommand({ Name: "plain", SecretString: "c", Description: "nothing special" }));
  });

  it("ListSecrets filters: prefixes, case rules, words, negation, repeated keys", async () => {
    expect(await names([{ Key: "name", Values: ["prod/"] }])).toEqual(["prod/DatabaseMain"]);
    expect(await names([{ Key: "name", Values: ["Prod/"] }])).toEqual([]);
    expect(await names([{ Key: "name", Values: ["!prod/"] }])).toEqual(["dev/api-key", "plain"]);
    expect(await names([{ Key: "description", Values: ["prim cred"] }])).toEqual(["prod/DatabaseMain"]);
    expect(await names([{ Key: "tag-key", Values: ["Team"] }])).toEqual(["dev/api-key"]);
    expect(await names([{ Key: "all", Values: ["team"] }])).toEqual(["dev/api-key", "prod/DatabaseMain"]);
    expect(await names([{ Key: "all", Values: ["database"] }])).toEqual(["prod/DatabaseMain"]);
    expect(
      await names([
        { Key: "tag-key", Values: ["team"] },
        { Key: "tag-key", Values: ["env"] },
      ]),
    ).toEqual(["prod/DatabaseMain"]);
    expect(await names([{ Key: "primary-region", Values: ["us-east-1"] }])).toHaveLength(3);
    const cli = await awsCli(endpoint, rootOf(account), [
      "secretsmanager",
      "list-secrets",
      "--filters",
      "Key=tag-value,Values=Pay,web",
      "Key=name,Values=!plain",
    ]);
    expect(cli.ok && (cli.json as { SecretList: { Name: string }[] }).SecretList.map((s) => s.Name).sort()).toEqual([
      "dev/api-key",
      "prod/DatabaseMain",
    ]);
    expect(
      await refusal(sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["a#b"] }] }))),
    ).toMatchObject({
      name: "ValidationException",
      status: 400,
      message: expect.stringMatching(/regular expression pattern/),
    });
  });

  it("ClientRequestToken: the same token and value is a no-op, another value is ResourceExistsException", async () => {
    const first = await sm.send(
      new CreateSecretCommand({ Name: "idem", SecretString: "v1", ClientRequestToken: token(1) }),
    );
    const again = await sm.send(
      new CreateSecretCommand({ Name: "idem", SecretString: "v1", ClientRequestToken: token(1) }),
    );
    expect(again.VersionId).toBe(first.VersionId);
    expect(
      await refusal(
        sm.send(new CreateSecretCommand({ Name: "idem", SecretString: "v2", ClientRequestToken: token(1) })),
      ),
    ).toEqual({
      name: "ResourceExistsException",
      message: "The operation failed because the secret idem already exists.",
      status: 400,
    });
    await sm.send(new PutSecretValueCommand({ SecretId: "idem", SecretString: "v2", ClientRequestToken: token(2) }));
    await sm.send(new PutSecretValueCommand({ SecretId: "idem", SecretString: "v2", ClientRequestToken: token(2) }));
    expect(
      await refusal(
        sm.send(new PutSecretValueCommand({ SecretId: "idem", SecretString: "v3", ClientRequestToken: token(2) })),
      ),
    ).toMatchObject({
      name: "ResourceExistsException",
      message: expect.stringMatching(/^You can't modify an existing version, you can only create a new version\./),
    });
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "idem" }));
    expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual([token(1), token(2)]);
  });

  it("UpdateSecretVersionStage errors as AWS words them", async () => {
    await sm.send(new CreateSecretCommand({ Name: "staged", SecretString: "v1", ClientRequestToken: token(11) }));
    await sm.send(new PutSecretValueCommand({ SecretId: "staged", SecretString: "v2", ClientRequestToken: token(12) }));
    expect(
      await refusal(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: "staged",
            VersionStage: "AWSCURRENT",
            MoveToVersionId: token(11),
          }),
        ),
      ),
    ).toEqual({
      name: "InvalidParameterException",
      message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${token(12)}, so you must explicitly reference that version in RemoveFromVersionId.`,
      status: 400,
    });
    expect(
      (
        await refusal(
          sm.send(
            new UpdateSecretVersionStageCommand({
              SecretId: "staged",
              VersionStage: "AWSCURRENT",
              MoveToVersionId: token(11),
              RemoveFromVersionId: token(11),
            }),
          ),
        )
      ).message,
    ).toMatch(
      /^When you move staging label AWSCURRENT, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label/,
    );
    expect(
      await refusal(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: "staged",
            VersionStage: "AWSCURRENT",
            MoveToVersionId: token(99),
            RemoveFromVersionId: token(12),
          }),
        ),
      ),
    ).toMatchObject({
      name: "ResourceNotFoundException",
      message: `Secrets Manager can't find the specified secret value for VersionId: ${token(99)}`,
    });
    const cli = await awsCli(endpoint, rootOf(account), [
      "secretsmanager",
      "update-secret-version-stage",
      "--secret-id",
      "staged",
      "--version-stage",
      "AWSCURRENT",
      "--move-to-version-id",
      token(11),
      "--remove-from-version-id",
      token(12),
    ]);
    expect(cli.ok).toBe(true);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "staged" }));
    expect(Object.fromEntries((versions.Versions ?? []).map((v) => [v.VersionId, v.VersionStages]))).toEqual({
      [token(11)]: ["AWSCURRENT"],
      [token(12)]: ["AWSPREVIOUS"],
    });
  });
});
