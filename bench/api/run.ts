/**
 * Signed requests per second the edge answers: one SigV4-signed ECS DescribeClusters request,
 * replayed with wrk against Berth and against moto's server, in the same run.
 * `npm run bench:api -- [--duration 10] [--threads 2] [--connections 32] [--no-info]`
 */
import { execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateClusterCommand, ECSClient } from "@aws-sdk/client-ecs";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { clientConfig, credentials, region, startBerth } from "../../test/support/berth.js";
import {
  buildBerth,
  describeMachine,
  machine,
  markdownTable,
  motoVersion,
  parseWrk,
  run,
  startMoto,
  today,
  warnIfBusy,
  type WrkResult,
} from "../lib.js";

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    "no-info": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    "moto-port": { type: "string" },
  },
});
const DURATION_S = Number(opts.duration);
const WARMUP_S = Number(opts.warmup);
const THREADS = Number(opts.threads);
const CONNECTIONS = Number(opts.connections);
if (!Number.isInteger(DURATION_S) || DURATION_S < 1 || DURATION_S > 120) throw new Error("--duration (s): 1..120");
if (!Number.isInteger(WARMUP_S) || WARMUP_S < 0 || WARMUP_S > 60) throw new Error("--warmup (s): 0..60");
if (!Number.isInteger(THREADS) || THREADS < 1 || THREADS > 64) throw new Error("--threads: 1..64");
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < THREADS || CONNECTIONS > 1024)
  throw new Error("--connections: threads..1024");

const CLUSTER = "bench";
const TARGET = "AmazonEC2ContainerServiceV20141113.DescribeClusters";
const BODY = JSON.stringify({ clusters: [CLUSTER] });

/** Node's SHA-256 in the shape the smithy signer wants. */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret ? createHmac("sha256", toBuf(secret)) : createHash("sha256");
  }
  update(d: string | ArrayBuffer | ArrayBufferView) {
    this.h.update(toBuf(d));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}
const toBuf = (d: string | ArrayBuffer | ArrayBufferView) =>
  typeof d === "string"
    ? Buffer.from(d)
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** One signed DescribeClusters for 127.0.0.1:port; valid for AWS's 15-minute window, so it can be replayed. */
async function signedRequest(port: number): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region, service: "ecs", sha256: Sha256 });
  const req = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    port,
    path: "/",
    headers: {
      host: `127.0.0.1:${port}`,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": TARGET,
    },
    body: BODY,
  });
  const signed = await signer.sign(req);
  return signed.headers;
}

/** Sends the signed request once and insists on a 200 naming the cluster: the benchmark must measure answers, not errors. */
async function verify(name: string, port: number, headers: Record<string, string>) {
  const { host: _host, ...rest } = headers; // fetch sets Host from the URL, to the same value
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: rest, body: BODY });
  const text = await res.text();
  let clusterName: unknown;
  try {
    clusterName = (JSON.parse(text) as { clusters?: { clusterName?: string }[] }).clusters?.[0]?.clusterName;
  } catch {
    // not JSON: reported below
  }
  if (res.status !== 200 || clusterName !== CLUSTER)
    throw new Error(
      `${name} did not answer the signed DescribeClusters with cluster ${CLUSTER}: ${res.status} ${text}`,
    );
}

const luaString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

function luaScript(headers: Record<string, string>): string {
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(BODY)}`];
  // wrk adds its own "Host" unless the script sets exactly that key; the value is the one signed.
  for (const [k, v] of Object.entries(headers))
    lines.push(`wrk.headers[${luaString(k === "host" ? "Host" : k)}] = ${luaString(v)}`);
  return `${lines.join("\n")}\n`;
}

/** One wrk run of `seconds`; wrk's own -d and a hard timeout bound it. Fails on any non-2xx answer. */
async function wrkOnce(name: string, port: number, script: string, seconds: number): Promise<WrkResult> {
  const out = await run(
    "wrk",
    [
      ...[`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, "--timeout", "5s", "--latency"],
      ...["-s", script, `http://127.0.0.1:${port}/`],
    ],
    (seconds + 30) * 1000,
  );
  const r = parseWrk(out);
  if (r.non2xx > 0) throw new Error(`${name} answered ${r.non2xx} of ${r.requests} requests with non-2xx:\n${out}`);
  return r;
}

/** Verifies the signed request, warms the target up (JIT, caches; discarded), then measures. */
async function wrk(name: string, port: number, workDir: string): Promise<WrkResult> {
  const headers = await signedRequest(port);
  await verify(name, port, headers);
  const script = join(workDir, `${port}.lua`);
  writeFileSync(script, luaScript(headers));
  if (WARMUP_S > 0) await wrkOnce(name, port, script, WARMUP_S);
  const r = await wrkOnce(name, port, script, DURATION_S);
  process.stderr.write(
    `${name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, socket errors ${r.socketErrors}\n`,
  );
  return r;
}

async function createCluster(endpoint: string) {
  await new ECSClient(clientConfig(endpoint)).send(new CreateClusterCommand({ clusterName: CLUSTER }));
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  try {
    execFileSync("which", ["wrk"], { stdio: "ignore" });
  } catch {
    throw new Error("wrk is not installed: apt-get install -y wrk");
  }
  const workDir = mkdtempSync(join(tmpdir(), "berth-bench-api-"));
  const results: { name: string; r: WrkResult }[] = [];
  try {
    // Berth at warn: the edge writes no per-request line.
    const berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
    try {
      await createCluster(berth.endpoint);
      results.push({ name: "Berth (BERTH_LOG_LEVEL=warn)", r: await wrk("berth", berth.port, workDir) });
    } finally {
      await berth.stop();
      rmSync(berth.dataDir, { recursive: true, force: true });
    }

    const moto = await startMoto(opts["moto-port"] ? Number(opts["moto-port"]) : undefined);
    try {
      await createCluster(`http://127.0.0.1:${moto.port}`);
      results.push({ name: `moto_server ${motoVersion()} (peer)`, r: await wrk("moto", moto.port, workDir) });
    } finally {
      await moto.stop();
    }

    if (!opts["no-info"]) {
      // The default level: one JSON line per request on stderr (here, piped to this process).
      const berth = await startBerth({ env: { BERTH_LOG_LEVEL: "info" } });
      try {
        await createCluster(berth.endpoint);
        results.push({ name: "Berth (BERTH_LOG_LEVEL=info)", r: await wrk("berth-info", berth.port, workDir) });
      } finally {
        await berth.stop();
        rmSync(berth.dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const peer = results.find((x) => x.name.startsWith("moto"))!.r;
  const berthWarn = results[0].r;
  const f2 = (x: number) => x.toFixed(2);
  process.stdout.write(
    [
      "",
      `Signed ECS DescribeClusters replayed by wrk — ${today()}, wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s after a ${WARMUP_S} s warm-up, each on 127.0.0.1`,
      `Machine: ${describeMachine(m)} (wrk shares the cores with the server under test)`,
      "",
      markdownTable(
        ["", "requests/s", "p50", "p99", "requests", "socket errors", "÷ moto"],
        results.map(({ name, r }) => [
          name,
          r.rps.toFixed(0),
          `${f2(r.p50Ms)} ms`,
          `${f2(r.p99Ms)} ms`,
          String(r.requests),
          String(r.socketErrors),
          `${f2(r.rps / peer.rps)}×`,
        ]),
        [false, true, true, true, true, true, true],
      ),
      "",
      `Berth / moto (requests/s, log level warn): ${f2(berthWarn.rps / peer.rps)}× — target ≥ 5×, aim 10×`,
      "",
    ].join("\n"),
  );
}

main().catch((e) => {
  process.stderr.write(`bench:api failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
