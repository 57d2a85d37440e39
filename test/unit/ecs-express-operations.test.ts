import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.js";
import { localDockerHost } from "../../src/hosts/local.js";
import { HostRegistry } from "../../src/hosts/registry.js";
import type { RequestContext } from "../../src/protocol/service.js";
import type { ContainerRuntime } from "../../src/runtime/runtime.js";
import { ecsScalableResources } from "../../src/services/application-autoscaling/ecs-resources.js";
import { applicationAutoScalingService } from "../../src/services/application-autoscaling/provider.js";
import { alarmWriter } from "../../src/services/cloudwatch/alarms.js";
import { ecsService } from "../../src/services/ecs/provider.js";
import { elbv2Service } from "../../src/services/elbv2/provider.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { CloudWatchState } from "../../src/store/schema/cloudwatch.js";

/**
 * Express Mode over the real ECS, ELBv2 and Application Auto Scaling providers (in-memory store,
 * no data plane): what one call creates, how services share a load balancer, and that a failing
 * step leaves nothing behind.
 */
describe("ECS Express Mode operations", () => {
  let db: Db;
  let store: DocumentStore;
  let ecs: ReturnType<typeof ecsService>;
  let elb: ReturnType<typeof elbv2Service>;
  let portFree = true;
  const clock: Clock = { now: () => new Date(Date.UTC(2025, 0, 10)) };
  const ctx: RequestContext = {
    account: "000000000000",
    region: "us-east-1",
    requestId: "test",
    principal: { accessKeyId: "test", arn: "arn:aws:iam::000000000000:root" },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  type Any = any;
  const call = async (op: string, input: Any): Promise<Any> => ecs.service.provider[op]!(input, ctx);
  const elbCall = async (op: string, input: Any): Promise<Any> => elb.service.provider[op]!(input, ctx);
  const role = "arn:aws:iam::000000000000:role/exec";
  const create = (serviceName: string, extra: Any = {}) =>
    call("CreateExpressGatewayService", {
      serviceName,
      executionRoleArn: role,
      infrastructureRoleArn: "arn:aws:iam::000000000000:role/infra",
      primaryContainer: { image: "app:1", containerPort: 8080 },
      ...extra,
    });
  const counts = async () => ({
    loadBalancers: (await elbCall("DescribeLoadBalancers", {})).LoadBalancers.length,
    targetGroups: (await elbCall("DescribeTargetGroups", {})).TargetGroups.length,
    services: ecs.ecs.services.list(ctx).filter((s) => s.status !== "INACTIVE").length,
    taskDefinitions: ecs.ecs.taskDefinitions.list(ctx).filter((d) => d.status === "ACTIVE").length,
  });

  beforeEach(() => {
    portFree = true;
    db = openDb(":memory:");
    store = new DocumentStore(db);
    elb = elbv2Service({ store, clock, probePort: async () => (portFree ? undefined : "address in use") });
    const hosts = new HostRegistry([localDockerHost({} as ContainerRuntime, { cpuUnits: 4096, memoryMiB: 8192 })]);
    let scaling: ReturnType<typeof applicationAutoScalingService> | undefined;
    ecs = ecsService({
      store,
      clock,
      hosts,
      loadBalancing: () => elb.loadBalancing,
      express: { elbv2: () => elb.provider, scaling: () => scaling?.provider, listenerPort: 80 },
    });
    scaling = applicationAutoScalingService({
      store,
      clock,
      resources: ecsScalableResources(ecs.ecs),
      alarms: alarmWriter(new CloudWatchState(store, clock)),
      alarmsWithAction: () => [],
      timings: { targetTrackingPeriodSec: 60, targetTrackingHighPeriods: 3, targetTrackingLowPeriods: 15 },
    });
  });
  afterEach(() => db.close());

  it("creates a task definition, service, target group, rule, load balancer and scaling", async () => {
    const { service } = await create("web");
    expect(service.status.statusCode).toBe("ACTIVE");
    expect(await counts()).toEqual({ loadBalancers: 1, targetGroups: 1, services: 1, taskDefinitions: 1 });
    const svc = ecs.ecs.services.get(ctx, "default/web")!;
    expect(svc).toMatchObject({ desiredCount: 1, launchType: "FARGATE", resourceManagementType: "ECS" });
    const tg = (await elbCall("DescribeTargetGroups", {})).TargetGroups[0];
    expect(tg).toMatchObject({ HealthCheckPath: "/ping", Port: 8080, TargetType: "ip" });
    const lb = (await elbCall("DescribeLoadBalancers", {})).LoadBalancers[0];
    const [listener] = (await elbCall("DescribeListeners", { LoadBalancerArn: lb.LoadBalancerArn })).Listeners;
    expect(listener).toMatchObject({ Port: 80, Protocol: "HTTP" });
    const rules = (await elbCall("DescribeRules", { ListenerArn: listener.ListenerArn })).Rules;
    expect(rules[0].Conditions).toMatchObject([
      {
        Field: "host-header",
        HostHeaderConfig: { Values: [service.activeConfigurations[0].ingressPaths[0].endpoint] },
      },
    ]);
    expect(svc.networkConfiguration?.awsvpcConfiguration?.subnets).toEqual(
      lb.AvailabilityZones.map((z: Any) => z.SubnetId),
    );
  });

  it("shares one load balancer between services and removes it with the last", async () => {
    const a = (await create("a")).service;
    const b = (
      await create("b", {
        scalingTarget: { autoScalingMetric: "REQUEST_COUNT_PER_TARGET", autoScalingTargetValue: 100 },
      })
    ).service;
    expect(await counts()).toMatchObject({ loadBalancers: 1, targetGroups: 2 });
    const revision = (
      await call("DescribeServiceRevisions", {
        serviceRevisionArns: [b.activeConfigurations[0].serviceRevisionArn],
      })
    ).serviceRevisions[0];
    expect(revision.ecsManagedResources.autoScaling.applicationAutoScalingPolicies[0].metric).toBe(
      "ALBRequestCountPerTarget",
    );

    await call("DeleteExpressGatewayService", { serviceArn: a.serviceArn });
    // The ECS service drains first (the scheduler is not running here: finish it by hand).
    const drained = (name: string) => {
      const s = ecs.ecs.services.get(ctx, `default/${name}`)!;
      ecs.ecs.services.put(ctx, { ...s, status: "INACTIVE" });
    };
    drained("a");
    const goneA = (await call("DescribeExpressGatewayService", { serviceArn: a.serviceArn })).service;
    expect(goneA.status.statusCode).toBe("INACTIVE");
    expect(await counts()).toMatchObject({ loadBalancers: 1, targetGroups: 1, services: 1 });

    await call("DeleteExpressGatewayService", { serviceArn: b.serviceArn });
    drained("b");
    await call("DescribeExpressGatewayService", { serviceArn: b.serviceArn });
    expect(await counts()).toEqual({ loadBalancers: 0, targetGroups: 0, services: 0, taskDefinitions: 0 });
    const scaling = (await call("DescribeServiceRevisions", { serviceRevisionArns: ["x"] })).failures;
    expect(scaling).toEqual([{ arn: "x", reason: "MISSING" }]);
  });

  it("undoes what it made when a later step fails (the listener's port is taken)", async () => {
    portFree = false;
    await expect(create("web")).rejects.toMatchObject({ code: "InvalidParameterException" });
    expect(await counts()).toEqual({ loadBalancers: 0, targetGroups: 0, services: 0, taskDefinitions: 0 });
    portFree = true;
    await create("web");
    expect(await counts()).toEqual({ loadBalancers: 1, targetGroups: 1, services: 1, taskDefinitions: 1 });
  });

  it("answers bad requests with ECS's errors and creates nothing", async () => {
    await expect(create("web", { cluster: "missing" })).rejects.toMatchObject({ code: "ClusterNotFoundException" });
    await expect(create("bad name!")).rejects.toMatchObject({ code: "InvalidParameterException" });
    await expect(create("web", { infrastructureRoleArn: "infra" })).rejects.toMatchObject({
      code: "InvalidParameterException",
    });
    expect(await counts()).toEqual({ loadBalancers: 0, targetGroups: 0, services: 0, taskDefinitions: 0 });
    await create("web");
    await expect(create("web")).rejects.toMatchObject({ code: "InvalidParameterException" });
    const unknown = "arn:aws:ecs:us-east-1:000000000000:service/default/nope";
    await expect(call("DescribeExpressGatewayService", { serviceArn: unknown })).rejects.toMatchObject({
      code: "ResourceNotFoundException",
    });
    await expect(
      call("UpdateExpressGatewayService", { serviceArn: unknown, primaryContainer: { image: "x" } }),
    ).rejects.toMatchObject({ code: "ServiceNotFoundException" });
    await expect(call("DeleteExpressGatewayService", { serviceArn: unknown })).rejects.toMatchObject({
      code: "ServiceNotFoundException",
    });
  });

  it("updates: a new task definition revision only when the task changes; scaling bounds clamp the count", async () => {
    const { service } = await create("web");
    const arn = service.serviceArn;
    await call("UpdateExpressGatewayService", { serviceArn: arn, scalingTarget: { minTaskCount: 2, maxTaskCount: 4 } });
    let svc = ecs.ecs.services.get(ctx, "default/web")!;
    expect(svc.taskDefinition).toMatch(/web:1$/);
    expect(svc.desiredCount).toBe(2);
    const out = await call("UpdateExpressGatewayService", { serviceArn: arn, primaryContainer: { image: "app:2" } });
    expect(out.service.targetConfiguration.primaryContainer).toMatchObject({ image: "app:2", containerPort: 8080 });
    svc = ecs.ecs.services.get(ctx, "default/web")!;
    expect(svc.taskDefinition).toMatch(/web:2$/);
    expect(svc.deployments.map((d) => d.status)).toEqual(["PRIMARY", "ACTIVE"]);
    const described = (await call("DescribeExpressGatewayService", { serviceArn: arn })).service;
    expect(described.activeConfigurations.map((c: Any) => c.primaryContainer.image)).toEqual(["app:2", "app:1"]);
    await expect(
      call("UpdateExpressGatewayService", { serviceArn: arn, cpu: "256", memory: "8192" }),
    ).rejects.toMatchObject({ code: "InvalidParameterException" });
    await call("DeleteExpressGatewayService", { serviceArn: arn });
    await expect(
      call("UpdateExpressGatewayService", { serviceArn: arn, primaryContainer: { image: "x" } }),
    ).rejects.toMatchObject({ code: "ServiceNotActiveException" });
  });
});
