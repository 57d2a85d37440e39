/**
 * RunTask → RUNNING latency through Berth against `docker run -d` of the same image, measured
 * alternately in the same run. `npm run bench:runtask -- [--iterations 15] [--warmup 1] [--poll-ms 20]`
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { clientConfig, type RunningBerth, startBerth } from "../../test/support/berth.js";
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
    iterations: { type: "string", default: "15" },
    warmup: { type: "string", default: "1" },
    "poll-ms": { type: "string", default: "20" },
    "no-build": { type: "boolean", default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
const WARMUP = Number(opts.warmup);
const POLL_MS = Number(opts["poll-ms"]);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1 || ITERATIONS > 1000) throw new Error("--iterations: 1..1000");
if (!Number.isInteger(WARMUP) || WARMUP < 0 || WARMUP > 100) throw new Error("--warmup: 0..100");
if (!(POLL_MS >= 1 && POLL_MS <= 1000)) throw new Error("--poll-ms: 1..1000");

const CLUSTER = "bench";
const FAMILY = "bench-runtask";
const APP = "app";
/** Every container the peers start carries this label, so the final sweep can remove leftovers. */
const BENCH_LABEL_KEY = "berth-bench";
const BENCH_LABEL = `${BENCH_LABEL_KEY}=runtask-${process.pid}`;
const STEP_TIMEOUT_MS = 60_000;
const PAUSE_IMAGE = "berth/pause:1"; // Berth imports it at start-up
const TASK_NETWORK = "berth"; // Berth's default task network

/** Wall-clock milliseconds with sub-millisecond precision, comparable with Docker's event timestamps. */
const wallMs = () => performance.timeOrigin + performance.now();

async function until<T>(what: string, probe: () => Promise<T | undefined>, everyMs: number): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface DockerEvent {
  id: string;
  action: string;
  labels: Record<string, string>;
  wallMs: number;
}

/** `docker events` for the containers this benchmark causes: where the time goes inside one sample. */
class DockerEvents {
  readonly events: DockerEvent[] = [];
  private readonly child: ChildProcess;

  constructor() {
    // Several label filters would be ANDed by `docker events`; samples pick their containers out by id or label.
    const args = ["events", "--format", "{{json .}}", "--filter", "type=container"];
    for (const a of ["create", "start"]) args.push("--filter", `event=${a}`);
    this.child = spawn("docker", args, { stdio: ["ignore", "pipe", "ignore"] });
    let rest = "";
    this.child.stdout?.on("data", (chunk: Buffer) => {
      rest += chunk.toString("utf8");
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        nl = rest.indexOf("\n");
        try {
          const e = JSON.parse(line) as {
            Action: string;
            Actor: { ID: string; Attributes: Record<string, string> };
            timeNano: number;
          };
          this.events.push({
            id: e.Actor.ID,
            action: e.Action,
            labels: e.Actor.Attributes ?? {},
            wallMs: e.timeNano / 1e6,
          });
        } catch {
          // not an event line
        }
      }
    });
  }

  at(pred: (e: DockerEvent) => boolean, action: string): number {
    return this.events.find((e) => e.action === action && pred(e))?.wallMs ?? Number.NaN;
  }

  stop() {
    this.child.kill("SIGTERM");
  }
}

interface Sample {
  startWall: number;
  endWall: number;
  ms: number;
}
interface BerthSample extends Sample {
  arn: string;
  /** Berth's own timestamps: createdAt → startedAt. */
  serverMs: number;
}
interface DockerSample extends Sample {
  /** The namespace holder, for the pair. */
  pause?: string;
  app: string;
}

async function describe(ecs: ECSClient, taskArn: string): Promise<Task> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
  const t = out.tasks?.[0];
  if (!t) throw new Error(`DescribeTasks did not return ${taskArn}: ${JSON.stringify(out.failures)}`);
  return t;
}

/** (a) RunTask → DescribeTasks says RUNNING; then (not timed) StopTask and wait until the containers are gone. */
async function berthOnce(ecs: ECSClient, taskDefinition: string): Promise<BerthSample> {
  const startWall = wallMs();
  const out = await ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition,
      launchType: "FARGATE",
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ["subnet-0bench0000000000"], assignPublicIp: "DISABLED" },
      },
    }),
  );
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask returned no task: ${JSON.stringify(out.failures)}`);
  const running = await until(
    `task ${arn} to be RUNNING`,
    async () => {
      const t = await describe(ecs, arn);
      if (t.lastStatus === "STOPPED") throw new Error(`task stopped before RUNNING: ${t.stoppedReason}`);
      return t.lastStatus === "RUNNING" ? t : undefined;
    },
    POLL_MS,
  );
  const endWall = wallMs();
  const serverMs = (running.startedAt?.getTime() ?? Number.NaN) - (running.createdAt?.getTime() ?? Number.NaN);

  // Not timed: stop, and wait for Berth to remove the containers so they do not overlap the next sample.
  await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn, reason: "benchmark" }));
  await until(
    `task ${arn} to be STOPPED`,
    async () => ((await describe(ecs, arn)).lastStatus === "STOPPED" ? true : undefined),
    50,
  );
  await until(
    `the containers of ${arn} to be removed`,
    async () => ((await run("docker", ["ps", "-aq", "--filter", `label=berth.task-arn=${arn}`])) ? undefined : true),
    50,
  );
  return { startWall, endWall, ms: endWall - startWall, arn, serverMs };
}

async function dockerRunning(id: string) {
  return (await run("docker", ["inspect", "-f", "{{.State.Running}}", id])) === "true" ? true : undefined;
}

/**
 * (b) `docker run -d` until it returns and `docker inspect` says running; then `docker rm -f` (not timed).
 * With `network`, the same on that network (Berth's task network is a user-defined bridge).
 */
async function dockerOnce(network?: string): Promise<DockerSample> {
  const startWall = wallMs();
  const net = network ? ["--network", network] : [];
  const app = await run("docker", [
    "run",
    "-d",
    "--rm",
    "--label",
    BENCH_LABEL,
    ...net,
    BUSYBOX_IMAGE,
    "sleep",
    "3600",
  ]);
  await until(`container ${app} to run`, () => dockerRunning(app), POLL_MS);
  const endWall = wallMs();
  await run("docker", ["rm", "-f", app]);
  return { startWall, endWall, ms: endWall - startWall, app };
}

/**
 * (c) What Berth's awsvpc does, by hand: a namespace holder on Berth's task network, then the
 * container joining its network namespace (`--network container:<pause>`).
 */
async function dockerPairOnce(): Promise<DockerSample> {
  const startWall = wallMs();
  const label = ["--label", BENCH_LABEL];
  const pause = await run("docker", ["run", "-d", "--rm", ...label, "--network", TASK_NETWORK, PAUSE_IMAGE]);
  let app: string | undefined;
  try {
    app = await run("docker", [
      ...["run", "-d", "--rm", ...label, "--network", `container:${pause}`],
      ...[BUSYBOX_IMAGE, "sleep", "3600"],
    ]);
    await until(`container ${app} to run`, () => dockerRunning(app!), POLL_MS);
    const endWall = wallMs();
    return { startWall, endWall, ms: endWall - startWall, pause, app };
  } finally {
    await run("docker", ["rm", "-f", ...(app ? [app] : []), pause]);
  }
}

async function removeLeftovers(berth: RunningBerth | undefined) {
  const filters = [`label=${BENCH_LABEL}`];
  if (berth) filters.push(`label=berth.data-dir=${berth.dataDir}`);
  for (const f of filters) {
    const ids = (await run("docker", ["ps", "-aq", "--filter", f]).catch(() => "")).split("\n").filter(Boolean);
    if (ids.length) await run("docker", ["rm", "-f", ...ids]).catch(() => {});
  }
}

/** Phase boundaries of one sample on the wall clock: start, pause created/started, app created/started, end. */
type Marks = [number, number, number, number, number, number];

function berthMarks(ev: DockerEvents, s: BerthSample): Marks {
  const of = (name: string) => (e: DockerEvent) =>
    e.labels["berth.task-arn"] === s.arn && e.labels["berth.container"] === name;
  return [
    s.startWall,
    ev.at(of("~pause"), "create"),
    ev.at(of("~pause"), "start"),
    ev.at(of(APP), "create"),
    ev.at(of(APP), "start"),
    s.endWall,
  ];
}

function dockerMarks(ev: DockerEvents, s: DockerSample): Marks {
  const is = (id: string | undefined) => (e: DockerEvent) => e.id === id;
  const pause = s.pause ? [ev.at(is(s.pause), "create"), ev.at(is(s.pause), "start")] : [s.startWall, s.startWall];
  return [s.startWall, pause[0], pause[1], ev.at(is(s.app), "create"), ev.at(is(s.app), "start"), s.endWall];
}

const PHASES = [
  "request sent / CLI spawned → namespace holder created",
  "→ namespace holder started",
  "→ app container created",
  "→ app container started",
  "→ client sees it running (DescribeTasks / docker inspect)",
];

/** Median duration of each phase; "—" where a column has no such phase or Docker's events were missed. */
function phaseMedians(marks: Marks[], hasPause: boolean): string[] {
  return PHASES.map((_, i) => {
    if (!hasPause && (i === 0 || i === 1)) return "—";
    const from = !hasPause && i === 2 ? 0 : i;
    const xs = marks.map((m) => m[i + 1] - m[from]).filter((x) => Number.isFinite(x));
    return xs.length ? `${summarize(xs).median.toFixed(0)} ms` : "?";
  });
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  await buildTestImages();
  let berth: RunningBerth | undefined;
  let events: DockerEvents | undefined;
  try {
    berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
    events = new DockerEvents();
    const ecs = new ECSClient(clientConfig(berth.endpoint));
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const def = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "256",
        memory: "512",
        containerDefinitions: [
          { name: APP, image: BUSYBOX_IMAGE, command: ["sleep", "3600"], essential: true, stopTimeout: 2 },
        ],
      }),
    );
    const taskDefinition = def.taskDefinition!.taskDefinitionArn!;

    const berthSamples: BerthSample[] = [];
    const dockerSamples: DockerSample[] = [];
    const pairSamples: DockerSample[] = [];
    const netSamples: DockerSample[] = [];
    const total = WARMUP + ITERATIONS;
    for (let i = 0; i < total; i++) {
      const warm = i < WARMUP;
      const b = await berthOnce(ecs, taskDefinition);
      const d = await dockerOnce();
      const p = await dockerPairOnce();
      const n = await dockerOnce(TASK_NETWORK);
      if (!warm) {
        berthSamples.push(b);
        dockerSamples.push(d);
        pairSamples.push(p);
        netSamples.push(n);
      }
      process.stderr.write(
        `${warm ? "warm-up" : `${i - WARMUP + 1}/${ITERATIONS}`}: berth ${b.ms.toFixed(0)} ms ` +
          `(server ${b.serverMs.toFixed(0)} ms), docker run ${d.ms.toFixed(0)} ms, ` +
          `on ${TASK_NETWORK} ${n.ms.toFixed(0)} ms, pause + container ${p.ms.toFixed(0)} ms\n`,
      );
    }
    await sleep(500); // let the last Docker events arrive

    const berthS = summarize(berthSamples.map((s) => s.ms));
    const serverS = summarize(berthSamples.map((s) => s.serverMs));
    const dockerS = summarize(dockerSamples.map((s) => s.ms));
    const pairS = summarize(pairSamples.map((s) => s.ms));
    const netS = summarize(netSamples.map((s) => s.ms));
    const f = (x: number) => `${x.toFixed(0)} ms`;
    const r = (x: number) => `${(x / dockerS.median).toFixed(2)}×`;
    const row = (name: string, s: typeof berthS) => [name, f(s.median), f(s.min), f(s.max), r(s.median)];
    const ev = events;
    const berthPhases = phaseMedians(
      berthSamples.map((s) => berthMarks(ev, s)),
      true,
    );
    const pairPhases = phaseMedians(
      pairSamples.map((s) => dockerMarks(ev, s)),
      true,
    );
    const dockerPhases = phaseMedians(
      dockerSamples.map((s) => dockerMarks(ev, s)),
      false,
    );
    const netPhases = phaseMedians(
      netSamples.map((s) => dockerMarks(ev, s)),
      false,
    );
    process.stdout.write(
      [
        "",
        `RunTask → RUNNING vs docker run -d — ${today()}, ${ITERATIONS} iterations each, alternating (${WARMUP} warm-up discarded), DescribeTasks and docker inspect polled every ${POLL_MS} ms`,
        `Machine: ${describeMachine(m)}`,
        "",
        markdownTable(
          ["", "median", "min", "max", "÷ docker run -d"],
          [
            row("Berth: RunTask → DescribeTasks says RUNNING", berthS),
            row("  Berth's own createdAt → startedAt", serverS),
            row("docker run -d, until docker inspect says running (peer)", dockerS),
            row(`docker run -d --network ${TASK_NETWORK} (Berth's user-defined task network)`, netS),
            row(`docker run -d --network ${TASK_NETWORK} pause, then docker run -d --network container:pause`, pairS),
          ],
          [false, true, true, true, true],
        ),
        "",
        `Berth / docker run -d (medians): ${(berthS.median / dockerS.median).toFixed(2)}× — target ≤ 1.5×, aim 1.2×`,
        "",
        "Where the time goes (medians of each phase, from `docker events`; a phase ends when Docker reports it done;",
        "in the single-container columns “→ app container created” counts from the CLI's spawn):",
        "",
        markdownTable(
          [
            "phase",
            "Berth (awsvpc)",
            "docker run ×2 (pause + container:)",
            `docker run -d --network ${TASK_NETWORK}`,
            "docker run -d",
          ],
          PHASES.map((p, i) => [p, berthPhases[i], pairPhases[i], netPhases[i], dockerPhases[i]]),
          [false, true, true, true, true],
        ),
        "",
      ].join("\n"),
    );
  } finally {
    events?.stop();
    await removeLeftovers(berth);
    if (berth) {
      await berth.stop();
      rmSync(berth.dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((e) => {
  process.stderr.write(`bench:runtask failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
