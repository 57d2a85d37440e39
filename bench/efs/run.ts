/**
 * File I/O from inside an ECS task on an EFS volume against the same workload in `docker run` on a
 * plain bind mount and on a Docker local volume, alternating in the same run: sequential write
 * (dd, then fsync), sequential read (dd, O_DIRECT so the page cache does not answer) and
 * small-file creates (4 KiB each, then sync). Prints the figures and the ratios.
 * `npm run bench:efs -- [--iterations 5] [--warmup 1] [--mib 256] [--files 2000] [--max-minutes 15] [--no-build]`
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { type RunningBerth, region, startBerth } from "../../test/support/berth.js";
import { awsCli, clientOptions, newAccount, rootOf } from "../../test/support/identity.js";
import { BUSYBOX_IMAGE, buildTestImages } from "../../test/support/images.js";
import {
  buildBerth,
  describeMachine,
  machine,
  markdownTable,
  run,
  sleep,
  summarize,
  today,
  warnIfBusy,
} from "../lib.js";

const { values: opts } = parseArgs({
  options: {
    iterations: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    mib: { type: "string", default: "256" },
    files: { type: "string", default: "2000" },
    "max-minutes": { type: "string", default: "15" },
    "no-build": { type: "boolean", default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
const WARMUP = Number(opts.warmup);
const MIB = Number(opts.mib);
const FILES = Number(opts.files);
const DEADLINE = Date.now() + Number(opts["max-minutes"]) * 60_000;
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1 || ITERATIONS > 50) throw new Error("--iterations: 1..50");
if (!Number.isInteger(WARMUP) || WARMUP < 0 || WARMUP > 10) throw new Error("--warmup: 0..10");
if (!Number.isInteger(MIB) || MIB < 1 || MIB > 2048) throw new Error("--mib: 1..2048");
if (!Number.isInteger(FILES) || FILES < 1 || FILES > 100_000) throw new Error("--files: 1..100000");
if (!(Number(opts["max-minutes"]) > 0 && Number(opts["max-minutes"]) <= 120)) throw new Error("--max-minutes: 1..120");

const CLUSTER = "bench-efs";
const MOUNT = "/mnt/data";
/** Berth has no VPCs: any well-formed subnet id names a zone. */
const SUBNET = "subnet-0beef00000000ef50";
const BENCH_LABEL = `berth-bench=efs-${process.pid}`;
/** One sample (one task or one docker run) may take at most this long. */
const SAMPLE_TIMEOUT_MS = 180_000;

/**
 * The workload, in busybox ash (the test image has no date with nanoseconds: busybox's adjtimex
 * reads the clock in microseconds without changing it). Runs in `$D`; prints and writes to
 * `$D/result` three durations in µs: write, read, small files.
 */
const WORKLOAD = [
  "set -e",
  "now() { adjtimex | awk '/tv_sec/ {s=$2} /tv_usec/ {u=$2} END {printf \"%d%06d\\n\", s, u}'; }",
  'mkdir -p "$D/small"',
  't0=$(now); dd if=/dev/zero of="$D/big" bs=1M count=$MIB conv=fsync 2>/dev/null; t1=$(now)',
  'dd if="$D/big" of=/dev/null bs=1M iflag=direct 2>/dev/null; t2=$(now)',
  "B=$(printf '%4095s' x)",
  'i=0; while [ $i -lt $FILES ]; do echo "$B" > "$D/small/f$i"; i=$((i+1)); done; sync -f "$D/small"; t3=$(now)',
  'echo "$((t1-t0)) $((t2-t1)) $((t3-t2))" | tee "$D/result"',
].join("\n");

interface Sample {
  writeUs: number;
  readUs: number;
  filesUs: number;
}

const parseResult = (text: string, what: string): Sample => {
  const n = text.trim().split(/\s+/).map(Number);
  if (n.length !== 3 || !n.every((x) => Number.isFinite(x) && x > 0))
    throw new Error(`${what}: unexpected workload output '${text.trim()}'`);
  return { writeUs: n[0], readUs: n[1], filesUs: n[2] };
};

const remainingMs = () => {
  const left = DEADLINE - Date.now();
  if (left <= 0) throw new Error(`--max-minutes ${opts["max-minutes"]} reached`);
  return Math.min(left, SAMPLE_TIMEOUT_MS);
};

async function describe(ecs: ECSClient, taskArn: string): Promise<Task> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
  const t = out.tasks?.[0];
  if (!t) throw new Error(`DescribeTasks did not return ${taskArn}: ${JSON.stringify(out.failures)}`);
  return t;
}

/** One task on the EFS volume: run it to its end and read its result from the file system's directory. */
async function berthOnce(ecs: ECSClient, taskDefinition: string, fsDir: string, sample: string): Promise<Sample> {
  const out = await ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition,
      launchType: "FARGATE",
      networkConfiguration: { awsvpcConfiguration: { subnets: [SUBNET] } },
      overrides: { containerOverrides: [{ name: "io", environment: [{ name: "D", value: `${MOUNT}/${sample}` }] }] },
    }),
  );
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask returned no task: ${JSON.stringify(out.failures)}`);
  const deadline = Date.now() + remainingMs();
  for (;;) {
    const t = await describe(ecs, arn);
    if (t.lastStatus === "STOPPED") {
      const exit = t.containers?.[0]?.exitCode;
      if (exit !== 0) throw new Error(`task ${arn} stopped with exit code ${exit}: ${t.stoppedReason}`);
      break;
    }
    if (Date.now() > deadline) throw new Error(`task ${arn} did not stop in time`);
    await sleep(200);
  }
  return parseResult(readFileSync(join(fsDir, sample, "result"), "utf8"), `task ${arn}`);
}

/** The same workload in `docker run --rm` with `mount` (-v source:target) at the same path. */
async function dockerOnce(mount: string, sample: string): Promise<Sample> {
  const out = await run(
    "docker",
    [
      ...["run", "--rm", "--label", BENCH_LABEL, "-v", `${mount}:${MOUNT}`],
      ...["-e", `D=${MOUNT}/${sample}`, "-e", `MIB=${MIB}`, "-e", `FILES=${FILES}`],
      ...[BUSYBOX_IMAGE, "sh", "-c", WORKLOAD],
    ],
    remainingMs(),
  );
  return parseResult(out.split("\n").at(-1) ?? "", `docker run -v ${mount}`);
}

async function removeLeftovers(berth: RunningBerth | undefined) {
  const filters = [`label=${BENCH_LABEL}`];
  if (berth) filters.push(`label=berth.data-dir=${berth.dataDir}`);
  for (const f of filters) {
    const ids = (await run("docker", ["ps", "-aq", "--filter", f]).catch(() => "")).split("\n").filter(Boolean);
    if (ids.length) await run("docker", ["rm", "-f", ...ids]).catch(() => {});
  }
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  await buildTestImages();
  const account = newAccount();
  const creds = rootOf(account);
  const bindDir = mkdtempSync(join(tmpdir(), "berth-bench-efs-bind-"));
  const volume = `berth-bench-efs-${process.pid}`;
  let volumeCreated = false;
  let berth: RunningBerth | undefined;
  try {
    // The same file system as Berth's data dir (both under the OS temp dir), so the disk is the same.
    berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
    const endpoint = berth.endpoint;
    const aws = async (...args: string[]) => {
      const out = await awsCli(endpoint, creds, args);
      if (!out.ok) throw new Error(`aws ${args.join(" ")}: ${out.stderr}`);
      return out.json as Record<string, unknown>;
    };
    const fs = await aws("efs", "create-file-system", "--creation-token", `bench-${process.pid}`);
    const fileSystemId = fs.FileSystemId as string;
    for (let i = 0; ; i++) {
      const d = await aws("efs", "describe-file-systems", "--file-system-id", fileSystemId);
      if ((d.FileSystems as { LifeCycleState: string }[])[0].LifeCycleState === "available") break;
      if (i > 100) throw new Error(`file system ${fileSystemId} did not become available`);
      await sleep(200);
    }
    await aws("efs", "create-mount-target", "--file-system-id", fileSystemId, "--subnet-id", SUBNET);
    const fsDir = join(berth.dataDir, "efs", account, region, fileSystemId);

    const ecs = new ECSClient(clientOptions(endpoint, creds));
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const def = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "bench-efs",
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "1024",
        memory: "2048",
        volumes: [{ name: "data", efsVolumeConfiguration: { fileSystemId, transitEncryption: "ENABLED" } }],
        containerDefinitions: [
          {
            name: "io",
            image: BUSYBOX_IMAGE,
            essential: true,
            command: ["sh", "-c", WORKLOAD],
            environment: [
              { name: "MIB", value: String(MIB) },
              { name: "FILES", value: String(FILES) },
            ],
            mountPoints: [{ sourceVolume: "data", containerPath: MOUNT }],
          },
        ],
      }),
    );
    const taskDefinition = def.taskDefinition!.taskDefinitionArn!;
    await run("docker", ["volume", "create", "--label", BENCH_LABEL, volume]);
    volumeCreated = true;

    const samples = { berth: [] as Sample[], bind: [] as Sample[], volume: [] as Sample[] };
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const warm = i < WARMUP;
      const name = `sample-${i}`;
      const b = await berthOnce(ecs, taskDefinition, fsDir, name);
      const d = await dockerOnce(bindDir, name);
      const v = await dockerOnce(volume, name);
      // Each sample's files are removed before the next, so the directories stay the same size.
      rmSync(join(fsDir, name), { recursive: true, force: true });
      rmSync(join(bindDir, name), { recursive: true, force: true });
      await run("docker", [
        ...["run", "--rm", "--label", BENCH_LABEL, "-v", `${volume}:${MOUNT}`],
        ...[BUSYBOX_IMAGE, "rm", "-rf", `${MOUNT}/${name}`],
      ]);
      if (!warm) {
        samples.berth.push(b);
        samples.bind.push(d);
        samples.volume.push(v);
      }
      const f = (s: Sample) =>
        `${(s.writeUs / 1000).toFixed(0)}/${(s.readUs / 1000).toFixed(0)}/${(s.filesUs / 1000).toFixed(0)} ms`;
      process.stderr.write(
        `${warm ? "warm-up" : `${i - WARMUP + 1}/${ITERATIONS}`} (write/read/files): ` +
          `EFS task ${f(b)}, bind mount ${f(d)}, local volume ${f(v)}\n`,
      );
    }

    const mibps = (s: Sample[], k: "writeUs" | "readUs") => summarize(s.map((x) => MIB / (x[k] / 1e6)));
    const perSec = (s: Sample[]) => summarize(s.map((x) => FILES / (x.filesUs / 1e6)));
    const stats = (s: Sample[]) => ({ write: mibps(s, "writeUs"), read: mibps(s, "readUs"), files: perSec(s) });
    const berthS = stats(samples.berth);
    const bindS = stats(samples.bind);
    const volS = stats(samples.volume);
    const cell = (x: { median: number; min: number; max: number }) =>
      `${x.median.toFixed(0)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})`;
    const row = (name: string, s: typeof berthS) => [
      name,
      cell(s.write),
      cell(s.read),
      cell(s.files),
      `${(s.write.median / bindS.write.median).toFixed(2)}×`,
      `${(s.read.median / bindS.read.median).toFixed(2)}×`,
      `${(s.files.median / bindS.files.median).toFixed(2)}×`,
    ];
    process.stdout.write(
      [
        "",
        `EFS volume in an ECS task vs docker run on a bind mount — ${today()}, ${ITERATIONS} iterations each, alternating (${WARMUP} warm-up discarded); ${MIB} MiB sequential write + fsync and O_DIRECT read, ${FILES} files of 4 KiB + sync`,
        `Machine: ${describeMachine(m)}`,
        "",
        markdownTable(
          ["", "write MiB/s median (min–max)", "read MiB/s", "files/s", "write ÷ bind", "read ÷ bind", "files ÷ bind"],
          [
            row("**Berth: ECS task (FARGATE) on an EFS volume**", berthS),
            row("**docker run -v <host dir> (bind mount, peer)**", bindS),
            row("docker run -v <local volume>", volS),
          ],
          [false, true, true, true, true, true, true],
        ),
        "",
        `EFS / bind mount (medians): write ${(berthS.write.median / bindS.write.median).toFixed(2)}×, read ${(berthS.read.median / bindS.read.median).toFixed(2)}×, small files ${(berthS.files.median / bindS.files.median).toFixed(2)}×`,
        "",
      ].join("\n"),
    );
  } finally {
    await removeLeftovers(berth);
    if (volumeCreated) await run("docker", ["volume", "rm", "-f", volume]).catch(() => {});
    rmSync(bindDir, { recursive: true, force: true });
    if (berth) {
      await berth.stop();
      rmSync(berth.dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((e) => {
  process.stderr.write(`bench:efs failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
