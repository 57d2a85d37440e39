/**
 * List and watch throughput of the Kubernetes API (src/kube-api, on its own process) against the
 * ECS API of Berth (its edge, SigV4) in the same run. List: N objects listed in full — a pods-style
 * GET of N ConfigMaps vs ECS ListClusters + DescribeClusters of N clusters — by C concurrent clients
 * for D seconds. Watch: W objects created through the API while a watch is open, events/s seen by
 * the watcher, vs ECS CreateCluster writes/s (ECS has no watch).
 * `npm run bench:eks-api -- [--objects 100] [--concurrency 8] [--duration 5] [--writes 1000] [--no-build]`
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateClusterCommand, DescribeClustersCommand, ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import { clientConfig, startBerth } from "../../test/support/berth.js";
import { ADMIN_TOKEN } from "../../test/support/kube-harness.js";
import { buildBerth, describeMachine, machine, markdownTable, root, today, warnIfBusy } from "../lib.js";

const { values: opts } = parseArgs({
  options: {
    objects: { type: "string", default: "100" },
    concurrency: { type: "string", default: "8" },
    duration: { type: "string", default: "5" },
    writes: { type: "string", default: "1000" },
    "no-build": { type: "boolean", default: false },
  },
});
const N = Number(opts.objects);
const C = Number(opts.concurrency);
const D = Number(opts.duration);
const W = Number(opts.writes);

async function startKube(): Promise<{ url: string; caPem: string; child: ChildProcess }> {
  const child = spawn(join(root, "node_modules/.bin/tsx"), [join(root, "bench/eks/kube-server.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0]);
    });
    child.on("exit", (c) => reject(new Error(`kube server exited with ${c}`)));
  });
  return { ...(JSON.parse(line) as { url: string; caPem: string }), child };
}

function kubeClient(url: string, caPem: string) {
  const agent = new Agent({ ca: caPem, keepAlive: true, maxSockets: 64 });
  return (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${url}${path}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${ADMIN_TOKEN}`,
            "content-type": "application/json",
            accept: "application/json",
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

/** C workers repeat op for D seconds (after 1 s of warm-up): ops/s. */
async function throughput(op: () => Promise<void>): Promise<number> {
  const run = async (ms: number) => {
    const end = Date.now() + ms;
    let n = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (Date.now() < end) {
          await op();
          n++;
        }
      }),
    );
    return n;
  };
  await run(1000);
  const started = Date.now();
  const n = await run(D * 1000);
  return n / ((Date.now() - started) / 1000);
}

async function main() {
  const m = machine();
  warnIfBusy(m);
  if (!opts["no-build"]) buildBerth();
  const berth = await startBerth();
  const kube = await startKube();
  try {
    const ecs = new ECSClient(clientConfig(berth.endpoint));
    const k = kubeClient(kube.url, kube.caPem);
    for (let i = 0; i < N; i += C)
      await Promise.all(
        Array.from({ length: Math.min(C, N - i) }, (_, j) =>
          ecs.send(new CreateClusterCommand({ clusterName: `b-${i + j}` })),
        ),
      );
    for (let i = 0; i < N; i += C)
      await Promise.all(
        Array.from({ length: Math.min(C, N - i) }, (_, j) =>
          k("POST", "/api/v1/namespaces/default/configmaps", {
            metadata: { name: `b-${i + j}` },
            data: { i: String(i + j) },
          }),
        ),
      );

    const ecsList = await throughput(async () => {
      const arns: string[] = [];
      let token: string | undefined;
      do {
        const r = await ecs.send(new ListClustersCommand({ maxResults: 100, nextToken: token }));
        arns.push(...(r.clusterArns ?? []));
        token = r.nextToken;
      } while (token);
      for (let i = 0; i < arns.length; i += 100)
        await ecs.send(new DescribeClustersCommand({ clusters: arns.slice(i, i + 100) }));
      if (arns.length < N) throw new Error(`ECS listed ${arns.length} of ${N}`);
    });
    const kubeList = await throughput(async () => {
      const r = await k("GET", "/api/v1/namespaces/default/configmaps");
      if (r.status !== 200 || (JSON.parse(r.text).items as unknown[]).length < N)
        throw new Error(`kube list: ${r.status}`);
    });

    // watch: events seen for W creates, from the first create to the last event
    const seen = await new Promise<number>((resolve, reject) => {
      let events = 0;
      let started = 0;
      const req = request(
        `${kube.url}/api/v1/namespaces/watched/configmaps?watch=true`,
        { agent: new Agent({ ca: kube.caPem }), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
        (res) => {
          res.on("data", (c: Buffer) => {
            events += c
              .toString()
              .split("\n")
              .filter((l) => l.includes('"ADDED"')).length;
            if (events >= W) {
              resolve(W / ((Date.now() - started) / 1000));
              req.destroy();
            }
          });
        },
      );
      req.on("error", (e) => (events >= W ? undefined : reject(e)));
      req.end();
      void (async () => {
        await k("POST", "/api/v1/namespaces", { metadata: { name: "watched" } });
        await new Promise((r) => setTimeout(r, 200));
        started = Date.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: C }, async () => {
            while (next < W) {
              const i = next++;
              await k("POST", "/api/v1/namespaces/watched/configmaps", { metadata: { name: `w-${i}` } });
            }
          }),
        );
      })();
    });
    let made = 0;
    const ecsStarted = Date.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (made < W) {
          const i = made++;
          await ecs.send(new CreateClusterCommand({ clusterName: `w-${i}` }));
        }
      }),
    );
    const ecsWrites = W / ((Date.now() - ecsStarted) / 1000);

    const f = (x: number) => x.toFixed(0);
    console.log(`\n## EKS API: list and watch vs the ECS API (${today()})\n`);
    console.log(
      `${describeMachine(m)}; ${N} objects, ${C} concurrent clients, ${D} s per figure, ${W} watched writes\n`,
    );
    console.log(
      markdownTable(
        ["measure", "Kubernetes API", "ECS API", "ratio (Kubernetes / ECS)"],
        [
          [`list all ${N} (lists/s)`, f(kubeList), f(ecsList), (kubeList / ecsList).toFixed(2)],
          [
            "writes seen (kube: watch events/s; ECS: CreateCluster/s)",
            f(seen),
            f(ecsWrites),
            (seen / ecsWrites).toFixed(2),
          ],
        ],
        [false, true, true, true],
      ),
    );
    console.log(
      "\nECS list = ListClusters (pages of 100) + DescribeClusters (100 per call); Kubernetes list = GET configmaps.",
    );
  } finally {
    kube.child.kill("SIGTERM");
    await berth.stop();
  }
}

await main();
