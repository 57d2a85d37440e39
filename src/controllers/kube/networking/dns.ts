/**
 * Cluster DNS answers, PURE: a snapshot of a cluster's Services and Endpoints → the records of
 * `cluster.local`, as CoreDNS's kubernetes plugin serves them (`pods insecure`, TTL 5), and the
 * response to one query. Names outside the cluster are REFUSED: nothing is forwarded.
 */
import dnsPacket, { type Answer, type Packet, type Question, type SrvAnswer } from "dns-packet";
import { inCidr, ipToInt, parseCidr } from "../../../kube/service-ips.js";
import type { KubeObject } from "../../../kube/types.js";
import { clusterIPsOf, type EndpointSubset, isHeadless, type Protocol, specOf } from "./model.js";

export const CLUSTER_DOMAIN = "cluster.local";
export const DNS_TTL = 5;

const AUTHORITATIVE = 1 << 10;
const RECURSION_DESIRED = 1 << 8;
const RECURSION_AVAILABLE = 1 << 7;
const TRUNCATED = 1 << 9;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODE;

export interface DnsEndpoint {
  ip: string;
  hostname?: string;
  ports: { name?: string; port: number; protocol: Protocol }[];
}

export interface DnsService {
  name: string;
  namespace: string;
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: { name?: string; port: number; protocol: Protocol }[];
  /** Ready endpoints. */
  endpoints: DnsEndpoint[];
}

export interface DnsSnapshot {
  domain: string;
  services: DnsService[];
  /** Ranges whose reverse names are the cluster's (NXDOMAIN when unknown, not REFUSED). */
  cidrs: string[];
}

/** The DNS view of a cluster's Services and their Endpoints. */
export function dnsSnapshot(services: KubeObject[], endpoints: KubeObject[], cidrs: string[]): DnsSnapshot {
  const eps = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  return {
    domain: CLUSTER_DOMAIN,
    cidrs,
    services: services.map((s) => {
      const spec = specOf(s);
      const namespace = s.metadata.namespace ?? "default";
      const ep = eps.get(`${namespace}/${s.metadata.name}`);
      const ready: DnsEndpoint[] = [];
      for (const sub of (ep?.subsets as EndpointSubset[] | undefined) ?? [])
        for (const a of sub.addresses ?? [])
          ready.push({
            ip: a.ip,
            ...(a.hostname ? { hostname: a.hostname } : {}),
            ports: (sub.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" })),
          });
      return {
        name: s.metadata.name ?? "",
        namespace,
        clusterIPs: clusterIPsOf(spec),
        headless: isHeadless(spec),
        ...(spec.type === "ExternalName" && spec.externalName ? { externalName: spec.externalName } : {}),
        ports: (spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" })),
        endpoints: ready,
      };
    }),
  };
}

interface NameRecords {
  a: string[];
  srv: SrvAnswer["data"][];
  ptr?: string;
  cname?: string;
}

/** Every name of the zone with its records; names that only have children map to empty records. */
export interface DnsIndex {
  domain: string;
  names: Map<string, NameRecords>;
  cidrs: ReturnType<typeof parseCidr>[];
}

const dashed = (ip: string) => ip.replaceAll(".", "-");
const reverseName = (ip: string) => `${ip.split(".").reverse().join(".")}.in-addr.arpa`;

export function buildIndex(snap: DnsSnapshot): DnsIndex {
  const names = new Map<string, NameRecords>();
  const at = (name: string) => {
    const key = name.toLowerCase();
    let r = names.get(key);
    if (!r) {
      r = { a: [] as string[], srv: [] };
      names.set(key, r);
    }
    return r;
  };
  const d = snap.domain;
  for (const n of [d, `svc.${d}`, `pod.${d}`]) at(n);
  for (const s of snap.services) {
    const base = `${s.name}.${s.namespace}.svc.${d}`;
    at(`${s.namespace}.svc.${d}`);
    if (s.externalName) {
      at(base).cname = s.externalName.replace(/\.$/, "");
      continue;
    }
    if (!s.headless) {
      if (!s.clusterIPs.length) continue;
      at(base).a.push(...s.clusterIPs);
      for (const ip of s.clusterIPs) at(reverseName(ip)).ptr = base;
      for (const p of s.ports) {
        if (!p.name) continue;
        at(`_${p.name}._${p.protocol.toLowerCase()}.${base}`).srv.push({
          priority: 0,
          weight: 100,
          port: p.port,
          target: base,
        });
        at(`_${p.protocol.toLowerCase()}.${base}`);
      }
      continue;
    }
    // Headless: the ready pods themselves; no ready pod, no name (NXDOMAIN, as CoreDNS).
    if (!s.endpoints.length) continue;
    const seen = new Set<string>();
    for (const e of s.endpoints) {
      if (!seen.has(e.ip)) at(base).a.push(e.ip);
      seen.add(e.ip);
      const host = `${e.hostname ?? dashed(e.ip)}.${base}`;
      if (!at(host).a.includes(e.ip)) at(host).a.push(e.ip);
      if (e.hostname) at(reverseName(e.ip)).ptr = host;
      for (const p of e.ports) {
        if (!p.name) continue;
        const weight = Math.max(1, Math.floor(100 / s.endpoints.length));
        at(`_${p.name}._${p.protocol.toLowerCase()}.${base}`).srv.push({
          priority: 0,
          weight,
          port: p.port,
          target: host,
        });
        at(`_${p.protocol.toLowerCase()}.${base}`);
      }
    }
  }
  return { domain: d, names, cidrs: snap.cidrs.map(parseCidr) };
}

const wants = (q: Question, type: string) => q.type === type || (q.type as string) === "ANY";
const inZone = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

function soa(domain: string): Answer {
  return {
    type: "SOA",
    name: domain,
    ttl: DNS_TTL,
    class: "IN",
    data: {
      mname: `ns.dns.${domain}`,
      rname: `hostmaster.${domain}`,
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: DNS_TTL,
    },
  };
}

export interface DnsResult {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  authoritative: boolean;
}

/** The answer to one question. */
export function answerQuestion(index: DnsIndex, q: Question): DnsResult {
  const name = q.name.replace(/\.$/, "").toLowerCase();
  const d = index.domain;
  const result = (rcode: Rcode, answers: Answer[] = [], additionals: Answer[] = []): DnsResult => ({
    rcode,
    answers,
    additionals,
    authorities: rcode === "REFUSED" || answers.length ? [] : [soa(d)],
    authoritative: rcode !== "REFUSED",
  });
  if ((q.class ?? "IN") !== "IN") return result("REFUSED");
  const rr = (type: string, rname: string, data: unknown) =>
    ({ type, name: rname, ttl: DNS_TTL, class: "IN", data }) as Answer;

  if (name.endsWith(".in-addr.arpa")) {
    const ip = name.slice(0, -".in-addr.arpa".length).split(".").reverse().join(".");
    const rec = index.names.get(name);
    if (rec?.ptr) return wants(q, "PTR") ? result("NOERROR", [rr("PTR", q.name, rec.ptr)]) : result("NOERROR");
    if (ipToInt(ip) !== undefined && index.cidrs.some((c) => inCidr(c, ip))) return result("NXDOMAIN");
    return result("REFUSED");
  }
  if (!inZone(name, d)) return result("REFUSED");

  // <a-b-c-d>.<namespace>.pod.<domain>: any well-formed address (CoreDNS `pods insecure`).
  const pod = new RegExp(`^([0-9]+-[0-9]+-[0-9]+-[0-9]+)\\.([a-z0-9-]+)\\.pod\\.${d.replaceAll(".", "\\.")}$`).exec(
    name,
  );
  if (pod) {
    const ip = (pod[1] as string).replaceAll("-", ".");
    if (ipToInt(ip) === undefined) return result("NXDOMAIN");
    return wants(q, "A") ? result("NOERROR", [rr("A", q.name, ip)]) : result("NOERROR");
  }
  const rec = index.names.get(name);
  if (!rec) return result("NXDOMAIN");
  if (rec.cname) return result("NOERROR", [rr("CNAME", q.name, rec.cname)]);
  if (name === d && q.type === "SOA") return result("NOERROR", [soa(d)]);
  if (name === d && q.type === "NS") return result("NOERROR", [rr("NS", q.name, `ns.dns.${d}`)]);
  if (wants(q, "A") && rec.a.length)
    return result(
      "NOERROR",
      rec.a.map((ip) => rr("A", q.name, ip)),
    );
  if (wants(q, "SRV") && rec.srv.length) {
    const extra: Answer[] = [];
    for (const s of rec.srv)
      for (const ip of index.names.get(s.target.toLowerCase())?.a ?? []) {
        if (!extra.some((e) => e.name === s.target && (e as { data: unknown }).data === ip))
          extra.push(rr("A", s.target, ip));
      }
    return result(
      "NOERROR",
      rec.srv.map((s) => rr("SRV", q.name, s)),
      extra,
    );
  }
  return result("NOERROR");
}

/** The response packet to a query packet (FORMERR for anything but one question; NOTIMP for non-queries). */
export function respond(
  index: DnsIndex,
  query: Packet & { opcode?: string },
  opts: { maxBytes?: number } = {},
): Packet {
  const rd = (query.flags ?? 0) & RECURSION_DESIRED;
  const base = { type: "response" as const, id: query.id ?? 0, questions: query.questions ?? [] };
  if (query.opcode && query.opcode !== "QUERY") return { ...base, flags: rd | RCODE.NOTIMP };
  const q = query.questions?.length === 1 ? query.questions[0] : undefined;
  if (!q) return { ...base, flags: rd | RCODE.FORMERR };
  const r = answerQuestion(index, q);
  const flags = rd | (r.authoritative ? AUTHORITATIVE | RECURSION_AVAILABLE : 0) | RCODE[r.rcode];
  const packet: Packet = {
    ...base,
    flags,
    answers: r.answers,
    authorities: r.authorities,
    additionals: r.additionals,
  };
  if (opts.maxBytes !== undefined && dnsPacket.encodingLength(packet) > opts.maxBytes) {
    return { ...base, flags: flags | TRUNCATED, answers: [], authorities: [], additionals: [] };
  }
  return packet;
}
