/**
 * Concurrent signed callers: N SDK callers (each request freshly signed) loop over Describe/List
 * operations of eight services for a fixed time against Berth, then against moto's server, in the
 * same run. Reports requests/s, errors by code, p50/p99 latency, and the server's RSS before and after.
 * `npm run bench:load -- [--callers 200] [--seconds 30] [--no-build]`
 */
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { CloudWatchClient, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { CreateRoleCommand, IAMClient, ListRolesCommand } from "@aws-sdk/client-iam";
import { CreateSecretCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParametersByPathCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { credentials, region, startBerth } from "../../test/support/berth.js";
import {
  buildBerth,
  describeMachine,
  machine,
  markdownTable,
  motoVersion,
  startMoto,
  today,
  warnIfBusy,
} from "../lib.js";

const { values: opts } = parseArgs({
  options: {
    callers: { type: "string", default: "200" },
    seconds: { type: "string", default: "30" },
    "no-build": { type: "boolean", default: false },
  },
});
const CALLERS = Number(opts.callers);
const SECONDS = Number(opts.seconds);
if (!Number.isInteger(CALLERS) || CALLERS < 1 || CALLERS > 1000) throw new Error("--callers: 1..1000");
if (!Number.isInteger(SECONDS) || SECONDS < 1 || SECONDS > 120) throw new Error("--seconds: 1..120");
const MAX_REQUESTS = 2_000_000; // a bound on count as well as time

/** One set of SDK clients sharing a keep-alive agent with a socket per caller. */
function clients(endpoint: string) {
  const requestHandler = new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: CALLERS }),
    requestTimeout: 10_000,
  });
  const config = { endpoint, region, credentials, maxAttempts: 1, requestHandler };
  return {
    ecs: new ECSClient(config),
    ssm: new SSMClient(config),
    iam: new IAMClient(config),
    sts: new STSClient(config),
    logs: new CloudWatchLogsClient(config),
    sm: new SecretsManagerClient(config),
    ecr: new ECRClient(config),
    cw: new CloudWatchClient(config),
    destroy: () => requestHandler.destroy(),
  };
}
type Clients = ReturnType<typeof clients>;

/** The resources the Describe/List calls find, created the same way on both servers. */
async function seed(c: Clients) {
  await c.ecs.send(new CreateClusterCommand({ clusterName: "load" }));
  await c.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "load",
      containerDefinitions: [{ name: "app", image: "busybox", memory: 64 }],
    }),
  );
  for (let i = 0; i < 5; i++)
    await c.ssm.send(new PutParameterCommand({ Name: `/load/p${i}`, Value: `v${i}`, Type: "String" }));
  await c.iam.send(
    new CreateRoleCommand({
      RoleName: "load",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  await c.logs.send(new CreateLogGroupCommand({ logGroupName: "/load" }));
  await c.sm.send(new CreateSecretCommand({ Name: "load", SecretString: "s" }));
  await c.ecr.send(new CreateRepositoryCommand({ repositoryName: "load" }));
}

/** The mix each caller cycles through: every call must succeed on both servers before measuring. */
const operations: [string, (c: Clients) => Promise<unknown>][] = [
  ["ecs:DescribeClusters", (c) => c.ecs.send(new DescribeClustersCommand({ clusters: ["load"] }))],
  ["ecs:ListTaskDefinitions", (c) => c.ecs.send(new ListTaskDefinitionsCommand({}))],
  ["ssm:GetParametersByPath", (c) => c.ssm.send(new GetParametersByPathCommand({ Path: "/load" }))],
  ["iam:ListRoles", (c) => c.iam.send(new ListRolesCommand({}))],
  ["sts:GetCallerIdentity", (c) => c.sts.send(new GetCallerIdentityCommand({}))],
  ["logs:DescribeLogGroups", (c) => c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/load" }))],
  ["secretsmanager:ListSecrets", (c) => c.sm.send(new ListSecretsCommand({}))],
  ["ecr:DescribeRepositories", (c) => c.ecr.send(new DescribeRepositoriesCommand({}))],
  ["cloudwatch:ListMetrics", (c) => c.cw.send(new ListMetricsCommand({}))],
];

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

interface LoadResult {
  requests: number;
  rps: number;
  errors: Map<string, number>;
  p50Ms: number;
  p99Ms: number;
  rssBefore: number;
  rssAfter: number;
}

async function load(name: string, endpoint: string, pid: number): Promise<LoadResult> {
  const c = clients(endpoint);
  try {
    await seed(c);
    for (const [op, call] of operations)
      await call(c).catch((e) => {
        throw new Error(`${name} does not answer ${op}: ${e instanceof Error ? e.message : String(e)}`);
      });
    const rssBefore = rssMiB(pid);
    const latencies: number[] = [];
    const byOperation = new Map<string, number[]>(operations.map(([op]) => [op, []]));
    const errors = new Map<string, number>();
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let sent = 0;
    const caller = async (offset: number) => {
      for (let i = offset; performance.now() < deadline && sent < MAX_REQUESTS; i++) {
        sent++;
        const t0 = performance.now();
        try {
          const [op, call] = operations[i % operations.length];
          await call(c);
          const ms = performance.now() - t0;
          latencies.push(ms);
          byOperation.get(op)!.push(ms);
        } catch (e) {
          const code = (e as { name?: string }).name ?? "Error";
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, (_, k) => caller(k)));
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? Number.NaN;
    const r: LoadResult = {
      requests: sent,
      rps: latencies.length / elapsed,
      errors,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      rssBefore,
      rssAfter: rssMiB(pid),
    };
    for (const [op, ms] of byOperation) {
      ms.sort((a, b) => a - b);
      process.stderr.write(`  ${name} ${op}: p50 ${(ms[Math.floor(ms.length / 2)] ?? Number.NaN).toFixed(1)} ms\n`);
    }
    const errText = [...errors].map(([k, v]) => `${k} ${v}`).join(", ") || "none";
    process.stderr.write(
      `${name}: ${r.rps.toFixed(0)} ok/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, errors: ${errText}, RSS ${r.rssBefore.toFixed(0)} → ${r.rssAfter.toFixed(0)} MiB\n`,
    );
    return r;
  } finally {
    c.destroy();
  }
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  const results: { name: string; r: LoadResult }[] = [];
  const berth = await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } });
  try {
    results.push({ name: "Berth (BERTH_LOG_LEVEL=warn)", r: await load("berth", berth.endpoint, berth.process.pid!) });
  } finally {
    await berth.stop();
  }
  const moto = await startMoto();
  try {
    results.push({
      name: `moto_server ${motoVersion()} (peer)`,
      r: await load("moto", `http://127.0.0.1:${moto.port}`, moto.pid),
    });
  } finally {
    await moto.stop();
  }

  const [b, peer] = [results[0].r, results[1].r];
  const f = (x: number, d = 1) => x.toFixed(d);
  process.stdout.write(
    [
      "",
      `${CALLERS} concurrent signed callers for ${SECONDS} s, ${operations.length} Describe/List operations in turn — ${today()}, on 127.0.0.1`,
      `Machine: ${describeMachine(m)} (the callers share the cores with the server under test)`,
      "",
      markdownTable(
        ["", "ok/s", "p50", "p99", "requests", "errors", "RSS before → after", "÷ moto"],
        results.map(({ name, r }) => [
          name,
          f(r.rps, 0),
          `${f(r.p50Ms)} ms`,
          `${f(r.p99Ms)} ms`,
          String(r.requests),
          [...r.errors].map(([k, v]) => `${k} ${v}`).join(", ") || "0",
          `${f(r.rssBefore, 0)} → ${f(r.rssAfter, 0)} MiB`,
          `${f(r.rps / peer.rps, 2)}×`,
        ]),
        [false, true, true, true, true, false, true, true],
      ),
      "",
      `Berth / moto (successful requests/s): ${f(b.rps / peer.rps, 2)}×`,
      "",
    ].join("\n"),
  );
}

main().catch((e) => {
  process.stderr.write(`bench:load failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
