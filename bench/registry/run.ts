/**
 * docker push / docker pull of a ~130 MB multi-layer image of random (incompressible) bytes to
 * Berth's registry and to CNCF distribution 2.8 (Debian's `docker-registry`), both started by
 * this benchmark in the same run; plus 10 concurrent pulls of every blob of the image with curl.
 * `npm run bench:registry -- [--iterations 5] [--layers 5] [--layer-mb 26] [--concurrency 10] [--no-build]`
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { type RunningBerth, clientConfig, startBerth } from "../../test/support/berth.js";
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
    layers: { type: "string", default: "5" },
    "layer-mb": { type: "string", default: "26" },
    concurrency: { type: "string", default: "10" },
    "max-minutes": { type: "string", default: "30" },
    "no-build": { type: "boolean", default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
const LAYERS = Number(opts.layers);
const LAYER_MB = Number(opts["layer-mb"]);
const CONCURRENCY = Number(opts.concurrency);
const DEADLINE = Date.now() + Number(opts["max-minutes"]) * 60_000;
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1 || ITERATIONS > 50) throw new Error("--iterations: 1..50");
if (!Number.isInteger(LAYERS) || LAYERS < 1 || LAYERS > 20) throw new Error("--layers: 1..20");
if (!Number.isInteger(LAYER_MB) || LAYER_MB < 1 || LAYER_MB > 512) throw new Error("--layer-mb: 1..512");
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1 || CONCURRENCY > 64) throw new Error("--concurrency: 1..64");

const DISTRIBUTION = "/usr/bin/docker-registry";
const REPO = "bench/image";
const runId = Date.now().toString(36);
const SOURCE = `berth-bench/registry:${runId}`;

/** A registry under test: where to push, how to authenticate, how to stop it. */
interface Target {
  name: string;
  host: string;
  /** Authorization header for curl (undefined: none needed). */
  authorization?: string;
  /** The server process, for its CPU time. */
  pid: number;
  stop(): Promise<void>;
}

const work = mkdtempSync(join(tmpdir(), "berth-bench-registry-"));
const dockerConfig = join(work, "docker-config");
const dockerEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
const cleanups: (() => Promise<void> | void)[] = [];

async function docker(args: string[], input?: string, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { env: dockerEnv, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`docker ${args.join(" ")} failed (${code}): ${err.trim() || out.trim()}`));
    });
    child.stdin.end(input);
  });
}

/** User + system CPU seconds a process has used (Linux /proc; clock ticks are 100 Hz there). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Wall seconds of `f`, and the CPU seconds the server spent meanwhile. */
async function timed(pid: number, f: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c = cpuSeconds(pid);
  const t = performance.now();
  await f();
  return { wall: (performance.now() - t) / 1000, cpu: cpuSeconds(pid) - c };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

/** Builds a FROM-scratch image with one layer per file of random bytes. */
async function buildImage(): Promise<{ id: string; bytes: number }> {
  const dir = join(work, "image");
  rmSync(dir, { recursive: true, force: true });
  const lines = ["FROM scratch"];
  mkdirSync(dir);
  for (let i = 0; i < LAYERS; i++) {
    writeFileSync(join(dir, `layer${i}.bin`), randomBytes(LAYER_MB * 1024 * 1024));
    lines.push(`COPY layer${i}.bin /data/layer${i}.bin`);
  }
  writeFileSync(join(dir, "Dockerfile"), `${lines.join("\n")}\n`);
  await docker(["build", "-q", "-t", SOURCE, dir]);
  rmSync(dir, { recursive: true, force: true });
  const id = await docker(["image", "inspect", "--format", "{{.Id}}", SOURCE]);
  return { id, bytes: LAYERS * LAYER_MB * 1024 * 1024 };
}

async function startDistribution(): Promise<Target> {
  const port = await freePort();
  const root = mkdtempSync(join(work, "distribution-"));
  const config = join(root, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  cache:",
      "    blobdescriptor: inmemory",
      "  filesystem:",
      `    rootdirectory: ${join(root, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(DISTRIBUTION, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not start: ${stderr}`);
    await sleep(50);
  }
  return {
    name: "distribution",
    host: `127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function startBerthTarget(): Promise<Target> {
  const berth: RunningBerth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
  const ecr = new ECRClient(clientConfig(berth.endpoint));
  await ecr.send(new CreateRepositoryCommand({ repositoryName: REPO }));
  const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0].authorizationToken!;
  const password = Buffer.from(token, "base64").toString("utf8").slice("AWS:".length);
  const host = `127.0.0.1:${berth.port}`;
  await docker(["login", "-u", "AWS", "--password-stdin", host], password);
  ecr.destroy();
  return {
    name: "berth",
    host,
    pid: berth.process.pid!,
    authorization: `Basic ${token}`,
    stop: async () => {
      await docker(["logout", host]).catch(() => {});
      const code = await berth.stop();
      if (code !== 0) process.stderr.write(`bench: berth exited with ${code}:\n${berth.output().slice(-2000)}\n`);
      rmSync(berth.dataDir, { recursive: true, force: true });
    },
  };
}

/** `n` clients at once, each fetching the manifest and then every blob of the image, as a pull does. */
async function concurrentPulls(t: Target, n: number): Promise<{ seconds: number; cpu: number; bytes: number }> {
  const auth = t.authorization ? ["-H", `Authorization: ${t.authorization}`] : [];
  const accept = ["-H", "Accept: application/vnd.docker.distribution.manifest.v2+json"];
  const manifest = JSON.parse(
    await run("curl", ["-sSf", ...auth, ...accept, `http://${t.host}/v2/${REPO}/manifests/v1`]),
  ) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  const blobs = [manifest.config, ...manifest.layers];
  const urls = blobs.flatMap((b) => ["-o", "/dev/null", `http://${t.host}/v2/${REPO}/blobs/${b.digest}`]);
  const expected = blobs.reduce((s, b) => s + b.size, 0);
  const started = performance.now();
  const cpu0 = cpuSeconds(t.pid);
  const outputs = await Promise.all(
    Array.from({ length: n }, () =>
      run(
        "curl",
        [
          "-sSf",
          ...auth,
          ...accept,
          "-w",
          "%{http_code} %{size_download}\\n",
          "-o",
          "/dev/null",
          `http://${t.host}/v2/${REPO}/manifests/v1`,
          ...urls,
        ],
        600_000,
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(t.pid) - cpu0;
  let bytes = 0;
  for (const out of outputs) {
    const lines = out.split("\n").slice(1);
    for (const l of lines) {
      const [code, size] = l.split(" ");
      if (code !== "200") throw new Error(`${t.name}: a concurrent blob GET answered ${code}`);
      bytes += Number(size);
    }
  }
  if (bytes !== expected * n)
    throw new Error(`${t.name}: concurrent pulls got ${bytes} bytes, expected ${expected * n}`);
  return { seconds, cpu, bytes };
}

interface Sample {
  push: number;
  pull: number;
  concurrent: number;
  concurrentBytes: number;
  /** Server CPU seconds during each. */
  pushCpu: number;
  pullCpu: number;
  concurrentCpu: number;
}

/** Registries running right now, stopped on Ctrl-C too. */
const running = new Set<Target>();

async function measure(start: () => Promise<Target>, imageId: string): Promise<Sample> {
  const t = await start();
  running.add(t);
  try {
    const ref = `${t.host}/${REPO}:v1`;
    await docker(["tag", SOURCE, ref]);
    const push = await timed(t.pid, () => docker(["push", "-q", ref]));
    // Remove every local name of the image so the pull downloads and extracts every layer.
    await docker(["rmi", "-f", imageId]);
    const pull = await timed(t.pid, () => docker(["pull", "-q", ref]));
    const pulledId = await docker(["image", "inspect", "--format", "{{.Id}}", ref]);
    if (pulledId !== imageId) throw new Error(`${t.name}: pulled ${pulledId}, pushed ${imageId}`);
    await docker(["tag", ref, SOURCE]);
    await docker(["rmi", ref]);
    const c = await concurrentPulls(t, CONCURRENCY);
    return {
      push: push.wall,
      pull: pull.wall,
      concurrent: c.seconds,
      concurrentBytes: c.bytes,
      pushCpu: push.cpu,
      pullCpu: pull.cpu,
      concurrentCpu: c.cpu,
    };
  } finally {
    running.delete(t);
    await t.stop();
  }
}

async function main() {
  if (!existsSync(DISTRIBUTION))
    throw new Error(`${DISTRIBUTION} is missing: apt-get install docker-registry (CNCF distribution 2.8)`);
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  const version = (await run(DISTRIBUTION, ["--version"])).split(" ").slice(-1)[0];
  process.stderr.write(`bench: building a ${LAYERS}×${LAYER_MB} MiB image of random bytes…\n`);
  const image = await buildImage();
  cleanups.push(() =>
    docker(["rmi", "-f", image.id]).then(
      () => undefined,
      () => undefined,
    ),
  );
  const samples: Record<string, Sample[]> = { berth: [], distribution: [] };
  const starters: Record<string, () => Promise<Target>> = { berth: startBerthTarget, distribution: startDistribution };
  // One warm-up of each (page cache, docker's layer store), then alternate so drift hits both alike.
  for (let i = -1; i < ITERATIONS; i++) {
    if (Date.now() > DEADLINE) {
      process.stderr.write(`bench: --max-minutes reached after ${i} iterations\n`);
      break;
    }
    const order = i % 2 === 0 ? ["berth", "distribution"] : ["distribution", "berth"];
    for (const name of order) {
      const s = await measure(starters[name], image.id);
      process.stderr.write(
        `bench: ${i < 0 ? "warm-up" : `#${i + 1}`} ${name}: push ${s.push.toFixed(2)} s (server cpu ${s.pushCpu.toFixed(2)} s), ` +
          `pull ${s.pull.toFixed(2)} s (${s.pullCpu.toFixed(2)} s), ${CONCURRENCY} concurrent ${s.concurrent.toFixed(2)} s (${s.concurrentCpu.toFixed(2)} s)\n`,
      );
      if (i >= 0) samples[name].push(s);
    }
  }
  const fmt = (x: number) => `${x.toFixed(2)} s`;
  const rows: string[][] = [];
  const ratio: Record<string, number> = {};
  const cpu = (name: string, key: "pushCpu" | "pullCpu" | "concurrentCpu") =>
    summarize(samples[name].map((s) => s[key])).median;
  for (const [label, key, cpuKey] of [
    ["docker push", "push", "pushCpu"],
    ["docker pull (after docker rmi)", "pull", "pullCpu"],
    [`${CONCURRENCY} concurrent pulls (curl, every blob)`, "concurrent", "concurrentCpu"],
  ] as const) {
    const b = summarize(samples.berth.map((s) => s[key]));
    const d = summarize(samples.distribution.map((s) => s[key]));
    ratio[key] = b.median / d.median;
    const cb = cpu("berth", cpuKey);
    const cd = cpu("distribution", cpuKey);
    rows.push([
      `**Berth** — ${label}`,
      `**${fmt(b.median)}**`,
      fmt(b.min),
      fmt(b.max),
      `**${ratio[key].toFixed(2)}×**`,
      fmt(cb),
      `${(cb / cd).toFixed(2)}×`,
    ]);
    rows.push([`distribution ${version} — ${label}`, fmt(d.median), fmt(d.min), fmt(d.max), "1.00×", fmt(cd), "1.00×"]);
  }
  const mb = (LAYERS * LAYER_MB * 1024 * 1024) / 1e6;
  const conc = (name: string) =>
    (samples[name][0]?.concurrentBytes ?? 0) / 1e6 / summarize(samples[name].map((s) => s.concurrent)).median;
  process.stdout.write(
    [
      `## Registry: docker push / pull — ${today()}`,
      "",
      `${describeMachine(m)}. Image: ${LAYERS} layers × ${LAYER_MB} MiB of random bytes (${mb.toFixed(0)} MB), ` +
        `FROM scratch; ${samples.berth.length} iterations per registry after one warm-up each, alternating.`,
      "",
      markdownTable(["", "median", "min", "max", "÷ distribution", "server CPU (median)", "CPU ÷ distribution"], rows, [
        false,
        true,
        true,
        true,
        true,
        true,
        true,
      ]),
      "",
      `Concurrent pulls moved ${CONCURRENCY} × ${mb.toFixed(0)} MB: Berth ${conc("berth").toFixed(0)} MB/s, distribution ${conc("distribution").toFixed(0)} MB/s.`,
      "",
      `**Berth ÷ distribution: push ${ratio.push.toFixed(2)}×, pull ${ratio.pull.toFixed(2)}×, ${CONCURRENCY} concurrent pulls ${ratio.concurrent.toFixed(2)}×.**`,
      "",
    ].join("\n"),
  );
}

async function cleanup() {
  for (const t of running) await t.stop().catch(() => {});
  for (const c of cleanups.reverse()) await c();
  rmSync(work, { recursive: true, force: true });
}

process.on("SIGINT", () => {
  void cleanup().finally(() => process.exit(130));
});

main()
  .catch((e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
