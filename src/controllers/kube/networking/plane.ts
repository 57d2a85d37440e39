/**
 * The service data plane: what kube-proxy does, in Berth's process. PURE `desiredPlane` turns a
 * cluster's Services and Endpoints into the addresses to put on its bridge and the TCP listeners
 * (ClusterIP:port, and 127.0.0.1/gateway:nodePort) with their ready targets; `ServiceProxy`
 * runs those listeners, round robin over the targets. A listener with no target anywhere is
 * closed, so a connection is refused, as kube-proxy's REJECT rule gives.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../../../core/logger.js";
import type { Cidr } from "../../../kube/service-ips.js";
import { inCidr } from "../../../kube/service-ips.js";
import type { KubeObject } from "../../../kube/types.js";
import { listenExclusive } from "../../../lb/listen.js";
import { spliceTcp } from "../../../lb/tcp-proxy.js";
import { readyTargets } from "./endpoints.js";
import { clusterIPsOf, specOf } from "./model.js";

export interface Target {
  ip: string;
  port: number;
}

export interface ListenerSpec {
  address: string;
  port: number;
  targets: Target[];
  /** namespace/name:port of the service, for logs. */
  service: string;
}

export interface PlaneSpec {
  /** Service addresses the bridge's host side carries. */
  addresses: string[];
  listeners: ListenerSpec[];
}

/** PURE: the data plane a cluster's Services and Endpoints ask for. */
export function desiredPlane(
  net: { gateway: string; dnsIP: string },
  services: KubeObject[],
  endpoints: KubeObject[],
  nodePortHosts: string[] = ["127.0.0.1"],
): PlaneSpec {
  const eps = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const addresses = new Set<string>([net.dnsIP]);
  const listeners: ListenerSpec[] = [];
  for (const s of services) {
    const spec = specOf(s);
    const key = `${s.metadata.namespace ?? "default"}/${s.metadata.name}`;
    const ips = clusterIPsOf(spec);
    const ep = eps.get(key);
    for (const ip of ips) addresses.add(ip);
    for (const p of spec.ports ?? []) {
      if ((p.protocol ?? "TCP") !== "TCP") continue;
      const targets = readyTargets(ep, p);
      for (const ip of ips) {
        if (ip === net.dnsIP && p.port === 53) continue; // the cluster DNS server answers there itself
        listeners.push({ address: ip, port: p.port, targets, service: `${key}:${p.port}` });
      }
      if (p.nodePort && (spec.type === "NodePort" || spec.type === "LoadBalancer"))
        for (const host of [...nodePortHosts, net.gateway])
          listeners.push({ address: host, port: p.nodePort, targets, service: `${key}:${p.nodePort}` });
    }
  }
  return { addresses: [...addresses].sort(), listeners };
}

interface Route {
  subnet: Cidr;
  targets: Target[];
  cursor: number;
}

interface Entry {
  address: string;
  port: number;
  routes: Map<string, Route>;
  server?: Server;
  sockets: Set<Socket>;
}

const TCP_IDLE_MS = 350_000;

/**
 * TCP listeners shared by every cluster: one per address:port, each connection routed to the
 * cluster its source address belongs to (clusters share the default service range).
 */
export class ServiceProxy {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly logger: Logger) {}

  /** One change at a time: applies of several clusters touch shared listeners. */
  private chain: Promise<void> = Promise.resolve();
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Replaces one cluster's listeners; resolves once the listeners that have targets are bound. */
  apply(cluster: string, subnet: Cidr, listeners: ListenerSpec[]): Promise<void> {
    return this.serial(() => this.replace(cluster, subnet, listeners));
  }

  private async replace(cluster: string, subnet: Cidr, listeners: ListenerSpec[]): Promise<void> {
    const wanted = new Map<string, ListenerSpec>();
    for (const l of listeners) {
      const k = `${l.address}:${l.port}`;
      const prev = wanted.get(k);
      // Two services on one node port cannot both be had: the first keeps it.
      if (!prev) wanted.set(k, l);
    }
    for (const [k, e] of this.entries) if (!wanted.has(k)) e.routes.delete(cluster);
    for (const [k, l] of wanted) {
      let e = this.entries.get(k);
      if (!e) {
        e = { address: l.address, port: l.port, routes: new Map(), sockets: new Set() };
        this.entries.set(k, e);
      }
      const old = e.routes.get(cluster);
      e.routes.set(cluster, { subnet, targets: l.targets, cursor: old?.cursor ?? 0 });
    }
    await Promise.all([...this.entries.values()].map((e) => this.settle(e)));
  }

  /** Listeners bound now (address:port), for tests and status. */
  listening(): string[] {
    return [...this.entries.values()].filter((e) => e.server).map((e) => `${e.address}:${e.port}`);
  }

  close(): Promise<void> {
    return this.serial(async () => {
      await Promise.all(
        [...this.entries.values()].map(async (e) => {
          e.routes.clear();
          for (const s of e.sockets) s.destroy();
          await this.settle(e);
        }),
      );
    });
  }

  private async settle(e: Entry): Promise<void> {
    const serving = [...e.routes.values()].some((r) => r.targets.length > 0);
    if (serving && !e.server) {
      const server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (c) =>
        this.accept(e, c),
      );
      try {
        await listenExclusive(server, e.address, e.port);
        e.server = server;
      } catch (err) {
        this.logger.warn(
          { address: e.address, port: e.port, err: (err as Error).message },
          "service listener could not bind",
        );
      }
    } else if (!serving && e.server) {
      const server = e.server;
      e.server = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (!e.routes.size && !e.server) this.entries.delete(`${e.address}:${e.port}`);
  }

  private route(e: Entry, remote: string): Route | undefined {
    const routes = [...e.routes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
    return routes.find((r) => inCidr(r.subnet, remote)) ?? routes.find((r) => r.targets.length > 0);
  }

  private accept(e: Entry, client: Socket) {
    e.sockets.add(client);
    client.on("close", () => e.sockets.delete(client));
    client.on("error", () => {});
    const remote = (client.remoteAddress ?? "").replace(/^::ffff:/, "");
    const r = this.route(e, remote);
    if (!r?.targets.length) {
      client.resetAndDestroy();
      return;
    }
    const t = r.targets[r.cursor % r.targets.length] as Target;
    r.cursor = (r.cursor + 1) % r.targets.length;
    spliceTcp(client, t.ip, t.port, { idleMs: TCP_IDLE_MS });
  }
}
