/**
 * The kubelet: every cluster's Node for each host (with its Lease), the scheduler's binding
 * pass, and pods run as Docker containers by the same runtime as ECS tasks. Level-based like
 * the task controller: each pass re-reads the pod and the containers carrying its labels, asks
 * the pure plan what to do, does it and writes the status. All it needs is in the store and in
 * Docker's labels, so a restarted Berth adopts what runs and removes what no pod owns.
 */
import { type ImageSources, pullFromSources } from "../../../runtime/image-pull.js";
import type { Clock, TimerClock } from "../../../core/clock.js";
import { timersOf } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import { type Periodic, periodic } from "../../../core/periodic.js";
import type { Host } from "../../../hosts/host.js";
import type { HostRegistry } from "../../../hosts/registry.js";
import type { PodExec, PodLogs, PodNetworkConfig, PodNetworking } from "../../../kube/contracts.js";
import { KubeError } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import type { ClusterRef, KubeObject, WatchEvent } from "../../../kube/types.js";
import { KUBE_LABEL as L, LABEL } from "../../../runtime/labels.js";
import { ownerGone } from "../../../runtime/ownership.js";
import type { ContainerRuntime, ObservedContainer, RegistryAuth } from "../../../runtime/runtime.js";
import type { Watch } from "../../../store/watch.js";
import { WorkQueue } from "../../work-queue.js";
import { schedulePass } from "./binder.js";
import { recordEvent } from "./events.js";
import {
  kubeletVersionOf,
  hostedByOf,
  KUBELET_VERSION_ANNOTATION,
  leaseObject,
  NODE_LEASE_NAMESPACE,
  nodeLabels,
  nodeNameOf,
  nodeObject,
  nodeStatus,
  type NodeFacts,
} from "./node.js";
import {
  type BackoffOptions,
  emptyRuntimeState,
  type Instance,
  type ObservedPod,
  type PodAction,
  type PodRuntimeState,
  planPod,
} from "./plan.js";
import { Probers, runHook } from "./probes.js";
import { ConfigError, containerEnv, containerMounts, containerSpec, sandboxSpec } from "./spec.js";
import { kubeletStreams } from "./streams.js";
import type { Container, Pod } from "./types.js";
import type { ClaimMounts } from "../storage/mounts.js";
import {
  podDirs,
  preparePodVolumes,
  removePodDir,
  serviceAccountOf,
  VolumeNotReady,
  withServiceAccountVolume,
} from "./volumes.js";

/** Only the local Docker host gives clusters a stand-in node (ECS agent hosts join ECS clusters). */
const standsIn = (h: Host) => h.kind === "local-docker";
/**
 * A cluster as the kubelet needs it: its ref, Kubernetes version (for kubeletVersion) and whether
 * it gets the stand-in node (false once it has compute of its own: node groups, Fargate profiles).
 */
export type KubeletCluster = ClusterRef & { version?: string; standInNode?: boolean };

/** Service account tokens for projected volumes (the TokenRequest API's issuer). */
export interface ServiceAccountTokens {
  issue(
    cluster: ClusterRef,
    req: {
      namespace: string;
      serviceAccount: string;
      audiences: string[];
      expirationSeconds: number;
      pod: { name: string; uid: string };
    },
  ): Promise<string>;
}

export interface KubeletDeps {
  objects: ObjectStore;
  runtime: ContainerRuntime;
  hosts: HostRegistry;
  networking: PodNetworking;
  clusters: () => KubeletCluster[];
  clock: Clock | TimerClock;
  logger: Logger;
  dataDir: string;
  /** Tokens for the service account volume; without it the token file is a legacy token Secret's, or empty. */
  tokens?: ServiceAccountTokens;
  /** The cluster CA (PEM), for ca.crt when the namespace has no kube-root-ca.crt ConfigMap. */
  clusterCa?: (cluster: ClusterRef) => string | undefined;
  /** persistentVolumeClaim volumes (the storage controllers' volumes); without it such pods wait. */
  claimMounts?: ClaimMounts;
  /** Credentials for images in Berth's own registry. */
  registryAuth?: (image: string) => RegistryAuth | undefined;
  /** The mirror list: where an image is pulled from, in order (default: the image itself). */
  imageSources?: ImageSources;
  /** Address host ports of pods bind to (default 0.0.0.0). */
  publishHost?: string;
  /** How often every pod is looked at again and orphans removed (default 10 s). */
  resyncMs?: number;
  /** How often the cluster list is read (default 2 s). */
  clusterPollMs?: number;
  /** Lease renewal (default 10 s) and node status (default 60 s) periods. */
  leaseMs?: number;
  nodeStatusMs?: number;
  backoff?: BackoffOptions;
}

export interface Kubelet {
  stop(): Promise<void>;
  logs: PodLogs;
  exec: PodExec;
  /** For tests: resolves when nothing is queued or running. */
  idle(): Promise<void>;
}

interface ClusterState {
  ref: KubeletCluster;
  key: string;
  net: PodNetworkConfig;
  hostIP: string;
  watch?: Watch;
}

export { clusterKey as clusterKeyOf } from "../../../kube/types.js";
import { clusterKey as clusterKeyOf } from "../../../kube/types.js";
const podKey = (cluster: string, ns: string, name: string) => `pod\n${cluster}\n${ns}\n${name}`;
const ATTEMPT = (c: ObservedContainer) => Number(c.labels[L.attempt] ?? 0);
const isUpState = (c: ObservedContainer) => c.state === "running" || c.state === "restarting" || c.state === "paused";

/** What Docker shows of one pod (its uid's containers). */
export function observePod(list: ObservedContainer[]): ObservedPod {
  const sandboxes = list.filter((c) => c.labels[L.container] === "POD").sort((a, b) => ATTEMPT(b) - ATTEMPT(a));
  const containers = new Map<string, Instance[]>();
  for (const c of list) {
    const name = c.labels[L.container];
    if (!name || name === "POD") continue;
    const inst: Instance = { container: c, attempt: ATTEMPT(c), backoffBase: Number(c.labels[L.backoffBase] ?? 0) };
    const l = containers.get(name) ?? [];
    l.push(inst);
    containers.set(name, l);
  }
  for (const l of containers.values()) l.sort((a, b) => b.attempt - a.attempt);
  return { sandbox: sandboxes[0], staleSandboxes: sandboxes.slice(1), containers };
}

/** Volumes whose files follow their source (rewritten while the pod runs). */
const updatable = (v: NonNullable<Pod["spec"]["volumes"]>[number]) =>
  v.configMap !== undefined || v.secret !== undefined || v.projected !== undefined || v.downwardAPI !== undefined;

const decode = (data: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]));

/** Default imagePullPolicy: Always for :latest or no tag, IfNotPresent otherwise. */
export function pullPolicyOf(c: Container): "Always" | "IfNotPresent" | "Never" {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const ref = c.image.split("@")[0];
  const last = ref.split("/").pop() ?? "";
  const tag = last.includes(":") ? last.split(":").pop() : undefined;
  if (c.image.includes("@")) return "IfNotPresent";
  return !tag || tag === "latest" ? "Always" : "IfNotPresent";
}

export function startKubelet(deps: KubeletDeps): Kubelet {
  const k = new KubeletImpl(deps);
  void k.start();
  const streams = kubeletStreams({
    objects: deps.objects,
    runtime: deps.runtime,
    clock: deps.clock,
    dataDir: deps.dataDir,
  });
  return { stop: () => k.stop(), logs: streams.logs, exec: streams.exec, idle: () => k.idle() };
}

class KubeletImpl {
  private readonly queue: WorkQueue;
  private readonly clusters = new Map<string, ClusterState>();
  private readonly preparing = new Map<string, Promise<void>>();
  private readonly states = new Map<string, PodRuntimeState>();
  private readonly terminating = new Set<string>();
  private readonly probers: Probers;
  private readonly after: TimerClock["after"];
  private loops: Periodic[] = [];
  private unwatchDocker?: () => void;
  private pauseImage?: Promise<string>;
  private runtimeVersion = "docker://unknown";
  private runtimeUp = true;
  private stopped = false;
  private started?: Promise<void>;

  constructor(private readonly d: KubeletDeps) {
    this.after = timersOf(d.clock);
    this.queue = new WorkQueue(
      (key) => this.process(key),
      8,
      (key, err) =>
        d.logger.warn({ key: key.replaceAll("\n", " "), err: (err as Error).message }, "kubelet pass failed; retrying"),
      d.clock,
    );
    this.probers = new Probers({
      runtime: d.runtime,
      after: this.after,
      changed: (key) => this.queue.add(key),
      kill: (key, id, grace, message) => {
        this.event(key, "Normal", "Killing", message);
        void d.runtime
          .stopContainer(id, grace)
          .catch((e) => d.logger.warn({ err: (e as Error).message }, "stopping a container that failed its probe"))
          .finally(() => this.queue.add(key));
      },
      event: (key, type, reason, message) => this.event(key, type, reason, message),
    });
  }

  private get now() {
    return this.d.clock.now();
  }

  start(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  private async run() {
    try {
      await this.d.runtime.ping();
      this.runtimeVersion = await this.d.runtime.version();
      this.pauseImage = this.d.runtime.ensurePauseImage();
      await this.pauseImage;
    } catch (e) {
      this.d.logger.warn(
        { err: (e as Error).message },
        "kubelet cannot reach the container runtime; pods will not run",
      );
    }
    if (this.stopped) return;
    this.unwatchDocker = this.d.runtime.watch({ [L.kind]: "pod", [LABEL.dataDir]: this.d.dataDir }, (e) => {
      const c = e.labels[L.cluster];
      const ns = e.labels[L.namespace];
      const pod = e.labels[L.pod];
      if (c && ns && pod) this.queue.add(podKey(c, ns, pod));
    });
    const every = (name: string, ms: number, fn: () => unknown) => {
      const p = periodic(fn, { name, everyMs: ms, logger: this.d.logger, clock: this.d.clock, runAtStart: true });
      this.loops.push(p);
      return p.start();
    };
    await every("kubelet cluster poll", this.d.clusterPollMs ?? 2000, () => this.pollClusters());
    await every("kubelet node leases", this.d.leaseMs ?? 10_000, () => this.renewLeases());
    await every("kubelet node status", this.d.nodeStatusMs ?? 60_000, () => this.writeNodeStatus());
    await every("kubelet resync", this.d.resyncMs ?? 10_000, () => this.sweep());
  }

  async stop() {
    this.stopped = true;
    await this.started?.catch(() => {});
    for (const l of this.loops) l.stop();
    this.unwatchDocker?.();
    for (const c of this.clusters.values()) c.watch?.stop();
    this.queue.close();
    this.probers.stopAll();
    // Let passes under way finish (a restart then finds Docker as they left it).
    await Promise.race([this.queue.idle(), new Promise((r) => setTimeout(r, 5000))]);
  }

  idle() {
    return this.queue.idle();
  }

  /**
   * The nodes this kubelet runs in a cluster, by name, with their host: each host's stand-in node
   * (while the cluster gets one, or until it is retired) and the nodes hosted by its hosts.
   */
  private nodesOf(c: ClusterState): Map<string, Host> {
    const hosts = new Map(this.d.hosts.list().map((h) => [h.id, h]));
    const nodes = this.d.objects.list(c.ref, R.nodes).items;
    const names = new Set(nodes.map((n) => n.metadata.name));
    const out = new Map<string, Host>();
    for (const h of hosts.values())
      if (standsIn(h) && (c.ref.standInNode !== false || names.has(nodeNameOf(h)))) out.set(nodeNameOf(h), h);
    for (const n of nodes) {
      const h = hosts.get(hostedByOf(n) ?? "");
      if (h) out.set(n.metadata.name ?? "", h);
    }
    return out;
  }

  /** The nodes hosted by this kubelet's hosts (not the stand-in nodes). */
  private hostedNodes(c: ClusterState): { node: KubeObject; host: Host }[] {
    const hosts = new Map(this.d.hosts.list().map((h) => [h.id, h]));
    const out: { node: KubeObject; host: Host }[] = [];
    for (const node of this.d.objects.list(c.ref, R.nodes).items) {
      const host = hosts.get(hostedByOf(node) ?? "");
      if (host) out.push({ node, host });
    }
    return out;
  }

  /** Every node this kubelet keeps alive in a cluster: stand-in nodes made or retired, hosted nodes' status and Lease. */
  private keepNodes(c: ClusterState, opts: { status: boolean }) {
    for (const host of this.d.hosts.list().filter(standsIn)) {
      if (c.ref.standInNode === false) {
        this.retireStandIn(c, host);
        continue;
      }
      const node = opts.status ? undefined : this.d.objects.get(c.ref, R.nodes, undefined, nodeNameOf(host));
      if (node) this.renewLease(c, node);
      else this.ensureNode(c, host); // made, or its labels and status written (and its Lease renewed)
    }
    for (const { node, host } of this.hostedNodes(c)) {
      if (node.metadata.deletionTimestamp) continue;
      const fresh = (node.status as { conditions?: unknown[] } | undefined)?.conditions?.length;
      if (opts.status || !fresh) this.writeHostedStatus(c, node, host);
      this.renewLease(c, node);
    }
  }

  /**
   * A cluster that has compute of its own no longer gets the stand-in node: cordoned, its pods
   * deleted (gracefully: this kubelet still stops them), then the Node removed once it is empty.
   */
  private retireStandIn(c: ClusterState, host: Host) {
    const name = nodeNameOf(host);
    const node = this.d.objects.get(c.ref, R.nodes, undefined, name);
    if (!node) return;
    if (!(node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) {
      this.d.objects.mutate(c.ref, R.nodes, undefined, name, (n) => ({
        ...n,
        spec: { ...(n.spec as object), unschedulable: true },
      }));
      this.d.logger.info({ cluster: c.ref.name, node: name }, "cluster has compute of its own: stand-in node retired");
    }
    const pods = this.d.objects
      .list(c.ref, R.pods)
      .items.filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === name);
    for (const p of pods)
      if (!p.metadata.deletionTimestamp)
        this.d.objects.delete(c.ref, R.pods, p.metadata.namespace, p.metadata.name ?? "", { uid: p.metadata.uid });
    if (pods.length === 0) this.d.objects.delete(c.ref, R.nodes, undefined, name, { uid: node.metadata.uid });
  }

  private writeHostedStatus(c: ClusterState, node: KubeObject, host: Host) {
    const now = `${this.now.toISOString().slice(0, 19)}Z`;
    this.d.objects.mutate(
      c.ref,
      R.nodes,
      undefined,
      node.metadata.name ?? "",
      (n) => {
        if (n.metadata.uid !== node.metadata.uid) return undefined;
        const prev = (n.status ?? {}) as { capacity?: Record<string, string>; allocatable?: Record<string, string> };
        const version = n.metadata.annotations?.[KUBELET_VERSION_ANNOTATION];
        const facts: NodeFacts = {
          ...this.facts(c, host),
          ...(version ? { kubeletVersion: version } : {}),
          hosted: { name: n.metadata.name ?? "", capacity: prev.capacity, allocatable: prev.allocatable },
        };
        return { ...n, status: { ...(n.status as object), ...nodeStatus(facts, now, n.status as never) } };
      },
      { subresource: "status" },
    );
  }

  // ---- clusters and nodes ----

  private async pollClusters() {
    const want = new Map(this.d.clusters().map((c) => [clusterKeyOf(c), c]));
    for (const [key, ref] of want) {
      const have = this.clusters.get(key);
      if (have) {
        const retire = have.ref.standInNode !== false && ref.standInNode === false;
        have.ref = ref;
        if (retire || ref.standInNode === false) for (const host of this.d.hosts.list()) this.retireStandIn(have, host);
        continue;
      }
      if (!this.preparing.has(key)) {
        const p = this.addCluster(key, ref).finally(() => this.preparing.delete(key));
        this.preparing.set(key, p);
        await p.catch((e) =>
          this.d.logger.warn(
            { cluster: ref.name, err: (e as Error).message },
            "kubelet could not join the cluster; retrying",
          ),
        );
      }
    }
    for (const [key, c] of this.clusters) {
      if (want.has(key)) continue;
      c.watch?.stop();
      this.clusters.delete(key);
      this.d.logger.info({ cluster: c.ref.name }, "cluster gone: its pods are removed");
    }
  }

  private async addCluster(key: string, ref: KubeletCluster) {
    const net = await this.d.networking.prepare(ref);
    const info = await this.d.runtime.networkInfo(net.dockerNetwork).catch(() => undefined);
    const state: ClusterState = { ref, key, net, hostIP: info?.gateway ?? "127.0.0.1" };
    this.keepNodes(state, { status: true });
    const from = this.d.objects.head();
    state.watch = this.d.objects.watch(ref, [R.pods, R.nodes, R.configmaps, R.secrets], { from }, (events) =>
      this.onEvents(state, events),
    );
    this.clusters.set(key, state);
    this.queue.add(`sched\n${key}`);
    this.queueClusterPods(state);
    this.d.logger.info({ cluster: ref.name, network: net.dockerNetwork }, "kubelet joined the cluster");
  }

  private facts(c: ClusterState, host: Host): NodeFacts {
    return {
      host,
      cluster: c.ref,
      kubeletVersion: kubeletVersionOf(c.ref.version),
      runtimeVersion: this.runtimeVersion,
      hostIP: c.hostIP,
      runtimeUp: this.runtimeUp,
    };
  }

  private ensureNode(c: ClusterState, host: Host) {
    const f = this.facts(c, host);
    const name = nodeNameOf(host);
    const now = `${this.now.toISOString().slice(0, 19)}Z`;
    let node = this.d.objects.get(c.ref, R.nodes, undefined, name);
    if (!node) {
      try {
        node = this.d.objects.create(c.ref, R.nodes, nodeObject(f, now));
        this.d.logger.info({ cluster: c.ref.name, node: name }, "node registered");
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
        node = this.d.objects.get(c.ref, R.nodes, undefined, name);
      }
    } else {
      const labels = nodeLabels(f);
      if (Object.entries(labels).some(([k, v]) => node?.metadata.labels?.[k] !== v))
        node = this.d.objects.mutate(c.ref, R.nodes, undefined, name, (n) => ({
          ...n,
          metadata: { ...n.metadata, labels: { ...n.metadata.labels, ...labels } },
        }));
      this.writeStatusOf(c, host);
    }
    if (node) this.renewLease(c, node);
  }

  private writeStatusOf(c: ClusterState, host: Host) {
    const now = `${this.now.toISOString().slice(0, 19)}Z`;
    this.d.objects.mutate(
      c.ref,
      R.nodes,
      undefined,
      nodeNameOf(host),
      (n) => ({
        ...n,
        status: { ...(n.status as object), ...nodeStatus(this.facts(c, host), now, n.status as never) },
      }),
      { subresource: "status" },
    );
  }

  private async writeNodeStatus() {
    this.runtimeUp = await this.d.runtime.ping().then(
      () => true,
      () => false,
    );
    for (const c of this.clusters.values()) this.keepNodes(c, { status: true });
  }

  private renewLease(c: ClusterState, node: KubeObject) {
    const lease = leaseObject(node, this.now.getTime());
    const name = node.metadata.name ?? "";
    const updated = this.d.objects.mutate(c.ref, R.leases, NODE_LEASE_NAMESPACE, name, (l) => ({
      ...l,
      spec: { ...(l.spec as object), ...(lease.spec as object) },
    }));
    if (!updated) {
      try {
        this.d.objects.create(c.ref, R.leases, lease);
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
      }
    }
  }

  private renewLeases() {
    for (const c of this.clusters.values()) this.keepNodes(c, { status: false });
  }

  // ---- events from the store ----

  private onEvents(c: ClusterState, events: WatchEvent[]) {
    const mine = this.nodesOf(c);
    let schedule = false;
    for (const e of events) {
      const o = e.object;
      const ns = o.metadata.namespace ?? "";
      switch (o.kind) {
        case "Pod": {
          const spec = (o.spec ?? {}) as { nodeName?: string };
          if (spec.nodeName && mine.has(spec.nodeName)) this.queue.add(podKey(c.key, ns, o.metadata.name ?? ""));
          if (!spec.nodeName || e.type === "DELETED") schedule = true;
          else {
            const phase = (o.status as { phase?: string } | undefined)?.phase;
            if (phase === "Succeeded" || phase === "Failed") schedule = true;
          }
          break;
        }
        case "Node":
          schedule = true;
          // A stand-in node deleted by hand comes back; a new hosted node gets its status and Lease now.
          if (e.type === "DELETED" && mine.has(o.metadata.name ?? "")) this.queue.add(`node\n${c.key}`);
          if (e.type === "ADDED" && hostedByOf(o)) this.queue.add(`node\n${c.key}`);
          break;
        case "ConfigMap":
        case "Secret":
          this.queueClusterPods(c, ns);
          break;
      }
    }
    if (schedule) this.queue.add(`sched\n${c.key}`);
  }

  private queueClusterPods(c: ClusterState, namespace?: string) {
    const mine = this.nodesOf(c);
    for (const p of this.d.objects.list(c.ref, R.pods, namespace).items) {
      const node = (p.spec as { nodeName?: string } | undefined)?.nodeName;
      if (node && mine.has(node)) this.queue.add(podKey(c.key, p.metadata.namespace ?? "", p.metadata.name ?? ""));
    }
  }

  // ---- the work queue ----

  private async process(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    if (this.stopped) return undefined;
    const [kind, cluster, ns, name] = key.split("\n");
    const c = this.clusters.get(cluster);
    if (kind === "sched") {
      if (!c) return undefined;
      const r = schedulePass(this.d.objects, c.ref, this.now);
      // Pods that fit nowhere are tried again on any change, and every 30 s.
      return r.pending > 0 ? { requeueAfterMs: 30_000 } : undefined;
    }
    if (kind === "node") {
      if (c) this.keepNodes(c, { status: false });
      return undefined;
    }
    return this.reconcilePod(key, cluster, ns, name);
  }

  private stateOf(uid: string): PodRuntimeState {
    let s = this.states.get(uid);
    if (!s) {
      s = emptyRuntimeState();
      this.states.set(uid, s);
    }
    return s;
  }

  private async removeAll(list: ObservedContainer[], uids: Set<string>) {
    for (const x of list) this.probers.drop(x.id);
    await Promise.all(list.map((x) => this.d.runtime.removeContainer(x.id)));
    for (const uid of uids) {
      removePodDir(this.d.dataDir, uid);
      this.states.delete(uid);
      for (const k of this.pullFailures.keys()) if (k.startsWith(`${uid}/`)) this.pullFailures.delete(k);
    }
  }

  private async reconcilePod(key: string, clusterKey: string, ns: string, name: string) {
    const rt = this.d.runtime;
    const list = await rt.list({ [L.kind]: "pod", [L.cluster]: clusterKey, [L.namespace]: ns, [L.pod]: name });
    const mineList = list.filter((x) => x.labels[LABEL.dataDir] === this.d.dataDir);
    const c = this.clusters.get(clusterKey);
    if (!c) return undefined; // not joined (yet): the sweep removes pods of clusters that are gone
    const pod = this.d.objects.get(c.ref, R.pods, ns, name) as Pod | undefined;
    const host = pod?.spec?.nodeName ? this.nodesOf(c).get(pod.spec.nodeName) : undefined;
    const uid = pod?.metadata.uid ?? "";
    if (this.terminating.has(uid)) return undefined;
    const others = mineList.filter((x) => !pod || !host || x.labels[L.uid] !== uid);
    if (others.length) await this.removeAll(others, new Set(others.map((x) => x.labels[L.uid] ?? "")));
    if (!pod || !host) return undefined;
    const own = mineList.filter((x) => x.labels[L.uid] === uid);
    const obs = observePod(own);
    const sa = this.d.objects.get(c.ref, R.serviceaccounts, pod.metadata.namespace, serviceAccountOf(pod));
    const full: Pod = {
      ...pod,
      spec: withServiceAccountVolume(pod.spec, sa?.automountServiceAccountToken as boolean | undefined),
    };
    const state = this.stateOf(uid);
    const plan = planPod(
      {
        pod: full,
        obs,
        state: { waiting: state.waiting, probes: this.probers.states },
        now: this.now,
        hostIP: c.hostIP,
      },
      this.d.backoff,
    );

    const terminate = plan.actions.find((a) => a.type === "terminate");
    if (terminate && terminate.type === "terminate") {
      this.terminating.add(uid);
      void this.terminate(c, full, own, terminate.graceSec, key).finally(() => {
        this.terminating.delete(uid);
        this.queue.add(key);
      });
      return undefined;
    }

    const running = new Set<string>();
    for (const [cname, instances] of obs.containers) {
      const latest = instances[0]?.container;
      const spec = [...full.spec.containers, ...(full.spec.initContainers ?? [])].find((x) => x.name === cname);
      const podIP = full.spec.hostNetwork ? "127.0.0.1" : obs.sandbox?.ipAddress;
      if (latest && spec && isUpState(latest) && podIP !== undefined) {
        running.add(latest.id);
        this.probers.ensure({
          podKey: key,
          containerId: latest.id,
          container: spec,
          podIP,
          graceSec: full.spec.terminationGracePeriodSeconds ?? 30,
          startedAt: latest.startedAt?.getTime() ?? Date.now(),
        });
      }
    }
    this.probers.retain(key, running);

    if (JSON.stringify(plan.status) !== JSON.stringify(pod.status ?? {})) {
      this.d.objects.mutate(
        c.ref,
        R.pods,
        ns,
        name,
        (p) => (p.metadata.uid === uid && !p.metadata.deletionTimestamp ? { ...p, status: plan.status } : undefined),
        { subresource: "status" },
      );
    }
    if (plan.actions.length === 0) {
      // Keep configMap / secret / projected / downwardAPI files current for the running containers.
      if (obs.sandbox && isUpState(obs.sandbox) && full.spec.volumes?.some(updatable))
        await preparePodVolumes(full, this.d.dataDir, this.volumeSources(c, full, obs)).catch((e) =>
          this.d.logger.debug({ pod: name, err: (e as Error).message }, "volume refresh"),
        );
      return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
    }
    await this.apply(c, full, host, obs, plan.actions, key);
    return { requeueAfterMs: 0 };
  }

  private async apply(c: ClusterState, pod: Pod, host: Host, obs: ObservedPod, actions: PodAction[], key: string) {
    const rt = host.runtime;
    const needsVolumes = actions.some((a) => a.type === "runContainer");
    let volumes: Map<string, { hostPath: string; readOnly: boolean }> | undefined;
    const state = this.stateOf(pod.metadata.uid ?? "");
    if (needsVolumes) {
      try {
        volumes = await preparePodVolumes(pod, this.d.dataDir, this.volumeSources(c, pod, obs));
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        const message = e instanceof VolumeNotReady ? e.message : `MountVolume.SetUp failed: ${e.message}`;
        for (const a of actions)
          if (a.type === "runContainer")
            state.waiting.set(a.name, { reason: "ContainerCreating", message, retryAtMs: this.now.getTime() + 10_000 });
        this.event(key, "Warning", "FailedMount", message);
        return;
      }
    }
    for (const a of actions) {
      switch (a.type) {
        case "removeContainer":
          await rt.removeContainer(a.id);
          break;
        case "stopContainer":
          await rt.stopContainer(a.id, a.graceSec);
          break;
        case "startContainer":
          await rt
            .startContainer(a.id)
            .catch((e) => this.event(key, "Warning", "Failed", `Error: ${(e as Error).message}`));
          break;
        case "createSandbox": {
          const image = await (this.pauseImage ?? rt.ensurePauseImage());
          const ns = pod.metadata.namespace ?? "default";
          const id = await rt.createContainer(
            sandboxSpec(pod, {
              image,
              labels: this.labels(c, pod, "POD", a.attempt, a.attempt, false),
              network: c.net.dockerNetwork,
              publishHost: this.d.publishHost ?? "0.0.0.0",
              attempt: a.attempt,
              dns: {
                nameservers: c.net.dns.nameservers,
                searches: c.net.dns.searches(ns),
                options: c.net.dns.options,
              },
            }),
          );
          await rt.startContainer(id);
          break;
        }
        case "runContainer":
          await this.runContainer(c, pod, host, obs, a, volumes ?? new Map(), state, key);
          break;
        case "terminate":
          break;
      }
    }
  }

  private labels(c: ClusterState, pod: Pod, container: string, attempt: number, base: number, init: boolean) {
    return {
      [LABEL.dataDir]: this.d.dataDir,
      [LABEL.account]: c.ref.scope.account,
      [LABEL.region]: c.ref.scope.region,
      [L.kind]: "pod",
      [L.cluster]: c.key,
      [L.namespace]: pod.metadata.namespace ?? "default",
      [L.pod]: pod.metadata.name ?? "",
      [L.uid]: pod.metadata.uid ?? "",
      [L.container]: container,
      [L.init]: String(init),
      [L.attempt]: String(attempt),
      [L.backoffBase]: String(base),
      "io.kubernetes.pod.name": pod.metadata.name ?? "",
      "io.kubernetes.pod.namespace": pod.metadata.namespace ?? "default",
      "io.kubernetes.pod.uid": pod.metadata.uid ?? "",
      "io.kubernetes.container.name": container,
    };
  }

  private volumeSources(c: ClusterState, pod: Pod, obs: ObservedPod) {
    const ns = pod.metadata.namespace ?? "default";
    const objects = this.d.objects;
    const node = objects.get(c.ref, R.nodes, undefined, pod.spec.nodeName ?? "");
    return {
      configMap: (name: string) => {
        const cm = objects.get(c.ref, R.configmaps, ns, name);
        if (!cm) return undefined;
        return {
          ...Object.fromEntries(
            Object.entries((cm.data as Record<string, string>) ?? {}).map(([k, v]) => [k, Buffer.from(v)]),
          ),
          ...decode(cm.binaryData as Record<string, string>),
        };
      },
      secret: (name: string) => {
        const s = objects.get(c.ref, R.secrets, ns, name);
        return s ? decode(s.data as Record<string, string>) : undefined;
      },
      token: async (audience: string | undefined, expirationSeconds: number) => {
        const sa = serviceAccountOf(pod);
        if (this.d.tokens)
          return this.d.tokens.issue(c.ref, {
            namespace: ns,
            serviceAccount: sa,
            audiences: audience ? [audience] : [],
            expirationSeconds,
            pod: { name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "" },
          });
        const legacy = objects
          .list(c.ref, R.secrets, ns)
          .items.find(
            (s) =>
              s.type === "kubernetes.io/service-account-token" &&
              s.metadata.annotations?.["kubernetes.io/service-account.name"] === sa,
          );
        const token = (legacy?.data as Record<string, string> | undefined)?.token;
        return token ? Buffer.from(token, "base64").toString("utf8") : undefined;
      },
      caPem: this.d.clusterCa?.(c.ref),
      claim: (claimName: string, volumeName: string, readOnly: boolean) =>
        this.d.claimMounts
          ? this.d.claimMounts.mount(c.ref, ns, claimName, volumeName, pod.spec.nodeName ?? "", readOnly, podUser(pod))
          : Promise.resolve({
              waiting: `persistentVolumeClaim volumes cannot be mounted here (volume "${volumeName}")`,
            }),
      podIP: obs.sandbox?.ipAddress ?? "",
      hostIP: c.hostIP,
      nodeAllocatable: ((node?.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ??
        {}) as Record<string, string>,
    };
  }

  private waitingFor(state: PodRuntimeState, name: string, reason: string, message: string, failures: number) {
    const delay = Math.min(300, 10 * 2 ** Math.max(0, failures - 1)) * 1000;
    state.waiting.set(name, { reason, message, retryAtMs: this.now.getTime() + delay });
  }

  private readonly pullFailures = new Map<string, number>();

  private async runContainer(
    c: ClusterState,
    pod: Pod,
    host: Host,
    obs: ObservedPod,
    a: Extract<PodAction, { type: "runContainer" }>,
    volumes: Map<string, { hostPath: string; readOnly: boolean }>,
    state: PodRuntimeState,
    key: string,
  ) {
    const rt = host.runtime;
    const spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === a.name);
    if (!spec || !obs.sandbox) return;
    const failKey = `${pod.metadata.uid}/${a.name}`;
    const image = spec.image;
    const policy = pullPolicyOf(spec);
    const present = await rt.hasImage(image);
    if (policy === "Never" && !present) {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.waitingFor(state, a.name, "ErrImageNeverPull", message, 1);
      this.event(key, "Warning", "ErrImageNeverPull", message);
      return;
    }
    if (policy === "Always" || !present) {
      this.event(key, "Normal", "Pulling", `Pulling image "${image}"`);
      try {
        await pullFromSources(
          rt,
          image,
          this.d.imageSources?.(image) ?? [{ ref: image, auth: this.d.registryAuth?.(image) }],
        );
        this.pullFailures.delete(failKey);
        this.event(key, "Normal", "Pulled", `Successfully pulled image "${image}"`);
      } catch (e) {
        if (!present) {
          const n = (this.pullFailures.get(failKey) ?? 0) + 1;
          this.pullFailures.set(failKey, n);
          const message = `Failed to pull image "${image}": ${(e as Error).message}`;
          this.event(key, "Warning", "Failed", message);
          // The first failure reads ErrImagePull, the ones after it ImagePullBackOff (as kubelet's back-off).
          this.waitingFor(state, a.name, n === 1 ? "ErrImagePull" : "ImagePullBackOff", message, n);
          return;
        }
        // Offline with the image at hand: run what is there.
        this.d.logger.info({ image, err: (e as Error).message }, "pull failed; using the local image");
      }
    } else this.event(key, "Normal", "Pulled", `Container image "${image}" already present on machine`);
    const ns = pod.metadata.namespace ?? "default";
    const objects = this.d.objects;
    let env: Record<string, string>;
    let mounts: ReturnType<typeof containerMounts>;
    try {
      const sources = this.volumeSources(c, pod, obs);
      env = containerEnv(pod, spec, {
        configMap: (name) => (objects.get(c.ref, R.configmaps, ns, name)?.data as Record<string, string>) ?? undefined,
        secret: (name) => {
          const s = sources.secret(name);
          return s && Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.toString("utf8")]));
        },
        services: objects.list(c.ref, R.services, ns).items,
        kubernetes: objects.get(c.ref, R.services, "default", "kubernetes"),
        podIP: sources.podIP,
        hostIP: c.hostIP,
        nodeAllocatable: sources.nodeAllocatable,
      });
      mounts = containerMounts(spec, volumes);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.waitingFor(state, a.name, "CreateContainerConfigError", e.message, 1);
      this.event(key, "Warning", "Failed", `Error: ${e.message}`);
      return;
    }
    let id: string;
    try {
      id = await rt.createContainer(
        containerSpec(pod, spec, {
          labels: this.labels(c, pod, a.name, a.attempt, a.backoffBase, a.init),
          sandboxId: obs.sandbox.id,
          env,
          mounts,
          attempt: a.attempt,
        }),
      );
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code === 409) return; // made by an earlier pass: the next one sees it
      this.waitingFor(state, a.name, "CreateContainerError", (e as Error).message, 1);
      this.event(key, "Warning", "Failed", `Error: ${(e as Error).message}`);
      return;
    }
    state.waiting.delete(a.name);
    this.event(key, "Normal", "Created", `Created container ${a.name}`);
    try {
      await rt.startContainer(id);
      this.event(key, "Normal", "Started", `Started container ${a.name}`);
    } catch (e) {
      this.event(key, "Warning", "Failed", `Error: ${(e as Error).message}`);
      return;
    }
    const postStart = spec.lifecycle?.postStart;
    if (postStart) {
      const r = await runHook(rt, postStart, spec, id, obs.sandbox.ipAddress ?? "", 30_000);
      if (!r.ok) {
        // As kubelet: a failed postStart hook kills the container (the restart policy decides what follows).
        this.event(key, "Warning", "FailedPostStartHook", `PostStartHook failed: ${r.message ?? ""}`);
        await rt.stopContainer(id, pod.spec.terminationGracePeriodSeconds ?? 30);
      }
    }
  }

  private async terminate(c: ClusterState, pod: Pod, own: ObservedContainer[], graceSec: number, key: string) {
    const rt = this.d.runtime;
    const uid = pod.metadata.uid ?? "";
    const apps = own.filter((x) => x.labels[L.container] !== "POD");
    const sandbox = own.filter((x) => x.labels[L.container] === "POD");
    const podIP = sandbox.find(isUpState)?.ipAddress ?? "";
    await Promise.all(
      apps.filter(isUpState).map(async (x) => {
        const name = x.labels[L.container];
        const spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((s) => s.name === name);
        const started = Date.now();
        const preStop = spec?.lifecycle?.preStop;
        if (spec && preStop) {
          const r = await runHook(rt, preStop, spec, x.id, podIP, graceSec * 1000);
          if (!r.ok) this.event(key, "Warning", "FailedPreStopHook", `PreStopHook failed: ${r.message ?? ""}`);
        }
        this.event(key, "Normal", "Killing", `Stopping container ${name}`);
        // What is left of the grace period after the hook (kubelet gives at least 2 s more).
        const left = preStop ? Math.max(2, graceSec - Math.ceil((Date.now() - started) / 1000)) : graceSec;
        return rt.stopContainer(x.id, left);
      }),
    );
    await Promise.all(sandbox.map((x) => rt.stopContainer(x.id, 0)));
    await this.removeAll(own, new Set([uid]));
    this.probers.retain(key, new Set());
    try {
      this.d.objects.delete(c.ref, R.pods, pod.metadata.namespace, pod.metadata.name ?? "", {
        gracePeriodSeconds: 0,
        uid,
      });
    } catch (e) {
      if (!(e instanceof KubeError && (e.reason === "NotFound" || e.reason === "Conflict"))) throw e;
    }
  }

  private event(key: string, type: "Normal" | "Warning", reason: string, message: string) {
    const [, clusterKey, ns, name] = key.split("\n");
    const c = this.clusters.get(clusterKey);
    if (!c) return;
    const pod = this.d.objects.get(c.ref, R.pods, ns, name);
    if (!pod) return;
    recordEvent(
      this.d.objects,
      c.ref,
      pod,
      type,
      reason,
      message,
      { component: "kubelet", host: (pod.spec as Pod["spec"]).nodeName },
      this.now,
    );
  }

  /**
   * Queues every pod on this host's nodes; removes containers of pods of clusters that are
   * gone, containers of a Berth whose data directory is gone, and pod directories nothing owns.
   */
  private async sweep() {
    const active = new Set(this.d.clusters().map(clusterKeyOf));
    for (const c of this.clusters.values()) {
      this.queueClusterPods(c);
      this.queue.add(`sched\n${c.key}`);
    }
    const all = await this.d.runtime.list({ [L.kind]: "pod" });
    const live = new Set<string>();
    const gone: ObservedContainer[] = [];
    for (const x of all) {
      const dir = x.labels[LABEL.dataDir];
      if (dir !== this.d.dataDir) {
        if (ownerGone(dir)) gone.push(x);
        continue;
      }
      const cluster = x.labels[L.cluster] ?? "";
      if (!active.has(cluster)) {
        gone.push(x);
        continue;
      }
      live.add(x.labels[L.uid] ?? "");
      this.queue.add(podKey(cluster, x.labels[L.namespace] ?? "", x.labels[L.pod] ?? ""));
    }
    if (gone.length) {
      this.d.logger.info({ containers: gone.length }, "removing pod containers no cluster owns any more");
      await this.removeAll(
        gone,
        new Set(gone.filter((x) => x.labels[LABEL.dataDir] === this.d.dataDir).map((x) => x.labels[L.uid] ?? "")),
      );
    }
    // Pod directories of pods that neither run nor exist.
    const uids = new Set<string>();
    for (const c of this.clusters.values())
      for (const p of this.d.objects.list(c.ref, R.pods).items) uids.add(p.metadata.uid ?? "");
    for (const uid of podDirs(this.d.dataDir)) if (!live.has(uid) && !uids.has(uid)) removePodDir(this.d.dataDir, uid);
  }
}

/** The user a pod's containers run as, as Docker writes it ("uid" or "uid:gid"; "0" when unset). */
function podUser(pod: Pod): string {
  const sc = pod.spec.securityContext;
  const uid = sc?.runAsUser ?? 0;
  return sc?.runAsGroup !== undefined ? `${uid}:${sc.runAsGroup}` : String(uid);
}
