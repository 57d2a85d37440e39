import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Kubelet, startKubelet } from "../../src/controllers/kube/kubelet/index.js";
import { systemClock } from "../../src/core/clock.js";
import { localDockerHost } from "../../src/hosts/local.js";
import { HostRegistry } from "../../src/hosts/registry.js";
import type { PodNetworking } from "../../src/kube/contracts.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject } from "../../src/kube/types.js";
import { DockerRuntime } from "../../src/runtime/docker/docker-runtime.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { BUSYBOX_IMAGE } from "../support/images.js";

const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "kubelet-it" };
const NETWORK = `berth-test-kubelet-${process.pid}`;

const containersOf = (dataDir: string, extra: string[] = []) =>
  execFileSync(
    "docker",
    [
      "ps",
      "-aq",
      "--no-trunc",
      "--filter",
      `label=berth.data-dir=${dataDir}`,
      ...extra.flatMap((f) => ["--filter", f]),
    ],
    { encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean);

async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const httpGet = (host: string, port: number) =>
  new Promise<string>((resolve, reject) => {
    const req = request({ host, port, path: "/", timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });

type PodView = KubeObject & {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      containerID?: string;
      state: { waiting?: { reason?: string }; running?: object; terminated?: { exitCode: number } };
      lastState: { terminated?: { exitCode: number; reason?: string } };
    }[];
  };
};

describe("kubelet on the real Docker Engine", () => {
  let db: Db;
  let objects: ObjectStore;
  let kubelet: Kubelet | undefined;
  let standInNode = true;
  const dataDir = mkdtempSync(join(tmpdir(), "berth-kubelet-"));
  const runtime = new DockerRuntime();
  const hosts = new HostRegistry([localDockerHost(runtime, { cpuUnits: 2048, memoryMiB: 4096 })]);
  const networking: PodNetworking = {
    async prepare() {
      await runtime.ensureNetwork(NETWORK);
      return {
        dockerNetwork: NETWORK,
        dns: {
          nameservers: [],
          searches: (ns) => [`${ns}.svc.cluster.local`, "svc.cluster.local", "cluster.local"],
          options: ["ndots:5"],
        },
      };
    },
  };
  const start = () =>
    startKubelet({
      objects,
      runtime,
      hosts,
      networking,
      clusters: () => [{ ...cluster, version: "1.27", standInNode }],
      clock: systemClock,
      logger: pino({ level: process.env.KUBELET_TEST_LOG ?? "silent" }),
      dataDir,
      resyncMs: 2000,
      clusterPollMs: 500,
    });
  const pod = (name: string) => objects.get(cluster, R.pods, "default", name) as PodView | undefined;
  const create = (name: string, spec: object, extra: Partial<KubeObject["metadata"]> = {}) =>
    objects.create(cluster, R.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", ...extra },
      spec: { terminationGracePeriodSeconds: 2, ...spec },
    });
  const readLogs = async (name: string, opts: object = {}) => {
    const chunks: Buffer[] = [];
    const ac = new AbortController();
    for await (const c of kubelet!.logs.logs(cluster, "default", name, opts, ac.signal)) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8");
  };

  beforeAll(() => {
    db = openDb(join(dataDir, "berth.db"));
    objects = new ObjectStore(new DocumentStore(db));
    objects.create(cluster, R.configmaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "web-config", namespace: "default" },
      data: { GREETING: "hello from a configmap", "index.html": "served from a configmap volume\n" },
    });
    kubelet = start();
  });

  afterAll(async () => {
    await kubelet?.stop();
    const ids = containersOf(dataDir);
    if (ids.length) execFileSync("docker", ["rm", "-f", "-v", ...ids], { stdio: "ignore" });
    try {
      execFileSync("docker", ["network", "rm", NETWORK], { stdio: "ignore" });
    } catch {
      // already gone
    }
    db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("registers the host as a Ready node with a lease", async () => {
    const node = await waitFor("the node", () => objects.get(cluster, R.nodes, undefined, "berth-local"));
    expect(node.metadata.labels?.["kubernetes.io/hostname"]).toBe("berth-local");
    const status = node.status as {
      conditions: { type: string; status: string }[];
      nodeInfo: { containerRuntimeVersion: string };
    };
    expect(status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\//);
    const lease = await waitFor("the lease", () => objects.get(cluster, R.leases, "kube-node-lease", "berth-local"));
    expect((lease.spec as { holderIdentity: string }).holderIdentity).toBe("berth-local");
  });

  it("schedules a pod, runs it on Docker, reports Running/Ready, streams logs, serves on its IP", async () => {
    create(
      "web",
      {
        containers: [
          {
            name: "web",
            image: BUSYBOX_IMAGE,
            command: ["sh", "-c"],
            args: [
              'echo "$(GREETING) in $(POD_NAME)"; cp /cfg/index.html /www/index.html; exec httpd -f -p 8080 -h /www',
            ],
            env: [
              { name: "GREETING", valueFrom: { configMapKeyRef: { name: "web-config", key: "GREETING" } } },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
            resources: { requests: { cpu: "100m", memory: "32Mi" }, limits: { memory: "64Mi" } },
            volumeMounts: [{ name: "cfg", mountPath: "/cfg" }],
          },
        ],
        volumes: [{ name: "cfg", configMap: { name: "web-config" } }],
      },
      { labels: { app: "web" } },
    );
    let last = "";
    const ready = await waitFor(`web Ready`, () => {
      if (process.env.KUBELET_TEST_LOG) {
        const line = JSON.stringify({ cs: pod("web")?.status?.containerStatuses, ip: pod("web")?.status?.podIP });
        if (line !== last) console.error(line);
        last = line;
      }
      const p = pod("web");
      return p?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" && p;
    });
    expect(ready.spec.nodeName).toBe("berth-local");
    expect(ready.status?.phase).toBe("Running");
    expect(ready.status?.conditions?.find((c) => c.type === "PodScheduled")?.status).toBe("True");
    expect(ready.status?.containerStatuses?.[0]).toMatchObject({ name: "web", ready: true, restartCount: 0 });
    const ip = ready.status?.podIP ?? "";
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await httpGet(ip, 8080)).toBe("served from a configmap volume\n");

    expect(await readLogs("web")).toContain("hello from a configmap in web");
    const stamped = await readLogs("web", { timestamps: true, tailLines: 1 });
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z hello/);

    // The sandbox holds the pod's hostname and DNS settings; the app shares them.
    const exec = await kubelet!.exec.exec(cluster, "default", "web", {
      command: ["sh", "-c", "hostname; cat /etc/resolv.conf"],
      stdin: false,
      stdout: true,
      stderr: true,
      tty: false,
    });
    let out = "";
    exec.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    expect(await exec.exit).toBe(0);
    expect(out).toMatch(/^web\n/);
    expect(out).toContain("search default.svc.cluster.local svc.cluster.local cluster.local");
    expect(out).toContain("ndots:5");

    // A ConfigMap change reaches the mounted files of the running pod.
    objects.mutate(cluster, R.configmaps, "default", "web-config", (cm) => ({
      ...cm,
      data: { ...(cm.data as object), "index.html": "updated\n" },
    }));
    await waitFor(
      "the configMap file updated",
      async () => {
        const e = await kubelet!.exec.exec(cluster, "default", "web", {
          command: ["cat", "/cfg/index.html"],
          stdin: false,
          stdout: true,
          stderr: false,
          tty: false,
        });
        let text = "";
        e.stdout?.on("data", (b: Buffer) => {
          text += b.toString();
        });
        await e.exit;
        return text === "updated\n";
      },
      20_000,
    );

    const events = objects.list(cluster, R.events, "default").items.map((e) => e.reason);
    expect(events).toEqual(expect.arrayContaining(["Scheduled", "Pulled", "Created", "Started"]));
  });

  it("reports a pod that fits nowhere as Unschedulable with kube's message", async () => {
    create("huge", { containers: [{ name: "c", image: BUSYBOX_IMAGE, resources: { requests: { cpu: "64" } } }] });
    const p = await waitFor("huge unschedulable", () => {
      const c = pod("huge")?.status?.conditions?.find((x) => x.type === "PodScheduled");
      return c?.status === "False" && c;
    });
    expect(p).toMatchObject({ reason: "Unschedulable", message: "0/1 nodes are available: 1 Insufficient cpu." });
    objects.delete(cluster, R.pods, "default", "huge");
  });

  it("restarts a crashing container with back-off (CrashLoopBackOff) and keeps the previous instance's logs", async () => {
    create("crash", {
      containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo crashing; exit 3"] }],
    });
    const looping = await waitFor(
      "CrashLoopBackOff",
      () => {
        const s = pod("crash")?.status?.containerStatuses?.[0];
        return s && s.restartCount >= 1 && s.state.waiting?.reason === "CrashLoopBackOff" && s;
      },
      30_000,
    );
    expect(looping.lastState.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(pod("crash")?.status?.phase).toBe("Running");
    expect(await readLogs("crash", { previous: true })).toContain("crashing");
  });

  it("follows logs as they are written; exec takes stdin", async () => {
    create("ticker", {
      initContainers: [
        {
          name: "prep",
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", "echo from-init > /work/msg"],
          volumeMounts: [{ name: "work", mountPath: "/work" }],
        },
      ],
      containers: [
        {
          name: "t",
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", "cat /work/msg; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"],
          volumeMounts: [{ name: "work", mountPath: "/work" }],
        },
      ],
      volumes: [{ name: "work", emptyDir: {} }],
    });
    await waitFor("ticker running", () => pod("ticker")?.status?.phase === "Running");
    const initStatus = (
      (pod("ticker")?.status ?? {}) as { initContainerStatuses?: { state: { terminated?: { reason?: string } } }[] }
    ).initContainerStatuses?.[0];
    expect(initStatus?.state.terminated?.reason).toBe("Completed");
    expect(await readLogs("ticker", { container: "prep" })).toBe("");
    expect(await readLogs("ticker", { tailLines: 1000 })).toMatch(/^from-init\n/);
    const ac = new AbortController();
    let seen = "";
    for await (const c of kubelet!.logs.logs(
      cluster,
      "default",
      "ticker",
      { follow: true, sinceSeconds: 60 },
      ac.signal,
    )) {
      seen += c.toString();
      if ((seen.match(/tick/g) ?? []).length >= 5) break;
    }
    ac.abort();
    expect(seen).toMatch(/tick 1\n[\s\S]*tick 5/);
    const limited = await readLogs("ticker", { limitBytes: 4 });
    expect(limited).toBe("from");

    const s = await kubelet!.exec.exec(cluster, "default", "ticker", {
      command: ["sh", "-c", "read line; echo got:$line"],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    let out = "";
    s.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    s.stdin?.write("hello\n");
    s.stdin?.end();
    expect(await s.exit).toBe(0);
    expect(out).toBe("got:hello\n");
  });

  it("a failing liveness probe restarts the container", async () => {
    create("sick", {
      containers: [
        {
          name: "s",
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", "touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 600"],
          livenessProbe: { exec: { command: ["test", "-f", "/tmp/alive"] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
      terminationGracePeriodSeconds: 1,
    });
    const s = await waitFor(
      "a liveness restart",
      () => {
        const c = pod("sick")?.status?.containerStatuses?.[0];
        return c && c.restartCount >= 1 && c.lastState.terminated && c;
      },
      30_000,
    );
    expect(s.lastState.terminated?.exitCode).toBe(137);
    const reasons = objects
      .list(cluster, R.events, "default")
      .items.filter((e) => (e.involvedObject as { name: string }).name === "sick")
      .map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Unhealthy", "Killing"]));
  });

  it("a restarted kubelet adopts running pods without duplicating containers", async () => {
    const before = containersOf(dataDir, ["label=berth.kube.pod=web"]).sort();
    const id = pod("web")?.status?.containerStatuses?.[0].containerID;
    await kubelet!.stop();
    kubelet = start();
    await new Promise((r) => setTimeout(r, 4000));
    await kubelet.idle();
    expect(containersOf(dataDir, ["label=berth.kube.pod=web"]).sort()).toEqual(before);
    expect(pod("web")?.status?.containerStatuses?.[0].containerID).toBe(id);
    expect(pod("web")?.status?.phase).toBe("Running");
  });

  it("runs postStart and preStop hooks; hostPath and hostAliases", async () => {
    const hooks = join(dataDir, "hooks");
    create("hooked", {
      hostAliases: [{ ip: "10.1.2.3", hostnames: ["db.example"] }],
      containers: [
        {
          name: "h",
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", "grep db.example /etc/hosts > /h/hosts; sleep 600"],
          volumeMounts: [{ name: "h", mountPath: "/h" }],
          lifecycle: {
            postStart: { exec: { command: ["sh", "-c", "echo post > /h/post"] } },
            preStop: { exec: { command: ["sh", "-c", "echo pre > /h/pre"] } },
          },
        },
      ],
      volumes: [{ name: "h", hostPath: { path: hooks, type: "DirectoryOrCreate" } }],
    });
    await waitFor("hooked running", () => pod("hooked")?.status?.phase === "Running");
    await waitFor("postStart ran", () => existsSync(join(hooks, "post")), 10_000);
    expect(readFileSync(join(hooks, "hosts"), "utf8")).toMatch(/10\.1\.2\.3\s+db\.example/);
    objects.delete(cluster, R.pods, "default", "hooked", { gracePeriodSeconds: 1 });
    await waitFor("hooked gone", () => !pod("hooked"), 30_000);
    expect(readFileSync(join(hooks, "pre"), "utf8")).toBe("pre\n");
  });

  it("graceful deletion stops the containers, removes them and then the pod object", async () => {
    const r = objects.delete(cluster, R.pods, "default", "web", { gracePeriodSeconds: 2 });
    expect(r.removed).toBe(false);
    await waitFor("web gone", () => !pod("web"), 30_000);
    await waitFor(
      "web's containers gone",
      () => containersOf(dataDir, ["label=berth.kube.pod=web"]).length === 0,
      10_000,
    );
    for (const name of ["crash", "ticker", "sick"])
      objects.delete(cluster, R.pods, "default", name, { gracePeriodSeconds: 1 });
    await waitFor("pods gone", () => !pod("crash") && !pod("ticker") && !pod("sick"), 30_000);
    await waitFor("no containers left", () => containersOf(dataDir).length === 0, 10_000);
  });

  it("runs pods on a hosted node with the capacity its maker gave it; retires the stand-in node when the cluster has its own compute", async () => {
    const hostId = hosts.list()[0].id;
    const name = "ip-10-0-1-23.us-east-1.compute.internal";
    objects.create(cluster, R.nodes, {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        labels: { "kubernetes.io/hostname": name, "eks.amazonaws.com/nodegroup": "ng-1" },
        annotations: { "berth.dev/hosted-by": hostId },
      },
      spec: { providerID: "aws:///us-east-1a/i-0123456789abcdef0" },
      status: { capacity: { cpu: "2", memory: "3977916Ki", pods: "17" } },
    });
    const node = await waitFor("the hosted node Ready", () => {
      const n = objects.get(cluster, R.nodes, undefined, name);
      const st = n?.status as { conditions?: { type: string; status: string }[] } | undefined;
      return st?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? n : undefined;
    });
    const status = node.status as { capacity: Record<string, string>; allocatable: Record<string, string> };
    expect(status.capacity).toEqual({ cpu: "2", memory: "3977916Ki", pods: "17" });
    expect(status.allocatable).toEqual(status.capacity);
    await waitFor("its lease", () => objects.get(cluster, R.leases, "kube-node-lease", name));

    const sleeper = { containers: [{ name: "main", image: BUSYBOX_IMAGE, command: ["sleep", "600"] }] };
    create("on-hosted", { ...sleeper, nodeSelector: { "kubernetes.io/hostname": name } });
    create("on-stand-in", { ...sleeper, nodeSelector: { "kubernetes.io/hostname": "berth-local" } });
    await waitFor(
      "both Running",
      () => pod("on-hosted")?.status?.phase === "Running" && pod("on-stand-in")?.status?.phase === "Running",
    );
    expect(pod("on-hosted")?.spec.nodeName).toBe(name);

    // The cluster gets compute of its own: the stand-in node is cordoned, emptied and removed.
    standInNode = false;
    await waitFor("stand-in node gone", () => !objects.get(cluster, R.nodes, undefined, "berth-local"), 30_000);
    expect(pod("on-stand-in")).toBeUndefined();
    expect(pod("on-hosted")?.status?.phase).toBe("Running");

    // A hosted node that is deleted no longer runs anything.
    objects.delete(cluster, R.nodes, undefined, name);
    await waitFor(
      "the hosted pod's containers removed",
      () => containersOf(dataDir, ["label=berth.kube.pod=on-hosted"]).length === 0,
      30_000,
    );
    objects.delete(cluster, R.pods, "default", "on-hosted", { gracePeriodSeconds: 0 });
    standInNode = true;
    await waitFor("stand-in node back", () => objects.get(cluster, R.nodes, undefined, "berth-local"), 30_000);
  });
});
