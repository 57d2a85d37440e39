import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EXPRESS_DEFAULTS,
  ExpressInvalid,
  chooseLoadBalancer,
  endpointOf,
  loadBalancerName,
  nextPriority,
  settingsOf,
  targetGroupName,
  taskDefinitionChanged,
  taskDefinitionOf,
} from "../../src/services/ecs/express/spec.js";

const role = "arn:aws:iam::000000000000:role/ecsTaskExecutionRole";
const ctx = { cluster: "default", serviceName: "web" };
const minimal = { executionRoleArn: role, primaryContainer: { image: "nginx" } };

describe("Express Mode defaults", () => {
  it("fills in AWS's defaults from an image and an execution role", () => {
    const s = settingsOf(minimal, ctx);
    expect(s).toEqual({
      executionRoleArn: role,
      cpu: "1024",
      memory: "2048",
      healthCheckPath: "/ping",
      primaryContainer: {
        image: "nginx",
        containerPort: 80,
        awsLogsConfiguration: { logGroup: "/aws/ecs/default/web", logStreamPrefix: "ecs" },
      },
      scalingTarget: {
        minTaskCount: 1,
        maxTaskCount: 20,
        autoScalingMetric: "AVERAGE_CPU",
        autoScalingTargetValue: 60,
      },
    });
  });

  it("derives a Fargate awsvpc task definition with the container Main", () => {
    const s = settingsOf(
      {
        ...minimal,
        taskRoleArn: "arn:aws:iam::000000000000:role/app",
        cpu: "256",
        memory: "512",
        primaryContainer: {
          image: "repo:1",
          containerPort: 8080,
          command: ["httpd", "-f"],
          environment: [{ name: "A", value: "1" }],
          secrets: [{ name: "S", valueFrom: "arn:aws:ssm:us-east-1:000000000000:parameter/s" }],
        },
      },
      ctx,
    );
    const td = taskDefinitionOf(s, { serviceName: "web", region: "us-east-1" });
    expect(td).toMatchObject({
      family: "web",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: role,
      taskRoleArn: "arn:aws:iam::000000000000:role/app",
    });
    const c = td.containerDefinitions[0];
    expect(c).toMatchObject({
      name: "Main",
      image: "repo:1",
      essential: true,
      portMappings: [{ containerPort: 8080, protocol: "tcp" }],
      command: ["httpd", "-f"],
      environment: [{ name: "A", value: "1" }],
      secrets: [{ name: "S", valueFrom: "arn:aws:ssm:us-east-1:000000000000:parameter/s" }],
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": "/aws/ecs/default/web",
          "awslogs-region": "us-east-1",
          "awslogs-stream-prefix": "ecs",
        },
      },
    });
  });

  it.each([
    ["no container", { executionRoleArn: role }, /primaryContainer must be specified/],
    ["an empty image", { executionRoleArn: role, primaryContainer: { image: " " } }, /image must be specified/],
    ["no execution role", { primaryContainer: { image: "x" } }, /executionRoleArn must be specified/],
    ["a bad role", { ...minimal, executionRoleArn: "role/x" }, /not a valid IAM role ARN/],
    ["a bad size", { ...minimal, cpu: "256", memory: "4096" }, /No Fargate configuration exists/],
    ["a bad port", { ...minimal, primaryContainer: { image: "x", containerPort: 70000 } }, /containerPort 70000/],
    ["a relative health path", { ...minimal, healthCheckPath: "health" }, /must start with a forward slash/],
    ["min > max", { ...minimal, scalingTarget: { minTaskCount: 3, maxTaskCount: 2 } }, /maxTaskCount/],
    ["min 0", { ...minimal, scalingTarget: { minTaskCount: 0 } }, /minTaskCount/],
    ["target 0", { ...minimal, scalingTarget: { autoScalingTargetValue: 0 } }, /autoScalingTargetValue/],
    [
      "a bad metric",
      { ...minimal, scalingTarget: { autoScalingMetric: "LATENCY" as never } },
      /autoScalingMetric 'LATENCY'/,
    ],
    ["a bad subnet", { ...minimal, networkConfiguration: { subnets: ["sub-1"] } }, /subnet ID 'sub-1' is malformed/],
    [
      "a bad env name",
      { ...minimal, primaryContainer: { image: "x", environment: [{ name: "1A", value: "" }] } },
      /not a valid variable name/,
    ],
  ])("refuses %s", (_label, input, message) => {
    expect(() => settingsOf(input, ctx)).toThrow(ExpressInvalid);
    expect(() => settingsOf(input, ctx)).toThrow(message);
  });

  it("keeps the previous configuration for what an update leaves out", () => {
    const first = settingsOf(
      {
        ...minimal,
        healthCheckPath: "/health",
        primaryContainer: { image: "app:1", containerPort: 8080, environment: [{ name: "A", value: "1" }] },
        scalingTarget: { minTaskCount: 2, maxTaskCount: 4 },
      },
      ctx,
    );
    const next = settingsOf({ primaryContainer: { image: "app:2" }, scalingTarget: { maxTaskCount: 6 } }, ctx, first);
    expect(next.primaryContainer).toEqual({ ...first.primaryContainer, image: "app:2" });
    expect(next.healthCheckPath).toBe("/health");
    expect(next.scalingTarget).toEqual({ ...first.scalingTarget, maxTaskCount: 6 });
    expect(taskDefinitionChanged(first, next)).toBe(true);
    const scaledOnly = settingsOf({ scalingTarget: { maxTaskCount: 8 } }, ctx, first);
    expect(taskDefinitionChanged(first, scaledOnly)).toBe(false);
  });
});

describe("Express Mode names and sharing", () => {
  it("gives a stable <name>-<hash>.ecs.<region>.on.aws endpoint", () => {
    const scope = { account: "000000000000", region: "eu-west-1" };
    const a = endpointOf(scope, "default", "My_App");
    expect(a).toMatch(/^my-app-[0-9a-f]{8}\.ecs\.eu-west-1\.on\.aws$/);
    expect(endpointOf(scope, "default", "My_App")).toBe(a);
    expect(endpointOf(scope, "other", "My_App")).not.toBe(a);
  });

  it("keeps ELBv2 names within 32 characters", () => {
    fc.assert(
      fc.property(fc.string(), (seed) => {
        expect(targetGroupName(seed).length).toBeLessThanOrEqual(32);
        expect(loadBalancerName(seed).length).toBeLessThanOrEqual(32);
      }),
    );
  });

  it("puts a service on the first shared load balancer with room for it (25 services each)", () => {
    expect(EXPRESS_DEFAULTS.servicesPerLoadBalancer).toBe(25);
    expect(chooseLoadBalancer([])).toBeUndefined();
    expect(
      chooseLoadBalancer([
        { arn: "a", services: 25 },
        { arn: "b", services: 3 },
      ]),
    ).toBe("b");
    expect(chooseLoadBalancer([{ arn: "a", services: 25 }])).toBeUndefined();
  });

  it("takes the lowest free rule priority", () => {
    expect(nextPriority([])).toBe(1);
    expect(nextPriority([1, 2, 4])).toBe(3);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 200 })), (used) => {
        const p = nextPriority(used);
        expect(used).not.toContain(p);
        for (let q = 1; q < p; q++) expect(used).toContain(q);
      }),
    );
  });
});
