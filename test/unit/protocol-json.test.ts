import {
  CloudWatchClient,
  GetDashboardCommand,
  InvalidParameterValueException,
  PutMetricDataCommand,
  ResourceNotFound,
} from "@aws-sdk/client-cloudwatch";
import {
  CloudWatchLogsClient,
  PutLogEventsCommand,
  ResourceNotFoundException as LogsResourceNotFound,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  ClientException,
  ClusterNotFoundException,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  type RunTaskCommandInput,
} from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import { awsJsonProtocol } from "../../src/protocol/json/protocol.js";
import { errorStatus, loadModel } from "../../src/protocol/model.js";
import { WireHandler, clientOptions, toWire } from "../support/wire.js";

const ecsModel = loadModel("ecs");
const ecs = awsJsonProtocol(ecsModel, "ClientException");
const logs = awsJsonProtocol(loadModel("logs"), "InvalidParameterException");

/** Renders an error the way the edge chain does: status from the model, else the error's own. */
const renderEcsError = (code: string, message: string, status = 400) =>
  ecs.renderError(code, message, errorStatus(ecsModel, code, status), "Sender", "req-1");

describe("awsJson1_1: SDK request → Berth input", () => {
  it("parses RegisterTaskDefinition with nested lists, maps, numbers and booleans", async () => {
    const wire = new WireHandler();
    const input: RegisterTaskDefinitionCommandInput = {
      family: "web",
      taskRoleArn: "arn:aws:iam::000000000000:role/app",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE", "EC2"],
      cpu: "256",
      memory: "512",
      containerDefinitions: [
        {
          name: "app",
          image: "public.ecr.aws/nginx/nginx:1.27",
          cpu: 128,
          memory: 256,
          memoryReservation: 128,
          essential: true,
          readonlyRootFilesystem: false,
          portMappings: [
            { containerPort: 80, hostPort: 80, protocol: "tcp", name: "http", appProtocol: "http" },
            { containerPort: 443, protocol: "tcp" },
          ],
          environment: [
            { name: "MODE", value: "prod" },
            { name: "EMPTY", value: "" },
          ],
          command: ["sh", "-c", "echo 'héllo wörld' && exec httpd -f"],
          entryPoint: [],
          dockerLabels: { "com.example.team": "platform", "a b": "c=d&e", unicode: "✓" },
          ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 65536 }],
          healthCheck: { command: ["CMD-SHELL", "wget -q -O- localhost"], interval: 5, retries: 3, timeout: 2 },
          logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1" },
          },
          linuxParameters: { initProcessEnabled: true, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } },
          dependsOn: [{ containerName: "sidecar", condition: "HEALTHY" }],
        },
        { name: "sidecar", image: "busybox", essential: false, stopTimeout: 30 },
      ],
      volumes: [{ name: "data", efsVolumeConfiguration: { fileSystemId: "fs-1", transitEncryption: "ENABLED" } }],
      tags: [{ key: "env", value: "test" }],
    };
    await new ECSClient(clientOptions(wire)).send(new RegisterTaskDefinitionCommand(input));
    const req = toWire(wire.last);
    expect(req.headers["x-amz-target"]).toBe("AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition");
    const parsed = ecs.parse(req);
    expect(parsed.operation).toBe("RegisterTaskDefinition");
    // `entryPoint: []` survives as an empty list: the SDK sends it and AWS keeps it.
    expect(parsed.input).toEqual(input);
  });

  it("parses RunTask with overrides and the SDK-generated idempotency token", async () => {
    const wire = new WireHandler();
    const input: RunTaskCommandInput = {
      cluster: "default",
      taskDefinition: "web:3",
      count: 2,
      launchType: "FARGATE",
      enableExecuteCommand: false,
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ["subnet-1", "subnet-2"], securityGroups: ["sg-1"], assignPublicIp: "ENABLED" },
      },
      overrides: {
        cpu: "512",
        taskRoleArn: "arn:aws:iam::000000000000:role/other",
        ephemeralStorage: { sizeInGiB: 30 },
        containerOverrides: [
          {
            name: "app",
            command: ["node", "server.js", "--port=8080"],
            environment: [{ name: "A", value: "1" }],
            cpu: 256,
            memory: 1024,
            resourceRequirements: [{ type: "GPU", value: "1" }],
          },
        ],
      },
      placementStrategy: [{ type: "spread", field: "attribute:ecs.availability-zone" }],
      tags: [{ key: "k", value: "v" }],
    };
    await new ECSClient(clientOptions(wire)).send(new RunTaskCommand(input));
    const { operation, input: parsed } = ecs.parse(toWire(wire.last));
    expect(operation).toBe("RunTask");
    const { clientToken, ...rest } = parsed;
    expect(rest).toEqual(input);
    expect(clientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("parses CloudWatch Logs PutLogEvents with epoch-millisecond longs", async () => {
    const wire = new WireHandler();
    const events = [
      { timestamp: 1_767_225_600_123, message: "first line" },
      { timestamp: 1_767_225_600_124, message: 'second {"json": true}\ttab' },
    ];
    await new CloudWatchLogsClient(clientOptions(wire)).send(
      new PutLogEventsCommand({ logGroupName: "/ecs/web", logStreamName: "app/app/abc", logEvents: events }),
    );
    const req = toWire(wire.last);
    expect(req.headers["x-amz-target"]).toBe("Logs_20140328.PutLogEvents");
    expect(logs.parse(req)).toEqual({
      operation: "PutLogEvents",
      input: { logGroupName: "/ecs/web", logStreamName: "app/app/abc", logEvents: events },
    });
  });
});

describe("awsJson1_1: document shapes (ECS lifecycle hook hookDetails)", () => {
  const hookDetails = { stage: "POST_SCALE_UP", weights: [1, 2.5, null], nested: { ok: true, s: "x" } };
  const lifecycleHooks = [
    {
      targetType: "AWS_LAMBDA" as const,
      hookTargetArn: "arn:aws:lambda:us-east-1:000000000000:function:hook",
      roleArn: "arn:aws:iam::000000000000:role/hook",
      lifecycleStages: ["POST_SCALE_UP" as const],
      hookDetails,
    },
  ];

  it("the free-form JSON arrives untouched", async () => {
    const wire = new WireHandler();
    await new ECSClient(clientOptions(wire)).send(
      new CreateServiceCommand({ serviceName: "web", deploymentConfiguration: { lifecycleHooks } }),
    );
    const { input } = ecs.parse(toWire(wire.last));
    expect(input).toMatchObject({ serviceName: "web", deploymentConfiguration: { lifecycleHooks } });
  });

  it("and goes back out untouched", async () => {
    const response = ecs.serialize(
      "DescribeServices",
      { services: [{ serviceName: "web", deploymentConfiguration: { lifecycleHooks } }] },
      "r",
    );
    const got = await new ECSClient(clientOptions(new WireHandler().reply(response))).send(
      new DescribeServicesCommand({ services: ["web"] }),
    );
    expect(got.services?.[0].deploymentConfiguration?.lifecycleHooks?.[0].hookDetails).toEqual(hookDetails);
  });
});

describe("awsJson1_1: Berth output → SDK", () => {
  it("DescribeTasks timestamps travel as epoch seconds and come back as the same Dates", async () => {
    const createdAt = new Date("2026-01-02T03:04:05.678Z");
    const startedAt = new Date("2026-01-02T03:04:09.000Z");
    const output = {
      tasks: [
        {
          taskArn: "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef",
          clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/default",
          lastStatus: "RUNNING",
          desiredStatus: "RUNNING",
          cpu: "256",
          memory: "512",
          version: 3,
          enableExecuteCommand: false,
          createdAt,
          startedAt,
          containers: [
            {
              name: "app",
              lastStatus: "RUNNING",
              exitCode: 0,
              networkBindings: [{ containerPort: 80, hostPort: 32768, protocol: "tcp", bindIP: "0.0.0.0" }],
            },
          ],
          attributes: [{ name: "ecs.cpu-architecture", value: "x86_64" }],
          tags: [{ key: "env", value: "test" }],
        },
      ],
      failures: [{ arn: "arn:aws:ecs:us-east-1:000000000000:task/default/gone", reason: "MISSING" }],
    };
    const response = ecs.serialize("DescribeTasks", output, "req-1");
    const wireTasks = JSON.parse(String(response.body)).tasks;
    expect(wireTasks[0].createdAt).toBe(createdAt.getTime() / 1000);
    expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");

    const wire = new WireHandler().reply(response);
    const got: DescribeTasksCommandOutput = await new ECSClient(clientOptions(wire)).send(
      new DescribeTasksCommand({ tasks: ["0123456789abcdef"] }),
    );
    const { $metadata, ...data } = got;
    expect($metadata.httpStatusCode).toBe(200);
    expect($metadata.requestId).toBe("req-1");
    expect(data).toEqual(output);
    expect(got.tasks?.[0].createdAt).toBeInstanceOf(Date);
  });

  it("drops members the model does not declare", () => {
    const response = ecs.serialize("DeleteCluster", { cluster: { clusterName: "c", secret: "x" }, other: 1 }, "r");
    expect(JSON.parse(String(response.body))).toEqual({ cluster: { clusterName: "c" } });
  });
});

describe("awsJson1_1: Berth errors → SDK exceptions", () => {
  const send = async (response: ReturnType<typeof renderEcsError>) => {
    const wire = new WireHandler().reply(response);
    return new ECSClient(clientOptions(wire)).send(new DescribeTasksCommand({ tasks: ["x"] })).then(
      () => {
        throw new Error("expected the SDK to throw");
      },
      (e: unknown) => e as Error & { $metadata: { httpStatusCode?: number; requestId?: string } },
    );
  };

  it("ClientException becomes the SDK's ClientException", async () => {
    const e = await send(renderEcsError("ClientException", "Family is required."));
    expect(e).toBeInstanceOf(ClientException);
    expect(e.name).toBe("ClientException");
    expect(e.message).toBe("Family is required.");
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.$metadata.requestId).toBe("req-1");
  });

  it("ClusterNotFoundException becomes the SDK's ClusterNotFoundException", async () => {
    const e = await send(renderEcsError("ClusterNotFoundException", "Cluster not found."));
    expect(e).toBeInstanceOf(ClusterNotFoundException);
    expect(e.message).toBe("Cluster not found.");
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it("a validation failure from the parser reaches the SDK with its code and message", async () => {
    let err: unknown;
    try {
      ecs.parse({
        method: "POST",
        path: "/",
        query: new URLSearchParams(),
        headers: { "x-amz-target": "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition" },
        body: Buffer.from(JSON.stringify({ family: "f" })),
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ServiceError);
    const se = err as ServiceError;
    expect(se.code).toBe("ClientException");
    expect(se.message).toBe(
      "1 validation error detected: Value null at 'containerDefinitions' failed to satisfy constraint: Member must not be null",
    );
    const e = await send(renderEcsError(se.code, se.message, se.status));
    expect(e).toBeInstanceOf(ClientException);
    expect(e.message).toBe(se.message);
  });

  it("a code the model does not declare still reaches the SDK by name (e.g. ValidationException)", async () => {
    const e = await send(renderEcsError("ValidationException", "1 validation error detected: bad"));
    expect(e.name).toBe("ValidationException");
    expect(e.message).toBe("1 validation error detected: bad");
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it("a server fault keeps its 5xx status", async () => {
    const e = await send(ecs.renderError("ServerException", "boom", 500, "Receiver", "req-1"));
    expect(e.name).toBe("ServerException");
    expect(e.$metadata.httpStatusCode).toBe(500);
  });

  it("logs errors with modelled members round-trip", async () => {
    const wire = new WireHandler().reply(
      logs.renderError("ResourceNotFoundException", "The specified log group does not exist.", 400, "Sender", "r"),
    );
    const err = await new CloudWatchLogsClient(clientOptions(wire))
      .send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogsResourceNotFound);
    expect((err as Error).message).toBe("The specified log group does not exist.");
  });
});

describe("awsJson1_0 with awsQueryCompatible: CloudWatch (monitoring)", () => {
  const cwModel = loadModel("cloudwatch");
  const cw = awsJsonProtocol(cwModel, "InvalidParameterValue");
  const render = (code: string, message: string) =>
    cw.renderError(code, message, errorStatus(cwModel, code, 400), "Sender", "req-cw");
  const fail = async (response: ReturnType<typeof render>) =>
    (await new CloudWatchClient(clientOptions(new WireHandler().reply(response)))
      .send(new GetDashboardCommand({ DashboardName: "d" }))
      .catch((e: unknown) => e)) as Error & {
      $metadata: { httpStatusCode?: number };
      Code?: string;
      Error?: { Code?: string; Type?: string; Message?: string };
    };

  it("parses PutMetricData sent in query mode, timestamps to the millisecond", async () => {
    const wire = new WireHandler();
    const input = {
      Namespace: "Berth/Test",
      MetricData: [
        {
          MetricName: "Latency",
          Dimensions: [{ Name: "Service", Value: "web" }],
          Timestamp: new Date(1_076_856_176_741),
          Value: 1.5,
          Values: [1, 2.5, 1e-9],
          Counts: [1, 2, 3],
          Unit: "Seconds" as const,
          StorageResolution: 1,
        },
      ],
    };
    await new CloudWatchClient(clientOptions(wire)).send(new PutMetricDataCommand(input));
    const req = toWire(wire.last);
    expect(req.headers["x-amzn-query-mode"]).toBe("true");
    expect(req.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(req.headers["x-amz-target"]).toBe("GraniteServiceVersion20100801.PutMetricData");
    expect(cw.parse(req)).toEqual({ operation: "PutMetricData", input });
  });

  it("an error carries x-amzn-query-error and the SDK reports the query code", async () => {
    const response = render("ResourceNotFound", "Dashboard d does not exist");
    expect(response.headers["x-amzn-query-error"]).toBe("ResourceNotFound;Sender");
    expect(response.status).toBe(404);
    const e = await fail(response);
    expect(e).toBeInstanceOf(ResourceNotFound);
    expect(e.name).toBe("ResourceNotFound");
    expect(e.message).toBe("Dashboard d does not exist");
    expect(e.$metadata.httpStatusCode).toBe(404);
    expect(e.Error).toMatchObject({ Code: "ResourceNotFound", Type: "Sender" });
  });

  it("a shape name thrown by a provider goes out with the shape's query code", async () => {
    const response = render("InvalidParameterValueException", "The value -1 for parameter Period is invalid.");
    expect(response.headers["x-amzn-query-error"]).toBe("InvalidParameterValue;Sender");
    expect(JSON.parse(String(response.body)).__type).toBe("InvalidParameterValueException");
    const e = await fail(response);
    expect(e).toBeInstanceOf(InvalidParameterValueException);
    expect(e.Code).toBe("InvalidParameterValue");
    expect(e.Error?.Code).toBe("InvalidParameterValue");
  });

  it("a query code thrown by a provider names the modelled shape in __type", async () => {
    const response = render("InvalidParameterValue", "bad");
    expect(JSON.parse(String(response.body)).__type).toBe("InvalidParameterValueException");
    const e = await fail(response);
    expect(e).toBeInstanceOf(InvalidParameterValueException);
    expect(e.Code).toBe("InvalidParameterValue");
  });

  it("DashboardNotFoundError (code ResourceNotFound, 404) is reported as ResourceNotFound", async () => {
    const response = render("DashboardNotFoundError", "Dashboard d does not exist");
    expect(response.headers["x-amzn-query-error"]).toBe("ResourceNotFound;Sender");
    expect(response.status).toBe(404);
    const e = await fail(response);
    expect(e.Code).toBe("ResourceNotFound");
    expect(e.$metadata.httpStatusCode).toBe(404);
  });
});
