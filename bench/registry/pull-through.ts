/**
 * The pull-through cache: `docker pull` of a multi-layer image of random bytes straight from an
 * upstream (CNCF distribution 2.8, Debian's `docker-registry`), through Berth's pull-through cache
 * the first time (Berth fetches it from that upstream), and through Berth again once cached — all
 * in the same run, each sample with a fresh Berth, the ratios against the direct pull.
 * `npm run bench:pull-through -- [--iterations 3] [--layers 3] [--layer-mb 16] [--no-build]`
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreatePullThroughCacheRuleCommand, ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { clientConfig, startBerth } from "../../test/support/berth.js";
import { buildBerth, describeMachine, machine, markdownTable, sleep, summarize, today, warnIfBusy } from "../lib.js";

const { values: opts } = parseArgs({
  options: {
    iterations: { type: "string", default: "3" },
    layers: { type: "string", default: "3" },
    "layer-mb": { type: "string", default: "16" },
    "no-build": { type: "boolean", default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
const LAYERS = Number(opts.layers);
const LAYER_MB = Number(opts["layer-mb"]);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1 || ITERATIONS > 20) throw new Error("--iterations: 1..20");
if (!Number.isInteger(LAYERS) || LAYERS < 1 || LAYERS > 20) throw new Error("--layers: 1..20");
if (!Number.isInteger(LAYER_MB) || LAYER_MB < 1 || LAYER_MB > 256) throw new Error("--layer-mb: 1..256");

const DISTRIBUTION = "/usr/bin/docker-registry";
const runId = Date.now().toString(36);
const SOURCE = `berth-bench/pull-through:${runId}`;
const work = mkdtempSync(join(tmpdir(), "berth-bench-ptc-"));
const dockerEnv = { ...process.env, DOCKER_CONFIG: join(work, "docker-config") };

function docker(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { env: dockerEnv, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`docker ${args.join(" ")} failed (${code}): ${out.trim()}`));
    });
    child.stdin.end(input);
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });

const seconds = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

async function startUpstream(): Promise<{ host: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const root = mkdtempSync(join(work, "upstream-"));
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
      "  filesystem:",
      `    rootdirectory: ${join(root, "data")}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(DISTRIBUTION, ["serve", config], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(50);
  }
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Sample {
  direct: number;
  first: number;
  cached: number;
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  const dir = join(work, "image");
  mkdirSync(dir);
  const lines = ["FROM scratch"];
  for (let i = 0; i < LAYERS; i++) {
    writeFileSync(join(dir, `layer${i}.bin`), randomBytes(LAYER_MB * 1024 * 1024));
    lines.push(`COPY layer${i}.bin /data/layer${i}.bin`);
  }
  writeFileSync(join(dir, "Dockerfile"), `${lines.join("\n")}\n`);
  await docker(["build", "-q", "-t", SOURCE, dir]);
  const imageId = await docker(["image", "inspect", "--format", "{{.Id}}", SOURCE]);
  const upstream = await startUpstream();
  const samples: Sample[] = [];
  try {
    const upstreamRef = `${upstream.host}/bench/app:v1`;
    await docker(["tag", SOURCE, upstreamRef]);
    await docker(["push", "-q", upstreamRef]);
    await docker(["rmi", "-f", imageId]);
    for (let i = -1; i < ITERATIONS; i++) {
      // No task endpoint: the benchmark runs no tasks, and another Berth may own its address.
      const berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn", BERTH_TASK_ENDPOINT: "off" } });
      const ecr = new ECRClient(clientConfig(berth.endpoint));
      const host = `127.0.0.1:${berth.port}`;
      try {
        await ecr.send(
          new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: "up", upstreamRegistryUrl: upstream.host }),
        );
        const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0].authorizationToken!;
        await docker(
          ["login", "-u", "AWS", "--password-stdin", host],
          Buffer.from(token, "base64").toString().slice(4),
        );
        const through = `${host}/up/bench/app:v1`;
        const direct = await seconds(() => docker(["pull", "-q", upstreamRef]));
        await docker(["rmi", "-f", imageId]);
        const first = await seconds(() => docker(["pull", "-q", through]));
        await docker(["rmi", "-f", imageId]);
        const cached = await seconds(() => docker(["pull", "-q", through]));
        await docker(["rmi", "-f", imageId]);
        process.stderr.write(
          `bench: ${i < 0 ? "warm-up" : `#${i + 1}`}: direct ${direct.toFixed(2)} s, first through Berth ${first.toFixed(2)} s, cached ${cached.toFixed(2)} s\n`,
        );
        if (i >= 0) samples.push({ direct, first, cached });
      } finally {
        ecr.destroy();
        await docker(["logout", host]).catch(() => "");
        await berth.stop();
        rmSync(berth.dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await upstream.stop();
    await docker(["rmi", "-f", imageId]).catch(() => "");
    rmSync(work, { recursive: true, force: true });
  }
  const direct = summarize(samples.map((s) => s.direct));
  const row = (name: string, xs: number[]) => {
    const s = summarize(xs);
    return [
      name,
      `${s.median.toFixed(2)} s`,
      `${s.min.toFixed(2)} s`,
      `${s.max.toFixed(2)} s`,
      (s.median / direct.median).toFixed(2),
    ];
  };
  process.stdout.write(
    `\n### Pull-through cache — ${today()}\n\n${describeMachine(m)}; ${LAYERS} × ${LAYER_MB} MiB layers, ${samples.length} samples\n\n` +
      markdownTable(
        ["docker pull", "median", "min", "max", "÷ direct"],
        [
          row(
            "direct from the upstream (distribution 2.8)",
            samples.map((s) => s.direct),
          ),
          row(
            "first pull through Berth (fetches from the upstream)",
            samples.map((s) => s.first),
          ),
          row(
            "cached pull through Berth",
            samples.map((s) => s.cached),
          ),
        ],
        [false, true, true, true, true],
      ) +
      "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).message}\n`);
  process.exit(1);
});
