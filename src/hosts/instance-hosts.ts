import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Logger } from "../core/logger.js";
import type { HostProvisioner, InstanceHostSpec, InstanceHostState } from "./provisioner.js";

const run = promisify(execFile);

/** The bridge every instance host hangs off, and the control plane's address on it. */
export interface HostsNetwork {
  bridge: string;
  /** The control plane's address on the bridge (the agents' endpoint host). */
  gateway: string;
  prefixLength: number;
}

export const DEFAULT_HOSTS_NETWORK: HostsNetwork = { bridge: "berth-hosts", gateway: "10.254.0.1", prefixLength: 16 };

/** The instance metadata address: local on the control plane, so instance hosts reach IMDS there. */
export const IMDS_ADDRESS = "169.254.169.254";

/** Where a host's runtime files go: short paths (unix sockets are limited to 107 bytes). */
const RUN_ROOT = "/run/berth-hosts";

export interface InstanceHostsDeps {
  dataDir: string;
  logger: Logger;
  /** The control plane's port (the edge listens on the bridge's gateway address too). */
  port: () => number;
  network?: HostsNetwork;
  /** How `berth agent` is started: this Node and this package's entry point. */
  agentCommand?: string[];
  /**
   * Readies what instance hosts reach on the control plane before the first one starts (the
   * bridge, IMDS, the edge on the bridge's gateway); resolves with the IMDS endpoint.
   */
  prepare?: () => Promise<{ imdsEndpoint: string }>;
}

/** The n-th address of the hosts' network (n ≥ 2; .1 is the gateway). */
export function hostAddress(gateway: string, n: number): string {
  const [a, b] = gateway.split(".").map(Number);
  return `${a}.${b}.${Math.floor(n / 256)}.${n % 256}`;
}

/**
 * The n-th host's Docker bridge (docker0, where awsvpc and bridge tasks get their addresses): a
 * /24 of its own, routed from the control plane through the host, so load balancers reach `ip`
 * targets on any host.
 */
export function hostTaskSubnet(n: number): { subnet: string; bip: string } {
  const prefix = `10.${160 + (n >> 8)}.${n & 255}`;
  return { subnet: `${prefix}.0/24`, bip: `${prefix}.1/24` };
}

/** The cluster an ECS-optimized AMI's user data names (`ECS_CLUSTER=name` in /etc/ecs/ecs.config). */
export function clusterFromUserData(userData: string | undefined): string | undefined {
  const m = /(?:^|[\s'"])ECS_CLUSTER=([A-Za-z0-9_-]+)/.exec(userData ?? "");
  return m?.[1];
}

/** What is kept of a host in its directory: the spec it was started with and its address number. */
interface HostFile {
  spec: InstanceHostSpec;
  n: number;
}

const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * EC2 instances as real hosts on this machine: each is a network namespace (veth on the
 * `berth-hosts` bridge, its own address) with its own Docker Engine (own data root, exec root
 * and socket) and a `berth agent` that registers with the cluster its user data names. Both run
 * detached, so instances outlive a restart of Berth as EC2 instances outlive the console; their
 * state is the namespace, the pid files and the directory under `<data dir>/instances/<id>`.
 */
export class InstanceHosts implements HostProvisioner {
  private readonly net: HostsNetwork;
  private readonly root: string;
  private prepared?: Promise<{ imdsEndpoint: string }>;

  constructor(private readonly d: InstanceHostsDeps) {
    this.net = d.network ?? DEFAULT_HOSTS_NETWORK;
    this.root = join(d.dataDir, "instances");
  }

  private names(instanceId: string) {
    const h = createHash("sha256").update(`${this.root}\n${instanceId}`).digest("hex").slice(0, 10);
    return {
      dir: join(this.root, instanceId),
      ns: `berth-${h}`,
      veth: `bh${h}`,
      run: join(RUN_ROOT, h),
    };
  }

  private read(instanceId: string): HostFile | undefined {
    const file = join(this.names(instanceId).dir, "host.json");
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, "utf8")) as HostFile;
  }

  private pid(path: string): number | undefined {
    try {
      return Number(readFileSync(path, "utf8").trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /** The address an instance's host is reached at (load balancers' instance targets). */
  addressOf(instanceId: string): string | undefined {
    const f = this.read(instanceId);
    return f ? hostAddress(this.net.gateway, f.n) : undefined;
  }

  get gateway(): string {
    return this.net.gateway;
  }

  /** The instance a source address belongs to (IMDS answers by it), with its spec. */
  byAddress(address: string): (InstanceHostSpec & { address: string }) | undefined {
    if (!existsSync(this.root)) return undefined;
    for (const id of readdirSync(this.root)) {
      const f = this.read(id);
      if (f && hostAddress(this.net.gateway, f.n) === address) return { ...f.spec, address };
    }
    return undefined;
  }

  private async defaultPrepare() {
    await this.ensureNetwork();
    return { imdsEndpoint: `http://${IMDS_ADDRESS}` };
  }

  /** The bridge, its gateway address and the IMDS address, made once. */
  async ensureNetwork(): Promise<void> {
    const { bridge, gateway, prefixLength } = this.net;
    const has = await run("ip", ["link", "show", bridge]).then(
      () => true,
      () => false,
    );
    if (!has) await run("ip", ["link", "add", bridge, "type", "bridge"]).catch(ignoreExists);
    await run("ip", ["addr", "add", `${gateway}/${prefixLength}`, "dev", bridge]).catch(ignoreExists);
    await run("ip", ["addr", "add", `${IMDS_ADDRESS}/32`, "dev", bridge]).catch(ignoreExists);
    await run("ip", ["link", "set", bridge, "up"]);
  }

  /** The lowest address free on this machine (other Berths' hosts share the bridge). */
  private allocate(): number {
    const used = new Set<number>();
    if (existsSync(this.root))
      for (const id of readdirSync(this.root)) {
        const f = this.read(id);
        if (f) used.add(f.n);
      }
    if (existsSync(RUN_ROOT))
      for (const h of readdirSync(RUN_ROOT)) {
        const n = this.pid(join(RUN_ROOT, h, "n"));
        if (n) used.add(n);
      }
    let n = 2;
    while (used.has(n)) n++;
    return n;
  }

  async start(spec: InstanceHostSpec): Promise<InstanceHostState> {
    if (process.getuid?.() !== 0)
      throw new Error(
        "EC2 instance hosts need root (network namespaces and a Docker Engine per instance); run Berth as root.",
      );
    const names = this.names(spec.instanceId);
    mkdirSync(names.dir, { recursive: true });
    mkdirSync(names.run, { recursive: true });
    const file: HostFile = { spec, n: this.read(spec.instanceId)?.n ?? this.allocate() };
    writeFileSync(join(names.dir, "host.json"), JSON.stringify(file));
    writeFileSync(join(names.run, "owner"), this.d.dataDir);
    writeFileSync(join(names.run, "n"), String(file.n));
    this.prepared ??= (this.d.prepare ?? (() => this.defaultPrepare()))();
    this.prepared.catch(() => {
      this.prepared = undefined;
    });
    const { imdsEndpoint } = await this.prepared;
    const address = hostAddress(this.net.gateway, file.n);
    await this.plumb(names, address);
    const socket = join(names.run, "docker.sock");
    const tasks = hostTaskSubnet(file.n);
    if (!alive(this.pid(join(names.run, "docker.pid")))) await this.startDockerd(names, socket, tasks.bip);
    await this.routeTasks(names, tasks.subnet, address);
    if (!alive(this.pid(join(names.run, "agent.pid")))) this.startAgent(names, spec, socket, imdsEndpoint);
    return { instanceId: spec.instanceId, running: true, address };
  }

  /** The namespace, its veth on the bridge, its address and routes (each step skipped when done). */
  private async plumb(names: ReturnType<InstanceHosts["names"]>, address: string) {
    const inNs = (...args: string[]) => run("ip", ["netns", "exec", names.ns, ...args]);
    await run("ip", ["netns", "add", names.ns]).catch(ignoreExists);
    const hasVeth = await run("ip", ["link", "show", names.veth]).then(
      () => true,
      () => false,
    );
    if (!hasVeth) {
      await run("ip", ["link", "add", names.veth, "type", "veth", "peer", "name", "eth0", "netns", names.ns]);
      await run("ip", ["link", "set", names.veth, "master", this.net.bridge, "up"]);
    }
    await inNs("ip", "link", "set", "lo", "up");
    await inNs("ip", "addr", "add", `${address}/${this.net.prefixLength}`, "dev", "eth0").catch(ignoreExists);
    await inNs("ip", "link", "set", "eth0", "up");
    await inNs("ip", "route", "replace", "default", "via", this.net.gateway);
  }

  /** Traffic from the control plane to the host's task addresses: routed there, and let through its Docker's filter. */
  private async routeTasks(names: ReturnType<InstanceHosts["names"]>, subnet: string, address: string) {
    const rule = ["DOCKER-USER", "-i", "eth0", "-j", "ACCEPT"];
    const ns = `--net=/var/run/netns/${names.ns}`;
    await run("nsenter", [ns, "iptables", "-C", ...rule]).catch(() => run("nsenter", [ns, "iptables", "-I", ...rule]));
    await run("ip", ["route", "replace", subnet, "via", address, "dev", this.net.bridge]);
  }

  private async startDockerd(names: ReturnType<InstanceHosts["names"]>, socket: string, bip: string) {
    const config = join(names.dir, "daemon.json");
    writeFileSync(config, "{}\n");
    const log = openSync(join(names.dir, "dockerd.log"), "a");
    rmSync(socket, { force: true });
    const child = spawn(
      "nsenter",
      [
        `--net=/var/run/netns/${names.ns}`,
        "dockerd",
        "--config-file",
        config,
        "--data-root",
        join(names.dir, "docker"),
        "--exec-root",
        join(names.run, "exec"),
        "--pidfile",
        join(names.run, "docker.pid"),
        "-H",
        `unix://${socket}`,
        "--shutdown-timeout",
        "5",
        "--bip",
        bip,
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    let exited: number | null | undefined;
    child.on("exit", (code) => {
      exited = code;
    });
    child.unref();
    const why = `the Docker Engine of instance host ${names.ns} did not start (see ${join(names.dir, "dockerd.log")})`;
    await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`${why}: it exited with ${exited}`);
        return pingDocker(socket);
      },
      60_000,
      why,
    );
  }

  private startAgent(
    names: ReturnType<InstanceHosts["names"]>,
    spec: InstanceHostSpec,
    socket: string,
    imdsEndpoint: string,
  ) {
    const log = openSync(join(names.dir, "agent.log"), "a");
    const [cmd, ...args] = this.d.agentCommand ?? [process.execPath, process.argv[1] ?? "dist/src/main.js", "agent"];
    // nsenter joins only the network namespace: `ip netns exec` would remount /sys and hide the cgroup hierarchy.
    const child: ChildProcess = spawn("nsenter", [`--net=/var/run/netns/${names.ns}`, cmd!, ...args], {
      detached: true,
      stdio: ["ignore", log, log],
      env: {
        PATH: process.env.PATH,
        BERTH_ENDPOINT: `http://${this.net.gateway}:${this.d.port()}`,
        ECS_CLUSTER: clusterFromUserData(spec.userData) ?? "default",
        DOCKER_HOST: `unix://${socket}`,
        BERTH_AGENT_CPU: String(spec.vcpus * 1024),
        BERTH_AGENT_MEMORY: String(spec.memoryMiB),
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsEndpoint,
        BERTH_LOG_LEVEL: process.env.BERTH_AGENT_LOG_LEVEL ?? "info",
      },
    });
    if (child.pid) writeFileSync(join(names.run, "agent.pid"), String(child.pid));
    child.unref();
  }

  async stop(instanceId: string): Promise<void> {
    const names = this.names(instanceId);
    await kill(this.pid(join(names.run, "agent.pid")), 5000);
    const docker = this.pid(join(names.run, "docker.pid"));
    // Its containers go with it: what a stopped instance runs is gone, as on EC2.
    await removeContainers(join(names.run, "docker.sock"));
    await kill(docker, 20_000);
    const f = this.read(instanceId);
    if (f) await run("ip", ["route", "del", hostTaskSubnet(f.n).subnet]).catch(() => undefined);
    await run("ip", ["link", "del", names.veth]).catch(() => undefined);
    await run("ip", ["netns", "del", names.ns]).catch(() => undefined);
  }

  async destroy(instanceId: string): Promise<void> {
    const names = this.names(instanceId);
    await this.stop(instanceId);
    await unmountUnder(names.dir);
    await unmountUnder(names.run);
    rmSync(names.dir, { recursive: true, force: true });
    rmSync(names.run, { recursive: true, force: true });
  }

  async state(instanceId: string): Promise<InstanceHostState | undefined> {
    const f = this.read(instanceId);
    if (!f) return undefined;
    const names = this.names(instanceId);
    const running = alive(this.pid(join(names.run, "docker.pid"))) && alive(this.pid(join(names.run, "agent.pid")));
    return { instanceId, running, address: hostAddress(this.net.gateway, f.n) };
  }

  async list(): Promise<InstanceHostState[]> {
    if (!existsSync(this.root)) return [];
    const out: InstanceHostState[] = [];
    for (const id of readdirSync(this.root)) {
      const s = await this.state(id);
      if (s) out.push(s);
    }
    return out;
  }

  /**
   * Removes hosts whose Berth is gone (a test's data directory deleted while its instances ran):
   * nothing else would ever stop their processes.
   */
  static async sweepOrphans(logger: Logger): Promise<void> {
    if (!existsSync(RUN_ROOT)) return;
    for (const h of readdirSync(RUN_ROOT)) {
      const dir = join(RUN_ROOT, h);
      let owner: string;
      try {
        owner = readFileSync(join(dir, "owner"), "utf8");
      } catch {
        continue;
      }
      if (existsSync(owner)) continue;
      logger.info({ host: h, dataDir: owner }, "removing an instance host no Berth owns any more");
      const pid = (f: string) => {
        try {
          return Number(readFileSync(join(dir, f), "utf8").trim()) || undefined;
        } catch {
          return undefined;
        }
      };
      await kill(pid("agent.pid"), 2000);
      await removeContainers(join(dir, "docker.sock"));
      await kill(pid("docker.pid"), 20_000);
      await run("ip", ["link", "del", `bh${h}`]).catch(() => undefined);
      await run("ip", ["netns", "del", `berth-${h}`]).catch(() => undefined);
      await unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const ignoreExists = (e: unknown) => {
  const text = String((e as { stderr?: string }).stderr ?? (e as Error).message);
  if (!/File exists|already assigned|exists/i.test(text)) throw e;
};

async function waitFor(test: () => boolean | Promise<boolean>, ms: number, message: string) {
  const until = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > until) throw new Error(message);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Removes every container of an instance host's Docker Engine (nothing when it does not answer). */
async function removeContainers(socket: string) {
  try {
    const { stdout } = await run("docker", ["-H", `unix://${socket}`, "ps", "-aq"]);
    const ids = stdout.split("\n").filter(Boolean);
    if (ids.length) await run("docker", ["-H", `unix://${socket}`, "rm", "-f", "-v", ...ids]);
  } catch {
    // Not running: its containers stopped with it.
  }
}

/** Whether a Docker Engine answers on a socket. */
function pingDocker(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** SIGTERM, then SIGKILL once `graceMs` passed. */
async function kill(pid: number | undefined, graceMs: number) {
  if (!alive(pid)) return;
  try {
    process.kill(pid!, "SIGTERM");
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid!, "SIGKILL");
    } catch {}
  }
}

/** Lazily unmounts whatever is still mounted under a directory (a killed dockerd's overlays). */
async function unmountUnder(dir: string) {
  let mounts: string[];
  try {
    mounts = readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(`${dir}/`));
  } catch {
    return;
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) await run("umount", ["-l", m]).catch(() => undefined);
}
