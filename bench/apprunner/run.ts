/**
 * App Runner from source: `aws apprunner create-service` (a local Node.js app directory, runtime
 * NODEJS_22, base image already built) until the first 200 from its ServiceUrl, against
 * `docker build` + `docker run` of the same app on the same base, measured alternately in the
 * same run. `npm run bench:apprunner -- [--iterations 3] [--no-build]`
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type RunningBerth, startBerth } from "../../test/support/berth.js";
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
    iterations: { type: "string", default: "3" },
    "no-build": { type: "boolean", default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1 || ITERATIONS > 20) throw new Error("--iterations: 1..20");

const LISTENER_PORT = 8089;
const PEER_PORT = 18089;
const STEP_TIMEOUT_MS = 240_000;
const BENCH_LABEL = `berth-bench=apprunner-${process.pid}`;

let berth: RunningBerth | undefined;
const app = mkdtempSync(join(tmpdir(), "berth-bench-apprunner-"));
const peerImages: string[] = [];

const cli = (...args: string[]) =>
  JSON.parse(
    execFileSync("aws", ["--endpoint-url", berth!.endpoint, "--output", "json", ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_PAGER: "",
      },
    }) || "{}",
  );

/** Polls `probe` every 100 ms until it returns true (bounded). */
async function until(what: string, probe: () => boolean) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${STEP_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

const ok = (args: string[]) => {
  try {
    return (
      execFileSync("curl", ["-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", ...args], {
        encoding: "utf8",
      }) === "200"
    );
  } catch {
    return false;
  }
};

const source = () =>
  JSON.stringify({
    CodeRepository: {
      RepositoryUrl: `file://${app}`,
      SourceCodeVersion: { Type: "BRANCH", Value: "main" },
      CodeConfiguration: {
        ConfigurationSource: "API",
        CodeConfigurationValues: {
          Runtime: "NODEJS_22",
          BuildCommand: "echo built > built.txt",
          StartCommand: "node server.js",
          Port: "3000",
        },
      },
    },
    AutoDeploymentsEnabled: false,
  });

/** CreateService → the first 200 at the ServiceUrl (ms); the service is deleted afterwards, untimed. */
async function berthOnce(i: number): Promise<number> {
  const lb = () =>
    cli("elbv2", "describe-load-balancers").LoadBalancers?.find(
      (l: { LoadBalancerName: string }) => l.LoadBalancerName === "berth-apprunner",
    )?.DNSName as string | undefined;
  const t0 = performance.now();
  const svc = cli(
    "apprunner",
    "create-service",
    "--service-name",
    `bench-${i}-${process.pid}`,
    "--source-configuration",
    source(),
  ).Service;
  let address: string | undefined;
  await until("the ServiceUrl answering 200", () => {
    address ??= lb();
    return (
      !!address &&
      ok(["--resolve", `${svc.ServiceUrl}:${LISTENER_PORT}:${address}`, `http://${svc.ServiceUrl}:${LISTENER_PORT}/`])
    );
  });
  const ms = performance.now() - t0;
  cli("apprunner", "delete-service", "--service-arn", svc.ServiceArn);
  await until(
    "the service being deleted",
    () => cli("apprunner", "describe-service", "--service-arn", svc.ServiceArn).Service.Status === "DELETED",
  );
  return ms;
}

/** docker build (the same Dockerfile Berth writes, on the same base) + docker run → the first 200 (ms). */
async function peerOnce(i: number, base: string): Promise<number> {
  const ctx = mkdtempSync(join(tmpdir(), "berth-bench-peer-"));
  const tag = `berth-bench/apprunner-peer:${process.pid}-${i}`;
  try {
    execFileSync("cp", ["-r", `${app}/.`, ctx]);
    writeFileSync(
      join(ctx, "Dockerfile"),
      [`FROM ${base}`, "COPY . /app", "WORKDIR /app", 'RUN ["/bin/sh","-c","echo built > built.txt"]'].join("\n"),
    );
    const t0 = performance.now();
    await run("docker", ["build", "-q", "-t", tag, ctx], STEP_TIMEOUT_MS);
    peerImages.push(tag);
    await run("docker", [
      "run",
      "-d",
      "--rm",
      "--label",
      BENCH_LABEL,
      "-e",
      "PORT=3000",
      "-p",
      `127.0.0.1:${PEER_PORT}:3000`,
      tag,
      "node",
      "server.js",
    ]);
    await until("the peer answering 200", () => ok([`http://127.0.0.1:${PEER_PORT}/`]));
    return performance.now() - t0;
  } finally {
    rmSync(ctx, { recursive: true, force: true });
    const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=${BENCH_LABEL}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    if (ids.length) execFileSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
  }
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  writeFileSync(
    join(app, "server.js"),
    'const built = require("node:fs").readFileSync("built.txt", "utf8").trim();\nrequire("node:http").createServer((q, s) => s.end(built)).listen(Number(process.env.PORT));\n',
  );
  berth = await startBerth({ env: { BERTH_APPRUNNER_LISTENER_PORT: String(LISTENER_PORT), BERTH_LOG_LEVEL: "warn" } });
  // Warm-up (untimed): builds the NODEJS base image from the host's node, as a first use does.
  await berthOnce(0);
  const base = `berth-apprunner/runtime-nodejs:${process.version.slice(1)}`;
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 1; i <= ITERATIONS; i++) {
    ours.push(await berthOnce(i));
    peer.push(await peerOnce(i, base));
  }
  const a = summarize(ours);
  const b = summarize(peer);
  const s = (x: number) => (x / 1000).toFixed(2);
  console.log(`\n## App Runner from source: CreateService → first 200 (${today()})\n`);
  console.log(describeMachine(m));
  console.log("");
  console.log(
    markdownTable(
      ["", "n", "median s", "min s", "max s"],
      [
        ["Berth: aws apprunner create-service → 200 at ServiceUrl", String(a.n), s(a.median), s(a.min), s(a.max)],
        ["peer: docker build + docker run → 200", String(b.n), s(b.median), s(b.min), s(b.max)],
        ["ratio (Berth ÷ peer, medians)", "", (a.median / b.median).toFixed(2), "", ""],
      ],
      [false, true, true, true, true],
    ),
  );
}

main()
  .catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await berth?.stop();
    if (berth) {
      const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=berth.data-dir=${berth.dataDir}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean);
      if (ids.length) execFileSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
    }
    for (const t of peerImages) execFileSync("docker", ["rmi", "-f", t], { stdio: "ignore" });
    rmSync(app, { recursive: true, force: true });
  });
