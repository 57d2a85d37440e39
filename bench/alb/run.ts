/**
 * Requests per second and p50/p99 latency through Berth's ALB against HAProxy, both in front of
 * the same backend on 127.0.0.1, in the same run; plus the backend directly.
 * `npm run bench:alb -- [--duration 10] [--warmup 3] [--rounds 5] [--threads 2] [--connections 32]
 *   [--haproxy-threads N] [--no-build]` (HAProxy runs one thread per core unless told otherwise)
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { clientConfig, startBerth } from "../../test/support/berth.js";
import {
  buildBerth,
  describeMachine,
  machine,
  markdownTable,
  run,
  sleep,
  today,
  warnIfBusy,
  parseWrk,
  type WrkResult,
} from "../lib.js";

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    threads: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    "haproxy-threads": { type: "string" },
    "no-build": { type: "boolean", default: false },
  },
});
const DURATION_S = Number(opts.duration);
const WARMUP_S = Number(opts.warmup);
const ROUNDS = Number(opts.rounds);
const THREADS = Number(opts.threads);
const CONNECTIONS = Number(opts.connections);
if (!Number.isInteger(DURATION_S) || DURATION_S < 1 || DURATION_S > 120) throw new Error("--duration (s): 1..120");
if (!Number.isInteger(WARMUP_S) || WARMUP_S < 0 || WARMUP_S > 60) throw new Error("--warmup (s): 0..60");
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error("--rounds: 1..20");
if (!Number.isInteger(THREADS) || THREADS < 1 || THREADS > 64) throw new Error("--threads: 1..64");
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < THREADS || CONNECTIONS > 1024)
  throw new Error("--connections: threads..1024");
const HAPROXY_THREADS = opts["haproxy-threads"] === undefined ? undefined : Number(opts["haproxy-threads"]);
if (
  HAPROXY_THREADS !== undefined &&
  (!Number.isInteger(HAPROXY_THREADS) || HAPROXY_THREADS < 1 || HAPROXY_THREADS > 64)
)
  throw new Error("--haproxy-threads: 1..64");

const LISTENER_PORT = 8080;
const BODY = "hello from the backend\n";

/** The backend both proxies front: a keep-alive Node HTTP server in its own process. */
const BACKEND_JS = `
const http = require("node:http");
const body = Buffer.from(${JSON.stringify(BODY)});
const server = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => process.stdout.write("port " + server.address().port + "\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

/** One bounded wrk run (wrk's -d plus a hard timeout). Fails on any non-2xx answer or socket error. */
async function wrk(name: string, url: string, seconds: number): Promise<WrkResult> {
  const out = await run(
    "wrk",
    [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, "--timeout", "5s", "--latency", url],
    (seconds + 30) * 1000,
  );
  const r = parseWrk(out);
  if (r.non2xx > 0 || r.socketErrors > 0)
    throw new Error(
      `${name}: ${r.non2xx} non-2xx answers and ${r.socketErrors} socket errors of ${r.requests}:\n${out}`,
    );
  return r;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

async function startBackend(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["-e", BACKEND_JS], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the backend did not start in 10 s")), 10_000);
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => reject(new Error(`the backend exited with ${code}`)));
  });
  return { port, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

function ensureHaproxy(): string {
  const find = () => execFileSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" }).trim();
  try {
    return find();
  } catch {
    if (process.getuid?.() !== 0) throw new Error("haproxy is not installed: sudo apt-get install -y haproxy");
    process.stderr.write("bench: installing Debian's haproxy…\n");
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "haproxy"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    return find();
  }
}

/**
 * HAProxy in front of the backend, doing the header work an ALB does (X-Forwarded-For/Proto/
 * Port, a request id) with keep-alive on both sides and connection reuse to the server. It runs
 * with its defaults otherwise (one thread per core).
 */
async function startHaproxy(bin: string, backendPort: number, workDir: string) {
  const port = await freePort();
  const cfg = join(workDir, "haproxy.cfg");
  writeFileSync(
    cfg,
    [
      "global",
      "  maxconn 4096",
      ...(HAPROXY_THREADS ? [`  nbthread ${HAPROXY_THREADS}`] : []),
      "defaults",
      "  mode http",
      "  timeout connect 10s",
      "  timeout client 60s",
      "  timeout server 60s",
      "  option http-keep-alive",
      "  option forwardfor",
      "frontend fe",
      `  bind 127.0.0.1:${port}`,
      "  http-request set-header X-Forwarded-Proto http",
      `  http-request set-header X-Forwarded-Port ${port}`,
      "  http-request set-header X-Request-Id %[uuid]",
      "  default_backend be",
      "backend be",
      "  http-reuse always",
      `  server s1 127.0.0.1:${backendPort}`,
      "",
    ].join("\n"),
  );
  execFileSync(bin, ["-c", "-q", "-f", cfg]);
  const child = spawn(bin, ["-db", "-f", cfg], { stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      if ((await r.text()) === BODY) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error("haproxy did not serve in 10 s");
    await sleep(100);
  }
  const version = execFileSync(bin, ["-v"], { encoding: "utf8" })
    .split("\n")[0]
    .replace(/ - https.*$/, "");
  const threads = HAPROXY_THREADS ? `nbthread ${HAPROXY_THREADS}` : "one thread per core (its default)";
  return { url: `http://127.0.0.1:${port}/`, version: `${version}, ${threads}`, stop: () => stopChild(child) };
}

/** Berth with an ALB: target group → the backend, listener on port 8080 of the load balancer's address. */
async function startBerthAlb(backendPort: number) {
  const berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
  const elb = new ElasticLoadBalancingV2Client(clientConfig(berth.endpoint));
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: "bench",
      Protocol: "HTTP",
      Port: backendPort,
      TargetType: "ip",
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
    }),
  );
  const tgArn = tg.TargetGroups![0].TargetGroupArn!;
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: "bench" }))).LoadBalancers![0];
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn,
      Protocol: "HTTP",
      Port: LISTENER_PORT,
      DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
    }),
  );
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: "127.0.0.1" }] }));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const h = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    if (h.TargetHealthDescriptions?.[0]?.TargetHealth?.State === "healthy") break;
    if (Date.now() > deadline) throw new Error("the target did not become healthy in 30 s");
    await sleep(250);
  }
  const url = `http://${lb.DNSName}:${LISTENER_PORT}/`;
  const check = await fetch(url);
  if ((await check.text()) !== BODY) throw new Error(`Berth's ALB did not return the backend's answer at ${url}`);
  return {
    url,
    stop: async () => {
      await berth.stop();
      rmSync(berth.dataDir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  try {
    execFileSync("sh", ["-c", "command -v wrk"], { stdio: "ignore" });
  } catch {
    throw new Error("wrk is not installed: apt-get install -y wrk");
  }
  const haproxyBin = ensureHaproxy();
  const workDir = mkdtempSync(join(tmpdir(), "berth-bench-alb-"));
  const stops: (() => Promise<void>)[] = [];
  const samples = new Map<string, WrkResult[]>();
  let haproxyVersion = "";
  try {
    const backend = await startBackend();
    stops.push(backend.stop);
    const haproxy = await startHaproxy(haproxyBin, backend.port, workDir);
    stops.push(haproxy.stop);
    haproxyVersion = haproxy.version;
    const berth = await startBerthAlb(backend.port);
    stops.push(berth.stop);
    const targets = [
      { name: "backend directly", url: `http://127.0.0.1:${backend.port}/` },
      { name: "HAProxy", url: haproxy.url },
      { name: "Berth ALB", url: berth.url },
    ];
    // Warm every path up (JIT, connection pools), then alternate, rotating which goes first, so
    // drift in the machine's load hits all alike; the ratios are taken within each round.
    if (WARMUP_S > 0) for (const t of targets) await wrk(t.name, t.url, WARMUP_S);
    for (let round = 1; round <= ROUNDS; round++)
      for (const t of [...targets.slice((round - 1) % 3), ...targets.slice(0, (round - 1) % 3)]) {
        const r = await wrk(t.name, t.url, DURATION_S);
        process.stderr.write(
          `round ${round} ${t.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms\n`,
        );
        samples.set(t.name, [...(samples.get(t.name) ?? []), r]);
      }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }

  const summary = (name: string) => {
    const rs = samples.get(name)!;
    return {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50Ms)),
      p99: median(rs.map((r) => r.p99Ms)),
      requests: rs.reduce((a, r) => a + r.requests, 0),
    };
  };
  const direct = summary("backend directly");
  const peer = summary("HAProxy");
  const berth = summary("Berth ALB");
  const f2 = (x: number) => x.toFixed(2);
  const row = (name: string, s: ReturnType<typeof summary>) => [
    name,
    s.rps.toFixed(0),
    `${f2(s.p50)} ms`,
    `${f2(s.p99)} ms`,
    String(s.requests),
    `${f2(s.rps / peer.rps)}×`,
    `${f2(s.p99 / peer.p99)}×`,
    `${f2(s.rps / direct.rps)}×`,
  ];
  // Per-round ratios: Berth and HAProxy measured back to back under the same load.
  const berthRounds = samples.get("Berth ALB")!;
  const peerRounds = samples.get("HAProxy")!;
  const rpsRatios = berthRounds.map((r, i) => r.rps / peerRounds[i].rps);
  const p99Ratios = berthRounds.map((r, i) => r.p99Ms / peerRounds[i].p99Ms);
  const rpsRatio = median(rpsRatios);
  const p99Ratio = median(p99Ratios);
  const range = (xs: number[]) => `${f2(Math.min(...xs))}–${f2(Math.max(...xs))}`;
  process.stdout.write(
    [
      "",
      `ALB data plane — ${today()}: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s, ${ROUNDS} alternating rounds after a ${WARMUP_S} s warm-up each; medians of the rounds`,
      `Machine: ${describeMachine(m)}; wrk, the backend and the proxy share the cores. Peer: ${haproxyVersion}`,
      "",
      markdownTable(
        ["", "requests/s", "p50", "p99", "requests", "÷ HAProxy (req/s)", "÷ HAProxy (p99)", "÷ direct (req/s)"],
        [row("**Berth ALB**", berth), row("**HAProxy (peer)**", peer), row("backend directly", direct)],
        [false, true, true, true, true, true, true, true],
      ),
      "",
      `Berth / HAProxy, median of the per-round ratios: ${f2(rpsRatio)}× the requests/s (rounds ${range(rpsRatios)}; target ≥ 0.8×: ${rpsRatio >= 0.8 ? "met" : "NOT met"}), ` +
        `${f2(p99Ratio)}× the p99 (rounds ${range(p99Ratios)}; target ≤ 2×: ${p99Ratio <= 2 ? "met" : "NOT met"})`,
      "",
    ].join("\n"),
  );
}

main().catch((e) => {
  process.stderr.write(`bench:alb failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
