/**
 * RunTask → RUNNING latency on an EC2 instance's agent host against the local Docker host, in the
 * same run, alternating, same image and task definition (bridge mode, image already on both hosts).
 * `npm run bench:agent -- [--iterations 10]`
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { IAMClient } from "@aws-sdk/client-iam";
import { createInstanceProfile, ecsUserData, pushToEcr } from "../../test/support/agent-hosts.js";
import { clientConfig, startBerth } from "../../test/support/berth.js";
import { BUSYBOX_IMAGE, buildTestImages } from "../../test/support/images.js";
import { buildBerth, describeMachine, machine, markdownTable, sleep, summarize, today, warnIfBusy } from "../lib.js";

const { values: opts } = parseArgs({
  options: { iterations: { type: "string", default: "10" }, "no-build": { type: "boolean", default: false } },
});
const ITERATIONS = Number(opts.iterations);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1 || ITERATIONS > 200) throw new Error("--iterations: 1..200");
const CLUSTER = "bench-agent";
const STEP_MS = 90_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, everyMs = 20): Promise<T> {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  await buildTestImages();
  const berth = await startBerth();
  const cfg = clientConfig(berth.endpoint);
  const ecs = new ECSClient(cfg);
  const ec2 = new EC2Client(cfg);
  const iam = new IAMClient(cfg);
  let instanceId: string | undefined;
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_DEFAULT_REGION: "us-east-1",
  };
  const dockerConfig = `${berth.dataDir}/docker-config`;
  const docker = (args: string[], input?: string) =>
    execFileSync("docker", args, {
      input,
      env: { ...env, DOCKER_CONFIG: dockerConfig },
      stdio: ["pipe", "pipe", "pipe"],
    });
  try {
    await createInstanceProfile(iam, "ecsInstanceRole");
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const image = pushToEcr(berth, { run: (args, input) => docker(args, input).toString() }, "bench", BUSYBOX_IMAGE);
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-0e5c2023b5e7a1c01",
        InstanceType: "t3.medium",
        MinCount: 1,
        MaxCount: 1,
        IamInstanceProfile: { Name: "ecsInstanceRole" },
        UserData: ecsUserData(CLUSTER),
      }),
    );
    instanceId = run.Instances![0].InstanceId!;
    await until(
      "the instance's container instance",
      async () => {
        const arns =
          (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
        if (!arns.length) return undefined;
        const list = (
          await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns }))
        ).containerInstances!;
        return list.find((c) => c.ec2InstanceId === instanceId && c.agentConnected) ? true : undefined;
      },
      200,
    );
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "bench-agent",
        networkMode: "bridge",
        containerDefinitions: [{ name: "c", image, memory: 32, command: ["sleep", "300"], stopTimeout: 1 }],
      }),
    );
    const where = { agent: "t3.medium", local: "berth.local" } as const;
    const once = async (on: keyof typeof where) => {
      const started = performance.now();
      const out = await ecs.send(
        new RunTaskCommand({
          cluster: CLUSTER,
          taskDefinition: "bench-agent",
          launchType: "EC2",
          placementConstraints: [{ type: "memberOf", expression: `attribute:ecs.instance-type == ${where[on]}` }],
        }),
      );
      const arn = out.tasks?.[0]?.taskArn;
      if (!arn) throw new Error(`RunTask on the ${on} host failed: ${JSON.stringify(out.failures)}`);
      await until(`task on the ${on} host RUNNING`, async () => {
        const t = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks?.[0];
        if (t?.lastStatus === "STOPPED") throw new Error(`task stopped: ${t.stoppedReason}`);
        return t?.lastStatus === "RUNNING" ? true : undefined;
      });
      const ms = performance.now() - started;
      await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
      return ms;
    };
    // Warm-up: the image reaches each host once (a pull on the agent host, present locally).
    await once("agent");
    await once("local");
    const samples = { agent: [] as number[], local: [] as number[] };
    for (let i = 0; i < ITERATIONS; i++) {
      samples.agent.push(await once("agent"));
      samples.local.push(await once("local"));
    }
    const a = summarize(samples.agent);
    const l = summarize(samples.local);
    const row = (name: string, s: typeof a) => [name, s.median.toFixed(0), s.min.toFixed(0), s.max.toFixed(0)];
    console.log(`\n## RunTask → RUNNING, agent host vs local host (${today()}, ${describeMachine(m)})\n`);
    console.log(
      markdownTable(
        ["host", "median ms", "min ms", "max ms"],
        [row("EC2 instance (berth agent)", a), row("local Docker host", l)],
        [false, true, true, true],
      ),
    );
    console.log(
      `\nratio (agent / local, median): ${(a.median / l.median).toFixed(2)}×  (${ITERATIONS} iterations each)`,
    );
  } finally {
    if (instanceId) await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })).catch(() => undefined);
    if (instanceId)
      await until(
        "the instance terminated",
        async () => {
          const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId!] }));
          return r.Reservations?.[0]?.Instances?.[0]?.State?.Name === "terminated" ? true : undefined;
        },
        500,
      ).catch(() => undefined);
    await berth.stop();
    const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=berth.data-dir=${berth.dataDir}`])
      .toString()
      .split("\n")
      .filter(Boolean);
    if (left.length) execFileSync("docker", ["rm", "-f", ...left], { stdio: "ignore" });
    rmSync(berth.dataDir, { recursive: true, force: true });
  }
}

await main();
