import { execFile, execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapServices } from "../../src/controllers/kube/networking/bootstrap.js";
import { serviceAdmission } from "../../src/controllers/kube/networking/admission.js";
import { createPodNetworking, type ClusterNetwork } from "../../src/controllers/kube/networking/pod-networking.js";
import {
  type ServiceNetworking,
  startServiceNetworking,
} from "../../src/controllers/kube/networking/service-networking.js";
import { systemClock } from "../../src/core/clock.js";
import { createLogger, type Logger, type LogLevel } from "../../src/core/logger.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject } from "../../src/kube/types.js";
import { DockerRuntime } from "../../src/runtime/docker/docker-runtime.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { BUSYBOX_IMAGE, buildTestImages } from "../support/images.js";

/**
 * Services on the real Docker Engine: a cluster's bridge from PodNetworking, two busybox httpd
 * containers standing in for pods (their Pod objects written with podIP and Ready), a Service
 * admitted and stored, then from a third container on the bridge: the ClusterIP, the DNS name
 * (nslookup and wget), round robin, not-ready pods left out, connection refused with no
 * endpoints; and the NodePort on 127.0.0.1.
 */

const silent = process.env.KUBE_NET_LOG
  ? createLogger(process.env.KUBE_NET_LOG as LogLevel)
  : ({ info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger);

/** busybox's wget crashes in a FROM-scratch image (static glibc); nc speaks the HTTP/1.0 request itself. */
const fetch = (host: string, port = 80) =>
  `printf 'GET / HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -w 5 ${host} ${port}`;
const LABEL = `berth.test-kube-net=${randomBytes(4).toString("hex")}`;

const run = promisify(execFile);
const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim();

/**
 * Runs a shell script in a throwaway container on the bridge, resolving through the cluster DNS.
 * Asynchronous: the proxy and DNS server under test run in this process.
 */
async function inPod(net: ClusterNetwork, script: string): Promise<{ code: number; out: string }> {
  const name = `berth-kube-net-${randomBytes(4).toString("hex")}`;
  const args = [
    "run",
    "--rm",
    "--name",
    name,
    "--label",
    LABEL,
    "--network",
    net.dockerNetwork,
    "--dns",
    net.dnsIP,
    "--dns-search",
    "default.svc.cluster.local",
    "--dns-search",
    "svc.cluster.local",
    "--dns-search",
    "cluster.local",
    "--dns-option",
    "ndots:5",
    BUSYBOX_IMAGE,
    "timeout",
    "40",
    "sh",
    "-c",
    script,
  ];
  try {
    const { stdout, stderr } = await run("docker", args, { timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    spawnSync("docker", ["rm", "-f", name], { stdio: "ignore" });
    return { code: typeof err.code === "number" ? err.code : -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: "/", timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

const pod = (name: string, ip: string, ready: boolean): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", labels: { app: "web" } },
  spec: { nodeName: "berth", containers: [{ name: "web", ports: [{ name: "http", containerPort: 8080 }] }] },
  status: {
    phase: "Running",
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
  },
});

describe("kube services on Docker", () => {
  const cluster: ClusterRef = {
    scope: { account: "000000000000", region: "us-east-1" },
    name: `net-${randomBytes(3).toString("hex")}`,
  };
  const runtime = new DockerRuntime();
  const networking = createPodNetworking({ runtime, logger: silent });
  const dir = mkdtempSync(join(tmpdir(), "berth-kube-net-"));
  let db: Db;
  let objects: ObjectStore;
  let net: ClusterNetwork;
  let sn: ServiceNetworking | undefined;
  const ips: Record<string, string> = {};
  let svc: KubeObject;

  beforeAll(async () => {
    await buildTestImages();
    db = openDb(join(dir, "berth.db"));
    objects = new ObjectStore(new DocumentStore(db));
    net = await networking.network(cluster);
    for (const name of ["web-a", "web-b"]) {
      const id = docker(
        "run",
        "-d",
        "--label",
        LABEL,
        "--network",
        net.dockerNetwork,
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        `echo ${name} > /www/index.html && exec httpd -f -p 8080 -h /www`,
      );
      ips[name] = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id);
      objects.create(cluster, R.pods, pod(name, ips[name] as string, true));
    }
    bootstrapServices(objects, cluster, { host: net.gateway, port: 6443 });
    const admission = serviceAdmission({ objects });
    const want: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    };
    svc = objects.create(cluster, R.services, admission.admit(cluster, "create", R.services, want));
    sn = startServiceNetworking({ objects, clusters: () => [cluster], networking, clock: systemClock, logger: silent });
    await sn.sync(cluster);
  });

  afterAll(async () => {
    await sn?.stop();
    const ids = docker("ps", "-aq", "--filter", `label=${LABEL}`).split("\n").filter(Boolean);
    if (ids.length) docker("rm", "-f", ...ids);
    await networking.release(cluster);
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("allocates the ClusterIP and node port; the controller writes Endpoints and an EndpointSlice", () => {
    const spec = svc.spec as { clusterIP: string; ports: { nodePort: number }[] };
    expect(spec.clusterIP).toMatch(/^10\.100\./);
    expect(spec.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    const ep = objects.get(cluster, R.endpoints, "default", "web");
    expect(ep?.subsets).toEqual([
      {
        addresses: [ips["web-a"], ips["web-b"]]
          .sort()
          .map((ip) => expect.objectContaining({ ip, targetRef: expect.objectContaining({ kind: "Pod" }) })),
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);
    const slices = objects
      .list(cluster, R.endpointslices, "default")
      .items.filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === "web");
    expect(slices).toHaveLength(1);
    expect(slices[0]?.endpoints).toHaveLength(2);
    expect(objects.get(cluster, R.endpoints, "kube-system", "kube-dns")?.subsets).toEqual([
      expect.objectContaining({ addresses: [{ ip: net.gateway }] }),
    ]);
  });

  it("a pod reaches the Service by ClusterIP, round robin over both pods", async () => {
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    const r = await inPod(net, `for i in 1 2 3 4; do ${fetch(ip)}; done`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("web-a");
    expect(r.out).toContain("web-b");
  });

  it("a pod resolves web.default.svc.cluster.local and fetches through the name", async () => {
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    const lookup = await inPod(net, `nslookup web.default.svc.cluster.local ${net.dnsIP}`);
    expect(lookup.out).toContain(ip);
    const fetched = await inPod(net, `${fetch("web.default.svc.cluster.local")} && ${fetch("web")}`);
    expect(fetched.code, fetched.out).toBe(0);
    expect(fetched.out).toMatch(/web-[ab][\s\S]*web-[ab]/);
    const outside = await inPod(net, `nslookup example.com ${net.dnsIP}`);
    expect(outside.out).toMatch(/REFUSED|can't find|server can't/i);
    const missing = await inPod(net, `nslookup nope.default.svc.cluster.local ${net.dnsIP}`);
    expect(missing.out).toMatch(/NXDOMAIN|can't find/i);
  });

  it("the NodePort answers on 127.0.0.1", async () => {
    const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0]?.nodePort as number;
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await httpGet("127.0.0.1", nodePort)).trim());
    expect([...seen].sort()).toEqual(["web-a", "web-b"]);
  });

  it("a not-ready pod leaves the rotation; with none ready the connection is refused", async () => {
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    objects.update(cluster, R.pods, pod("web-b", ips["web-b"] as string, false), { subresource: "status" });
    await sn?.sync(cluster);
    const ep = objects.get(cluster, R.endpoints, "default", "web");
    expect(
      (ep?.subsets as { notReadyAddresses: { ip: string }[] }[] | undefined)?.[0]?.notReadyAddresses?.[0]?.ip,
    ).toBe(ips["web-b"]);
    const r = await inPod(net, `for i in 1 2 3; do ${fetch(ip)}; done`);
    expect(r.out).not.toContain("web-b");
    expect(r.out.match(/web-a/g)).toHaveLength(3);

    objects.update(cluster, R.pods, pod("web-a", ips["web-a"] as string, false), { subresource: "status" });
    await sn?.sync(cluster);
    const refused = await inPod(net, fetch(ip));
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/refused/i);
  });
});
