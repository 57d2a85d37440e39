/**
 * A Deployment of N replicas through Berth's EKS (kubectl apply → all N pods Ready) against
 * `docker run -d` of N equivalent containers (→ all running), alternating in the same run.
 * `npm run bench:eks-deploy -- [--replicas 20] [--rounds 3] [--max-minutes 15] [--no-build]`
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { type RunningBerth, startBerth } from "../../test/support/berth.js";
import { awsCli, iamClient, newAccount, rootOf, trustPolicy } from "../../test/support/identity.js";
import { BUSYBOX_IMAGE, buildTestImages } from "../../test/support/images.js";
import { kubeEnv, kubectl } from "../../test/support/kube.js";
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
    replicas: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    "max-minutes": { type: "string", default: "15" },
    "no-build": { type: "boolean", default: false },
  },
});
const N = Number(opts.replicas);
const ROUNDS = Number(opts.rounds);
const MAX_MS = Number(opts["max-minutes"]) * 60_000;
if (!Number.isInteger(N) || N < 1 || N > 200) throw new Error("--replicas: 1..200");
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error("--rounds: 1..20");
if (!(MAX_MS >= 60_000 && MAX_MS <= 60 * 60_000)) throw new Error("--max-minutes: 1..60");

const CLUSTER = "bench-deploy";
const KUBECTL = "/usr/bin/kubectl";
const STEP_TIMEOUT_MS = 180_000;
const BENCH_LABEL = `berth-bench=eks-deploy-${process.pid}`;
const POLL_MS = 100;
const started = Date.now();

const deployment = (replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bench
  labels: { app: bench }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: bench }
  template:
    metadata:
      labels: { app: bench }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: sleep
          image: ${BUSYBOX_IMAGE}
          command: ["sleep", "3600"]
`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, everyMs = POLL_MS): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

const lines = (s: string) => s.split("\n").filter(Boolean);

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  await buildTestImages();
  const account = newAccount();
  const creds = rootOf(account);
  const podLabel = `label=berth.kube.cluster=${account}/us-east-1/${CLUSTER}`;
  const podContainers = async () => lines(await run("docker", ["ps", "-aq", "--filter", podLabel]).catch(() => ""));
  let berth: RunningBerth | undefined;
  let dir: string | undefined;
  try {
    berth = await startBerth({
      env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300", BERTH_LOG_LEVEL: "warn" },
    });
    const endpoint = berth.endpoint;
    dir = mkdtempSync(join(tmpdir(), "berth-bench-eks-"));
    const env = kubeEnv(join(dir, "config"), creds, endpoint);
    const k = async (args: string[], input?: string) => {
      const r = await kubectl(KUBECTL, env, args, { input, timeoutMs: STEP_TIMEOUT_MS });
      if (!r.ok) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
      return r.stdout.trim();
    };
    const aws = async (args: string[]) => {
      const r = await awsCli(endpoint, creds, args);
      if (!r.ok) throw new Error(`aws ${args.join(" ")} failed: ${r.stderr}`);
      return r.json;
    };

    // Not timed: the cluster, its kubeconfig, and one warm-up pod so the image and the node are ready.
    await iamClient(endpoint, creds).send(
      new CreateRoleCommand({
        RoleName: "eks-cluster",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks.amazonaws.com" }),
      }),
    );
    await aws([
      ...["eks", "create-cluster", "--name", CLUSTER],
      ...["--role-arn", `arn:aws:iam::${account}:role/eks-cluster`],
      ...["--resources-vpc-config", "subnetIds=subnet-a,subnet-b"],
    ]);
    await aws(["eks", "wait", "cluster-active", "--name", CLUSTER]);
    await new Promise<void>((resolve, reject) =>
      execFile(
        "/usr/bin/aws",
        ["--endpoint-url", endpoint, "eks", "update-kubeconfig", "--name", CLUSTER, "--kubeconfig", env.KUBECONFIG],
        { env },
        (e, _out, stderr) => (e ? reject(new Error(`update-kubeconfig: ${stderr || e.message}`)) : resolve()),
      ),
    );
    await k(["get", "namespaces"]);

    /** Deletes the Deployment and waits until its pods and their containers are gone (not timed). */
    const clearKube = async () => {
      await k(["delete", "deployment", "bench", "--ignore-not-found", "--wait=false"]);
      await until("the bench pods to go", async () =>
        (await k(["get", "pods", "-l", "app=bench", "-o", "name"])) === "" ? true : undefined,
      );
      await until("the pod containers to go", async () => ((await podContainers()).length === 0 ? true : undefined));
    };

    const kubeOnce = async (replicas: number) => {
      const t0 = performance.now();
      await k(["apply", "-f", "-"], deployment(replicas));
      await k(["rollout", "status", "deployment/bench", `--timeout=${STEP_TIMEOUT_MS / 1000}s`]);
      const ms = performance.now() - t0;
      const ready = await k(["get", "deployment", "bench", "-o", "jsonpath={.status.readyReplicas}"]);
      if (Number(ready) !== replicas) throw new Error(`rollout done with ${ready} of ${replicas} ready`);
      await clearKube();
      return ms;
    };

    /** N `docker run -d` at once (one CLI each, concurrently), until `docker inspect` says all run. */
    const dockerOnce = async (count: number) => {
      const t0 = performance.now();
      const ids = await Promise.all(
        Array.from({ length: count }, () =>
          run("docker", ["run", "-d", "--label", BENCH_LABEL, BUSYBOX_IMAGE, "sleep", "3600"]),
        ),
      );
      await until("the containers to run", async () => {
        const states = lines(await run("docker", ["inspect", "-f", "{{.State.Running}}", ...ids]));
        return states.length === count && states.every((s) => s === "true") ? true : undefined;
      });
      const ms = performance.now() - t0;
      await run("docker", ["rm", "-f", ...ids]);
      return ms;
    };

    // Warm-up (discarded): one replica each way.
    await kubeOnce(1);
    await dockerOnce(1);

    const kubeMs: number[] = [];
    const dockerMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (Date.now() - started > MAX_MS) {
        process.stderr.write(`bench: --max-minutes reached after ${i} rounds\n`);
        break;
      }
      // Alternate which side goes first.
      if (i % 2 === 0) {
        kubeMs.push(await kubeOnce(N));
        dockerMs.push(await dockerOnce(N));
      } else {
        dockerMs.push(await dockerOnce(N));
        kubeMs.push(await kubeOnce(N));
      }
      process.stderr.write(
        `${i + 1}/${ROUNDS}: kubectl apply → ${N} Ready ${kubeMs[i].toFixed(0)} ms, ` +
          `${N}× docker run -d → running ${dockerMs[i].toFixed(0)} ms\n`,
      );
    }

    const ks = summarize(kubeMs);
    const ds = summarize(dockerMs);
    const f = (x: number) => `${x.toFixed(0)} ms`;
    const row = (name: string, s: typeof ks) => [
      name,
      f(s.median),
      f(s.min),
      f(s.max),
      `${(s.median / ds.median).toFixed(2)}×`,
    ];
    process.stdout.write(
      [
        "",
        `EKS Deployment of ${N} replicas vs ${N}× docker run -d — ${today()}, ${ks.n} rounds, alternating (1 warm-up of 1 replica discarded)`,
        `Machine: ${describeMachine(m)}`,
        "",
        markdownTable(
          ["", "median", "min", "max", "÷ docker run -d"],
          [
            row(`kubectl apply (Deployment, ${N} replicas) → rollout status: all Ready`, ks),
            row(`${N}× docker run -d (concurrent) → docker inspect: all running`, ds),
          ],
          [false, true, true, true, true],
        ),
        "",
        `EKS / docker run -d (medians): ${(ks.median / ds.median).toFixed(2)}×`,
        "",
      ].join("\n"),
    );
  } finally {
    const stray = lines(await run("docker", ["ps", "-aq", "--filter", `label=${BENCH_LABEL}`]).catch(() => ""));
    if (stray.length) await run("docker", ["rm", "-f", ...stray]).catch(() => {});
    if (berth) {
      // Deleting the cluster removes its objects, pod containers and pod network.
      const b = berth;
      await awsCli(b.endpoint, creds, ["eks", "delete-cluster", "--name", CLUSTER]);
      await until("the cluster to go", async () =>
        (await awsCli(b.endpoint, creds, ["eks", "describe-cluster", "--name", CLUSTER])).ok ? undefined : true,
      ).catch(() => undefined);
      await until(
        "the pod containers to go",
        async () => ((await podContainers()).length === 0 ? true : undefined),
        200,
      ).catch(() => undefined);
      await b.stop();
      const left = await podContainers();
      if (left.length) {
        process.stderr.write(`bench: ${left.length} pod containers outlived the cluster; removing them\n`);
        await run("docker", ["rm", "-f", ...left]).catch(() => {});
      }
      const net = `berth-eks-${account}-us-east-1-${CLUSTER}`;
      if (
        await run("docker", ["network", "inspect", net]).then(
          () => true,
          () => false,
        )
      ) {
        process.stderr.write(`bench: network ${net} outlived the cluster; removing it\n`);
        await run("docker", ["network", "rm", net]).catch(() => {});
      }
      rmSync(b.dataDir, { recursive: true, force: true });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:eks-deploy failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
