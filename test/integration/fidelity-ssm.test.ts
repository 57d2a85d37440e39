/**
 * SSM Parameter Store as AWS documents it (issue 16): tags on parameters by name (path names with
 * slashes too), GetParameter(s) by ARN and with `:version` / `:label` selectors, LabelParameterVersion
 * — SDK v3 and the AWS CLI v2.
 */
import {
  AddTagsToResourceCommand,
  GetParameterCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { awsCli, clientOptions, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

describe("SSM fidelity", () => {
  const endpoint = inject("endpoint");
  const ssm = new SSMClient(clientOptions(endpoint, rootOf(account)));
  const name = "/app/db/password";
  const arn = `arn:aws:ssm:us-east-1:${account}:parameter/app/db/password`;

  beforeAll(async () => {
    await ssm.send(new PutParameterCommand({ Name: name, Value: "one", Type: "SecureString" }));
    await ssm.send(new PutParameterCommand({ Name: name, Value: "two", Type: "SecureString", Overwrite: true }));
    await ssm.send(new PutParameterCommand({ Name: name, Value: "three", Type: "SecureString", Overwrite: true }));
    await ssm.send(new PutParameterCommand({ Name: "plain", Value: "p", Type: "String" }));
  });

  it("AddTagsToResource / ListTagsForResource / RemoveTagsFromResource on a path name and a plain name", async () => {
    await ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: "Parameter",
        ResourceId: name,
        Tags: [
          { Key: "team", Value: "db" },
          { Key: "env", Value: "prod" },
        ],
      }),
    );
    const cli = await awsCli(endpoint, rootOf(account), [
      "ssm",
      "add-tags-to-resource",
      "--resource-type",
      "Parameter",
      "--resource-id",
      "plain",
      "--tags",
      "Key=owner,Value=me",
    ]);
    expect(cli.ok).toBe(true);
    await ssm.send(
      new RemoveTagsFromResourceCommand({ ResourceType: "Parameter", ResourceId: name, TagKeys: ["env"] }),
    );
    expect(
      (await ssm.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: name }))).TagList,
    ).toEqual([{ Key: "team", Value: "db" }]);
    const listed = await awsCli(endpoint, rootOf(account), [
      "ssm",
      "list-tags-for-resource",
      "--resource-type",
      "Parameter",
      "--resource-id",
      "plain",
    ]);
    expect(listed.ok && listed.json).toEqual({ TagList: [{ Key: "owner", Value: "me" }] });
    expect(
      await refusal(ssm.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: "/no/such" }))),
    ).toMatchObject({
      name: "InvalidResourceId",
      status: 400,
    });
    expect(
      (await refusal(ssm.send(new ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: name })))).name,
    ).toBe("InvalidResourceType");
  });

  it("GetParameter by ARN and with :version and :label selectors; GetParameters reports bad ones", async () => {
    const byArn = await ssm.send(new GetParameterCommand({ Name: arn, WithDecryption: true }));
    expect(byArn.Parameter).toMatchObject({ Name: name, Value: "three", Version: 3, ARN: arn });
    const v1 = await ssm.send(new GetParameterCommand({ Name: `${name}:1`, WithDecryption: true }));
    expect(v1.Parameter).toMatchObject({ Value: "one", Version: 1, Selector: ":1" });
    const arnV2 = await ssm.send(new GetParameterCommand({ Name: `${arn}:2`, WithDecryption: true }));
    expect(arnV2.Parameter).toMatchObject({ Value: "two", Version: 2 });

    const labelled = await ssm.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ["stable", "bad:label"] }),
    );
    expect(labelled).toMatchObject({ InvalidLabels: ["bad:label"], ParameterVersion: 2 });
    const byLabel = await awsCli(endpoint, rootOf(account), [
      "ssm",
      "get-parameter",
      "--name",
      `${name}:stable`,
      "--with-decryption",
    ]);
    expect(byLabel.ok && byLabel.json).toMatchObject({ Parameter: { Value: "two", Version: 2, Selector: ":stable" } });

    expect(await refusal(ssm.send(new GetParameterCommand({ Name: `${name}:9` })))).toMatchObject({
      name: "ParameterVersionNotFound",
      message: expect.stringMatching(/version 9 of \/app\/db\/password/),
    });
    const many = await ssm.send(
      new GetParametersCommand({
        Names: [`${name}:1`, `${arn}:stable`, "plain", `${name}:nolabel`, "/missing"],
        WithDecryption: true,
      }),
    );
    expect(many.Parameters?.map((p) => [p.Name, p.Value, p.Selector])).toEqual([
      [name, "one", ":1"],
      [name, "two", ":stable"],
      ["plain", "p", undefined],
    ]);
    expect(many.InvalidParameters?.sort()).toEqual([`${name}:nolabel`, "/missing"].sort());
  });
});
