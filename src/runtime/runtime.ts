/**
 * The container runtime seam: Docker Engine now, a remote Berth agent or Kubernetes later.
 * Everything here is Berth's own vocabulary, not Docker's.
 */

export interface PortSpec {
  containerPort: number;
  /** Host port to bind; 0 or undefined lets the runtime pick a free one. */
  hostPort?: number;
  protocol: "tcp" | "udp";
}

export type NetworkAttachment =
  | { kind: "network"; name: string; aliases?: string[] }
  /** Join another container's network namespace (awsvpc tasks share one). */
  | { kind: "container"; id: string }
  | { kind: "host" }
  | { kind: "none" };

export interface MountSpec {
  /** A host path to bind, or a named volume. */
  type: "bind" | "volume";
  source: string;
  target: string;
  readOnly: boolean;
}

export interface HealthCheckSpec {
  /** ["CMD", ...] or ["CMD-SHELL", "..."] */
  test: string[];
  intervalSec: number;
  timeoutSec: number;
  retries: number;
  startPeriodSec: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  entryPoint?: string[];
  env: Record<string, string>;
  workingDir?: string;
  user?: string;
  labels: Record<string, string>;
  ports: PortSpec[];
  /** Address published ports bind to on the host. */
  publishHost: string;
  network: NetworkAttachment;
  hostname?: string;
  memoryMiB?: number;
  memoryReservationMiB?: number;
  /** CPU units (1024 = one vCPU) as a hard quota. */
  cpuUnits?: number;
  healthCheck?: HealthCheckSpec;
  ulimits: { name: string; soft: number; hard: number }[];
  readonlyRootFilesystem: boolean;
  mounts: MountSpec[];
  init: boolean;
  privileged: boolean;
  extraHosts: string[];
  dns: string[];
  /** resolv.conf search domains and options (Kubernetes pods: `<ns>.svc.cluster.local …`, `ndots:5`). */
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** Supplementary groups of the container's process (pod securityContext.supplementalGroups, fsGroup; an EFS access point's SecondaryGids). */
  groupAdd?: string[];
  /** Memory limit in bytes when finer than MiB (wins over memoryMiB). */
  memoryBytes?: number;
  /** CPU limit in nano-CPUs when finer than CPU units (wins over cpuUnits). */
  nanoCpus?: number;
  /** Relative CPU weight (Docker CpuShares: 1024 = one CPU's worth). */
  cpuShares?: number;
}

export type ContainerState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface ObservedContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  state: ContainerState;
  exitCode?: number;
  health?: "starting" | "healthy" | "unhealthy";
  startedAt?: Date;
  finishedAt?: Date;
  /** The runtime's own error when the container could not start. */
  error?: string;
  /** The kernel's OOM killer ended it. */
  oomKilled?: boolean;
  /** IPv4 address on its network (the namespace owner's address for joined containers). */
  ipAddress?: string;
  /** Published ports: container port → host binding. */
  ports: { containerPort: number; protocol: "tcp" | "udp"; hostIp: string; hostPort: number }[];
}

export interface RuntimeEvent {
  containerId: string;
  action: string;
  labels: Record<string, string>;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  timestamp: number;
  message: string;
}

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export interface LogFollower {
  stop(): void;
  done: Promise<void>;
}

/** One reading of a container's resource use (cumulative counters: rates come from two readings). */
export interface ContainerStats {
  /** When the runtime took the reading (epoch ms). */
  readAt: number;
  /** CPU time the container has used since it started (ns). */
  cpuTotalNs: number;
  /** CPUs the host has online. */
  onlineCpus: number;
  /** Memory in use without the reclaimable page cache (bytes), as `docker stats` shows it. */
  memoryUsedBytes: number;
  /** The container's memory limit (bytes; the host's memory when unlimited). */
  memoryLimitBytes: number;
}

export interface NetworkOptions {
  /** IPv4 subnet (CIDR) and gateway of the bridge; the runtime picks them when absent. */
  subnet?: string;
  gateway?: string;
  /** Host interface name of the bridge (at most 15 characters). */
  bridgeName?: string;
  labels?: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  subnets: string[];
  gateway?: string;
  /** The host side of the bridge (its interface name), for bridge networks. */
  bridge?: string;
  labels: Record<string, string>;
}

/** Options for reading a container's output (the Kubernetes pods/log options Docker understands). */
export interface LogReadOptions {
  follow: boolean;
  /** Only the last N lines. */
  tail?: number;
  /** Only output after this time (epoch seconds, fractions allowed). */
  sinceSec?: number;
  /** Prefix each line with its RFC 3339 (nanosecond) timestamp and a space. */
  timestamps: boolean;
}

export interface ExecOptions {
  command: string[];
  stdin: boolean;
  tty: boolean;
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
}

/** A process started in a running container. Without a tty, stdout and stderr are separate streams. */
export interface ExecProcess {
  stdin?: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves with the exit code once the process ended (and its output was delivered). */
  exit: Promise<number>;
  /** Ends the session (the process may go on in the container). */
  close(): void;
}

export interface ContainerRuntime {
  /** Makes sure the runtime answers; throws with an actionable message otherwise. */
  ping(): Promise<void>;
  /** Makes sure a bridge network exists (with `opts` when it is created here; an existing one is kept). */
  ensureNetwork(name: string, opts?: NetworkOptions): Promise<void>;
  /** A network's addressing and host bridge; undefined when there is none by that name. */
  inspectNetwork(name: string): Promise<NetworkInfo | undefined>;
  /** Every network of the runtime (to keep a new subnet clear of the others). */
  listNetworks(): Promise<NetworkInfo[]>;
  /** Removes a network (nothing when it is already gone). */
  removeNetwork(name: string): Promise<void>;
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  hasImage(ref: string): Promise<boolean>;
  /** Pulls an image, with registry credentials when the registry needs them. */
  pullImage(ref: string, auth?: RegistryAuth): Promise<void>;
  /** An image as a `docker save` tar stream. */
  exportImage(ref: string): Promise<NodeJS.ReadableStream>;
  /** Loads a `docker save` tar stream (`docker load`). */
  importImage(tar: NodeJS.ReadableStream): Promise<void>;
  /** Gives a local image another name (`docker tag`). */
  tagImage(source: string, target: string): Promise<void>;
  /** An image whose only job is to hold a network namespace open. */
  ensurePauseImage(): Promise<string>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** The image's stop signal, then SIGKILL after timeoutSec. */
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  inspect(id: string): Promise<ObservedContainer | undefined>;
  /** A reading of a running container's CPU and memory use; undefined when it is not running. */
  stats(id: string): Promise<ContainerStats | undefined>;
  /** Containers (running or not) carrying all of these labels. */
  list(labels: Record<string, string>): Promise<ObservedContainer[]>;
  /** Container lifecycle events for containers with these labels; returns an unsubscribe function. */
  watch(labels: Record<string, string>, onEvent: (e: RuntimeEvent) => void): () => void;
  /**
   * Follows a container's output after `sinceMs`. `done` settles once the output has ended
   * (the container stopped) and every line was delivered, or after stop().
   */
  followLogs(id: string, sinceMs: number, onLines: (lines: LogLine[]) => void): LogFollower;
  /** A container's output (stdout and stderr interleaved, as written) as one byte stream; ends when the output does. */
  readLogs(id: string, opts: LogReadOptions, signal?: AbortSignal): Promise<NodeJS.ReadableStream>;
  /** Runs a process in a running container (docker exec). */
  exec(id: string, opts: ExecOptions): Promise<ExecProcess>;
  /** A network's gateway (the host's address on it) and subnet; undefined when it does not exist. */
  networkInfo(name: string): Promise<{ gateway?: string; subnet?: string } | undefined>;
  /** The engine's name and version, as Kubernetes reports a node's runtime (`docker://24.0.7`). */
  version(): Promise<string>;
}

/** Running (or about to run again): the container holds its process. */
export const isUp = (o: Pick<ObservedContainer, "state">) =>
  o.state === "running" || o.state === "restarting" || o.state === "paused";
/** Ended: its exit code and finish time are known. */
export const isDown = (o: Pick<ObservedContainer, "state">) => o.state === "exited" || o.state === "dead";
