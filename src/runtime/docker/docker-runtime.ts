import { type Duplex, PassThrough, Readable, Writable } from "node:stream";
import Docker from "dockerode";
import { pack } from "tar-stream";
import { pauseBinary } from "../pause-binary.js";
import type {
  ContainerRuntime,
  ExecOptions,
  ExecProcess,
  LogReadOptions,
  ContainerSpec,
  ContainerStats,
  ContainerState,
  LogFollower,
  LogLine,
  NetworkInfo,
  NetworkOptions,
  ObservedContainer,
  RegistryAuth,
  RuntimeEvent,
} from "../runtime.js";

const PAUSE_IMAGE = "berth/pause:1";
const PULL_TIMEOUT_MS = 180_000;
const NEVER = "0001-01-01T00:00:00Z";

const labelFilter = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`);
const dockerDate = (s: string | undefined) => (s && !s.startsWith("0001-") ? new Date(s) : undefined);

/** What Berth reads of a Docker network: its subnets, gateway and host bridge interface. */
function networkInfo(n: Docker.NetworkInspectInfo): NetworkInfo {
  const config = (n.IPAM?.Config ?? []) as { Subnet?: string; Gateway?: string }[];
  const bridge =
    n.Driver === "bridge"
      ? (n.Options?.["com.docker.network.bridge.name"] ?? (n.Name === "bridge" ? "docker0" : `br-${n.Id.slice(0, 12)}`))
      : undefined;
  return {
    id: n.Id,
    name: n.Name,
    subnets: config.flatMap((c) => (c.Subnet ? [c.Subnet] : [])),
    ...(config.find((c) => c.Gateway)?.Gateway ? { gateway: config.find((c) => c.Gateway)?.Gateway } : {}),
    ...(bridge ? { bridge } : {}),
    labels: n.Labels ?? {},
  };
}

/** ContainerRuntime on a local Docker Engine through its HTTP API (dockerode). */
export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;

  constructor(options: Docker.DockerOptions = {}) {
    this.docker = new Docker(options);
  }

  async ping() {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new Error(
        `Docker Engine is not reachable (${(e as Error).message}). Start it (npm start does this as root) or set DOCKER_HOST.`,
      );
    }
  }

  async ensureNetwork(name: string, opts: NetworkOptions = {}) {
    const existing = await this.docker.listNetworks({ filters: { name: [name] } });
    if (existing.some((n) => n.Name === name)) return;
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: "bridge",
        Labels: { "berth.managed": "true", ...opts.labels },
        ...(opts.subnet
          ? {
              IPAM: {
                Driver: "default",
                Config: [{ Subnet: opts.subnet, ...(opts.gateway ? { Gateway: opts.gateway } : {}) }],
              },
            }
          : {}),
        ...(opts.bridgeName ? { Options: { "com.docker.network.bridge.name": opts.bridgeName } } : {}),
      });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 409) throw e;
    }
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    try {
      return networkInfo(await this.docker.getNetwork(name).inspect());
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async listNetworks(): Promise<NetworkInfo[]> {
    return (await this.docker.listNetworks()).map(networkInfo);
  }

  async removeNetwork(name: string) {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  async ensureVolume(name: string, labels: Record<string, string>) {
    await this.docker.createVolume({ Name: name, Labels: labels });
  }

  async removeVolume(name: string) {
    try {
      await this.docker.getVolume(name).remove();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  async hasImage(ref: string) {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw e;
    }
  }

  async pullImage(ref: string, auth?: RegistryAuth) {
    const stream = (await this.docker.pull(ref, auth ? { authconfig: auth } : {})) as Readable;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`pull of ${ref} timed out after ${PULL_TIMEOUT_MS / 1000} s`));
      }, PULL_TIMEOUT_MS);
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, events: { error?: string }[]) => {
          clearTimeout(timer);
          const failed = err?.message ?? events?.find((e) => e.error)?.error;
          if (failed) reject(new Error(failed));
          else resolve();
        },
        () => {},
      );
    });
  }

  async exportImage(ref: string): Promise<NodeJS.ReadableStream> {
    return this.docker.getImage(ref).get();
  }

  async importImage(tar: NodeJS.ReadableStream) {
    const out = (await this.docker.loadImage(tar, { quiet: true })) as Readable;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(out, (err: Error | null, events: { error?: string }[]) => {
        const failed = err?.message ?? events?.find((e) => e.error)?.error;
        if (failed) reject(new Error(failed));
        else resolve();
      });
    });
  }

  async tagImage(source: string, target: string) {
    const at = target.lastIndexOf(":");
    const slash = target.lastIndexOf("/");
    const [repo, tag] = at > slash ? [target.slice(0, at), target.slice(at + 1)] : [target, "latest"];
    await this.docker.getImage(source).tag({ repo, tag });
  }

  async ensurePauseImage() {
    if (await this.hasImage(PAUSE_IMAGE)) return PAUSE_IMAGE;
    const tar = pack();
    tar.entry({ name: "pause", mode: 0o755 }, pauseBinary());
    tar.finalize();
    const [repo, tag] = PAUSE_IMAGE.split(":");
    const out = (await this.docker.importImage(
      tar as unknown as NodeJS.ReadableStream,
      {
        repo,
        tag,
        changes: ['CMD ["/pause"]', "LABEL berth.managed=true"],
      } as object,
    )) as Readable;
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(out, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    return PAUSE_IMAGE;
  }

  async createContainer(spec: ContainerSpec) {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.ports) {
      const key = `${p.containerPort}/${p.protocol}`;
      exposed[key] = {};
      bindings[key] = [{ HostIp: spec.publishHost, HostPort: p.hostPort ? String(p.hostPort) : "" }];
    }
    const net = spec.network;
    const networkMode = net.kind === "network" ? net.name : net.kind === "container" ? `container:${net.id}` : net.kind;
    const mib = (n: number | undefined) => (n ? n * 1024 * 1024 : undefined);
    const ns = (s: number) => Math.round(s * 1e9);
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Cmd: spec.command,
      Entrypoint: spec.entryPoint,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: spec.workingDir,
      User: spec.user,
      Labels: spec.labels,
      Hostname: net.kind === "container" || net.kind === "host" ? undefined : spec.hostname,
      ExposedPorts: net.kind === "container" ? undefined : exposed,
      Healthcheck: spec.healthCheck
        ? {
            Test: spec.healthCheck.test,
            Interval: ns(spec.healthCheck.intervalSec),
            Timeout: ns(spec.healthCheck.timeoutSec),
            Retries: spec.healthCheck.retries,
            StartPeriod: ns(spec.healthCheck.startPeriodSec),
          }
        : undefined,
      HostConfig: {
        NetworkMode: networkMode,
        PortBindings: net.kind === "container" || net.kind === "host" ? undefined : bindings,
        Memory: spec.memoryBytes ?? mib(spec.memoryMiB),
        MemoryReservation: mib(spec.memoryReservationMiB),
        NanoCpus: spec.nanoCpus ?? (spec.cpuUnits ? Math.round((spec.cpuUnits / 1024) * 1e9) : undefined),
        CpuShares: spec.cpuShares,
        Ulimits: spec.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        ReadonlyRootfs: spec.readonlyRootFilesystem,
        Mounts: spec.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
        Init: spec.init || undefined,
        Privileged: spec.privileged,
        ExtraHosts: spec.extraHosts,
        Dns: spec.dns.length ? spec.dns : undefined,
        DnsSearch: spec.dnsSearch?.length ? spec.dnsSearch : undefined,
        DnsOptions: spec.dnsOptions?.length ? spec.dnsOptions : undefined,
        GroupAdd: spec.groupAdd?.length ? spec.groupAdd : undefined,
      },
      NetworkingConfig:
        net.kind === "network" && net.aliases?.length
          ? { EndpointsConfig: { [net.name]: { Aliases: net.aliases } } }
          : undefined,
    });
    return container.id;
  }

  async startContainer(id: string) {
    try {
      await this.docker.getContainer(id).start();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 304) throw e; // already started
    }
  }

  async stopContainer(id: string, timeoutSec: number) {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutSec });
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) throw e;
    }
  }

  async removeContainer(id: string) {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code !== 404 && code !== 409) throw e; // gone, or removal already in progress
    }
  }

  async inspect(id: string): Promise<ObservedContainer | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
    const networks = Object.values(info.NetworkSettings.Networks ?? {});
    const ports: ObservedContainer["ports"] = [];
    for (const [key, binds] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const [port, proto] = key.split("/");
      for (const b of binds ?? [])
        ports.push({
          containerPort: Number(port),
          protocol: proto === "udp" ? "udp" : "tcp",
          hostIp: b.HostIp,
          hostPort: Number(b.HostPort),
        });
    }
    const state = info.State as typeof info.State & { Health?: { Status: string } };
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ""),
      image: info.Config.Image,
      imageId: info.Image,
      labels: info.Config.Labels ?? {},
      state: state.Status as ContainerState,
      exitCode: state.Status === "exited" || state.Status === "dead" ? state.ExitCode : undefined,
      health: state.Health?.Status as ObservedContainer["health"],
      startedAt: state.StartedAt === NEVER ? undefined : dockerDate(state.StartedAt),
      finishedAt: dockerDate(state.FinishedAt),
      error: state.Error || undefined,
      oomKilled: state.OOMKilled || undefined,
      ipAddress: networks.find((n) => n.IPAddress)?.IPAddress || undefined,
      ports,
    };
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    type Raw = {
      read?: string;
      cpu_stats?: { cpu_usage?: { total_usage?: number }; online_cpus?: number };
      memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
    };
    let raw: Raw;
    try {
      // one-shot: one reading at once, without Docker's one-second wait for a second one.
      raw = (await this.docker.getContainer(id).stats({ stream: false, "one-shot": true } as {
        stream: false;
      })) as unknown as Raw;
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code === 404 || code === 409) return undefined;
      throw e;
    }
    const total = raw.cpu_stats?.cpu_usage?.total_usage;
    const read = raw.read ? Date.parse(raw.read) : Number.NaN;
    if (total === undefined || !Number.isFinite(read) || read <= 0) return undefined; // not running
    const mem = raw.memory_stats ?? {};
    // cgroup v1 reports total_inactive_file, v2 inactive_file: both are reclaimable cache.
    const cache = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
    return {
      readAt: read,
      cpuTotalNs: total,
      onlineCpus: raw.cpu_stats?.online_cpus ?? 1,
      memoryUsedBytes: Math.max(0, (mem.usage ?? 0) - cache),
      memoryLimitBytes: mem.limit ?? 0,
    };
  }

  async list(labels: Record<string, string>) {
    const summaries = await this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) } });
    const found = await Promise.all(summaries.map((s) => this.inspect(s.Id)));
    return found.filter((c): c is ObservedContainer => c !== undefined);
  }

  watch(labels: Record<string, string>, onEvent: (e: RuntimeEvent) => void) {
    let stopped = false;
    let current: Readable | undefined;
    const connect = async () => {
      if (stopped) return;
      try {
        current = (await this.docker.getEvents({
          filters: { type: ["container"], label: labelFilter(labels) },
        })) as Readable;
        let buffered = "";
        current.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("utf8");
          let nl = buffered.indexOf("\n");
          while (nl >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            nl = buffered.indexOf("\n");
            if (!line.trim()) continue;
            try {
              const ev = JSON.parse(line) as {
                Action: string;
                Actor: { ID: string; Attributes: Record<string, string> };
              };
              onEvent({ containerId: ev.Actor.ID, action: ev.Action, labels: ev.Actor.Attributes ?? {} });
            } catch {
              // a partial or foreign line; the periodic resync covers anything missed
            }
          }
        });
        current.on("close", () => setTimeout(connect, 1000));
        current.on("error", () => current?.destroy());
      } catch {
        setTimeout(connect, 1000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      current?.destroy();
    };
  }

  followLogs(id: string, sinceMs: number, onLines: (lines: LogLine[]) => void): LogFollower {
    let stopped = false;
    let source: Readable | undefined;
    let pending: LogLine[] = [];
    let timer: NodeJS.Timeout | undefined;
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      onLines(batch);
    };
    /** Lines still without their newline: a container's last words before it exits often are. */
    const unfinished: (() => void)[] = [];
    const lineSplitter = (stream: "stdout" | "stderr") => {
      const pt = new PassThrough();
      let rest = "";
      const take = (line: string) => {
        const space = line.indexOf(" ");
        const ts = Date.parse(line.slice(0, space));
        // Docker keeps nanoseconds; events are in ms, so skip what was already stored at the cursor.
        if (Number.isNaN(ts) || ts <= sinceMs) return;
        pending.push({ stream, timestamp: ts, message: line.slice(space + 1) });
      };
      pt.on("data", (chunk: Buffer) => {
        rest += chunk.toString("utf8");
        let nl = rest.indexOf("\n");
        while (nl >= 0) {
          take(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
          nl = rest.indexOf("\n");
        }
        if (pending.length >= 1000) flush();
        else if (!timer) timer = setTimeout(flush, 100);
      });
      unfinished.push(() => {
        if (rest) take(rest);
        rest = "";
      });
      return pt;
    };
    const end = () => {
      for (const take of unfinished) take();
      flush();
      finish();
    };
    (async () => {
      try {
        source = (await this.docker.getContainer(id).logs({
          follow: true,
          stdout: true,
          stderr: true,
          timestamps: true,
          since: sinceMs > 0 ? Math.floor(sinceMs / 1000) : 0,
        })) as unknown as Readable;
        if (stopped) {
          source.destroy();
          return end();
        }
        this.docker.modem.demuxStream(source, lineSplitter("stdout"), lineSplitter("stderr"));
        // demuxStream writes synchronously, so every line is split by the time the source ends.
        source.on("end", end);
        source.on("close", end);
        source.on("error", end);
      } catch {
        end(); // container gone before we attached: nothing to follow
      }
    })();
    return {
      stop: () => {
        stopped = true;
        source?.destroy();
        end();
      },
      done,
    };
  }

  async readLogs(id: string, opts: LogReadOptions, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    const container = this.docker.getContainer(id);
    const info = await container.inspect();
    const query = {
      stdout: true,
      stderr: true,
      timestamps: opts.timestamps,
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      since: opts.sinceSec !== undefined ? Math.floor(opts.sinceSec) : 0,
    };
    const raw = opts.follow
      ? ((await container.logs({ ...query, follow: true })) as unknown as Readable)
      : Readable.from([
          (await (container.logs as (o: object) => Promise<unknown>).call(container, {
            ...query,
            follow: false,
          })) as Buffer,
        ]);
    const out = new PassThrough();
    const end = () => out.end();
    signal?.addEventListener("abort", () => {
      raw.destroy();
      out.end();
    });
    if (info.Config.Tty) raw.pipe(out);
    else {
      this.docker.modem.demuxStream(raw, out, out);
      raw.on("end", end);
      raw.on("close", end);
    }
    raw.on("error", (e) => out.destroy(e));
    return out;
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecProcess> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: opts.command,
      AttachStdin: opts.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: opts.tty,
      Env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
      User: opts.user,
      WorkingDir: opts.workingDir,
    });
    const socket = (await exec.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty })) as unknown as Duplex;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (opts.tty) socket.pipe(stdout);
    else this.docker.modem.demuxStream(socket, stdout, stderr);
    const exit = new Promise<number>((resolve) => {
      let settled = false;
      const done = async () => {
        if (settled) return;
        settled = true;
        stdout.end();
        stderr.end();
        try {
          const info = await exec.inspect();
          resolve(info.ExitCode ?? 0);
        } catch {
          resolve(-1);
        }
      };
      socket.on("end", done);
      socket.on("close", done);
      socket.on("error", done);
    });
    return {
      stdin: opts.stdin
        ? new Writable({
            write: (chunk, _enc, cb) => {
              socket.write(chunk, cb);
            },
            final: (cb) => {
              socket.end();
              cb();
            },
          })
        : undefined,
      stdout,
      stderr,
      resize: async (cols, rows) => {
        try {
          await exec.resize({ w: cols, h: rows });
        } catch {
          // the process may have ended already
        }
      },
      exit,
      close: () => socket.destroy(),
    };
  }

  async networkInfo(name: string) {
    try {
      const info = (await this.docker.getNetwork(name).inspect()) as {
        IPAM?: { Config?: { Gateway?: string; Subnet?: string }[] };
      };
      const cfg = info.IPAM?.Config?.find((c) => c.Subnet && !c.Subnet.includes(":")) ?? info.IPAM?.Config?.[0];
      return { gateway: cfg?.Gateway, subnet: cfg?.Subnet };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async version(): Promise<string> {
    const v = await this.docker.version();
    return `docker://${v.Version}`;
  }
}
