/**
 * pods/portforward driven by real kubectl against the API server alone (no Docker): the "pod" is
 * an HTTP server on 127.0.0.1, its pod IP. kubectl 1.31+ tunnels SPDY in a WebSocket (and says
 * "fallback to secondary dialer" at -v=4 when refused); Debian's 1.20 speaks SPDY.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/kube/resources.js";
import { type KubeHarness, startKubeHarness } from "../support/kube-harness.js";
import { eventually, KUBECTL_120, kubectls } from "../support/kube.js";

describe("kubectl port-forward against the API server", () => {
  let h: KubeHarness;
  let web: Server;
  let webPort: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    h = await startKubeHarness({}, {});
    web = createServer((req, res) => res.end(`hello ${req.url}\n`));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    webPort = (web.address() as AddressInfo).port;
    const created = h.objects.create(h.cluster, R.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "default" },
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "busybox" }] },
    });
    h.objects.update(
      h.cluster,
      R.pods,
      { ...created, status: { phase: "Running", podIP: "127.0.0.1" } },
      { subresource: "status" },
    );
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    web?.close();
    await h?.stop();
  });

  const forward = async (bin: string, remote: number) => {
    const child = spawn(bin, ["port-forward", "pod/web", `:${remote}`, ...(bin === KUBECTL_120 ? [] : ["-v=4"])], {
      env: { PATH: "/usr/bin:/bin", HOME: "/tmp", KUBECONFIG: h.kubeconfig() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.stderr?.on("data", (d) => {
      out += d;
    });
    const port = await eventually(
      async () => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
        return m ? Number(m[1]) : undefined;
      },
      `port-forward to listen: ${out}`,
      20_000,
    );
    return { port, output: () => out };
  };
  const get = (port: number, path: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());

  for (const bin of kubectls()) {
    it(`${bin}: connections reach the pod's port, one after another and at once`, async () => {
      const pf = await forward(bin, webPort);
      expect(await get(pf.port, "/a")).toBe("hello /a\n");
      const many = await Promise.all([1, 2, 3, 4].map((i) => get(pf.port, `/${i}`)));
      expect(many).toEqual([1, 2, 3, 4].map((i) => `hello /${i}\n`));
      expect(pf.output()).not.toMatch(/fallback to secondary dialer/);
    });
  }

  it("a port nothing listens on: the connection fails and kubectl prints the error", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const unused = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const pf = await forward(kubectls()[kubectls().length - 1], unused);
    await expect(get(pf.port, "/")).rejects.toThrow();
    await eventually(
      async () => (pf.output().includes(`error forwarding port ${unused}`) ? true : undefined),
      "kubectl to report the error",
      10_000,
    );
    expect(pf.output()).toMatch(/connect: connection refused/);
  });
});
