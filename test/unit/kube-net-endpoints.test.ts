import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeSubsets,
  desiredEndpoints,
  desiredSlices,
  isPodReady,
  readyTargets,
  resolveTargetPort,
} from "../../src/controllers/kube/networking/endpoints.js";
import type { PodLike } from "../../src/controllers/kube/networking/model.js";
import { desiredPlane } from "../../src/controllers/kube/networking/plane.js";
import type { KubeObject } from "../../src/kube/types.js";

const service = (spec: Record<string, unknown>, name = "web"): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default", uid: "svc-uid", labels: { team: "a" } },
  spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], ...spec },
});

const pod = (
  name: string,
  ip: string | undefined,
  opts: Partial<{
    ready: boolean;
    labels: Record<string, string>;
    phase: string;
    deleting: boolean;
    ports: { name?: string; containerPort: number; protocol?: "TCP" | "UDP" }[];
    hostname: string;
    subdomain: string;
    namespace: string;
  }> = {},
): PodLike => ({
  metadata: {
    name,
    namespace: opts.namespace ?? "default",
    uid: `uid-${name}`,
    labels: opts.labels ?? { app: "web" },
    ...(opts.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
  },
  spec: {
    nodeName: "node-1",
    ...(opts.hostname ? { hostname: opts.hostname } : {}),
    ...(opts.subdomain ? { subdomain: opts.subdomain } : {}),
    containers: [{ name: "c", ports: opts.ports ?? [{ name: "http", containerPort: 8080 }] }],
  },
  status: {
    phase: opts.phase ?? "Running",
    ...(ip ? { podIP: ip } : {}),
    conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }],
  },
});

describe("target port resolution", () => {
  it.each([
    [{ port: 80 }, 80],
    [{ port: 80, targetPort: 9000 }, 9000],
    [{ port: 80, targetPort: "9000" }, 9000],
    [{ port: 80, targetPort: "http" }, 8080],
    [{ port: 80, targetPort: "http", protocol: "UDP" as const }, undefined],
    [{ port: 53, targetPort: "dns", protocol: "UDP" as const }, 5353],
    [{ port: 80, targetPort: "nope" }, undefined],
  ])("%o → %s", (port, want) => {
    const p = pod("a", "10.0.0.1", {
      ports: [
        { name: "http", containerPort: 8080 },
        { name: "dns", containerPort: 5353, protocol: "UDP" },
      ],
    });
    expect(resolveTargetPort(p, port)).toBe(want);
  });
});

describe("Endpoints", () => {
  it("ready pods are addresses, not-ready ones notReadyAddresses; others are left out", () => {
    const pods = [
      pod("b", "10.0.0.2"),
      pod("a", "10.0.0.1"),
      pod("c", "10.0.0.3", { ready: false }),
      pod("no-ip", undefined),
      pod("done", "10.0.0.4", { phase: "Succeeded" }),
      pod("going", "10.0.0.5", { deleting: true }),
      pod("other", "10.0.0.6", { labels: { app: "other" } }),
      pod("elsewhere", "10.0.0.7", { namespace: "prod" }),
    ];
    const ep = desiredEndpoints(service({}), pods);
    expect(ep.metadata).toEqual({ name: "web", namespace: "default", labels: { team: "a" } });
    expect(ep.subsets).toEqual([
      {
        addresses: [
          {
            ip: "10.0.0.1",
            nodeName: "node-1",
            targetRef: { kind: "Pod", namespace: "default", name: "a", uid: "uid-a" },
          },
          {
            ip: "10.0.0.2",
            nodeName: "node-1",
            targetRef: { kind: "Pod", namespace: "default", name: "b", uid: "uid-b" },
          },
        ],
        notReadyAddresses: [
          {
            ip: "10.0.0.3",
            nodeName: "node-1",
            targetRef: { kind: "Pod", namespace: "default", name: "c", uid: "uid-c" },
          },
        ],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);
  });

  it("pods whose named port resolves differently land in different subsets; publishNotReadyAddresses counts all", () => {
    const pods = [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2", { ports: [{ name: "http", containerPort: 9090 }], ready: false }),
    ];
    const subsets = computeSubsets(service({ publishNotReadyAddresses: true }), pods);
    expect(subsets).toHaveLength(2);
    expect(subsets.flatMap((s) => s.addresses?.map((a) => a.ip) ?? []).sort()).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(subsets.every((s) => !s.notReadyAddresses)).toBe(true);
  });

  it("no selector or no matching pod: no subsets; headless pods carry their hostname when the subdomain matches", () => {
    expect(desiredEndpoints(service({ selector: undefined }), [pod("a", "10.0.0.1")]).subsets).toBeUndefined();
    expect(desiredEndpoints(service({}), []).subsets).toBeUndefined();
    const ep = desiredEndpoints(service({ clusterIP: "None" }, "db"), [
      pod("db-0", "10.0.0.1", { hostname: "db-0", subdomain: "db" }),
      pod("x", "10.0.0.2", { hostname: "x", subdomain: "other" }),
    ]);
    expect(ep.metadata.labels).toEqual({ team: "a", "service.kubernetes.io/headless": "" });
    const addrs = (ep.subsets as { addresses: { ip: string; hostname?: string }[] }[])[0]?.addresses;
    expect(addrs?.map((a) => a.hostname)).toEqual(["db-0", undefined]);
  });

  it("property: endpoints are exactly the selected pods with an IP, ready ones as addresses", () => {
    const arbPod = fc.record({
      n: fc.integer({ min: 0, max: 50 }),
      app: fc.constantFrom("web", "other"),
      ready: fc.boolean(),
      hasIp: fc.boolean(),
      phase: fc.constantFrom("Running", "Pending", "Failed"),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbPod, { selector: (p) => p.n, maxLength: 20 }), (specs) => {
        const pods = specs.map((p) =>
          pod(`p${p.n}`, p.hasIp ? `10.0.0.${p.n + 1}` : undefined, {
            ready: p.ready,
            labels: { app: p.app },
            phase: p.phase,
          }),
        );
        const subsets = computeSubsets(service({}), pods);
        const ready = subsets.flatMap((s) => s.addresses ?? []).map((a) => a.ip);
        const notReady = subsets.flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.ip);
        const selected = specs.filter((p) => p.app === "web" && p.hasIp && p.phase !== "Failed");
        expect(ready.sort()).toEqual(
          selected
            .filter((p) => p.ready)
            .map((p) => `10.0.0.${p.n + 1}`)
            .sort(),
        );
        expect(notReady.sort()).toEqual(
          selected
            .filter((p) => !p.ready)
            .map((p) => `10.0.0.${p.n + 1}`)
            .sort(),
        );
        for (const ip of ready) expect(isPodReady(pods.find((p) => p.status?.podIP === ip) as PodLike)).toBe(true);
      }),
    );
  });
});

describe("EndpointSlices", () => {
  it("one slice per port list with kube's labels and conditions; terminating pods flagged", () => {
    const slices = desiredSlices(service({}), [
      pod("a", "10.0.0.1"),
      pod("b", "10.0.0.2", { ready: false }),
      pod("c", "10.0.0.3", { deleting: true }),
    ]);
    expect(slices).toHaveLength(1);
    expect(slices[0]?.labels).toEqual({
      team: "a",
      "kubernetes.io/service-name": "web",
      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    });
    expect(slices[0]?.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slices[0]?.endpoints.map((e) => [e.addresses[0], e.conditions])).toEqual([
      ["10.0.0.1", { ready: true, serving: true, terminating: false }],
      ["10.0.0.2", { ready: false, serving: false, terminating: false }],
      ["10.0.0.3", { ready: false, serving: true, terminating: true }],
    ]);
    expect(desiredSlices(service({}), [])).toEqual([{ labels: slices[0]?.labels, endpoints: [], ports: [] }]);
  });
});

describe("data plane", () => {
  const ep: KubeObject = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "web", namespace: "default" },
    subsets: [
      {
        addresses: [{ ip: "10.200.1.2" }, { ip: "10.200.1.3" }],
        ports: [
          { name: "http", port: 8080, protocol: "TCP" },
          { name: "metrics", port: 9100, protocol: "TCP" },
        ],
      },
    ],
  };

  it("ready targets by port name", () => {
    expect(readyTargets(ep, { name: "metrics", protocol: "TCP" })).toEqual([
      { ip: "10.200.1.2", port: 9100 },
      { ip: "10.200.1.3", port: 9100 },
    ]);
    expect(readyTargets(ep, { name: "http", protocol: "UDP" })).toEqual([]);
    expect(readyTargets(undefined, { name: "http" })).toEqual([]);
  });

  it("ClusterIP and NodePort listeners, the DNS address always on the bridge, UDP and port 53 of kube-dns left to the DNS server", () => {
    const web = service({
      type: "NodePort",
      clusterIP: "10.100.3.4",
      clusterIPs: ["10.100.3.4"],
      ports: [{ name: "http", port: 80, protocol: "TCP", nodePort: 30080 }],
    });
    const dns = {
      ...service(
        {
          clusterIP: "10.100.0.10",
          selector: undefined,
          ports: [
            { name: "dns", port: 53, protocol: "UDP" },
            { name: "dns-tcp", port: 53, protocol: "TCP" },
          ],
        },
        "kube-dns",
      ),
      metadata: { name: "kube-dns", namespace: "kube-system" },
    };
    const plane = desiredPlane({ gateway: "10.200.1.1", dnsIP: "10.100.0.10" }, [web, dns], [ep]);
    expect(plane.addresses).toEqual(["10.100.0.10", "10.100.3.4"]);
    expect(
      plane.listeners.map((l) => `${l.address}:${l.port}→${l.targets.map((t) => `${t.ip}:${t.port}`).join(",")}`),
    ).toEqual([
      "10.100.3.4:80→10.200.1.2:8080,10.200.1.3:8080",
      "127.0.0.1:30080→10.200.1.2:8080,10.200.1.3:8080",
      "10.200.1.1:30080→10.200.1.2:8080,10.200.1.3:8080",
    ]);
  });
});
