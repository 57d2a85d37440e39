import { rmSync } from "node:fs";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DeletePolicyCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  ExecutePolicyCommand,
  PutScalingPolicyCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  type ECSClient,
  ListContainerInstancesCommand,
} from "@aws-sdk/client-ecs";
import { IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInstanceProfile, ecsUserData } from "../support/agent-hosts.js";
import { type RunningBerth, clientConfig, startBerth } from "../support/berth.js";
import { ecsClient } from "../support/ecs.js";
import { waitFor } from "../support/elbv2.js";

const CLUSTER = "asg-agents";
const GROUP = "web-asg";

/**
 * EC2 Auto Scaling with real agent hosts: a group launches instances from a launch template
 * (ECS-optimized AMI, user data naming the cluster), they join the ECS cluster, scale-in spares
 * protected instances, and ForceDelete terminates the rest. At most 2 hosts run at once.
 */
describe("EC2 Auto Scaling groups of agent hosts", () => {
  let berth: RunningBerth;
  let asg: AutoScalingClient;
  let ec2: EC2Client;
  let ecs: ECSClient;
  let templateId: string;
  let subnets: string[];

  const group = async () =>
    (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }))).AutoScalingGroups?.[0];
  const ec2Instances = async () =>
    (
      await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: "tag:aws:autoscaling:groupName", Values: [GROUP] }] }),
      )
    ).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
    asg = new AutoScalingClient(clientConfig(berth.endpoint));
    ec2 = new EC2Client(clientConfig(berth.endpoint));
    ecs = ecsClient(berth.endpoint);
    await createInstanceProfile(new IAMClient(clientConfig(berth.endpoint)), "ecsInstanceRole");
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const images = await ec2.send(
      new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["al2023-ami-ecs-hvm-*"] }] }),
    );
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: "ecs-hosts",
        LaunchTemplateData: {
          ImageId: images.Images![0].ImageId,
          InstanceType: "t3.small",
          IamInstanceProfile: { Name: "ecsInstanceRole" },
          UserData: ecsUserData(CLUSTER),
        },
      }),
    );
    templateId = lt.LaunchTemplate!.LaunchTemplateId!;
    const all = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.filter((s) => s.DefaultForAz);
    subnets = all
      .sort((a, b) => a.AvailabilityZone!.localeCompare(b.AvailabilityZone!))
      .slice(0, 2)
      .map((s) => s.SubnetId!);
  });

  afterAll(async () => {
    await asg
      .send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, ForceDelete: true }))
      .catch(() => {});
    const left = (await ec2Instances().catch(() => [])).filter((i) => i.State?.Name !== "terminated");
    if (left.length)
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: left.map((i) => i.InstanceId!) })).catch(() => {});
    await waitFor(
      "instances terminated",
      ec2Instances,
      (l) => l.every((i) => i.State?.Name === "terminated"),
      60_000,
      500,
    ).catch(() => undefined);
    await berth.stop();
    rmSync(berth.dataDir, { recursive: true, force: true });
  });

  it("refuses bad groups with AWS's codes and changes nothing", async () => {
    const base = {
      AutoScalingGroupName: "bad",
      LaunchTemplate: { LaunchTemplateId: templateId, Version: "$Latest" },
      VPCZoneIdentifier: subnets.join(","),
    };
    await expect(
      asg.send(new CreateAutoScalingGroupCommand({ ...base, MinSize: 2, MaxSize: 1 })),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "Max bound, 1, must be greater than or equal to min bound, 2",
    });
    await expect(
      asg.send(new CreateAutoScalingGroupCommand({ ...base, MinSize: 0, MaxSize: 3, DesiredCapacity: 4 })),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "Desired capacity:4 must be between the specified min size:0 and max size:3",
    });
    await expect(
      asg.send(
        new CreateAutoScalingGroupCommand({
          ...base,
          MinSize: 0,
          MaxSize: 1,
          LaunchTemplate: { LaunchTemplateId: "lt-0123456789abcdef0" },
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationError",
      message: "The specified launch template, with template ID lt-0123456789abcdef0, does not exist.",
    });
    await expect(
      asg.send(new CreateAutoScalingGroupCommand({ ...base, MinSize: 0, MaxSize: 1, VPCZoneIdentifier: undefined })),
    ).rejects.toMatchObject({ name: "ValidationError" });
    const groups = await asg.send(new DescribeAutoScalingGroupsCommand({}));
    expect(groups.AutoScalingGroups).toEqual([]);
  });

  it("a group of 2 launches 2 instances across its subnets that go InService and join the ECS cluster", async () => {
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: GROUP,
        LaunchTemplate: { LaunchTemplateName: "ecs-hosts", Version: "$Default" },
        MinSize: 0,
        MaxSize: 3,
        DesiredCapacity: 2,
        VPCZoneIdentifier: subnets.join(","),
        Tags: [
          { Key: "team", Value: "web", PropagateAtLaunch: true },
          { Key: "internal", Value: "x", PropagateAtLaunch: false },
        ],
      }),
    );
    await expect(
      asg.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: GROUP,
          LaunchTemplate: { LaunchTemplateId: templateId },
          MinSize: 0,
          MaxSize: 1,
          VPCZoneIdentifier: subnets[0],
        }),
      ),
    ).rejects.toMatchObject({ name: "AlreadyExistsFault" });
    const g = await waitFor(
      "2 InService instances",
      group,
      (x) => x?.Instances?.filter((i) => i.LifecycleState === "InService").length === 2,
      120_000,
      500,
    );
    expect(g).toMatchObject({
      MinSize: 0,
      MaxSize: 3,
      DesiredCapacity: 2,
      DefaultCooldown: 300,
      HealthCheckType: "EC2",
      LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: "ecs-hosts", Version: "$Default" },
    });
    expect(new Set(g!.Instances!.map((i) => i.AvailabilityZone)).size).toBe(2);
    for (const i of g!.Instances!)
      expect(i).toMatchObject({ HealthStatus: "Healthy", ProtectedFromScaleIn: false, InstanceType: "t3.small" });
    const tags = (await ec2Instances())[0].Tags ?? [];
    expect(tags).toContainEqual({ Key: "team", Value: "web" });
    expect(tags.find((t) => t.Key === "internal")).toBeUndefined();
    const ids = g!.Instances!.map((i) => i.InstanceId!);
    await waitFor(
      "both instances connected to the cluster",
      async () => {
        const arns =
          (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
        if (!arns.length) return [];
        return (await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns })))
          .containerInstances!;
      },
      (list) => ids.every((id) => list.some((c) => c.ec2InstanceId === id && c.agentConnected)),
      90_000,
      500,
    );
    const activities = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: GROUP })))
      .Activities!;
    const launches = activities.filter((a) => a.Description?.startsWith("Launching a new EC2 instance: i-"));
    expect(launches).toHaveLength(2);
    expect(launches.every((a) => a.StatusCode === "Successful")).toBe(true);
    expect(launches[0].Cause).toMatch(
      /^At \S+Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 2\. {2}At \S+Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from \d to \d\.$/,
    );
    await expect(asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: GROUP }))).rejects.toMatchObject({
      name: "ResourceInUseFault",
    });
  });

  it("an instance terminated behind the group's back, or through the group without decrement, is replaced", async () => {
    const inService = (g: Awaited<ReturnType<typeof group>>) =>
      (g?.Instances ?? []).filter((i) => i.LifecycleState === "InService").map((i) => i.InstanceId!);
    const before = inService(await group());
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [before[0]] }));
    const healed = await waitFor(
      "a replacement InService",
      group,
      (g) => inService(g).length === 2 && !inService(g).includes(before[0]),
      60_000,
      500,
    );
    const health = (
      await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: GROUP }))
    ).Activities!.find((a) => a.Description === `Terminating EC2 instance: ${before[0]}`);
    expect(health?.Cause).toMatch(/EC2 health check indicating it has been terminated or stopped\.$/);
    const victim = inService(healed)[0];
    const out = await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }),
    );
    expect(out.Activity).toMatchObject({
      Description: `Terminating EC2 instance: ${victim}`,
      StatusCode: "InProgress",
    });
    const after = await waitFor(
      "the terminated one replaced",
      group,
      (g) => inService(g).length === 2 && !inService(g).includes(victim) && g?.Instances?.length === 2,
      60_000,
      500,
    );
    expect(after?.DesiredCapacity).toBe(2);
  });

  it("a Berth restart keeps the group and its instances: none lost, none launched twice", async () => {
    const before = (await group())!.Instances!.map((i) => i.InstanceId).sort();
    const { dataDir, port } = berth;
    await berth.stop();
    berth = await startBerth({ dataDir, port, env: { BERTH_LOG_LEVEL: "warn" } });
    const after = await waitFor(
      "the group's instances InService again",
      group,
      (g) => g?.Instances?.length === 2 && g.Instances.every((i) => i.LifecycleState === "InService"),
      60_000,
      500,
    );
    expect(after!.Instances!.map((i) => i.InstanceId).sort()).toEqual(before);
    const live = (await ec2Instances()).filter((i) => i.State?.Name !== "terminated");
    expect(live.map((i) => i.InstanceId).sort()).toEqual(before);
  });

  it("scale-in to 0 terminates the unprotected instance and keeps the protected one", async () => {
    const g = await group();
    const [keep, drop] = g!.Instances!.map((i) => i.InstanceId!);
    await asg.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: GROUP,
        InstanceIds: [keep],
        ProtectedFromScaleIn: true,
      }),
    );
    await expect(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 4 })),
    ).rejects.toMatchObject({ name: "ValidationError" });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 0 }));
    const after = await waitFor(
      "the unprotected instance gone from the group",
      group,
      (x) => x?.Instances?.length === 1,
      60_000,
      500,
    );
    expect(after!.Instances![0]).toMatchObject({
      InstanceId: keep,
      LifecycleState: "InService",
      ProtectedFromScaleIn: true,
    });
    const dropped = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [drop] }))).Reservations![0]
      .Instances![0];
    expect(dropped.State?.Name).toBe("terminated");
    const described = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [keep] }));
    expect(described.AutoScalingInstances?.[0]).toMatchObject({ AutoScalingGroupName: GROUP, HealthStatus: "HEALTHY" });
  });

  it("policies: target tracking owns its alarms; a simple policy sets desired capacity", async () => {
    const tt = await asg.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: GROUP,
        PolicyName: "cpu50",
        PolicyType: "TargetTrackingScaling",
        TargetTrackingConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: "ASGAverageCPUUtilization" },
          TargetValue: 50,
        },
      }),
    );
    expect(tt.PolicyARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:\d{12}:scalingPolicy:[0-9a-f-]+:autoScalingGroupName\/web-asg:policyName\/cpu50$/,
    );
    expect(tt.Alarms?.map((a) => a.AlarmName)).toEqual([
      expect.stringMatching(/^TargetTracking-web-asg-AlarmHigh-[0-9a-f-]{36}$/),
      expect.stringMatching(/^TargetTracking-web-asg-AlarmLow-[0-9a-f-]{36}$/),
    ]);
    const cw = new CloudWatchClient(clientConfig(berth.endpoint));
    const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "TargetTracking-web-asg-" })))
      .MetricAlarms!;
    expect(alarms.map((a) => a.AlarmActions)).toEqual([[tt.PolicyARN], [tt.PolicyARN]]);
    expect(alarms[0]).toMatchObject({ Namespace: "AWS/EC2", MetricName: "CPUUtilization" });
    await asg.send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: GROUP,
        PolicyName: "plus-one",
        AdjustmentType: "ChangeInCapacity",
        ScalingAdjustment: 1,
      }),
    );
    const listed = (await asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: GROUP }))).ScalingPolicies!;
    expect(listed.map((p) => [p.PolicyName, p.PolicyType])).toEqual([
      ["cpu50", "TargetTrackingScaling"],
      ["plus-one", "SimpleScaling"],
    ]);
    // Desired 0 → 1: the protected instance already covers it, so nothing launches.
    await asg.send(new ExecutePolicyCommand({ AutoScalingGroupName: GROUP, PolicyName: "plus-one" }));
    expect((await group())?.DesiredCapacity).toBe(1);
    await asg.send(new DeletePolicyCommand({ AutoScalingGroupName: GROUP, PolicyName: "cpu50" }));
    expect(
      (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "TargetTracking-web-asg-" }))).MetricAlarms,
    ).toEqual([]);
  });

  it("ForceDelete terminates every instance, protected or not, and removes the group", async () => {
    await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, ForceDelete: true }));
    expect((await group())?.Status).toBe("Delete in progress");
    await waitFor("the group gone", group, (g) => g === undefined, 60_000, 500);
    const all = await ec2Instances();
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((i) => i.State?.Name === "terminated" || i.State?.Name === "shutting-down")).toBe(true);
  });
});
