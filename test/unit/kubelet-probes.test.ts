import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpProbe, Probers, runProbe, tcpProbe } from "../../src/controllers/kube/kubelet/probes.js";
import type { ContainerRuntime } from "../../src/runtime/runtime.js";

describe("kubelet probes", () => {
  let server: Server;
  let port = 0;
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === "/slow" ? 200 : status;
      if (req.url === "/slow") setTimeout(() => res.end("late"), 500);
      else res.end(req.headers["user-agent"]);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("httpGet: 2xx/3xx pass, others fail with kubelet's message, timeouts fail", async () => {
    status = 204;
    expect(await httpProbe("127.0.0.1", port, { path: "/", port }, 1000)).toEqual({ ok: true });
    status = 500;
    expect(await httpProbe("127.0.0.1", port, { path: "/", port }, 1000)).toEqual({
      ok: false,
      message: "HTTP probe failed with statuscode: 500",
    });
    const slow = await httpProbe("127.0.0.1", port, { path: "/slow", port }, 100);
    expect(slow.ok).toBe(false);
    expect(slow.message).toMatch(/context deadline exceeded/);
  });

  it("tcpSocket: connect passes, refused fails; named ports resolve from the container's ports", async () => {
    expect(await tcpProbe("127.0.0.1", port, 1000)).toEqual({ ok: true });
    const refused = await tcpProbe("127.0.0.1", 1, 1000);
    expect(refused.ok).toBe(false);
    status = 200;
    const c = { name: "c", image: "b", ports: [{ name: "http", containerPort: port }] };
    expect(await runProbe({} as ContainerRuntime, { httpGet: { port: "http" } }, c, "id", "127.0.0.1")).toEqual({
      ok: true,
    });
  });

  it("a liveness probe failing failureThreshold times kills the container; readiness flips ready", async () => {
    status = 200;
    const kills: string[] = [];
    const changes: string[] = [];
    const probers = new Probers({
      runtime: {} as ContainerRuntime,
      after: (ms, fn) => {
        const t = setTimeout(fn, Math.min(ms, 20));
        return () => clearTimeout(t);
      },
      changed: (k) => changes.push(k),
      kill: (_k, id, grace, message) => kills.push(`${id}:${grace}:${message}`),
      event: () => {},
    });
    probers.ensure({
      podKey: "p",
      containerId: "c1",
      container: {
        name: "app",
        image: "b",
        readinessProbe: { httpGet: { port, path: "/" } },
        livenessProbe: { httpGet: { port, path: "/" }, failureThreshold: 2 },
      },
      podIP: "127.0.0.1",
      graceSec: 7,
      startedAt: Date.now(),
    });
    await expect.poll(() => probers.states.get("c1")?.ready, { timeout: 2000 }).toBe(true);
    expect(changes).toContain("p");
    status = 503;
    await expect.poll(() => kills.length, { timeout: 2000 }).toBe(1);
    expect(kills[0]).toBe("c1:7:Container app failed liveness probe, will be restarted");
    probers.stopAll();
  });
});
