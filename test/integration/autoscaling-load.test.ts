import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  ApplicationAutoScalingClient,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingActivity,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  cleanup,
  createAlb,
  createTargetGroup,
  elbClient,
  httpGet,
  startBackend,
  waitForTargets,
} from "../support/elbv2.js";
import { type RunningBerth, clientConfig, startBerth } from "../support/berth.js";
import { awsvpc, ecsClient, removeContainersOf } from "../support/ecs.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const run = promisify(execFile);
const cluster = "scaling";
const ns = "ecs" as const;
const dim = "ecs:service:DesiredCount" as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A task that keeps its CPU busy until the epoch second `until`, then idles. Every task of the
 * service shares the deadline, so load arrives with the service and leaves at one moment.
 */
const burnUntil = (until: number) =>
  `end=${until}; while [ $(date +%s) -lt $end ]; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done; exec sleep 3600`;

describe("Application Auto Scaling under real load (own Berth, 10-second alarm periods)", () => {
  let berth: RunningBerth;
  let ecs: ECSClient;
  let aas: ApplicationAutoScalingClient;
  let cw: CloudWatchClient;

  beforeAll(async () => {
    berth = await startBerth({
      env: {
        BERTH_ECS_HEALTHY_AFTER_MS: "1000",
        BERTH_METRICS_INTERVAL_MS: "2500",
        BERTH_ALARM_TICK_MS: "500",
        BERTH_ALARM_DELAY_MS: "1000",
        BERTH_TARGET_TRACKING_PERIOD_SEC: "10",
        BERTH_TARGET_TRACKING_HIGH_PERIODS: "2",
        BERTH_TARGET_TRACKING_LOW_PERIODS: "3",
      },
    });
    ecs = ecsClient(berth.endpoint);
    aas = new ApplicationAutoScalingClient(clientConfig(berth.endpoint));
    cw = new CloudWatchClient(clientConfig(berth.endpoint));
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  });
  afterAll(async () => {
    for (const service of ["cpu", "step", "web"])
      await ecs?.send(new DeleteServiceCommand({ cluster, service, force: true })).catch(() => {});
    await berth?.stop();
    if (berth) removeContainersOf(berth.dataDir);
  });

  const createService = async (name: string, command: string, desiredCount: number) => {
    const def = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `scaling-${name}`,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "app", image: BUSYBOX_IMAGE, command: ["sh", "-c", command], stopTimeout: 1 }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: name,
        taskDefinition: def.taskDefinition!.taskDefinitionArn,
        desiredCount,
        launchType: "FARGATE",
        networkConfiguration: awsvpc,
      }),
    );
  };
  const service = async (name: string) =>
    (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0];
  /** Polls the service (bounded by time) until the predicate holds; returns the desired counts seen. */
  const watch = async (name: string, done: (desired: number, running: number) => boolean, ms: number) => {
    const seen: number[] = [];
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const s = await service(name);
      if (seen.at(-1) !== s.desiredCount) seen.push(s.desiredCount!);
      if (done(s.desiredCount!, s.runningCount!)) return seen;
      await sleep(1000);
    }
    throw new Error(`service ${name} did not get there in ${ms} ms; desired counts seen: ${seen.join(" → ")}`);
  };
  const activities = async (name: string) =>
    (
      await aas.send(
        new DescribeScalingActivitiesCommand({
          ServiceNamespace: ns,
          ResourceId: `service/${cluster}/${name}`,
          ScalableDimension: dim,
        }),
      )
    ).ScalingActivities!;

  it("target tracking on CPU scales a busy service out, and back in once it is idle", async () => {
    const loadEnds = Math.floor(Date.now() / 1000) + 75;
    await createService("cpu", burnUntil(loadEnds), 1);
    await aas.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: ns,
        ResourceId: `service/${cluster}/cpu`,
        ScalableDimension: dim,
        MinCapacity: 1,
        MaxCapacity: 3,
      }),
    );
    const policy = await aas.send(
      new PutScalingPolicyCommand({
        PolicyName: "cpu50",
        ServiceNamespace: ns,
        ResourceId: `service/${cluster}/cpu`,
        ScalableDimension: dim,
        PolicyType: "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 50,
          PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
          ScaleOutCooldown: 15,
          ScaleInCooldown: 10,
        },
      }),
    );

    // Real CPU: the tasks' CPU quota is 256 units and they use all of it.
    const out = await watch("cpu", (desired, running) => desired >= 2 && running >= 2, 90_000);
    expect(out[0]).toBe(1);
    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: "AWS/ECS",
        MetricName: "CPUUtilization",
        Dimensions: [
          { Name: "ClusterName", Value: cluster },
          { Name: "ServiceName", Value: "cpu" },
        ],
        StartTime: new Date(Date.now() - 120_000),
        EndTime: new Date(),
        Period: 10,
        Statistics: ["Average", "Maximum"],
      }),
    );
    expect(Math.max(...stats.Datapoints!.map((d) => d.Average!))).toBeGreaterThan(70);
    const high = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [policy.Alarms![0].AlarmName!] })))
      .MetricAlarms![0];
    expect(high.AlarmName).toMatch(/AlarmHigh/);

    // Load ends at `loadEnds`; AlarmLow (3 × 10 s below 45 %) brings the service back to its minimum.
    const back = await watch("cpu", (desired) => desired === 1 && Date.now() / 1000 > loadEnds, 150_000);
    expect(back.at(-1)).toBe(1);
    const story = (await activities("cpu")).reverse();
    const lines = story.map((a: ScalingActivity) => `${a.Description} | ${a.Cause} | ${a.StatusCode}`);
    expect(lines[0]).toMatch(
      /^Setting desired count to [23]\. \| monitor alarm TargetTracking-service\/scaling\/cpu-AlarmHigh-.* in state ALARM triggered policy cpu50 \| Successful$/,
    );
    expect(lines.at(-1)).toMatch(
      /^Setting desired count to 1\. \| monitor alarm TargetTracking-service\/scaling\/cpu-AlarmLow-.* in state ALARM triggered policy cpu50 \| Successful$/,
    );
    expect(story.every((a) => a.StatusMessage?.startsWith("Successfully set desired count to"))).toBe(true);
  }, 300_000);

  it("step scaling on a CPU alarm, set up with the AWS CLI as a user would", async () => {
    const aws = async (...args: string[]) => {
      const { stdout } = await run("/usr/bin/aws", ["--endpoint-url", berth.endpoint, "--output", "json", ...args], {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
      });
      return stdout.trim() ? JSON.parse(stdout) : {};
    };
    const loadEnds = Math.floor(Date.now() / 1000) + 60;
    await createService("step", burnUntil(loadEnds), 1);
    await aws(
      "application-autoscaling",
      "register-scalable-target",
      "--service-namespace",
      "ecs",
      "--resource-id",
      `service/${cluster}/step`,
      "--scalable-dimension",
      dim,
      "--min-capacity",
      "1",
      "--max-capacity",
      "3",
    );
    const policy = await aws(
      "application-autoscaling",
      "put-scaling-policy",
      "--service-namespace",
      "ecs",
      "--resource-id",
      `service/${cluster}/step`,
      "--scalable-dimension",
      dim,
      "--policy-name",
      "step-out",
      "--policy-type",
      "StepScaling",
      "--step-scaling-policy-configuration",
      JSON.stringify({
        AdjustmentType: "ChangeInCapacity",
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
        Cooldown: 20,
        MetricAggregationType: "Average",
      }),
    );
    expect(policy.PolicyARN).toMatch(/:scalingPolicy:.*:policyName\/step-out$/);
    await aws(
      "cloudwatch",
      "put-metric-alarm",
      "--alarm-name",
      "step-cpu-high",
      "--namespace",
      "AWS/ECS",
      "--metric-name",
      "CPUUtilization",
      "--dimensions",
      `Name=ClusterName,Value=${cluster}`,
      "Name=ServiceName,Value=step",
      "--statistic",
      "Average",
      "--period",
      "10",
      "--evaluation-periods",
      "2",
      "--threshold",
      "50",
      "--comparison-operator",
      "GreaterThanThreshold",
      "--alarm-actions",
      policy.PolicyARN,
    );
    const seen = await watch("step", (desired) => desired >= 2, 90_000);
    expect(seen[0]).toBe(1);
    const story = await aws(
      "application-autoscaling",
      "describe-scaling-activities",
      "--service-namespace",
      "ecs",
      "--resource-id",
      `service/${cluster}/step`,
    );
    expect(story.ScalingActivities.at(-1)).toMatchObject({
      Description: "Setting desired count to 2.",
      Cause: "monitor alarm step-cpu-high in state ALARM triggered policy step-out",
      StatusCode: "Successful",
    });
    const history = await aws(
      "cloudwatch",
      "describe-alarm-history",
      "--alarm-name",
      "step-cpu-high",
      "--history-item-type",
      "Action",
    );
    expect(history.AlarmHistoryItems[0].HistorySummary).toBe(`Successfully executed action ${policy.PolicyARN}`);
  }, 200_000);

  it("traffic through an ALB raises a step-scaling alarm on RequestCount and the service scales out", async () => {
    const elb = elbClient(berth.endpoint);
    const lbs: string[] = [];
    const tgs: string[] = [];
    let backend: Backend | undefined;
    try {
      backend = await startBackend("alb-web");
      const tg = await createTargetGroup(elb, "scaling");
      tgs.push(tg);
      await elb.send(
        new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: "127.0.0.1", Port: backend.port }] }),
      );
      const alb = await createAlb(elb, "scaling", tg, 8080);
      lbs.push(alb.loadBalancerArn);
      await waitForTargets(elb, tg, "healthy", 1);
      const lbDimension = alb.loadBalancerArn.split(":loadbalancer/")[1];

      await createService("web", "exec sleep 3600", 1);
      await aas.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: ns,
          ResourceId: `service/${cluster}/web`,
          ScalableDimension: dim,
          MinCapacity: 1,
          MaxCapacity: 3,
        }),
      );
      const policy = await aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "alb-step-out",
          ServiceNamespace: ns,
          ResourceId: `service/${cluster}/web`,
          ScalableDimension: dim,
          PolicyType: "StepScaling",
          StepScalingPolicyConfiguration: {
            AdjustmentType: "ChangeInCapacity",
            StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
            Cooldown: 120,
          },
        }),
      );
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName: "alb-busy",
          Namespace: "AWS/ApplicationELB",
          MetricName: "RequestCount",
          Dimensions: [{ Name: "LoadBalancer", Value: lbDimension }],
          Statistic: "Sum",
          Period: 10,
          EvaluationPeriods: 1,
          Threshold: 50,
          ComparisonOperator: "GreaterThanThreshold",
          AlarmActions: [policy.PolicyARN!],
        }),
      );

      // Real requests through the ALB, bounded in count and time, until the service scaled out.
      let sent = 0;
      let ok = 0;
      const deadline = Date.now() + 60_000;
      let desired = 1;
      // About 50 requests a second: well above 50 per 10-second period.
      while (sent < 3000 && Date.now() < deadline && desired < 2) {
        for (let i = 0; i < 25; i++, sent++) if ((await httpGet(`${alb.url}/hello`)).status === 200) ok++;
        desired = (await service("web")).desiredCount!;
        await sleep(500);
      }
      expect(desired).toBe(2);
      expect(ok).toBe(sent);
      const [activity] = await activities("web");
      expect(activity).toMatchObject({
        Description: "Setting desired count to 2.",
        Cause: "monitor alarm alb-busy in state ALARM triggered policy alb-step-out",
        StatusCode: "Successful",
      });
      const perTarget = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: "AWS/ApplicationELB",
          MetricName: "RequestCountPerTarget",
          Dimensions: [{ Name: "TargetGroup", Value: tg.split(":").pop()! }],
          StartTime: new Date(Date.now() - 120_000),
          EndTime: new Date(Date.now() + 10_000),
          Period: 60,
          Statistics: ["Sum"],
        }),
      );
      const total = perTarget.Datapoints!.reduce((n, d) => n + d.Sum!, 0);
      expect(total).toBeGreaterThan(50);
      expect(total).toBeLessThanOrEqual(sent + 10); // health checks are not requests
    } finally {
      await cleanup(elb, lbs, tgs);
      await backend?.close();
    }
  }, 200_000);
});
