import { readFileSync, readdirSync } from "node:fs";
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
  UnlabelParameterVersionCommand,
} from "@aws-sdk/client-ssm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { awsCli, clientOptions, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();

describe("SSM Parameter Store", () => {
  const endpoint = inject("endpoint");
  let ssm: SSMClient;
  const arn = (name: string) => `arn:aws:ssm:us-east-1:${account}:parameter${name.startsWith("/") ? name : `/${name}`}`;

  beforeAll(() => {
    ssm = new SSMClient(clientOptions(endpoint, rootOf(account)));
  });

  it("puts and gets String, StringList and SecureString parameters; SecureString only decrypts when asked", async () => {
    expect(
      await ssm.send(new PutParameterCommand({ Name: "/app/host", Value: "db.local", Type: "String" })),
    ).toMatchObject({
      Version: 1,
      Tier: "Standard",
    });
    await ssm.send(new PutParameterCommand({ Name: "/app/zones", Value: "a,b,c", Type: "StringList" }));
    await ssm.send(new PutParameterCommand({ Name: "/app/password", Value: "hunter2", Type: "SecureString" }));
    const host = await ssm.send(new GetParameterCommand({ Name: "/app/host" }));
    expect(host.Parameter).toMatchObject({
      Name: "/app/host",
      Type: "String",
      Value: "db.local",
      Version: 1,
      ARN: arn("/app/host"),
      DataType: "text",
    });
    expect(host.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
    const hidden = await ssm.send(new GetParameterCommand({ Name: "/app/password" }));
    expect(hidden.Parameter!.Value).not.toBe("hunter2");
    const shown = await ssm.send(new GetParameterCommand({ Name: "/app/password", WithDecryption: true }));
    expect(shown.Parameter!.Value).toBe("hunter2");
    expect((await ssm.send(new GetParameterCommand({ Name: arn("/app/zones") }))).Parameter!.Value).toBe("a,b,c");
  });

  it("keeps SecureString values (and every other value) encrypted at rest", () => {
    const dirs = readdirSync("/tmp").filter((d) => d.startsWith("berth-test-"));
    for (const d of dirs) {
      for (const f of ["berth.db", "berth.db-wal"]) {
        let data: Buffer;
        try {
          data = readFileSync(`/tmp/${d}/${f}`);
        } catch {
          continue;
        }
        expect(data.includes("hunter2")).toBe(false);
      }
    }
  });

  it("versions on overwrite, refuses to overwrite without Overwrite, and keeps history with labels", async () => {
    await expect(
      ssm.send(new PutParameterCommand({ Name: "/app/host", Value: "x", Type: "String" })),
    ).rejects.toMatchObject({ name: "ParameterAlreadyExists" });
    expect(
      (await ssm.send(new PutParameterCommand({ Name: "/app/host", Value: "db2.local", Overwrite: true }))).Version,
    ).toBe(2);
    const labelled = await ssm.send(
      new LabelParameterVersionCommand({ Name: "/app/host", ParameterVersion: 1, Labels: ["old", "1bad", "awsx"] }),
    );
    expect(labelled).toMatchObject({ ParameterVersion: 1, InvalidLabels: ["1bad", "awsx"] });
    expect((await ssm.send(new GetParameterCommand({ Name: "/app/host:old" }))).Parameter).toMatchObject({
      Value: "db.local",
      Selector: ":old",
    });
    expect((await ssm.send(new GetParameterCommand({ Name: "/app/host:2" }))).Parameter!.Value).toBe("db2.local");
    await expect(ssm.send(new GetParameterCommand({ Name: "/app/host:9" }))).rejects.toMatchObject({
      name: "ParameterVersionNotFound",
    });
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: "/app/host" }));
    expect(history.Parameters!.map((p) => [p.Version, p.Value, p.Labels])).toEqual([
      [1, "db.local", ["old"]],
      [2, "db2.local", []],
    ]);
    expect(
      await ssm.send(
        new UnlabelParameterVersionCommand({ Name: "/app/host", ParameterVersion: 1, Labels: ["old", "nope"] }),
      ),
    ).toMatchObject({ RemovedLabels: ["old"], InvalidLabels: ["nope"] });
  });

  it("reads by path (one level or recursive) and by name lists, reporting the invalid ones", async () => {
    await ssm.send(new PutParameterCommand({ Name: "/app/db/user", Value: "admin", Type: "String" }));
    const oneLevel = await ssm.send(new GetParametersByPathCommand({ Path: "/app" }));
    expect(oneLevel.Parameters!.map((p) => p.Name).sort()).toEqual(["/app/host", "/app/password", "/app/zones"]);
    const all = await ssm.send(
      new GetParametersByPathCommand({ Path: "/app/", Recursive: true, WithDecryption: true }),
    );
    expect(all.Parameters!.map((p) => p.Name).sort()).toEqual([
      "/app/db/user",
      "/app/host",
      "/app/password",
      "/app/zones",
    ]);
    expect(all.Parameters!.find((p) => p.Name === "/app/password")!.Value).toBe("hunter2");
    const paged = await ssm.send(new GetParametersByPathCommand({ Path: "/app", Recursive: true, MaxResults: 3 }));
    expect(paged.Parameters).toHaveLength(3);
    const rest = await ssm.send(
      new GetParametersByPathCommand({ Path: "/app", Recursive: true, MaxResults: 3, NextToken: paged.NextToken }),
    );
    expect(rest.Parameters).toHaveLength(1);
    const got = await ssm.send(new GetParametersCommand({ Names: ["/app/host", "/nope", "/app/zones"] }));
    expect(got.Parameters!.map((p) => p.Name)).toEqual(["/app/host", "/app/zones"]);
    expect(got.InvalidParameters).toEqual(["/nope"]);
  });

  it("describes parameters with filters and tags them", async () => {
    await ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: "Parameter",
        ResourceId: "/app/host",
        Tags: [{ Key: "team", Value: "blue" }],
      }),
    );
    expect(
      (await ssm.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: "/app/host" }))).TagList,
    ).toEqual([{ Key: "team", Value: "blue" }]);
    const byTag = await ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "tag:team", Values: ["blue"] }] }),
    );
    expect(byTag.Parameters!.map((p) => p.Name)).toEqual(["/app/host"]);
    const secure = await ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "Type", Values: ["SecureString"] }] }),
    );
    expect(secure.Parameters!.map((p) => [p.Name, p.KeyId])).toEqual([["/app/password", "alias/aws/ssm"]]);
    const underDb = await ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: ["/app/db"] }] }),
    );
    expect(underDb.Parameters!.map((p) => p.Name)).toEqual(["/app/db/user"]);
    await expect(
      ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Colour", Values: ["x"] }] })),
    ).rejects.toMatchObject({ name: "InvalidFilterKey" });
    await ssm.send(
      new RemoveTagsFromResourceCommand({ ResourceType: "Parameter", ResourceId: "/app/host", TagKeys: ["team"] }),
    );
    await expect(
      ssm.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: "/missing" })),
    ).rejects.toMatchObject({ name: "InvalidResourceId" });
  });

  it("refuses bad names, missing parameters and patterns the value does not match; nothing changes", async () => {
    for (const Name of ["aws-thing", "/ssm/x", "a/b", "/a//b", "bad name"])
      await expect(ssm.send(new PutParameterCommand({ Name, Value: "v", Type: "String" }))).rejects.toMatchObject({
        name: "ValidationException",
      });
    await expect(
      ssm.send(new PutParameterCommand({ Name: "/p/n", Value: "abc", Type: "String", AllowedPattern: "^\\d+$" })),
    ).rejects.toMatchObject({ name: "ParameterPatternMismatchException" });
    await expect(ssm.send(new GetParameterCommand({ Name: "/p/n" }))).rejects.toMatchObject({
      name: "ParameterNotFound",
      message: "Parameter /p/n not found.",
    });
    await expect(ssm.send(new DeleteParameterCommand({ Name: "/p/n" }))).rejects.toMatchObject({
      name: "ParameterNotFound",
    });
    await expect(ssm.send(new PutParameterCommand({ Name: "/p/n", Value: "v" }))).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("deletes one and many, and works from the AWS CLI v2", async () => {
    const cli = await awsCli(endpoint, rootOf(account), [
      "ssm",
      "put-parameter",
      "--name",
      "/cli/token",
      "--value",
      "t0k",
      "--type",
      "SecureString",
    ]);
    expect(cli.ok && cli.json).toMatchObject({ Version: 1 });
    const got = await awsCli(endpoint, rootOf(account), [
      "ssm",
      "get-parameter",
      "--name",
      "/cli/token",
      "--with-decryption",
      "--query",
      "Parameter.Value",
    ]);
    expect(got.ok && got.json).toBe("t0k");
    const missing = await awsCli(endpoint, rootOf(account), ["ssm", "get-parameter", "--name", "/cli/none"]);
    expect(!missing.ok && missing.stderr).toContain("(ParameterNotFound)");
    await ssm.send(new DeleteParameterCommand({ Name: "/cli/token" }));
    const many = await ssm.send(new DeleteParametersCommand({ Names: ["/app/host", "/app/zones", "/nope"] }));
    expect(many).toMatchObject({ DeletedParameters: ["/app/host", "/app/zones"], InvalidParameters: ["/nope"] });
    await ssm.send(new DeleteParametersCommand({ Names: ["/app/password", "/app/db/user"] }));
  });
});
