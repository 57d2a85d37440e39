import dnsPacket, { type Packet } from "dns-packet";
import { describe, expect, it } from "vitest";
import {
  answerQuestion,
  buildIndex,
  type DnsSnapshot,
  dnsSnapshot,
  respond,
} from "../../src/controllers/kube/networking/dns.js";
import type { KubeObject } from "../../src/kube/types.js";

const svc = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec,
});
const eps = (name: string, namespace: string, subsets: unknown[]): KubeObject => ({
  apiVersion: "v1",
  kind: "Endpoints",
  metadata: { name, namespace },
  subsets,
});

const snapshot: DnsSnapshot = dnsSnapshot(
  [
    svc("web", "default", {
      clusterIP: "10.100.3.4",
      clusterIPs: ["10.100.3.4"],
      ports: [
        { name: "http", port: 80, protocol: "TCP" },
        { port: 81, protocol: "TCP" },
      ],
    }),
    svc("db", "prod", { clusterIP: "None", ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }),
    svc("empty", "prod", { clusterIP: "None" }),
    svc("ext", "default", { type: "ExternalName", externalName: "example.com" }),
  ],
  [
    eps("db", "prod", [
      {
        addresses: [
          { ip: "10.200.1.5", hostname: "db-0" },
          { ip: "10.200.1.6", hostname: "db-1" },
        ],
        notReadyAddresses: [{ ip: "10.200.1.7", hostname: "db-2" }],
        ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
      },
    ]),
  ],
  ["10.100.0.0/16", "10.200.1.0/24"],
);
const index = buildIndex(snapshot);
const ask = (name: string, type = "A") => answerQuestion(index, { name, type: type as "A", class: "IN" });
const data = (r: ReturnType<typeof ask>) => r.answers.map((a) => (a as { data: unknown }).data);

describe("cluster DNS answers", () => {
  it.each([
    ["web.default.svc.cluster.local", "A", "NOERROR", ["10.100.3.4"]],
    ["WEB.Default.svc.cluster.local.", "A", "NOERROR", ["10.100.3.4"]],
    ["web.default.svc.cluster.local", "AAAA", "NOERROR", []],
    ["db.prod.svc.cluster.local", "A", "NOERROR", ["10.200.1.5", "10.200.1.6"]],
    ["db-0.db.prod.svc.cluster.local", "A", "NOERROR", ["10.200.1.5"]],
    ["db-2.db.prod.svc.cluster.local", "A", "NXDOMAIN", []],
    ["empty.prod.svc.cluster.local", "A", "NXDOMAIN", []],
    ["nope.default.svc.cluster.local", "A", "NXDOMAIN", []],
    ["default.svc.cluster.local", "A", "NOERROR", []],
    ["10-200-1-9.prod.pod.cluster.local", "A", "NOERROR", ["10.200.1.9"]],
    ["10-200-1-999.prod.pod.cluster.local", "A", "NXDOMAIN", []],
    ["ext.default.svc.cluster.local", "A", "NOERROR", ["example.com"]],
    ["example.com", "A", "REFUSED", []],
    ["4.3.100.10.in-addr.arpa", "PTR", "NOERROR", ["web.default.svc.cluster.local"]],
    ["5.1.200.10.in-addr.arpa", "PTR", "NOERROR", ["db-0.db.prod.svc.cluster.local"]],
    ["9.9.100.10.in-addr.arpa", "PTR", "NXDOMAIN", []],
    ["8.8.8.8.in-addr.arpa", "PTR", "REFUSED", []],
  ])("%s %s → %s %j", (name, type, rcode, answers) => {
    const r = ask(name, type);
    expect(r.rcode).toBe(rcode);
    expect(data(r)).toEqual(answers);
    if (rcode === "NXDOMAIN") expect(r.authorities[0]?.type).toBe("SOA");
  });

  it("SRV for named ports: the service name, or each ready pod of a headless service, with A records added", () => {
    const web = ask("_http._tcp.web.default.svc.cluster.local", "SRV");
    expect(data(web)).toEqual([{ priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" }]);
    expect(web.additionals.map((a) => (a as { data: unknown }).data)).toEqual(["10.100.3.4"]);
    const db = ask("_pg._tcp.db.prod.svc.cluster.local", "SRV");
    expect(data(db).map((d) => (d as { target: string }).target)).toEqual([
      "db-0.db.prod.svc.cluster.local",
      "db-1.db.prod.svc.cluster.local",
    ]);
    expect(ask("_http._udp.web.default.svc.cluster.local", "SRV").rcode).toBe("NXDOMAIN");
  });

  it("answers a wire query with the id, authoritative, and truncates what does not fit", () => {
    const query: Packet = {
      type: "query",
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "A", name: "web.default.svc.cluster.local", class: "IN" }],
    };
    const reply = dnsPacket.decode(dnsPacket.encode(respond(index, query)));
    expect(reply.id).toBe(4242);
    expect(reply.flag_aa).toBe(true);
    expect(reply.flag_rd).toBe(true);
    expect((reply as { rcode?: string }).rcode).toBe("NOERROR");
    expect(reply.answers?.map((a) => (a as { data: unknown }).data)).toEqual(["10.100.3.4"]);
    const refused = dnsPacket.decode(
      dnsPacket.encode(respond(index, { ...query, questions: [{ type: "A", name: "example.com", class: "IN" }] })),
    );
    expect((refused as { rcode?: string }).rcode).toBe("REFUSED");
    expect(refused.flag_aa).toBe(false);
    const tiny = dnsPacket.decode(dnsPacket.encode(respond(index, query, { maxBytes: 40 })));
    expect(tiny.flag_tc).toBe(true);
    expect(tiny.answers).toEqual([]);
    const two = respond(index, { ...query, questions: [...(query.questions ?? []), ...(query.questions ?? [])] });
    expect((two.flags ?? 0) & 15).toBe(1); // FORMERR
  });
});

describe("service environment variables", () => {
  it("as the kubelet sets them: the namespace's services and default/kubernetes", async () => {
    const { serviceEnv } = await import("../../src/controllers/kube/networking/service-env.js");
    const services = [
      svc("kubernetes", "default", { clusterIP: "10.100.0.1", ports: [{ name: "https", port: 443, protocol: "TCP" }] }),
      svc("web-app", "prod", {
        clusterIP: "10.100.3.4",
        ports: [
          { name: "http", port: 80 },
          { port: 53, protocol: "UDP" },
        ],
      }),
      svc("db", "prod", { clusterIP: "None", ports: [{ port: 5432 }] }),
      svc("other", "dev", { clusterIP: "10.100.3.5", ports: [{ port: 80 }] }),
    ];
    const env = Object.fromEntries(serviceEnv(services, "prod").map((e) => [e.name, e.value]));
    expect(env).toEqual({
      KUBERNETES_SERVICE_HOST: "10.100.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      KUBERNETES_SERVICE_PORT_HTTPS: "443",
      KUBERNETES_PORT: "tcp://10.100.0.1:443",
      KUBERNETES_PORT_443_TCP: "tcp://10.100.0.1:443",
      KUBERNETES_PORT_443_TCP_PROTO: "tcp",
      KUBERNETES_PORT_443_TCP_PORT: "443",
      KUBERNETES_PORT_443_TCP_ADDR: "10.100.0.1",
      WEB_APP_SERVICE_HOST: "10.100.3.4",
      WEB_APP_SERVICE_PORT: "80",
      WEB_APP_SERVICE_PORT_HTTP: "80",
      WEB_APP_PORT: "tcp://10.100.3.4:80",
      WEB_APP_PORT_80_TCP: "tcp://10.100.3.4:80",
      WEB_APP_PORT_80_TCP_PROTO: "tcp",
      WEB_APP_PORT_80_TCP_PORT: "80",
      WEB_APP_PORT_80_TCP_ADDR: "10.100.3.4",
      WEB_APP_PORT_53_UDP: "udp://10.100.3.4:53",
      WEB_APP_PORT_53_UDP_PROTO: "udp",
      WEB_APP_PORT_53_UDP_PORT: "53",
      WEB_APP_PORT_53_UDP_ADDR: "10.100.3.4",
    });
    expect(serviceEnv(services, "prod", false).map((e) => e.name)).toHaveLength(8);
  });
});
