import { createHash } from "node:crypto";
import type { Logger } from "../../../core/logger.js";
import type { PodNetworkConfig, PodNetworking } from "../../../kube/contracts.js";
import { clusterDnsIP, DEFAULT_SERVICE_CIDR, inCidr, intToIp, ipToInt, parseCidr } from "../../../kube/service-ips.js";
import type { ClusterRef } from "../../../kube/types.js";
import type { ContainerRuntime } from "../../../runtime/runtime.js";
import { CLUSTER_DOMAIN } from "./dns.js";
import { type HostAddresses, iproute2 } from "./host-addresses.js";

/** Where a cluster's pods live: its Docker bridge, their subnet, and the cluster's service addresses. */
export interface ClusterNetwork {
  cluster: ClusterRef;
  dockerNetwork: string;
  /** Host interface of the bridge. */
  bridge: string;
  subnet: string;
  /** The bridge's host address: pods reach the host (and Berth's listeners) here. */
  gateway: string;
  serviceCidr: string;
  dnsIP: string;
}

/** The pod network as Berth runs it: the kubelet's PodNetworking plus what the service data plane reads. */
export interface ClusterNetworks extends PodNetworking {
  /** Makes sure the cluster's bridge exists; its addressing. */
  network(cluster: ClusterRef): Promise<ClusterNetwork>;
  /** The networks prepared so far (this process), for telling clusters apart by a source address. */
  known(): ClusterNetwork[];
  /** Removes the cluster's bridge and the service addresses on it (its pods must be gone). */
  release(cluster: ClusterRef): Promise<void>;
}

export const CLUSTER_LABEL = "berth.kube-cluster";
const POOL = "10.200.0.0/16";

export { clusterKey } from "../../../kube/types.js";
import { clusterKey } from "../../../kube/types.js";
export const dockerNetworkName = (c: ClusterRef) => `berth-eks-${c.scope.account}-${c.scope.region}-${c.name}`;
/** The bridge's interface name: stable per cluster, within Linux's 15 characters. */
export const bridgeName = (c: ClusterRef) =>
  `bk-${createHash("sha256").update(clusterKey(c)).digest("hex").slice(0, 12)}`;

/**
 * PURE: the /24 of the pool a new cluster's bridge gets: the first free one from a start derived
 * from the cluster (so a cluster tends to get the same one back), clear of every existing subnet.
 */
export function pickSubnet(c: ClusterRef, taken: string[], pool = POOL): string | undefined {
  const p = parseCidr(pool);
  const count = 2 ** (24 - p.prefix);
  const start = createHash("sha256").update(clusterKey(c)).digest().readUInt32BE(0) % count;
  const used = taken.map(parseCidr);
  for (let i = 0; i < count; i++) {
    const base = p.base + ((start + i) % count) * 256;
    const overlaps = used.some((u) => {
      const size = 2 ** (32 - u.prefix);
      return base < u.base + size && u.base < base + 256;
    });
    if (!overlaps) return `${intToIp(base)}/24`;
  }
  return undefined;
}

export interface PodNetworkingDeps {
  runtime: ContainerRuntime;
  logger: Logger;
  /** The cluster's service range; 10.100.0.0/16 by default (EKS's). */
  serviceCidr?: (cluster: ClusterRef) => string;
  addresses?: HostAddresses;
  /** Where bridge subnets come from (/24 each); 10.200.0.0/16 by default. */
  pool?: string;
}

/** A per-cluster Docker bridge for pods, and their resolv.conf pointing at the cluster DNS. */
export function createPodNetworking(deps: PodNetworkingDeps): ClusterNetworks {
  const addresses = deps.addresses ?? iproute2;
  const networks = new Map<string, ClusterNetwork>();
  const pending = new Map<string, Promise<ClusterNetwork>>();

  const create = async (cluster: ClusterRef): Promise<ClusterNetwork> => {
    const name = dockerNetworkName(cluster);
    const serviceCidr = deps.serviceCidr?.(cluster) ?? DEFAULT_SERVICE_CIDR;
    for (let attempt = 0; ; attempt++) {
      let info = await deps.runtime.inspectNetwork(name);
      if (!info) {
        const taken = (await deps.runtime.listNetworks()).flatMap((n) => n.subnets.filter((s) => s.includes(".")));
        const subnet = pickSubnet(cluster, taken, deps.pool);
        if (!subnet) throw new Error(`no free /24 left in ${deps.pool ?? POOL} for the pod network of ${cluster.name}`);
        const gateway = intToIp((ipToInt(subnet.split("/")[0] as string) as number) + 1);
        try {
          await deps.runtime.ensureNetwork(name, {
            subnet,
            gateway,
            bridgeName: bridgeName(cluster),
            labels: {
              [CLUSTER_LABEL]: cluster.name,
              "berth.kube-account": cluster.scope.account,
              "berth.kube-region": cluster.scope.region,
            },
          });
        } catch (e) {
          // Another network took the subnet meanwhile ("Pool overlaps"): pick again.
          if (attempt < 3 && /overlap/i.test((e as Error).message)) continue;
          throw e;
        }
        deps.logger.info({ cluster: cluster.name, network: name, subnet }, "pod network created");
        info = await deps.runtime.inspectNetwork(name);
      }
      const subnet = info?.subnets.find((s) => s.includes("."));
      if (!info || !subnet || !info.bridge) throw new Error(`pod network ${name} has no IPv4 bridge`);
      const gateway = info.gateway ?? intToIp(parseCidr(subnet).base + 1);
      const net: ClusterNetwork = {
        cluster,
        dockerNetwork: name,
        bridge: info.bridge,
        subnet,
        gateway,
        serviceCidr,
        dnsIP: clusterDnsIP(serviceCidr),
      };
      networks.set(clusterKey(cluster), net);
      return net;
    }
  };

  const network = (cluster: ClusterRef) => {
    const key = clusterKey(cluster);
    const known = networks.get(key);
    if (known) return Promise.resolve(known);
    let p = pending.get(key);
    if (!p) {
      p = create(cluster).finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };

  return {
    network,
    known: () => [...networks.values()],
    async prepare(cluster): Promise<PodNetworkConfig> {
      const net = await network(cluster);
      return {
        dockerNetwork: net.dockerNetwork,
        dns: {
          nameservers: [net.dnsIP],
          searches: (namespace) => [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN],
          options: ["ndots:5"],
        },
      };
    },
    async release(cluster) {
      networks.delete(clusterKey(cluster));
      const name = dockerNetworkName(cluster);
      const info = await deps.runtime.inspectNetwork(name);
      if (!info) return;
      const service = parseCidr(deps.serviceCidr?.(cluster) ?? DEFAULT_SERVICE_CIDR);
      if (info.bridge)
        for (const ip of await addresses.list(info.bridge))
          if (inCidr(service, ip)) await addresses.remove(ip, info.bridge);
      await deps.runtime.removeNetwork(name);
      deps.logger.info({ cluster: cluster.name, network: name }, "pod network removed");
    },
  };
}
