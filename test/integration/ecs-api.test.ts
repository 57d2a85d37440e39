import { execFileSync } from "node:child_process";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-ecs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { awsvpc, ecsClient } from "../support/ecs.js";

const suffix = Date.now().toString(36);
const fargate = (
  family: string,
  extra: Partial<RegisterTaskDefinitionCommandInput> = {},
): RegisterTaskDefinitionCommandInput => ({
  family,
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  containerDefinitions: [{ name: "app", image: BUSYBOX_IMAGE, command: ["sleep", "1"] }],
  ...extra,
});

/** The AWS CLI v2 against this Berth; returns parsed JSON or the error text. */
function aws(endpoint: string, args: string[]): { ok: true; json: unknown } | { ok: false; stderr: string } {
  try {
    const out = execFileSync("/usr/bin/aws", ["--endpoint-url", endpoint, "--output", "json", ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_PAGER: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { ok: true, json: out.trim() ? JSON.parse(out) : {} };
  } catch (e) {
    return { ok: false, stderr: String((e as { stderr?: string }).stderr) };
  }
}

describe("ECS API", () => {
  let ecs: ECSClient;
  let endpoint: string;
  beforeAll(() => {
    endpoint = inject("endpoint");
    ecs = ecsClient(endpoint);
  });

  it("creates, describes, lists, tags and deletes clusters", async () => {
    const name = `c-${suffix}`;
    const created = await ecs.send(
      new CreateClusterCommand({ clusterName: name, tags: [{ key: "team", value: "a" }] }),
    );
    expect(created.cluster).toMatchObject({
      clusterName: name,
      status: "ACTIVE",
      clusterArn: `arn:aws:ecs:us-east-1:000000000000:cluster/${name}`,
      runningTasksCount: 0,
      pendingTasksCount: 0,
      activeServicesCount: 0,
    });
    const arn = created.cluster!.clusterArn!;
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toContain(arn);
    await ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "env", value: "dev" }] }));
    await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["team"] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { key: "env", value: "dev" },
    ]);
    const described = await ecs.send(new DescribeClustersCommand({ clusters: [name, "nope"], include: ["TAGS"] }));
    expect(described.clusters![0].tags).toEqual([{ key: "env", value: "dev" }]);
    expect(described.failures).toEqual([{ arn: "arn:aws:ecs:us-east-1:000000000000:cluster/nope", reason: "MISSING" }]);
    const deleted = await ecs.send(new DeleteClusterCommand({ cluster: arn }));
    expect(deleted.cluster!.status).toBe("INACTIVE");
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).not.toContain(arn);
    await expect(ecs.send(new DeleteClusterCommand({ cluster: name }))).rejects.toMatchObject({
      name: "ClusterNotFoundException",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("makes the default cluster appear on first use", async () => {
    const out = await ecs.send(new DescribeTasksCommand({ tasks: ["0123456789abcdef0123456789abcdef"] }));
    expect(out.failures![0].reason).toBe("MISSING");
    const d = await ecs.send(new DescribeClustersCommand({}));
    expect(d.clusters![0].clusterName).toBe("default");
  });

  it("registers revisions, describes, lists, deregisters and deletes task definitions", async () => {
    const family = `td-${suffix}`;
    const r1 = await ecs.send(
      new RegisterTaskDefinitionCommand(
        fargate(family, { cpu: "0.25 vCPU", memory: "0.5GB", tags: [{ key: "a", value: "b" }] }),
      ),
    );
    expect(r1.taskDefinition).toMatchObject({ family, revision: 1, status: "ACTIVE", cpu: "256", memory: "512" });
    expect(r1.taskDefinition!.compatibilities).toEqual(["EC2", "FARGATE"]);
    expect(r1.taskDefinition!.containerDefinitions![0].essential).toBe(true);
    expect(r1.taskDefinition!.registeredAt).toBeInstanceOf(Date);
    const r2 = await ecs.send(new RegisterTaskDefinitionCommand(fargate(family)));
    expect(r2.taskDefinition!.revision).toBe(2);
    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ["TAGS"] }));
    expect(latest.taskDefinition!.revision).toBe(2);
    const first = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:1`, include: ["TAGS"] }),
    );
    expect(first.tags).toEqual([{ key: "a", value: "b" }]);
    const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, sort: "DESC" }));
    expect(listed.taskDefinitionArns).toEqual([
      r2.taskDefinition!.taskDefinitionArn,
      r1.taskDefinition!.taskDefinitionArn,
    ]);
    const page = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, maxResults: 1 }));
    expect(page.taskDefinitionArns).toHaveLength(1);
    const page2 = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: family, maxResults: 1, nextToken: page.nextToken }),
    );
    expect(page2.taskDefinitionArns).toEqual([r2.taskDefinition!.taskDefinitionArn]);
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: family }))).families).toEqual([
      family,
    ]);

    await expect(
      ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [`${family}:1`] })),
    ).resolves.toMatchObject({
      failures: [{ reason: expect.stringContaining("ACTIVE") }],
    });
    const dereg = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: `${family}:1` }));
    expect(dereg.taskDefinition!.status).toBe("INACTIVE");
    await expect(
      ecs.send(
        new RunTaskCommand({ taskDefinition: `${family}:1`, launchType: "FARGATE", networkConfiguration: awsvpc }),
      ),
    ).rejects.toMatchObject({ name: "ClientException" });
    const del = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [`${family}:1`] }));
    expect(del.taskDefinitions![0].status).toBe("DELETE_IN_PROGRESS");
    const inactive = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: "INACTIVE" }));
    expect(inactive.taskDefinitionArns).toEqual([]);
  });

  describe("rejects bad input with AWS's errors and writes nothing", () => {
    const rejected = async (input: RegisterTaskDefinitionCommandInput, name: string, message: RegExp) => {
      await expect(ecs.send(new RegisterTaskDefinitionCommand(input))).rejects.toMatchObject({
        name,
        message: expect.stringMatching(message),
        $metadata: { httpStatusCode: 400 },
      });
      const families = await ecs.send(
        new ListTaskDefinitionFamiliesCommand({ familyPrefix: input.family, status: "ALL" }),
      );
      expect(families.families).toEqual([]);
    };

    it("invalid Fargate size", () =>
      rejected(
        fargate(`bad1-${suffix}`, { memory: "4096" }),
        "ClientException",
        /No Fargate configuration exists for given values: 256 CPU, 4096 memory/,
      ));
    it("Fargate with bridge networking", () =>
      rejected(fargate(`bad2-${suffix}`, { networkMode: "bridge" }), "ClientException", /awsvpc/));
    it("no essential container", () =>
      rejected(
        fargate(`bad3-${suffix}`, { containerDefinitions: [{ name: "a", image: BUSYBOX_IMAGE, essential: false }] }),
        "ClientException",
        /essential/,
      ));
    it("missing image", () =>
      rejected(fargate(`bad4-${suffix}`, { containerDefinitions: [{ name: "a" }] }), "ClientException", /image/));
    it("unknown dependsOn container", () =>
      rejected(
        fargate(`bad5-${suffix}`, {
          containerDefinitions: [
            { name: "a", image: BUSYBOX_IMAGE, dependsOn: [{ containerName: "zz", condition: "START" }] },
          ],
        }),
        "ClientException",
        /zz/,
      ));
    it("awslogs on Fargate without an execution role", () =>
      rejected(
        fargate(`bad6-${suffix}`, {
          containerDefinitions: [
            {
              name: "a",
              image: BUSYBOX_IMAGE,
              logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g" } },
            },
          ],
        }),
        "ClientException",
        /execution role/,
      ));
    it("wrong field type", () =>
      rejected(
        fargate(`bad7-${suffix}`, {
          containerDefinitions: [{ name: "a", image: BUSYBOX_IMAGE, memory: "lots" as unknown as number }],
        }),
        "SerializationException",
        /memory/,
      ));
    it("missing required field", () =>
      rejected(
        { family: `bad8-${suffix}` } as RegisterTaskDefinitionCommandInput,
        "InvalidParameterException",
        /containerDefinitions/,
      ));
    it("invalid enum value", () =>
      rejected(
        fargate(`bad9-${suffix}`, { networkMode: "mesh" as "awsvpc" }),
        "InvalidParameterException",
        /networkMode/,
      ));

    it("unknown cluster, family and revision", async () => {
      await expect(
        ecs.send(new RunTaskCommand({ cluster: "no-such-cluster", taskDefinition: "x", launchType: "FARGATE" })),
      ).rejects.toMatchObject({ name: "ClusterNotFoundException" });
      await expect(
        ecs.send(
          new RunTaskCommand({
            taskDefinition: `no-such-family-${suffix}`,
            launchType: "FARGATE",
            networkConfiguration: awsvpc,
          }),
        ),
      ).rejects.toMatchObject({ name: "ClientException" });
      await expect(
        ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `no-such-family-${suffix}:9` })),
      ).rejects.toMatchObject({
        name: "ClientException",
      });
      await expect(ecs.send(new StopTaskCommand({ task: "0123456789abcdef0123456789abcdef" }))).rejects.toMatchObject({
        name: "InvalidParameterException",
      });
    });

    it("RunTask without awsvpc network configuration (FARGATE or EC2), bad count, unsupported launch types", async () => {
      const family = `rt-${suffix}`;
      await ecs.send(new RegisterTaskDefinitionCommand(fargate(family)));
      await expect(
        ecs.send(new RunTaskCommand({ taskDefinition: family, launchType: "FARGATE" })),
      ).rejects.toMatchObject({
        name: "InvalidParameterException",
        message: expect.stringContaining("Network Configuration must be provided"),
      });
      await expect(
        ecs.send(
          new RunTaskCommand({
            taskDefinition: family,
            launchType: "FARGATE",
            networkConfiguration: awsvpc,
            count: 11,
          }),
        ),
      ).rejects.toMatchObject({ name: "InvalidParameterException" });
      await expect(ecs.send(new RunTaskCommand({ taskDefinition: family, launchType: "EC2" }))).rejects.toMatchObject({
        name: "InvalidParameterException",
        message: expect.stringContaining("Network Configuration must be provided"),
      });
      await expect(
        ecs.send(new RunTaskCommand({ taskDefinition: family, launchType: "EXTERNAL", networkConfiguration: awsvpc })),
      ).rejects.toMatchObject({ name: "InvalidParameterException", message: expect.stringContaining("EXTERNAL") });
    });

    it("malformed JSON body answers 400 SerializationException, never 500", async () => {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters",
        },
        body: "{not json",
      });
      expect(res.status).toBe(400);
      expect(res.headers.get("x-amzn-errortype")).toBe("SerializationException");
    });

    it("known but unimplemented operations answer 501 NotImplemented naming the operation", async () => {
      const r = aws(endpoint, ["ecs", "list-attributes", "--target-type", "container-instance"]);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.stderr).toMatch(/NotImplemented.*ListAttributes/s);
    });
  });

  it("works through the AWS CLI v2", () => {
    const family = `cli-${suffix}`;
    const reg = aws(endpoint, [
      "ecs",
      "register-task-definition",
      "--family",
      family,
      "--requires-compatibilities",
      "FARGATE",
      "--network-mode",
      "awsvpc",
      "--cpu",
      "512",
      "--memory",
      "1024",
      "--container-definitions",
      JSON.stringify([{ name: "a", image: BUSYBOX_IMAGE }]),
    ]);
    expect(reg).toMatchObject({ ok: true, json: { taskDefinition: { family, revision: 1 } } });
    const bad = aws(endpoint, [
      "ecs",
      "register-task-definition",
      "--family",
      family,
      "--requires-compatibilities",
      "FARGATE",
      "--network-mode",
      "awsvpc",
      "--cpu",
      "512",
      "--memory",
      "512",
      "--container-definitions",
      JSON.stringify([{ name: "a", image: BUSYBOX_IMAGE }]),
    ]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.stderr).toContain("(ClientException)");
  });
});
