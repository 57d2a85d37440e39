import type { Clock, TimerClock } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import { KubeError } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import { inCidr, parseCidr } from "../../../kube/service-ips.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import type { ContainerRuntime } from "../../../runtime/runtime.js";
import type { Watch } from "../../../store/watch.js";
import { WorkQueue } from "../../work-queue.js";
import { canonical } from "./canonical.js";
import { buildIndex, type DnsIndex, dnsSnapshot } from "./dns.js";
import { DnsServer } from "./dns-server.js";
import {
  desiredEndpoints,
  desiredSlices,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  SLICE_CONTROLLER,
  type SliceContent,
} from "./endpoints.js";
import { type HostAddresses, iproute2 } from "./host-addresses.js";
import { type PodLike, specOf } from "./model.js";
import { desiredPlane, ServiceProxy } from "./plane.js";
import { type ClusterNetwork, type ClusterNetworks, clusterKey } from "./pod-networking.js";

export interface ServiceNetworkingDeps {
  objects: ObjectStore;
  /** The clusters whose services are served (re-read every few seconds). */
  clusters: () => ClusterRef[];
  networking: ClusterNetworks;
  runtime?: ContainerRuntime;
  clock: Clock | TimerClock;
  logger: Logger;
  addresses?: HostAddresses;
  /** Host addresses NodePort services listen on besides each bridge gateway; default 127.0.0.1. */
  nodePortHosts?: string[];
  /** Full resync of each cluster (ms); changes to Services, Pods and Endpoints act at once. */
  resyncMs?: number;
  /** Port of the cluster DNS (53; tests use another). */
  dnsPort?: number;
}

export interface ServiceNetworking {
  stop(): Promise<void>;
  /** Resolves when every queued reconcile has run (tests). */
  idle(): Promise<void>;
  /** Reconciles a cluster now and waits for it (tests, after a write). */
  sync(cluster: ClusterRef): Promise<void>;
}

const LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";

/**
 * The Services of every cluster made real: the Endpoints and EndpointSlice controllers (selector
 * → pods → addresses), the data plane (ClusterIP and NodePort listeners proxying to ready pods)
 * and the cluster DNS (`<svc>.<ns>.svc.cluster.local` on the kube-dns ClusterIP).
 */
export function startServiceNetworking(deps: ServiceNetworkingDeps): ServiceNetworking {
  const addresses = deps.addresses ?? iproute2;
  const proxy = new ServiceProxy(deps.logger);
  const indexes = new Map<string, { net: ClusterNetwork; index: DnsIndex }>();
  const watches = new Map<string, Watch>();
  const refs = new Map<string, ClusterRef>();
  const resyncMs = deps.resyncMs ?? 10_000;
  let stopped = false;

  const indexFor = (remote: string, local: string): DnsIndex | undefined => {
    const all = [...indexes.values()];
    const bySource = all.find((c) => inCidr(parseCidr(c.net.subnet), remote));
    if (bySource) return bySource.index;
    const byGateway = all.find((c) => c.net.gateway === local);
    if (byGateway) return byGateway.index;
    return all.length === 1 ? all[0]?.index : undefined;
  };
  const dns = new DnsServer(indexFor, deps.logger, deps.dnsPort);

  const queue = new WorkQueue(
    async (key) => {
      const cluster = refs.get(key);
      if (!cluster || stopped) {
        await forget(key);
        return undefined;
      }
      await reconcile(cluster);
      return { requeueAfterMs: resyncMs };
    },
    4,
    (key, err) =>
      deps.logger.warn({ cluster: key, err: (err as Error).message }, "service networking reconcile failed"),
    deps.clock,
  );

  const forget = async (key: string) => {
    watches.get(key)?.stop();
    watches.delete(key);
    const known = indexes.get(key);
    indexes.delete(key);
    if (known) {
      await proxy.apply(key, parseCidr(known.net.subnet), []);
      await dns.close(known.net.gateway);
      if (![...indexes.values()].some((c) => c.net.dnsIP === known.net.dnsIP)) await dns.close(known.net.dnsIP);
    }
  };

  const reconcile = async (cluster: ClusterRef) => {
    const key = clusterKey(cluster);
    const net = await deps.networking.network(cluster);
    if (!watches.has(key))
      watches.set(
        key,
        deps.objects.watch(cluster, [R.services, R.pods, R.endpoints, R.endpointslices], {}, () => queue.add(key)),
      );
    syncEndpoints(deps.objects, cluster, net);
    const services = deps.objects.list(cluster, R.services).items;
    const endpoints = deps.objects.list(cluster, R.endpoints).items;
    const plane = desiredPlane(net, services, endpoints, deps.nodePortHosts);

    // Service addresses on the bridge's host side (only ones in the service range are touched).
    const range = parseCidr(net.serviceCidr);
    const present = (await addresses.list(net.bridge)).filter((ip) => inCidr(range, ip));
    for (const ip of plane.addresses) if (!present.includes(ip)) await addresses.add(ip, net.bridge);
    for (const ip of present) if (!plane.addresses.includes(ip)) await addresses.remove(ip, net.bridge);

    indexes.set(key, { net, index: buildIndex(dnsSnapshot(services, endpoints, [net.serviceCidr, net.subnet])) });
    for (const address of [net.dnsIP, net.gateway])
      await dns.listen(address).catch((e: Error) => {
        deps.logger.warn({ address, err: e.message }, "cluster DNS could not listen");
      });
    await proxy.apply(key, parseCidr(net.subnet), plane.listeners);
  };

  const discover = () => {
    if (stopped) return;
    const now = new Map(deps.clusters().map((c) => [clusterKey(c), c]));
    for (const [key, c] of now) {
      if (!refs.has(key)) {
        refs.set(key, c);
        queue.add(key);
      }
    }
    for (const key of [...refs.keys()])
      if (!now.has(key)) {
        refs.delete(key);
        queue.add(key);
      }
  };
  const after = "after" in deps.clock ? deps.clock.after.bind(deps.clock) : undefined;
  let cancel: (() => void) | undefined;
  const tick = () => {
    discover();
    if (!stopped) cancel = schedule(3000, tick);
  };
  const schedule = (ms: number, fn: () => void) => {
    if (after) return after(ms, fn);
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  };
  tick();

  return {
    async stop() {
      stopped = true;
      cancel?.();
      queue.close();
      await queue.idle();
      for (const w of watches.values()) w.stop();
      watches.clear();
      await proxy.close();
      await dns.closeAll();
    },
    idle: () => queue.idle(),
    async sync(cluster) {
      const key = clusterKey(cluster);
      if (!refs.has(key)) discover();
      refs.set(key, cluster);
      queue.add(key);
      await queue.idle();
    },
  };
}

/**
 * The Endpoints and EndpointSlice controllers for one cluster: every Service with a selector gets
 * Endpoints and slices from its pods; kube-dns's Endpoints point at the bridge gateway where the
 * cluster DNS answers; Endpoints and managed slices of Services that are gone are removed.
 */
export function syncEndpoints(objects: ObjectStore, cluster: ClusterRef, net: ClusterNetwork): void {
  const services = objects.list(cluster, R.services).items;
  const pods = objects.list(cluster, R.pods).items as unknown as PodLike[];
  const endpoints = new Map(objects.list(cluster, R.endpoints).items.map((e) => [nsName(e), e]));
  const slices = objects.list(cluster, R.endpointslices).items;
  const byService = new Map<string, KubeObject>(services.map((s) => [nsName(s), s]));

  for (const svc of services) {
    const spec = specOf(svc);
    const isDns =
      svc.metadata.namespace === "kube-system" &&
      svc.metadata.name === "kube-dns" &&
      !spec.selector &&
      spec.clusterIP === net.dnsIP;
    if (isDns) {
      writeEndpoints(objects, cluster, endpoints.get(nsName(svc)), dnsEndpoints(svc, net.gateway));
      continue;
    }
    if (!spec.selector || spec.type === "ExternalName") continue;
    writeEndpoints(objects, cluster, endpoints.get(nsName(svc)), desiredEndpoints(svc, pods));
    writeSlices(objects, cluster, svc, desiredSlices(svc, pods), slices);
  }
  for (const [key, ep] of endpoints)
    if (!byService.has(key) && !ep.metadata.annotations?.[LEADER_ANNOTATION]) remove(objects, cluster, R.endpoints, ep);
  for (const s of slices) {
    const labels = s.metadata.labels ?? {};
    if (labels[MANAGED_BY_LABEL] !== SLICE_CONTROLLER) continue;
    const svc = byService.get(`${s.metadata.namespace}/${labels[SERVICE_NAME_LABEL]}`);
    if (!svc || !specOf(svc).selector || svc.metadata.uid !== s.metadata.ownerReferences?.[0]?.uid)
      remove(objects, cluster, R.endpointslices, s);
  }
}

const nsName = (o: KubeObject) => `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;

function dnsEndpoints(svc: KubeObject, gateway: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      labels: { ...(svc.metadata.labels ?? {}) },
    },
    subsets: [
      {
        addresses: [{ ip: gateway }],
        ports: [
          { name: "dns", port: 53, protocol: "UDP" },
          { name: "dns-tcp", port: 53, protocol: "TCP" },
        ],
      },
    ],
  };
}

function remove(objects: ObjectStore, cluster: ClusterRef, type: typeof R.endpoints, o: KubeObject) {
  try {
    objects.delete(cluster, type, o.metadata.namespace, o.metadata.name ?? "");
  } catch (e) {
    if (!(e instanceof KubeError && e.reason === "NotFound")) throw e;
  }
}

function writeEndpoints(objects: ObjectStore, cluster: ClusterRef, current: KubeObject | undefined, want: KubeObject) {
  if (!current) {
    try {
      objects.create(cluster, R.endpoints, want);
    } catch (e) {
      if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
    }
    return;
  }
  const same =
    canonical(current.subsets ?? []) === canonical(want.subsets ?? []) &&
    canonical(current.metadata.labels ?? {}) === canonical(want.metadata.labels ?? {});
  if (same) return;
  objects.mutate(cluster, R.endpoints, current.metadata.namespace, current.metadata.name ?? "", (c) => {
    const next: KubeObject = { ...c, metadata: { ...c.metadata, labels: want.metadata.labels } };
    if (want.subsets) next.subsets = want.subsets;
    else delete next.subsets;
    return next;
  });
}

function writeSlices(
  objects: ObjectStore,
  cluster: ClusterRef,
  svc: KubeObject,
  want: SliceContent[],
  all: KubeObject[],
) {
  const mine = all
    .filter(
      (s) =>
        s.metadata.namespace === svc.metadata.namespace &&
        s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name &&
        s.metadata.labels?.[MANAGED_BY_LABEL] === SLICE_CONTROLLER &&
        s.metadata.ownerReferences?.[0]?.uid === svc.metadata.uid,
    )
    .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  const owner = {
    apiVersion: "v1",
    kind: "Service",
    name: svc.metadata.name ?? "",
    uid: svc.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
  want.forEach((content, i) => {
    const current = mine[i];
    if (!current) {
      objects.create(cluster, R.endpointslices, {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          generateName: `${svc.metadata.name}-`,
          namespace: svc.metadata.namespace,
          labels: content.labels,
          ownerReferences: [owner],
        },
        addressType: "IPv4",
        endpoints: content.endpoints,
        ports: content.ports,
      });
      return;
    }
    const same =
      canonical([current.endpoints ?? [], current.ports ?? [], current.metadata.labels ?? {}]) ===
      canonical([content.endpoints, content.ports, content.labels]);
    if (same) return;
    objects.mutate(cluster, R.endpointslices, current.metadata.namespace, current.metadata.name ?? "", (c) => ({
      ...c,
      metadata: { ...c.metadata, labels: content.labels },
      endpoints: content.endpoints,
      ports: content.ports,
    }));
  });
  for (const extra of mine.slice(want.length)) remove(objects, cluster, R.endpointslices, extra);
}
