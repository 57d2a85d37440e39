import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  type ContainerDefinition,
  CreateClusterCommand,
  DeleteClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { AttachRolePolicyCommand, CreateRoleCommand, type IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { awsvpc, dockerIds, dockerInspect, running, stopped, waitForTask } from "../support/ecs.js";
import { allow, clientOptions, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";
import { NODE_SDK_IMAGE, buildNodeSdkImage } from "../support/node-image.js";

/**
 * An unmodified AWS SDK inside a task: credentials from the container credential endpoint,
 * Berth from AWS_ENDPOINT_URL, secrets as environment variables, the metadata endpoint.
 */
const PROBE = `
const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
const out = { env: {} };
for (const k of ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
  "ECS_CONTAINER_METADATA_URI_V4", "DB_PASSWORD", "DB_USER", "API_KEY"]) out.env[k] = process.env[k] ?? null;
const attempt = async (f) => { try { return { ok: await f() }; } catch (e) { return { error: e.name, message: e.message }; } };
out.identity = await attempt(() => new STSClient({}).send(new GetCallerIdentityCommand({})));
out.allowed = await attempt(async () => (await new SSMClient({}).send(new GetParameterCommand({ Name: "/it/allowed" }))).Parameter.Value);
out.denied = await attempt(async () => (await new SSMClient({}).send(new GetParameterCommand({ Name: "/it/forbidden" }))).Parameter.Value);
const meta = process.env.ECS_CONTAINER_METADATA_URI_V4;
if (meta) {
  out.container = await (await fetch(meta)).json();
  out.task = await (await fetch(meta + "/task")).json();
  out.taskWithTags = await (await fetch(meta + "/taskWithTags")).json();
  out.stats = await (await fetch(meta + "/stats")).json();
}
if (process.env.OTHER_URI) {
  const r = await fetch(process.env.AWS_ENDPOINT_URL + process.env.OTHER_URI);
  out.other = { status: r.status, body: await r.json() };
}
console.log("PROBE " + JSON.stringify(out));
if (process.env.LINGER) await new Promise((r) => setTimeout(r, 600000));
`;

interface Probe {
  env: Record<string, string | null>;
  identity: { ok?: { Arn: string; Account: string; UserId: string }; error?: string; message?: string };
  allowed: { ok?: string; error?: string; message?: string };
  denied: { ok?: string; error?: string; message?: string };
  container?: Record<string, unknown>;
  task?: { TaskARN: string; Family: string; Containers: { Name: string; DockerId: string }[]; Cluster: string };
  taskWithTags?: { TaskTags: Record<string, string> };
  stats?: { memory_stats?: { usage: number } } | null;
  other?: { status: number; body: { code: string } };
}

const account = newAccount();
const cluster = "identity";
const started: string[] = [];

describe("task roles, execution roles and secrets, from inside a task", () => {
  const endpoint = inject("endpoint");
  const root = rootOf(account);
  let ecs: ECSClient;
  let iam: IAMClient;
  let logs: CloudWatchLogsClient;
  let secretArn: string;
  const role = (name: string) => `arn:aws:iam::${account}:role/${name}`;

  beforeAll(async () => {
    buildNodeSdkImage();
    ecs = new ECSClient(clientOptions(endpoint, root));
    iam = iamClient(endpoint, root);
    logs = new CloudWatchLogsClient(clientOptions(endpoint, root));
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const ecsTasks = trustPolicy({ Service: "ecs-tasks.amazonaws.com" });
    for (const name of ["it-exec", "it-exec-weak", "it-task"])
      await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ecsTasks }));
    for (const name of ["it-exec", "it-exec-weak"])
      await iam.send(
        new AttachRolePolicyCommand({
          RoleName: name,
          PolicyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        }),
      );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "it-exec",
        PolicyName: "secrets",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "ssm:GetParameters", Resource: `arn:aws:ssm:*:${account}:parameter/it/*` },
            {
              Effect: "Allow",
              Action: "secretsmanager:GetSecretValue",
              Resource: `arn:aws:secretsmanager:*:${account}:secret:it/*`,
            },
            { Effect: "Allow", Action: "logs:CreateLogGroup", Resource: "*" },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "it-exec-weak",
        PolicyName: "logs",
        PolicyDocument: allow("logs:CreateLogGroup"),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "it-task",
        PolicyName: "read-one",
        PolicyDocument: allow("ssm:GetParameter", `arn:aws:ssm:us-east-1:${account}:parameter/it/allowed`),
      }),
    );
    const ssm = new SSMClient(clientOptions(endpoint, root));
    await ssm.send(new PutParameterCommand({ Name: "/it/allowed", Value: "you may read this", Type: "String" }));
    await ssm.send(new PutParameterCommand({ Name: "/it/forbidden", Value: "not for tasks", Type: "String" }));
    await ssm.send(new PutParameterCommand({ Name: "/it/db-password", Value: "s3cr3t-pw", Type: "SecureString" }));
    const sm = new SecretsManagerClient(clientOptions(endpoint, root));
    secretArn = (
      await sm.send(
        new CreateSecretCommand({ Name: "it/db", SecretString: JSON.stringify({ user: "app", key: "k-123" }) }),
      )
    ).ARN!;
  }, 300_000);

  afterAll(async () => {
    for (const task of started) await ecs.send(new StopTaskCommand({ cluster, task })).catch(() => {});
    for (const task of started) await waitForTask(ecs, cluster, task, stopped, 60_000).catch(() => {});
    await ecs.send(new DeleteClusterCommand({ cluster })).catch(() => {});
  });

  async function runProbe(opts: {
    family: string;
    taskRole?: string;
    executionRole?: string;
    secrets?: ContainerDefinition["secrets"];
    environment?: { name: string; value: string }[];
  }): Promise<string> {
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: opts.family,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        taskRoleArn: opts.taskRole,
        executionRoleArn: opts.executionRole,
        containerDefinitions: [
          {
            name: "probe",
            image: NODE_SDK_IMAGE,
            essential: true,
            stopTimeout: 2,
            command: ["--input-type=module", "-e", PROBE],
            secrets: opts.secrets,
            environment: opts.environment,
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": "/it/probe",
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": opts.family,
                "awslogs-create-group": "true",
              },
            },
          },
        ],
      }),
    );
    const out = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: td.taskDefinition!.taskDefinitionArn,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
        tags: [{ key: "suite", value: "identity" }],
      }),
    );
    expect(out.failures).toEqual([]);
    const arn = out.tasks![0].taskArn!;
    started.push(arn);
    return arn;
  }

  async function probeOutput(family: string, taskArn: string): Promise<Probe> {
    const stream = `${family}/probe/${taskArn.split("/").pop()}`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const events = await logs
        .send(new FilterLogEventsCommand({ logGroupName: "/it/probe", logStreamNames: [stream] }))
        .catch(() => ({ events: [] }));
      const line = events.events?.find((e) => e.message?.startsWith("PROBE "));
      if (line) return JSON.parse(line.message!.slice("PROBE ".length)) as Probe;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no PROBE line in ${stream}`);
  }

  let lingering: string;

  it("an unmodified SDK in the task is the task role: GetCallerIdentity, an allowed call, a denied one", async () => {
    lingering = await runProbe({
      family: "it-probe",
      taskRole: role("it-task"),
      executionRole: role("it-exec"),
      secrets: [
        { name: "DB_PASSWORD", valueFrom: "/it/db-password" },
        { name: "DB_USER", valueFrom: `${secretArn}:user::` },
        { name: "API_KEY", valueFrom: `${secretArn}:key:AWSCURRENT:` },
      ],
      environment: [{ name: "LINGER", value: "1" }],
    });
    // the endpoint must be up for any of this; /_berth/health says why when it is not
    const health = (await (await fetch(`${endpoint}/_berth/health`)).json()) as { taskEndpoint: unknown };
    expect(health.taskEndpoint).toMatchObject({
      state: "listening",
      url: expect.stringMatching(/^http:\/\/169\.254\.170\.2/),
    });
    const task = await waitForTask(ecs, cluster, lingering, running, 60_000);
    const taskId = lingering.split("/").pop();
    const p = await probeOutput("it-probe", lingering);

    // The relative URI when this Berth holds 169.254.170.2:80 (as the SDKs expect); when another
    // Berth on the machine holds it, the full URI on another port of the same address.
    const endpointUrl = p.env.AWS_ENDPOINT_URL!;
    expect(endpointUrl).toMatch(/^http:\/\/169\.254\.170\.2(:\d+)?$/);
    if (endpointUrl === "http://169.254.170.2")
      expect(p.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toMatch(/^\/v2\/credentials\/[0-9a-f-]{36}$/);
    else
      expect(p.env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(
        new RegExp(`^${endpointUrl.replace(/\./g, "\\.")}/v2/credentials/[0-9a-f-]{36}$`),
      );
    expect(p.env.ECS_CONTAINER_METADATA_URI_V4).toMatch(new RegExp(`^${endpointUrl.replace(/\./g, "\\.")}/v4/`));
    expect(p.env.AWS_REGION).toBe("us-east-1");
    expect(p.env.AWS_DEFAULT_REGION).toBe("us-east-1");

    expect(p.identity.ok).toMatchObject({
      Account: account,
      Arn: `arn:aws:sts::${account}:assumed-role/it-task/${taskId}`,
    });
    expect(p.identity.ok!.UserId).toMatch(new RegExp(`^AROA[A-Z2-7]{17}:${taskId}$`));
    expect(p.allowed).toEqual({ ok: "you may read this" });
    expect(p.denied).toMatchObject({
      error: "AccessDeniedException",
      message: `User: arn:aws:sts::${account}:assumed-role/it-task/${taskId} is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:${account}:parameter/it/forbidden because no identity-based policy allows the ssm:GetParameter action`,
    });

    // secrets arrived as environment variables, through the execution role
    expect(p.env.DB_PASSWORD).toBe("s3cr3t-pw");
    expect(p.env.DB_USER).toBe("app");
    expect(p.env.API_KEY).toBe("k-123");

    // the metadata endpoint answers with this task and this container
    expect(p.task).toMatchObject({
      TaskARN: lingering,
      Family: "it-probe",
      Cluster: `arn:aws:ecs:us-east-1:${account}:cluster/${cluster}`,
    });
    expect(p.task!.Containers.map((c) => c.Name)).toEqual(["probe"]);
    expect(p.container).toMatchObject({ Name: "probe", Image: NODE_SDK_IMAGE, KnownStatus: "RUNNING" });
    expect(p.container!.DockerId).toBe(p.task!.Containers[0].DockerId);
    expect((p.container!.Networks as { IPv4Addresses: string[] }[])[0].IPv4Addresses[0]).toMatch(
      /^\d+\.\d+\.\d+\.\d+$/,
    );
    expect(p.taskWithTags!.TaskTags).toEqual({ suite: "identity" });
    expect(p.stats?.memory_stats?.usage).toBeGreaterThan(0);
    expect(task.containers![0].lastStatus).toBe("RUNNING");
  }, 120_000);

  it("a task without a role gets no credentials, and cannot use another task's", async () => {
    const [id] = dockerIds(`berth.task-arn=${lingering}`).filter(
      (c) => (dockerInspect(c).Config as { Labels: Record<string, string> }).Labels["berth.container"] === "probe",
    );
    const env = (dockerInspect(id).Config as { Env: string[] }).Env;
    const credentialsVar = env.find((e) => /^AWS_CONTAINER_CREDENTIALS_(RELATIVE|FULL)_URI=/.test(e))!;
    const otherUri = `/v2/credentials/${credentialsVar.split("/v2/credentials/")[1]}`;
    const arn = await runProbe({
      family: "it-norole",
      executionRole: role("it-exec"),
      environment: [
        { name: "OTHER_URI", value: otherUri },
        { name: "AWS_EC2_METADATA_DISABLED", value: "true" },
      ],
    });
    await waitForTask(ecs, cluster, arn, stopped, 60_000);
    const p = await probeOutput("it-norole", arn);
    expect(p.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toBeNull();
    expect(p.env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeNull();
    expect(p.identity.error).toBe("CredentialsProviderError");
    expect(p.other).toEqual({
      status: 400,
      body: { code: "InvalidIdInRequest", message: "CredentialsV2Request: Credentials not found" },
    });
  }, 120_000);

  it("an execution role without access to a secret fails the task with the reason", async () => {
    const arn = await runProbe({
      family: "it-weak",
      taskRole: role("it-task"),
      executionRole: role("it-exec-weak"),
      secrets: [{ name: "DB_USER", valueFrom: `${secretArn}:user::` }],
    });
    const t = await waitForTask(ecs, cluster, arn, stopped, 60_000);
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toContain("ResourceInitializationError: unable to pull secrets or registry auth");
    expect(t.stoppedReason).toContain(
      `AccessDeniedException: User: arn:aws:sts::${account}:assumed-role/it-exec-weak/${arn.split("/").pop()} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn}`,
    );
    expect(dockerIds(`berth.task-arn=${arn}`)).toEqual([]);
  }, 120_000);

  it("a task role that does not trust ecs-tasks.amazonaws.com keeps the task from starting", async () => {
    await iam.send(
      new CreateRoleCommand({
        RoleName: "it-untrusting",
        AssumeRolePolicyDocument: trustPolicy({ AWS: `arn:aws:iam::${account}:root` }),
      }),
    );
    const arn = await runProbe({
      family: "it-untrusting",
      taskRole: role("it-untrusting"),
      executionRole: role("it-exec"),
    });
    const t = await waitForTask(ecs, cluster, arn, stopped, 60_000);
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toContain(`ECS was unable to assume the role '${role("it-untrusting")}'`);
  }, 120_000);
});
