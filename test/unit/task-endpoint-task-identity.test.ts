import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EndpointIds } from "../../src/task-endpoint/endpoint-ids.js";
import { TaskIdentity } from "../../src/task-endpoint/task-identity.js";
import { newUniqueId } from "../../src/iam/keys.js";
import { createIdentity } from "../../src/iam/index.js";
import { iamScope } from "../../src/iam/store.js";
import type { ContainerDefinition } from "../../src/protocol/generated/types/ecs.js";
import type { TaskRecord } from "../../src/store/schema/ecs.js";
import { secretsManagerService } from "../../src/services/secretsmanager/provider.js";
import { ssmService } from "../../src/services/ssm/provider.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const ACCOUNT = "123456789012";
const SCOPE = { account: ACCOUNT, region: "us-east-1" };
const dir = mkdtempSync(join(tmpdir(), "berth-task-endpoint-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clock = { now: () => new Date() };
const store = new DocumentStore(openDb(":memory:"));
const kit = createIdentity({ store, dataDir: dir, clock });
const ssm = ssmService({ store, box: kit.box, clock });
const sm = secretsManagerService({ store, box: kit.box, clock, authorizer: kit.authorizer });
const ctx = { ...SCOPE, requestId: "r", principal: { accessKeyId: "test", arn: `arn:aws:iam::${ACCOUNT}:root` } };
let endpoint: { baseUrl: string; relativeUri: boolean } | undefined = {
  baseUrl: "http://169.254.170.2",
  relativeUri: true,
};
const identity = new TaskIdentity({
  authorizer: kit.authorizer,
  sessions: kit.sessions,
  parameters: ssm.parameters,
  secrets: sm.secrets,
  ids: new EndpointIds(store, "s"),
  endpoint: () => endpoint,
  berthImage: (image) => (image.startsWith("localhost:4566/") ? SCOPE : undefined),
});

const ECS_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

function role(name: string, statements: unknown[], trust = ECS_TRUST) {
  const arn = `arn:aws:iam::${ACCOUNT}:role/${name}`;
  kit.iam.roles.put(iamScope(ACCOUNT), {
    RoleName: name,
    RoleId: newUniqueId("AROA"),
    Arn: arn,
    Path: "/",
    CreateDate: new Date(),
    AssumeRolePolicyDocument: trust,
    MaxSessionDuration: 3600,
    Tags: [],
    attached: [],
    inline: statements.length ? { p: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } : {},
  });
  return arn;
}

const task = (container: ContainerDefinition, roles: { exec?: string; task?: string } = {}): TaskRecord => ({
  taskArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/c/${Math.random().toString(16).slice(2).padEnd(32, "0")}`,
  clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/c`,
  lastStatus: "PROVISIONING",
  desiredStatus: "RUNNING",
  createdAt: new Date(),
  spec: {
    family: "f",
    revision: 1,
    networkMode: "awsvpc",
    containers: [{ name: "app", image: "busybox", ...container }],
    volumes: [],
    executionRoleArn: roles.exec,
    taskRoleArn: roles.task,
  },
});

const prepare = (t: TaskRecord) => identity.prepareContainer(t, SCOPE, "app");

describe("TaskIdentity.prepareContainer", async () => {
  await ssm.service.provider.PutParameter!({ Name: "/app/pw", Value: "pw-1", Type: "SecureString" }, ctx);
  const secret = await sm.service.provider.CreateSecret!(
    { Name: "hub", SecretString: JSON.stringify({ username: "me", password: "tok" }) },
    ctx,
  );
  const execAll = role("exec-all", [
    {
      Effect: "Allow",
      Action: ["ssm:GetParameters", "secretsmanager:GetSecretValue", "ecr:*", "logs:*"],
      Resource: "*",
    },
  ]);
  const execNothing = role("exec-nothing", []);
  const appRole = role("app", []);
  const untrusting = role(
    "untrusting",
    [],
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: ACCOUNT }, Action: "sts:AssumeRole" }],
    }),
  );

  it("gives every task the endpoint, metadata URIs, and the credential URI only with a role", async () => {
    const plain = await prepare(task({}));
    expect(plain.defaults).toEqual({ AWS_ENDPOINT_URL: "http://169.254.170.2" });
    expect(plain.overrides.ECS_CONTAINER_METADATA_URI_V4).toMatch(/^http:\/\/169\.254\.170\.2\/v4\//);
    expect(plain.overrides.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toBeUndefined();
    const withRole = await prepare(task({}, { task: appRole }));
    expect(withRole.overrides.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toMatch(/^\/v2\/credentials\//);
    endpoint = { baseUrl: "http://169.254.170.2:4321", relativeUri: false };
    const full = await prepare(task({}, { task: appRole }));
    expect(full.overrides.AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(
      /^http:\/\/169\.254\.170\.2:4321\/v2\/credentials\//,
    );
    endpoint = undefined;
    const none = await prepare(task({}, { task: appRole }));
    expect(none).toEqual({ defaults: {}, overrides: {}, registryAuth: undefined });
    endpoint = { baseUrl: "http://169.254.170.2", relativeUri: true };
  });

  it("resolves secrets and repositoryCredentials through the execution role", async () => {
    const out = await prepare(
      task(
        {
          image: "registry.example.com/private/app:1",
          secrets: [
            { name: "PW", valueFrom: "/app/pw" },
            { name: "USER", valueFrom: `${secret.ARN}:username::` },
          ],
          repositoryCredentials: { credentialsParameter: secret.ARN! },
        },
        { exec: execAll },
      ),
    );
    expect(out.overrides.PW).toBe("pw-1");
    expect(out.overrides.USER).toBe("me");
    expect(out.registryAuth).toEqual({ username: "me", password: "tok", serveraddress: "registry.example.com" });
  });

  it("fails with AWS-like reasons when the execution role lacks a permission", async () => {
    await expect(
      prepare(task({ secrets: [{ name: "PW", valueFrom: "/app/pw" }] }, { exec: execNothing })),
    ).rejects.toThrow(
      /unable to retrieve secrets from ssm: .*AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role\/exec-nothing\/[0-9a-f]+ is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter\/app\/pw/,
    );
    await expect(prepare(task({ image: "localhost:4566/repo:1" }, { exec: execNothing }))).rejects.toThrow(
      /unable to retrieve ecr registry auth.*ecr:GetAuthorizationToken/,
    );
    await expect(
      prepare(
        task(
          {
            logConfiguration: {
              logDriver: "awslogs",
              options: { "awslogs-group": "/g", "awslogs-region": "us-east-1" },
            },
          },
          { exec: execNothing },
        ),
      ),
    ).rejects.toThrow(
      /failed to validate logger args.*logs:CreateLogStream on resource: arn:aws:logs:us-east-1:123456789012:log-group:\/g:log-stream:app\//,
    );
    await expect(prepare(task({ secrets: [{ name: "X", valueFrom: "/nope" }] }, { exec: execAll }))).rejects.toThrow(
      /invalid parameters: \/nope/,
    );
  });

  it("needs an execution role for secrets, and roles that trust ecs-tasks.amazonaws.com", async () => {
    await expect(prepare(task({ secrets: [{ name: "PW", valueFrom: "/app/pw" }] }))).rejects.toThrow(
      /no executionRoleArn/,
    );
    await expect(prepare(task({}, { exec: untrusting }))).rejects.toThrow(/ECS was unable to assume the role/);
    await expect(prepare(task({}, { task: untrusting }))).rejects.toThrow(/ECS was unable to assume the role/);
    await expect(prepare(task({}, { task: `arn:aws:iam::${ACCOUNT}:role/missing` }))).rejects.toThrow(
      /ECS was unable to assume the role/,
    );
    // pulls and awslogs without an execution role act as the account, as before
    await expect(
      prepare(
        task({
          image: "localhost:4566/repo:1",
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/g" } },
        }),
      ),
    ).resolves.toBeDefined();
  });
});
