import { randomUUID } from "node:crypto";
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeleteScheduledActionCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
  ListTagsForResourceCommand,
  ObjectNotFoundException,
  PutScalingPolicyCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
  TagResourceCommand,
  ValidationException,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clientConfig } from "../support/berth.js";
import { awsvpc, ecsClient } from "../support/ecs.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const ns = "ecs" as const;
const dim = "ecs:service:DesiredCount" as const;

describe("Application Auto Scaling API (SDK v3, awsJson1_1)", () => {
  const endpoint = inject("endpoint");
  const aas = new ApplicationAutoScalingClient(clientConfig(endpoint));
  const cw = new CloudWatchClient(clientConfig(endpoint));
  const ecs = ecsClient(endpoint);
  const cluster = `aas-${randomUUID().slice(0, 8)}`;
  const resource = (svc: string) => `service/${cluster}/${svc}`;
  const services = ["api", "sched", "capped"];

  beforeAll(async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const def = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "aas-idle",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "idle", image: BUSYBOX_IMAGE, command: ["sleep", "3600"], stopTimeout: 1 }],
      }),
    );
    for (const name of services)
      await ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: name,
          taskDefinition: def.taskDefinition!.taskDefinitionArn,
          desiredCount: 0,
          launchType: "FARGATE",
          networkConfiguration: awsvpc,
        }),
      );
  });
  afterAll(async () => {
    for (const name of services)
      await ecs.send(new DeleteServiceCommand({ cluster, service: name, force: true })).catch(() => {});
  });

  const fail = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as Error,
    );

  it("registers, describes, updates, tags and deregisters scalable targets; bad input changes nothing", async () => {
    const missing = await fail(
      aas.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: ns,
          ResourceId: resource("nope"),
          ScalableDimension: dim,
          MinCapacity: 0,
          MaxCapacity: 2,
        }),
      ),
    );
    expect(missing).toBeInstanceOf(ValidationException);
    expect(missing!.message).toBe(`ECS service doesn't exist: ${resource("nope")}`);
    const minMax = await fail(
      aas.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
          MinCapacity: 5,
          MaxCapacity: 2,
        }),
      ),
    );
    expect(minMax).toBeInstanceOf(ValidationException);
    expect(minMax!.message).toBe("Minimum capacity cannot be larger than maximum capacity");
    const noBounds = await fail(
      aas.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
        }),
      ),
    );
    expect(noBounds).toBeInstanceOf(ValidationException);
    expect(
      (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: ns, ResourceIds: [resource("api")] })))
        .ScalableTargets,
    ).toEqual([]);

    const reg = await aas.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
        MinCapacity: 0,
        MaxCapacity: 4,
        Tags: { team: "a" },
      }),
    );
    expect(reg.ScalableTargetARN).toMatch(
      /^arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target\/[0-9a-f]{36}$/,
    );
    await aas.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
        MaxCapacity: 6,
        SuspendedState: { DynamicScalingInSuspended: true },
      }),
    );
    const [target] = (
      await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: ns, ResourceIds: [resource("api")] }))
    ).ScalableTargets!;
    expect(target).toMatchObject({
      ServiceNamespace: "ecs",
      ResourceId: resource("api"),
      ScalableDimension: dim,
      MinCapacity: 0,
      MaxCapacity: 6,
      ScalableTargetARN: reg.ScalableTargetARN,
      SuspendedState: {
        DynamicScalingInSuspended: true,
        DynamicScalingOutSuspended: false,
        ScheduledScalingSuspended: false,
      },
      RoleARN: expect.stringMatching(/AWSServiceRoleForApplicationAutoScaling_ECSService$/),
    });
    await aas.send(new TagResourceCommand({ ResourceARN: reg.ScalableTargetARN, Tags: { env: "dev" } }));
    expect((await aas.send(new ListTagsForResourceCommand({ ResourceARN: reg.ScalableTargetARN }))).Tags).toEqual({
      team: "a",
      env: "dev",
    });
  });

  it("target tracking creates and owns AlarmHigh/AlarmLow as AWS does; step policies list the alarms that invoke them", async () => {
    const noTarget = await fail(
      aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "cpu",
          ServiceNamespace: ns,
          ResourceId: resource("sched"),
          ScalableDimension: dim,
          PolicyType: "TargetTrackingScaling",
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 50,
            PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
          },
        }),
      ),
    );
    expect(noTarget).toBeInstanceOf(ObjectNotFoundException);
    expect(noTarget!.message).toBe(
      `No scalable target registered for service namespace: ecs, resource ID: ${resource("sched")}, scalable dimension: ecs:service:DesiredCount`,
    );
    const badMetric = await fail(
      aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "cpu",
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
          PolicyType: "TargetTrackingScaling",
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 50,
            PredefinedMetricSpecification: { PredefinedMetricType: "DynamoDBReadCapacityUtilization" },
          },
        }),
      ),
    );
    expect(badMetric).toBeInstanceOf(ValidationException);
    const unknownMetric = await fail(
      aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "cpu",
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
          PolicyType: "TargetTrackingScaling",
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 50,
            PredefinedMetricSpecification: { PredefinedMetricType: "NoSuchMetric" as "ALBRequestCountPerTarget" },
          },
        }),
      ),
    );
    expect(unknownMetric).toBeInstanceOf(ValidationException);

    const tt = await aas.send(
      new PutScalingPolicyCommand({
        PolicyName: "cpu",
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
        PolicyType: "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 60,
          PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
          ScaleOutCooldown: 30,
        },
      }),
    );
    expect(tt.PolicyARN).toMatch(
      new RegExp(
        `^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:[0-9a-f-]{36}:resource/ecs/service/${cluster}/api:policyName/cpu$`,
      ),
    );
    expect(tt.Alarms!.map((a) => a.AlarmName)).toEqual([
      expect.stringMatching(new RegExp(`^TargetTracking-service/${cluster}/api-AlarmHigh-[0-9a-f-]{36}$`)),
      expect.stringMatching(new RegExp(`^TargetTracking-service/${cluster}/api-AlarmLow-[0-9a-f-]{36}$`)),
    ]);
    const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: tt.Alarms!.map((a) => a.AlarmName!) })))
      .MetricAlarms!;
    const high = alarms.find((a) => a.AlarmName!.includes("AlarmHigh"))!;
    const low = alarms.find((a) => a.AlarmName!.includes("AlarmLow"))!;
    expect(high).toMatchObject({
      AlarmDescription: `DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ${tt.PolicyARN}.`,
      Namespace: "AWS/ECS",
      MetricName: "CPUUtilization",
      Dimensions: [
        { Name: "ClusterName", Value: cluster },
        { Name: "ServiceName", Value: "api" },
      ],
      Statistic: "Average",
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 60,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: [tt.PolicyARN],
    });
    expect(low).toMatchObject({
      Period: 60,
      EvaluationPeriods: 15,
      Threshold: 54,
      ComparisonOperator: "LessThanThreshold",
    });

    // DisableScaleIn drops AlarmLow; the policy ARN and AlarmHigh stay.
    const again = await aas.send(
      new PutScalingPolicyCommand({
        PolicyName: "cpu",
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
        PolicyType: "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 70,
          PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageMemoryUtilization" },
          DisableScaleIn: true,
        },
      }),
    );
    expect(again.PolicyARN).toBe(tt.PolicyARN);
    expect(again.Alarms!.map((a) => a.AlarmName)).toEqual([high.AlarmName]);
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [low.AlarmName!] }))).MetricAlarms).toEqual([]);

    // ALBRequestCountPerTarget needs the target group's ResourceLabel and tracks its Sum per target.
    const albPolicy = (ResourceLabel?: string) =>
      aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "requests",
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
          PolicyType: "TargetTrackingScaling",
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 1000,
            PredefinedMetricSpecification: { PredefinedMetricType: "ALBRequestCountPerTarget", ResourceLabel },
          },
        }),
      );
    expect(await fail(albPolicy())).toBeInstanceOf(ValidationException);
    const requests = await albPolicy("app/web/50dc6c495c0c9188/targetgroup/web-tg/6d0ecf831eec9f09");
    const [reqHigh] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [requests.Alarms![0].AlarmName!] })))
      .MetricAlarms!;
    expect(reqHigh).toMatchObject({
      Namespace: "AWS/ApplicationELB",
      MetricName: "RequestCountPerTarget",
      Dimensions: [{ Name: "TargetGroup", Value: "targetgroup/web-tg/6d0ecf831eec9f09" }],
      Statistic: "Sum",
      Threshold: 1000,
    });
    await aas.send(
      new DeleteScalingPolicyCommand({
        PolicyName: "requests",
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
      }),
    );

    const badSteps = await fail(
      aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "step",
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
          PolicyType: "StepScaling",
          StepScalingPolicyConfiguration: {
            AdjustmentType: "ChangeInCapacity",
            StepAdjustments: [
              { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
              { MetricIntervalLowerBound: 20, ScalingAdjustment: 2 },
            ],
          },
        }),
      ),
    );
    expect(badSteps!.message).toMatch(/gaps/);
    const step = await aas.send(
      new PutScalingPolicyCommand({
        PolicyName: "step",
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
        PolicyType: "StepScaling",
        StepScalingPolicyConfiguration: {
          AdjustmentType: "ChangeInCapacity",
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
          Cooldown: 60,
        },
      }),
    );
    expect(step.Alarms).toBeUndefined();
    const alarmName = `step-${randomUUID().slice(0, 8)}`;
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: alarmName,
        Namespace: "AWS/ECS",
        MetricName: "CPUUtilization",
        Dimensions: [
          { Name: "ClusterName", Value: cluster },
          { Name: "ServiceName", Value: "api" },
        ],
        Statistic: "Average",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 80,
        ComparisonOperator: "GreaterThanThreshold",
        AlarmActions: [step.PolicyARN!],
      }),
    );
    const policies = (
      await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: ns, ResourceId: resource("api") }))
    ).ScalingPolicies!;
    expect(policies.map((p) => [p.PolicyName, p.PolicyType, p.Alarms!.map((a) => a.AlarmName)])).toEqual([
      ["cpu", "TargetTrackingScaling", [high.AlarmName]],
      ["step", "StepScaling", [alarmName]],
    ]);

    await aas.send(
      new DeleteScalingPolicyCommand({
        PolicyName: "cpu",
        ServiceNamespace: ns,
        ResourceId: resource("api"),
        ScalableDimension: dim,
      }),
    );
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [high.AlarmName!] }))).MetricAlarms).toEqual([]);
    const gone = await fail(
      aas.send(
        new DeleteScalingPolicyCommand({
          PolicyName: "cpu",
          ServiceNamespace: ns,
          ResourceId: resource("api"),
          ScalableDimension: dim,
        }),
      ),
    );
    expect(gone).toBeInstanceOf(ObjectNotFoundException);
    expect(gone!.message).toBe(
      `No scaling policy found for service namespace: ecs, resource ID: ${resource("api")}, scalable dimension: ecs:service:DesiredCount, policy name: cpu`,
    );
  });

  it("an alarm that asks for more than the maximum records a not-scaled activity, listed only on request", async () => {
    const target = { ServiceNamespace: ns, ResourceId: resource("capped"), ScalableDimension: dim };
    await aas.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 0, MaxCapacity: 0 }));
    const policy = await aas.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: "more",
        PolicyType: "StepScaling",
        StepScalingPolicyConfiguration: {
          AdjustmentType: "ChangeInCapacity",
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }],
        },
      }),
    );
    const alarmName = `capped-${randomUUID().slice(0, 8)}`;
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: alarmName,
        Namespace: "Berth/Test",
        MetricName: "Queue",
        Statistic: "Average",
        Period: 10,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: "GreaterThanThreshold",
        AlarmActions: [policy.PolicyARN!],
      }),
    );
    await cw.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: "ALARM", StateReason: "testing" }));
    const activities = async (IncludeNotScaledActivities?: boolean) =>
      (await aas.send(new DescribeScalingActivitiesCommand({ ...target, IncludeNotScaledActivities })))
        .ScalingActivities!;
    const deadline = Date.now() + 15_000;
    while ((await activities(true)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    // the alarm invokes the policy again at each evaluation; the repeat is not recorded again
    await new Promise((r) => setTimeout(r, 2500));
    expect(await activities(true)).toEqual([
      expect.objectContaining({
        Description: "Attempting to scale due to alarm triggered",
        Cause: `monitor alarm ${alarmName} in state ALARM triggered policy more`,
        StatusCode: "Failed",
        StatusMessage: "Failed to set desired count to 2",
        NotScaledReasons: [{ Code: "AlreadyAtMaxCapacity", MaxCapacity: 0 }],
      }),
    ]);
    expect(await activities()).toEqual([]);
    expect(await activities(false)).toEqual([]);
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: ["capped"] }))).services![0];
    expect(svc.desiredCount).toBe(0);
  });

  it("scheduled actions: bad expressions are rejected; an action changes the minimum capacity at its time", async () => {
    await aas.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: ns,
        ResourceId: resource("sched"),
        ScalableDimension: dim,
        MinCapacity: 0,
        MaxCapacity: 3,
      }),
    );
    const put = (Schedule: string, extra = {}) =>
      aas.send(
        new PutScheduledActionCommand({
          ServiceNamespace: ns,
          ResourceId: resource("sched"),
          ScalableDimension: dim,
          ScheduledActionName: "morning",
          Schedule,
          ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 3 },
          ...extra,
        }),
      );
    for (const bad of ["cron(0 9 * * *)", "rate(0 minutes)", "at(2026-13-01T00:00:00)", "tomorrow"]) {
      const e = await fail(put(bad));
      expect(e, bad).toBeInstanceOf(ValidationException);
      expect(e!.message).toMatch(/^Invalid schedule expression/);
    }
    expect(await fail(put("rate(1 day)", { Timezone: "Mars/Olympus" }))).toBeInstanceOf(ValidationException);
    expect(
      (await aas.send(new DescribeScheduledActionsCommand({ ServiceNamespace: ns, ResourceId: resource("sched") })))
        .ScheduledActions,
    ).toEqual([]);

    const at = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    const atText = at.toISOString().slice(0, 19);
    await put(`at(${atText})`);
    const [action] = (
      await aas.send(new DescribeScheduledActionsCommand({ ServiceNamespace: ns, ResourceId: resource("sched") }))
    ).ScheduledActions!;
    expect(action).toMatchObject({
      ScheduledActionName: "morning",
      Schedule: `at(${atText})`,
      ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 3 },
      ScheduledActionARN: expect.stringMatching(
        /:scheduledAction:[0-9a-f-]{36}:resource\/ecs\/service\/.*:scheduledActionName\/morning$/,
      ),
    });
    // Before its time nothing happens; at its time the minimum becomes 1 and the service follows.
    const deadline = Date.now() + 30_000;
    let desired = 0;
    while (Date.now() < deadline) {
      desired = (await ecs.send(new DescribeServicesCommand({ cluster, services: ["sched"] }))).services![0]
        .desiredCount!;
      if (desired === 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(desired).toBe(1);
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime());
    const [target] = (
      await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: ns, ResourceIds: [resource("sched")] }))
    ).ScalableTargets!;
    expect(target).toMatchObject({ MinCapacity: 1, MaxCapacity: 3 });
    const activities = (
      await aas.send(
        new DescribeScalingActivitiesCommand({
          ServiceNamespace: ns,
          ResourceId: resource("sched"),
          ScalableDimension: dim,
        }),
      )
    ).ScalingActivities!;
    expect(activities.map((a) => [a.Description, a.Cause, a.StatusCode])).toEqual([
      ["Setting desired count to 1.", "minimum capacity was set to 1", "Successful"],
      ["Setting min capacity to 1 and max capacity to 3", "scheduled action name morning was triggered", "Successful"],
    ]);
    expect(activities[0].StatusMessage).toBe(
      "Successfully set desired count to 1. Change successfully fulfilled by ecs.",
    );

    await aas.send(
      new DeleteScheduledActionCommand({
        ServiceNamespace: ns,
        ResourceId: resource("sched"),
        ScalableDimension: dim,
        ScheduledActionName: "morning",
      }),
    );
    const again = await fail(
      aas.send(
        new DeleteScheduledActionCommand({
          ServiceNamespace: ns,
          ResourceId: resource("sched"),
          ScalableDimension: dim,
          ScheduledActionName: "morning",
        }),
      ),
    );
    expect(again).toBeInstanceOf(ObjectNotFoundException);

    // Deregistering removes the target with its policies and scheduled actions.
    await aas.send(
      new DeregisterScalableTargetCommand({
        ServiceNamespace: ns,
        ResourceId: resource("sched"),
        ScalableDimension: dim,
      }),
    );
    expect(
      await fail(
        aas.send(
          new DeregisterScalableTargetCommand({
            ServiceNamespace: ns,
            ResourceId: resource("sched"),
            ScalableDimension: dim,
          }),
        ),
      ),
    ).toBeInstanceOf(ObjectNotFoundException);
  });
});
