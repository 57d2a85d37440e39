import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from "@aws-sdk/client-application-auto-scaling";
import { CreateRepositoryCommand, ECRClient } from "@aws-sdk/client-ecr";
import {
  CreateExpressGatewayServiceCommand,
  DeleteExpressGatewayServiceCommand,
  DescribeExpressGatewayServiceCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  type ECSClient,
  type ECSExpressGatewayService,
  UpdateExpressGatewayServiceCommand,
} from "@aws-sdk/client-ecs";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, clientConfig, startBerth } from "../support/berth.js";
import { DockerCli, VARIANT_LABEL } from "../support/docker.js";
import { ecsClient, removeContainersOf } from "../support/ecs.js";
import { elbClient, waitFor } from "../support/elbv2.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

/** The listener port of Express Mode's shared load balancers in this test (AWS: 443; Berth's default: 80). */
const PORT = 8086;
const suffix = Date.now().toString(36);
const AWS_CLI_V1 = "/root/.pyenv/versions/3.11.7/bin/aws";

const trust = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

describe("ECS Express Mode: one call → a service, a load balancer, scaling and a URL", () => {
  let berth: RunningBerth;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let aas: ApplicationAutoScalingClient;
  const docker = new DockerCli();
  const local: string[] = [];
  const pushed: string[] = [];
  let repoUri = "";
  let executionRoleArn = "";
  let infrastructureRoleArn = "";
  let serviceArn = "";

  const cliWith = (bin: string, ...args: string[]) =>
    JSON.parse(
      execFileSync(bin, ["--endpoint-url", berth.endpoint, "--output", "json", ...args], {
        encoding: "utf8",
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
      }),
    );
  /** The AWS CLI v2 (2.9 predates Express Mode) and v1 (whose botocore has the express-gateway-service commands). */
  const cli = (...args: string[]) => cliWith("/usr/bin/aws", ...args);
  const cliV1 = (...args: string[]) => cliWith(AWS_CLI_V1, ...args);

  /** An image whose httpd on 8080 serves `version` at / and answers the default health path /ping. */
  const buildAndPush = (version: string) => {
    const dir = mkdtempSync(join(tmpdir(), "berth-express-"));
    const tag = `berth-test/express-${version}:${suffix}`;
    try {
      writeFileSync(join(dir, "index.html"), `${version}\n`);
      writeFileSync(join(dir, "ping"), "ok\n");
      writeFileSync(
        join(dir, "Dockerfile"),
        [
          `FROM ${BUSYBOX_IMAGE}`,
          `LABEL ${VARIANT_LABEL}`,
          "COPY index.html ping /www/",
          'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
        ].join("\n"),
      );
      docker.run(["build", "-q", "-t", tag, dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    local.push(tag);
    const remote = `${repoUri}:${version}`;
    docker.run(["tag", tag, remote]);
    pushed.push(remote);
    docker.run(["push", remote]);
    return remote;
  };

  /** GET http://<endpoint>/ through the shared load balancer, resolving the name to its address (curl --resolve). */
  const curl = (endpoint: string, address: string) => {
    try {
      return execFileSync(
        "curl",
        [
          "-s",
          "-m",
          "5",
          "-w",
          "\n%{http_code}",
          "--resolve",
          `${endpoint}:${PORT}:${address}`,
          `http://${endpoint}:${PORT}/`,
        ],
        { encoding: "utf8" },
      );
    } catch (e) {
      return `curl failed: ${(e as Error).message}\n000`;
    }
  };

  /** What the service, its tasks and its targets look like (for failure messages). */
  const diagnose = async (tgArn: string) => {
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster: "default", services: ["web"] }))).services?.[0];
    const tasks = cli("ecs", "list-tasks", "--cluster", "default", "--desired-status", "STOPPED").taskArns as string[];
    const stopped = tasks.length
      ? cli("ecs", "describe-tasks", "--cluster", "default", "--tasks", ...tasks.slice(0, 5)).tasks.map(
          (t: { stoppedReason?: string; containers?: { reason?: string }[] }) =>
            `${t.stoppedReason} ${(t.containers ?? []).map((c) => c.reason).join(",")}`,
        )
      : [];
    const health = cli("elbv2", "describe-target-health", "--target-group-arn", tgArn).TargetHealthDescriptions;
    return JSON.stringify({ events: svc?.events?.slice(0, 5).map((e) => e.message), stopped, health });
  };

  const describeExpress = async () =>
    (await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn, include: ["TAGS"] }))).service!;

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_EXPRESS_LISTENER_PORT: String(PORT) } });
    ecs = ecsClient(berth.endpoint);
    elb = elbClient(berth.endpoint);
    aas = new ApplicationAutoScalingClient(clientConfig(berth.endpoint));
    const iam = new IAMClient(clientConfig(berth.endpoint));
    const exec = await iam.send(
      new CreateRoleCommand({
        RoleName: "ecsTaskExecutionRole",
        AssumeRolePolicyDocument: trust("ecs-tasks.amazonaws.com"),
      }),
    );
    executionRoleArn = exec.Role!.Arn!;
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: "ecsTaskExecutionRole",
        PolicyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
      }),
    );
    const infra = await iam.send(
      new CreateRoleCommand({
        RoleName: "ecsInfrastructureRole",
        AssumeRolePolicyDocument: trust("ecs.amazonaws.com"),
      }),
    );
    infrastructureRoleArn = infra.Role!.Arn!;
    const ecr = new ECRClient(clientConfig(berth.endpoint));
    repoUri = (await ecr.send(new CreateRepositoryCommand({ repositoryName: "express-web" }))).repository!
      .repositoryUri!;
    const password = execFileSync("/usr/bin/aws", ["--endpoint-url", berth.endpoint, "ecr", "get-login-password"], {
      encoding: "utf8",
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_DEFAULT_REGION: "us-east-1",
      },
    }).trim();
    docker.run(["login", "-u", "AWS", "--password-stdin", `localhost:${berth.port}`], password);
  });

  afterAll(async () => {
    if (serviceArn) await ecs?.send(new DeleteExpressGatewayServiceCommand({ serviceArn })).catch(() => undefined);
    await berth?.stop();
    if (berth) removeContainersOf(berth.dataDir);
    docker.removeImages(...pushed, ...local);
    docker.dispose();
  });

  it("creates ordinary resources, serves the image at its URL, rolls an update and deletes everything", async () => {
    const v1 = buildAndPush("v1");
    const v2 = buildAndPush("v2");
    const groupsBefore = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];

    // Bad input changes nothing: a missing cluster, a bad size.
    await expect(
      ecs.send(
        new CreateExpressGatewayServiceCommand({
          serviceName: "web",
          cluster: "nope",
          executionRoleArn,
          infrastructureRoleArn,
          primaryContainer: { image: v1, containerPort: 8080 },
        }),
      ),
    ).rejects.toMatchObject({ name: "ClusterNotFoundException" });
    await expect(
      ecs.send(
        new CreateExpressGatewayServiceCommand({
          serviceName: "web",
          executionRoleArn,
          infrastructureRoleArn,
          cpu: "256",
          memory: "4096",
          primaryContainer: { image: v1, containerPort: 8080 },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });
    expect((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).toEqual(groupsBefore);

    const startedAt = Date.now();
    const created = (
      await ecs.send(
        new CreateExpressGatewayServiceCommand({
          serviceName: "web",
          executionRoleArn,
          infrastructureRoleArn,
          cpu: "256",
          memory: "512",
          primaryContainer: { image: v1, containerPort: 8080, environment: [{ name: "GREETING", value: "hi" }] },
          scalingTarget: { minTaskCount: 1, maxTaskCount: 3 },
          tags: [{ key: "team", value: "web" }],
        }),
      )
    ).service!;
    serviceArn = created.serviceArn!;
    expect(serviceArn).toBe("arn:aws:ecs:us-east-1:000000000000:service/default/web");
    expect(created.status?.statusCode).toBe("ACTIVE");
    const config = created.activeConfigurations![0];
    expect(config).toMatchObject({
      cpu: "256",
      memory: "512",
      healthCheckPath: "/ping",
      executionRoleArn,
      primaryContainer: { image: v1, containerPort: 8080 },
      scalingTarget: { minTaskCount: 1, maxTaskCount: 3, autoScalingMetric: "AVERAGE_CPU", autoScalingTargetValue: 60 },
    });
    const endpoint = config.ingressPaths![0].endpoint!;
    expect(endpoint).toMatch(/^web-[0-9a-f]{8}\.ecs\.us-east-1\.on\.aws$/);

    // The same name again is refused while it exists.
    await expect(
      ecs.send(
        new CreateExpressGatewayServiceCommand({
          serviceName: "web",
          executionRoleArn,
          infrastructureRoleArn,
          primaryContainer: { image: v1 },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });

    // What it made, as the service revision lists it.
    const revision = (
      await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [config.serviceRevisionArn!] }))
    ).serviceRevisions![0];
    const managed = revision.ecsManagedResources!;
    const ingress = managed.ingressPaths![0];
    const lbArn = ingress.loadBalancer!.arn!;
    const tgArn = ingress.targetGroups![0].arn!;
    expect(managed.autoScaling?.applicationAutoScalingPolicies?.[0]).toMatchObject({
      policyType: "TargetTrackingScaling",
      metric: "ECSServiceAverageCPUUtilization",
      targetValue: 60,
    });
    expect(managed.metricAlarms).toHaveLength(2); // target tracking's high and low alarms
    expect(managed.serviceSecurityGroups?.[0]?.arn).toMatch(/security-group\/sg-/);

    // Faster health checks and draining than AWS's defaults, set on the ordinary target group.
    await elb.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: tgArn,
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
      }),
    );
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tgArn,
        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "1" }],
      }),
    );

    // Ordinary resources, as the AWS CLI v2 shows them.
    const services = cli("ecs", "describe-services", "--cluster", "default", "--services", "web").services;
    expect(services[0]).toMatchObject({
      serviceName: "web",
      launchType: "FARGATE",
      desiredCount: 1,
      loadBalancers: [{ targetGroupArn: tgArn, containerName: "Main", containerPort: 8080 }],
    });
    const groups = cli("elbv2", "describe-target-groups", "--target-group-arns", tgArn).TargetGroups;
    expect(groups[0]).toMatchObject({ Protocol: "HTTP", Port: 8080, TargetType: "ip", HealthCheckPath: "/ping" });
    expect(groups[0].LoadBalancerArns).toEqual([lbArn]);
    const policies = cli(
      "application-autoscaling",
      "describe-scaling-policies",
      "--service-namespace",
      "ecs",
    ).ScalingPolicies;
    expect(policies).toHaveLength(1);
    expect(policies[0]).toMatchObject({ ResourceId: "service/default/web", PolicyType: "TargetTrackingScaling" });
    const targets = (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs" }))).ScalableTargets!;
    expect(targets[0]).toMatchObject({ ResourceId: "service/default/web", MinCapacity: 1, MaxCapacity: 3 });

    // The URL serves the container, through the shared ALB routing by Host.
    const address = (await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] }))).LoadBalancers![0]
      .DNSName!;
    await waitFor(
      "v1 at the URL",
      async () => curl(endpoint, address),
      (out) => out === "v1\n\n200",
      60_000,
      500,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await diagnose(tgArn)}`);
    });
    process.stdout.write(`ECS Express Mode: create → first 200 at the URL in ${Date.now() - startedAt} ms\n`);
    expect(curl("other.example.com", address)).toMatch(/404$/); // the listener's default: no such service

    // A second service, from the AWS CLI, shares the load balancer with its own host-header rule.
    if (existsSync(AWS_CLI_V1)) {
      const api = cliV1(
        "ecs",
        "create-express-gateway-service",
        "--service-name",
        "api",
        "--execution-role-arn",
        executionRoleArn,
        "--infrastructure-role-arn",
        infrastructureRoleArn,
        "--primary-container",
        JSON.stringify({ image: v2, containerPort: 8080 }),
        "--cpu",
        "256",
        "--memory",
        "512",
      ).service;
      const apiEndpoint = api.activeConfigurations[0].ingressPaths[0].endpoint;
      const apiRevision = cliV1(
        "ecs",
        "describe-service-revisions",
        "--service-revision-arns",
        api.activeConfigurations[0].serviceRevisionArn,
      ).serviceRevisions[0];
      const apiIngress = apiRevision.ecsManagedResources.ingressPaths[0];
      expect(apiIngress.loadBalancer.arn).toBe(lbArn);
      await elb.send(
        new ModifyTargetGroupCommand({
          TargetGroupArn: apiIngress.targetGroups[0].arn,
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
        }),
      );
      await waitFor(
        "v2 at the api URL",
        async () => curl(apiEndpoint, address),
        (out) => out === "v2\n\n200",
        60_000,
        500,
      );
      expect(curl(endpoint, address)).toBe("v1\n\n200"); // each name to its own service
      const deleted = cliV1("ecs", "delete-express-gateway-service", "--service-arn", api.serviceArn).service;
      expect(deleted.status.statusCode).toBe("DRAINING");
      await waitFor(
        "api INACTIVE",
        async () => cliV1("ecs", "describe-express-gateway-service", "--service-arn", api.serviceArn).service,
        (s: { status: { statusCode: string } }) => s.status.statusCode === "INACTIVE",
        60_000,
        500,
      );
      // The load balancer stays for the first service; the api's target group is gone.
      expect(
        (await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!.map((l) => l.LoadBalancerArn),
      ).toEqual([lbArn]);
      expect(
        ((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((g) => g.TargetGroupArn),
      ).toEqual([...groupsBefore.map((g) => g.TargetGroupArn), tgArn]);
      expect(curl(apiEndpoint, address)).toMatch(/404$/);
    }

    // Update to a new image: a new task definition revision, rolled out.
    const updated = (
      await ecs.send(new UpdateExpressGatewayServiceCommand({ serviceArn, primaryContainer: { image: v2 } }))
    ).service!;
    expect(updated.targetConfiguration?.primaryContainer).toMatchObject({ image: v2, containerPort: 8080 });
    expect(updated.targetConfiguration?.primaryContainer?.environment).toEqual([{ name: "GREETING", value: "hi" }]);
    await waitFor(
      "v2 at the URL",
      async () => curl(endpoint, address),
      (out) => out === "v2\n\n200",
      90_000,
      500,
    );
    const rolled = await waitFor(
      "the service on one deployment",
      async () => (await ecs.send(new DescribeServicesCommand({ cluster: "default", services: ["web"] }))).services![0],
      (s) => s.deployments?.length === 1 && s.deployments[0].rolloutState === "COMPLETED",
      60_000,
      500,
    );
    expect(rolled.taskDefinition).toMatch(/task-definition\/web:2$/);
    const described = await describeExpress();
    expect(described.activeConfigurations).toHaveLength(1);
    expect(described.activeConfigurations![0].primaryContainer?.image).toBe(v2);
    expect(described.tags).toEqual([{ key: "team", value: "web" }]);

    // Delete: everything it made goes, leaving nothing behind.
    const deleting = (await ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn }))).service!;
    expect(deleting.status?.statusCode).toBe("DRAINING");
    const gone = await waitFor(
      "INACTIVE",
      describeExpress,
      (s: ECSExpressGatewayService) => s.status?.statusCode === "INACTIVE",
      60_000,
      500,
    );
    expect(gone.activeConfigurations).toEqual([]);
    serviceArn = "";
    expect((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).toEqual(groupsBefore);
    expect((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).toEqual([]);
    expect(
      cli("application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs").ScalingPolicies,
    ).toEqual([]);
    expect((await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs" }))).ScalableTargets).toEqual(
      [],
    );
    const after = cli("ecs", "describe-services", "--cluster", "default", "--services", "web").services;
    expect(after[0].status).toBe("INACTIVE");
    await expect(
      ecs.send(
        new UpdateExpressGatewayServiceCommand({ serviceArn: created.serviceArn, primaryContainer: { image: v1 } }),
      ),
    ).rejects.toMatchObject({ name: "ServiceNotFoundException" });
    await expect(
      ecs.send(
        new DescribeExpressGatewayServiceCommand({
          serviceArn: "arn:aws:ecs:us-east-1:000000000000:service/default/missing",
        }),
      ),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  }, 170_000);
});
