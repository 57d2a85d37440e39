import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admitService, takenBy } from "../../src/controllers/kube/networking/admission.js";
import type { KubeError } from "../../src/kube/errors.js";
import {
  allocateNodePort,
  allocateServiceIP,
  clusterDnsIP,
  inCidr,
  ipToInt,
  kubernetesServiceIP,
  parseCidr,
} from "../../src/kube/service-ips.js";
import type { KubeObject } from "../../src/kube/types.js";

const svc = (name: string, spec: Record<string, unknown>, namespace = "default"): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec,
});
const random = () => 0.5;
const none = { ips: new Set<string>(), nodePorts: new Set<number>() };
const err = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as KubeError;
  }
  throw new Error("expected a KubeError");
};

describe("service addresses", () => {
  it("knows the well-known addresses of EKS's default range", () => {
    expect(kubernetesServiceIP()).toBe("10.100.0.1");
    expect(clusterDnsIP()).toBe("10.100.0.10");
    expect(clusterDnsIP("172.20.0.0/16")).toBe("172.20.0.10");
  });

  it.each([
    ["10.100.0.5", "10.100.0.5"],
    ["10.100.255.254", "10.100.255.254"],
    ["10.100.0.0", "provided IP is not in the valid range. The range of valid IPs is 10.100.0.0/16"],
    ["10.100.255.255", "provided IP is not in the valid range. The range of valid IPs is 10.100.0.0/16"],
    ["10.101.0.1", "provided IP is not in the valid range. The range of valid IPs is 10.100.0.0/16"],
    ["10.100.0.1", "provided IP is already allocated"],
    ["banana", "provided IP is not in the valid range. The range of valid IPs is 10.100.0.0/16"],
  ])("requested %s → %s", (requested, want) => {
    const got = allocateServiceIP("10.100.0.0/16", new Set(["10.100.0.1"]), requested, random);
    expect(got.ok ? got.value : got.detail).toBe(want);
  });

  it("dynamic allocation keeps out of the static band while the upper band has room", () => {
    const got = allocateServiceIP("10.100.0.0/16", new Set(), undefined, () => 0);
    expect(got).toEqual({ ok: true, value: "10.100.1.1" });
    // A /28 is all static band: allocation uses it whole.
    const small = allocateServiceIP("10.0.0.0/28", new Set(), undefined, () => 0);
    expect(small).toEqual({ ok: true, value: "10.0.0.1" });
  });

  it("property: repeated allocation never hands out an address twice and stays in range", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 24, max: 29 }),
        fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (prefix, draws) => {
          const cidr = `10.1.0.0/${prefix}`;
          const range = parseCidr(cidr);
          const used = new Set<string>();
          let i = 0;
          for (const d of draws) {
            const got = allocateServiceIP(cidr, used, undefined, () => draws[i++ % draws.length] ?? d);
            if (!got.ok) {
              expect(used.size).toBe(2 ** (32 - prefix) - 2); // only when full
              continue;
            }
            expect(used.has(got.value)).toBe(false);
            expect(inCidr(range, got.value)).toBe(true);
            expect(ipToInt(got.value)).not.toBe(range.base);
            expect(ipToInt(got.value)).not.toBe(range.base + 2 ** (32 - prefix) - 1);
            used.add(got.value);
          }
        },
      ),
    );
  });

  it("node ports: in 30000–32767, no duplicates; requested ones checked", () => {
    expect(allocateNodePort(new Set([30080]), 30080, random)).toEqual({
      ok: false,
      detail: "provided port is already allocated",
    });
    expect(allocateNodePort(new Set(), 8080, random)).toEqual({
      ok: false,
      detail: "provided port is not in the valid range. The range of valid ports is 30000-32767",
    });
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { maxLength: 200 }), (draws) => {
        const used = new Set<number>();
        for (const d of draws) {
          const got = allocateNodePort(used, undefined, () => d);
          expect(got.ok).toBe(true);
          if (!got.ok) return;
          expect(used.has(got.value)).toBe(false);
          expect(got.value).toBeGreaterThanOrEqual(30000);
          expect(got.value).toBeLessThanOrEqual(32767);
          used.add(got.value);
        }
      }),
    );
  });
});

describe("service admission", () => {
  it("allocates a ClusterIP and fills the defaults kube-apiserver stores", () => {
    const out = admitService({
      obj: svc("web", { selector: { app: "web" }, ports: [{ port: 80 }] }),
      taken: none,
      cidr: "10.100.0.0/16",
      random,
    });
    const spec = out.spec as Record<string, unknown>;
    expect(spec.clusterIP).toMatch(/^10\.100\./);
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(spec).toMatchObject({
      type: "ClusterIP",
      sessionAffinity: "None",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      internalTrafficPolicy: "Cluster",
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
    });
    expect(spec.ports).toEqual([{ port: 80, protocol: "TCP", targetPort: 80 }]);
  });

  it("headless stays None; ExternalName gets no address", () => {
    const headless = admitService({
      obj: svc("db", { clusterIP: "None" }),
      taken: none,
      cidr: "10.100.0.0/16",
      random,
    });
    expect(headless.spec).toMatchObject({ clusterIP: "None", clusterIPs: ["None"] });
    const ext = admitService({
      obj: svc("ext", { type: "ExternalName", externalName: "example.com" }),
      taken: none,
      cidr: "10.100.0.0/16",
      random,
    });
    expect((ext.spec as Record<string, unknown>).clusterIP).toBeUndefined();
  });

  it.each([
    [
      "10.100.0.1",
      'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.100.0.1"}: failed to allocate IP 10.100.0.1: provided IP is already allocated',
    ],
    [
      "10.0.0.5",
      'Service "web" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.5"}: failed to allocate IP 10.0.0.5: provided IP is not in the valid range. The range of valid IPs is 10.100.0.0/16',
    ],
  ])("a requested %s is refused with kube's 422", (ip, message) => {
    const e = err(() =>
      admitService({
        obj: svc("web", { clusterIP: ip, ports: [{ port: 80 }] }),
        taken: { ips: new Set(["10.100.0.1"]), nodePorts: new Set() },
        cidr: "10.100.0.0/16",
        random,
      }),
    );
    expect(e.code).toBe(422);
    expect(e.reason).toBe("Invalid");
    expect(e.message).toBe(message);
  });

  it("node ports: allocated for NodePort, a duplicate refused, kept on update, dropped for ClusterIP", () => {
    const created = admitService({
      obj: svc("web", { type: "NodePort", ports: [{ port: 80 }, { name: "b", port: 81, nodePort: 30081 }] }),
      taken: none,
      cidr: "10.100.0.0/16",
      random,
    });
    const ports = (created.spec as { ports: { nodePort: number }[] }).ports;
    expect(ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(ports[1]?.nodePort).toBe(30081);

    const e = err(() =>
      admitService({
        obj: svc("other", { type: "NodePort", ports: [{ port: 80, nodePort: 30081 }] }),
        taken: { ips: new Set(), nodePorts: new Set([30081]) },
        cidr: "10.100.0.0/16",
        random,
      }),
    );
    expect(e.message).toBe(
      'Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30081: provided port is already allocated',
    );

    const updated = admitService({
      obj: svc("web", { type: "NodePort", ports: [{ port: 80 }, { name: "b", port: 81 }] }),
      old: created,
      taken: none,
      cidr: "10.100.0.0/16",
      random: () => 0.9,
    });
    expect(updated.spec).toMatchObject({ clusterIP: (created.spec as { clusterIP: string }).clusterIP });
    expect((updated.spec as { ports: { nodePort: number }[] }).ports.map((p) => p.nodePort)).toEqual(
      ports.map((p) => p.nodePort),
    );

    const back = admitService({
      obj: svc("web", { type: "ClusterIP", ports: [{ port: 80, nodePort: 30081 }] }),
      old: created,
      taken: none,
      cidr: "10.100.0.0/16",
      random,
    });
    expect((back.spec as { ports: { nodePort?: number }[] }).ports[0]?.nodePort).toBeUndefined();
  });

  it("the ClusterIP may not change once set", () => {
    const created = admitService({
      obj: svc("web", { ports: [{ port: 80 }] }),
      taken: none,
      cidr: "10.100.0.0/16",
      random,
    });
    const e = err(() =>
      admitService({
        obj: svc("web", { clusterIP: "10.100.0.99", ports: [{ port: 80 }] }),
        old: created,
        taken: none,
        cidr: "10.100.0.0/16",
        random,
      }),
    );
    expect(e.message).toBe(
      'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.100.0.99"}: may not change once set',
    );
  });

  it("what other services hold, not the service itself", () => {
    const a = svc("a", { clusterIP: "10.100.0.5", clusterIPs: ["10.100.0.5"], ports: [{ port: 1, nodePort: 30001 }] });
    const b = svc("b", { clusterIP: "None" });
    const t = takenBy([a, b], "default", "a");
    expect([...t.ips]).toEqual([]);
    expect([...takenBy([a, b], "default", "b").ips]).toEqual(["10.100.0.5"]);
    expect([...takenBy([a, b], "default", "b").nodePorts]).toEqual([30001]);
  });
});
