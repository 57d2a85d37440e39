import { rmSync } from "node:fs";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  type ContainerInstance,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { FilterLogEventsCommand, CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, clientConfig, startBerth } from "../support/berth.js";
import { curl, ecsClient, running, stopped, waitForTask } from "../support/ecs.js";
import { cleanup, createAlb, createTargetGroup, elbClient, waitFor, waitForTargets } from "../support/elbv2.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { createInstanceProfile, ecsUserData, pushToEcr, trustService } from "../support/agent-hosts.js";
import { Docker } from "../support/registry.js";

const CLUSTER = "agents";
const INSTANCE_TYPE = "t3.small";
/** Keeps tasks off the local Docker host, which joins every cluster that asks for EC2 capacity. */
const ON_AGENT_HOSTS = [{ type: "memberOf" as const, expression: `attribute:ecs.instance-type == ${INSTANCE_TYPE}` }];

/**
 * EC2 instances as agent hosts: each RunInstances boots a host (a network namespace with its own
 * Docker Engine) whose `berth agent` joins the cluster its user data names, with its instance
 * profile's credentials; the task controller runs tasks there through the agent's channel.
 */
describe("ECS on EC2 instances (berth agent hosts)", () => {
  let berth: RunningBerth;
  let ecs: ECSClient;
  let ec2: EC2Client;
  const docker = new Docker();
  const instances: string[] = [];
  const lbs: string[] = [];
  const tgs: string[] = [];
  let image: string;
  let ami: string;

  const launch = async (count: number, profile = "ecsInstanceRole") => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: ami,
        InstanceType: INSTANCE_TYPE,
        MinCount: count,
        MaxCount: count,
        IamInstanceProfile: { Name: profile },
        UserData: ecsUserData(CLUSTER),
      }),
    );
    const ids = out.Instances!.map((i) => i.InstanceId!);
    instances.push(...ids);
    return ids;
  };

  const containerInstances = async (): Promise<ContainerInstance[]> => {
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
    if (arns.length === 0) return [];
    return (await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns })))
      .containerInstances!;
  };

  const joined = (ids: string[]) =>
    waitFor(
      `instances ${ids.join(", ")} connected to ${CLUSTER}`,
      containerInstances,
      (list) => ids.every((id) => list.some((c) => c.ec2InstanceId === id && c.agentConnected)),
      90_000,
    );

  const serviceTasks = async (service: string, desiredStatus: "RUNNING" | "STOPPED" = "RUNNING") => {
    const arns = (await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: service, desiredStatus })))
      .taskArns!;
    if (arns.length === 0) return [] as Task[];
    return (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks!;
  };

  beforeAll(async () => {
    berth = await startBerth();
    ecs = ecsClient(berth.endpoint);
    ec2 = new EC2Client(clientConfig(berth.endpoint));
    const iam = new IAMClient(clientConfig(berth.endpoint));
    await createInstanceProfile(iam, "ecsInstanceRole");
    await createInstanceProfile(iam, "noEcs", { ecs: false });
    await iam.send(
      new CreateRoleCommand({
        RoleName: "taskRole",
        AssumeRolePolicyDocument: trustService("ecs-tasks.amazonaws.com"),
      }),
    );
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    // Instance hosts pull from Berth's registry, as EC2 instances pull from ECR.
    image = pushToEcr(berth, docker, "agent-web", BUSYBOX_IMAGE);
    const images = await ec2.send(
      new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["al2023-ami-ecs-hvm-*"] }] }),
    );
    ami = images.Images?.[0]?.ImageId ?? "ami-0e5c2023b5e7a1c01";
  });

  afterAll(async () => {
    await cleanup(elbClient(berth.endpoint), lbs, tgs);
    if (instances.length)
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: instances })).catch(() => undefined);
    await waitFor(
      "instances terminated",
      async () => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: instances }))).Reservations ?? [],
      (r) => r.flatMap((x) => x.Instances ?? []).every((i) => i.State?.Name === "terminated"),
      60_000,
    ).catch(() => undefined);
    await berth.stop();
    docker.run(["rmi", image]);
    docker.dispose();
    rmSync(berth.dataDir, { recursive: true, force: true });
  });

  it("instances whose user data names the cluster join it with their instance type's resources", async () => {
    const ids = await launch(2);
    const list = await joined(ids);
    for (const id of ids) {
      const ci = list.find((c) => c.ec2InstanceId === id)!;
      expect(ci).toMatchObject({ status: "ACTIVE", agentConnected: true });
      expect(ci.registeredResources?.find((r) => r.name === "CPU")?.integerValue).toBe(2048);
      expect(ci.attributes).toContainEqual({ name: "ecs.instance-type", value: INSTANCE_TYPE });
    }
  });

  it("a task there pulls from ECR, gets its role's credentials, and ships its logs", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "agent-creds",
        networkMode: "bridge",
        taskRoleArn: "arn:aws:iam::000000000000:role/taskRole",
        containerDefinitions: [
          {
            name: "c",
            image,
            memory: 64,
            // Another Berth on this machine may hold 169.254.170.2:80: then tasks get the full URI.
            command: [
              "sh",
              "-c",
              'u=$AWS_CONTAINER_CREDENTIALS_FULL_URI; [ -n "$u" ] || u=http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; wget -q -O- $u',
            ],
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": "/ecs/agent-creds",
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "c",
                "awslogs-create-group": "true",
              },
            },
          },
        ],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: "agent-creds",
        launchType: "EC2",
        placementConstraints: ON_AGENT_HOSTS,
      }),
    );
    const task = await waitForTask(ecs, CLUSTER, run.tasks![0].taskArn!, stopped, 60_000);
    expect(task.containers![0].exitCode).toBe(0);
    const on = (await containerInstances()).find((c) => c.containerInstanceArn === task.containerInstanceArn);
    expect(instances).toContain(on?.ec2InstanceId);
    const logs = new CloudWatchLogsClient(clientConfig(berth.endpoint));
    const events = await waitFor(
      "the task's log line",
      async () => (await logs.send(new FilterLogEventsCommand({ logGroupName: "/ecs/agent-creds" }))).events ?? [],
      (e) => e.some((x) => x.message?.includes("AccessKeyId")),
    );
    expect(JSON.parse(events.find((e) => e.message?.includes("AccessKeyId"))!.message!)).toMatchObject({
      RoleArn: "arn:aws:iam::000000000000:role/taskRole",
    });
  });

  it("an awsvpc task on an agent host answers at its ENI address", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "agent-vpc",
        networkMode: "awsvpc",
        cpu: "256",
        memory: "128",
        containerDefinitions: [
          {
            name: "web",
            image,
            portMappings: [{ containerPort: 8080 }],
            command: ["sh", "-c", "echo vpc-on-agent > /www/index.html; exec httpd -f -p 8080 -h /www"],
          },
        ],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: "agent-vpc",
        launchType: "EC2",
        placementConstraints: ON_AGENT_HOSTS,
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-12345678"] } },
      }),
    );
    const task = await waitForTask(ecs, CLUSTER, run.tasks![0].taskArn!, running, 60_000);
    const ip = task.containers![0].networkInterfaces![0].privateIpv4Address!;
    expect(curl(`http://${ip}:8080/`)).toContain("vpc-on-agent");
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: task.taskArn }));
  });

  it("a Berth restart: the agents reconnect and their tasks run on, neither lost nor doubled", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "agent-sleep",
        networkMode: "bridge",
        containerDefinitions: [{ name: "c", image, memory: 32, command: ["sleep", "600"] }],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: "agent-sleep",
        launchType: "EC2",
        count: 2,
        placementConstraints: ON_AGENT_HOSTS,
      }),
    );
    const arns = run.tasks!.map((t) => t.taskArn!);
    for (const arn of arns) await waitForTask(ecs, CLUSTER, arn, running, 60_000);
    const { dataDir, port } = berth;
    await berth.stop();
    berth = await startBerth({ dataDir, port });
    const ids = (await containerInstances()).map((c) => c.ec2InstanceId!).filter((id) => instances.includes(id));
    await joined(ids);
    const after = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks!;
    expect(after.map((t) => t.lastStatus)).toEqual(["RUNNING", "RUNNING"]);
    const listed = (await ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: "agent-sleep" }))).taskArns!;
    expect(listed.sort()).toEqual([...arns].sort());
    for (const arn of arns) await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    for (const arn of arns) await waitForTask(ecs, CLUSTER, arn, stopped, 60_000);
  });

  it("a service spreads over the instances behind an ALB; terminating one moves its tasks to the other", async () => {
    const elb = elbClient(berth.endpoint);
    const tg = await createTargetGroup(elb, "agents", { TargetType: "instance", HealthCheckPath: "/" });
    tgs.push(tg);
    const alb = await createAlb(elb, "agents", tg, 18_480);
    lbs.push(alb.loadBalancerArn);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "agent-web",
        networkMode: "bridge",
        containerDefinitions: [
          {
            name: "web",
            image,
            memory: 64,
            stopTimeout: 1,
            portMappings: [{ containerPort: 8080, hostPort: 0 }],
            command: ["sh", "-c", "hostname > /www/index.html; exec httpd -f -p 8080 -h /www"],
          },
        ],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: "web",
        taskDefinition: "agent-web",
        desiredCount: 4,
        launchType: "EC2",
        placementConstraints: ON_AGENT_HOSTS,
        placementStrategy: [{ type: "spread", field: "instanceId" }],
        loadBalancers: [{ targetGroupArn: tg, containerName: "web", containerPort: 8080 }],
      }),
    );
    const tasks = await waitFor(
      "4 running service tasks",
      () => serviceTasks("web"),
      (t) => t.filter(running).length === 4,
      90_000,
    );
    const byInstance = new Map<string, number>();
    for (const t of tasks) byInstance.set(t.containerInstanceArn!, (byInstance.get(t.containerInstanceArn!) ?? 0) + 1);
    expect([...byInstance.values()]).toEqual([2, 2]);
    await waitForTargets(elb, tg, "healthy", 4, 60_000);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 4; i++) seen.add(curl(`${alb.url}/`).trim());
    expect(seen.size).toBe(4);

    // Terminating an instance: its tasks stop as ECS says, the service replaces them on the other one.
    const list = await containerInstances();
    const victim = list.find((c) => c.containerInstanceArn === tasks[0].containerInstanceArn)!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim.ec2InstanceId!] }));
    const gone = await waitFor(
      "the terminated instance's tasks stopped",
      () => serviceTasks("web", "STOPPED"),
      (t) => t.filter((x) => x.containerInstanceArn === victim.containerInstanceArn).length === 2,
      60_000,
    );
    expect(gone[0].stoppedReason).toBe(`Host EC2 (instance ${victim.ec2InstanceId}) terminated.`);
    const moved = await waitFor(
      "4 running tasks on the remaining instance",
      () => serviceTasks("web"),
      (t) => t.filter(running).length === 4 && t.every((x) => x.containerInstanceArn !== victim.containerInstanceArn),
      90_000,
    );
    expect(new Set(moved.map((t) => t.containerInstanceArn)).size).toBe(1);
    const after = await ecs.send(
      new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [victim.containerInstanceArn!] }),
    );
    expect(after.containerInstances![0].status).toBe("INACTIVE");
    const events = (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["web"] }))).services![0]
      .events!;
    expect(events.length).toBeGreaterThan(0);
    await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "web", force: true }));
  });

  it("an instance profile without ecs:RegisterContainerInstance never joins", async () => {
    const [id] = await launch(1, "noEcs");
    await new Promise((r) => setTimeout(r, 8000));
    expect((await containerInstances()).map((c) => c.ec2InstanceId)).not.toContain(id);
  });

  it("stopping an instance disconnects its agent, starting it reconnects, a terminated one cannot start", async () => {
    const [id] = await launch(1);
    await joined([id]);
    const stateOf = async () =>
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const stoppedInstance = await waitFor("the instance stopped", stateOf, (i) => i.State?.Name === "stopped", 60_000);
    expect(stoppedInstance.StateReason?.Code).toBe("Client.UserInitiatedShutdown");
    await waitFor(
      "its agent disconnected",
      containerInstances,
      (list) => list.some((c) => c.ec2InstanceId === id && !c.agentConnected),
      60_000,
    );
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await joined([id]);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor("the instance terminated", stateOf, (i) => i.State?.Name === "terminated", 60_000);
    await expect(ec2.send(new StartInstancesCommand({ InstanceIds: [id] }))).rejects.toMatchObject({
      name: "IncorrectInstanceState",
    });
  });
});
