/**
 * Container probes: startup, liveness, readiness — httpGet and tcpSocket from the host to the
 * pod IP, exec through the runtime. One set of timers per running container instance; results
 * land in the pod's runtime state (read by the pure plan) and a liveness/startup failure kills
 * the container (the plan then restarts it by the restart policy).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { CancelTimer, TimerClock } from "../../../core/clock.js";
import type { ContainerRuntime } from "../../../runtime/runtime.js";
import type { Container, LifecycleHandler, Probe } from "./types.js";

export type ProbeKind = "startup" | "liveness" | "readiness";

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, as kubelet words it ("HTTP probe failed with statuscode: 500"). */
  message?: string;
}

export interface ProbeHooks {
  runtime: ContainerRuntime;
  after: TimerClock["after"];
  /** A probe result changed what the pod reports (started, ready). */
  changed(podKey: string): void;
  /** The container failed its liveness (or startup) probe: kill it within graceSec. */
  kill(podKey: string, containerId: string, graceSec: number, message: string): void;
  event(podKey: string, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ProbeState {
  ready: boolean;
  started: boolean;
}

const portOf = (c: Container, port: number | string): number => {
  if (typeof port === "number") return port;
  const named = c.ports?.find((p) => p.name === port);
  return named ? named.containerPort : Number(port);
};

export function httpProbe(
  host: string,
  port: number,
  a: NonNullable<Probe["httpGet"]>,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = (a.scheme === "HTTPS" ? httpsRequest : httpRequest)(
      {
        host,
        port,
        path: a.path || "/",
        method: "GET",
        headers: {
          "User-Agent": "kube-probe/1.27",
          Accept: "*/*",
          ...Object.fromEntries((a.httpHeaders ?? []).map((h) => [h.name, h.value])),
        },
        timeout: timeoutMs,
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(
          code >= 200 && code < 400
            ? { ok: true }
            : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
        );
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve({
        ok: false,
        message: `Get "http://${host}:${port}${a.path || "/"}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    });
    req.on("error", (e) =>
      resolve({ ok: false, message: `Get "http://${host}:${port}${a.path || "/"}": ${e.message}` }),
    );
    req.end();
  });
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    s.on("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ ok: true });
    });
    s.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${e.message}` });
    });
  });
}

export async function execProbe(
  runtime: ContainerRuntime,
  id: string,
  command: string[],
  timeoutMs: number,
): Promise<ProbeResult> {
  const p = await runtime.exec(id, { command, stdin: false, tty: false });
  let out = "";
  p.stdout.on("data", (b: Buffer) => {
    if (out.length < 10_000) out += b.toString("utf8");
  });
  p.stderr.on("data", (b: Buffer) => {
    if (out.length < 10_000) out += b.toString("utf8");
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), timeoutMs);
  });
  const code = await Promise.race([p.exit, timeout]);
  clearTimeout(timer);
  if (code === -1) {
    p.close();
    return { ok: false, message: `command ${JSON.stringify(command.join(" "))} timed out` };
  }
  return code === 0 ? { ok: true } : { ok: false, message: out.trim() || `command exited with ${code}` };
}

export async function runProbe(
  runtime: ContainerRuntime,
  probe: Probe,
  c: Container,
  containerId: string,
  podIP: string,
): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet)
      return await httpProbe(probe.httpGet.host || podIP, portOf(c, probe.httpGet.port), probe.httpGet, timeoutMs);
    if (probe.tcpSocket)
      return await tcpProbe(probe.tcpSocket.host || podIP, portOf(c, probe.tcpSocket.port), timeoutMs);
    if (probe.exec?.command?.length) return await execProbe(runtime, containerId, probe.exec.command, timeoutMs);
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  // gRPC probes and empty handlers: not run (reported as passing).
  return { ok: true };
}

interface Running {
  podKey: string;
  containerId: string;
  container: Container;
  podIP: string;
  graceSec: number;
  /** When the container started (epoch ms): initialDelaySeconds counts from here. */
  startedAt: number;
}

/** The probe loops of every running container instance. */
export class Probers {
  private readonly loops = new Map<string, { cancel: Map<ProbeKind, CancelTimer>; stopped: boolean; podKey: string }>();
  readonly states = new Map<string, ProbeState>();

  constructor(private readonly hooks: ProbeHooks) {}

  /** Starts probing a running instance (once). */
  ensure(r: Running) {
    if (this.loops.has(r.containerId)) return;
    const c = r.container;
    if (!c.startupProbe && !c.livenessProbe && !c.readinessProbe) return;
    const loop = { cancel: new Map<ProbeKind, CancelTimer>(), stopped: false, podKey: r.podKey };
    this.loops.set(r.containerId, loop);
    const state: ProbeState = { ready: false, started: !c.startupProbe };
    this.states.set(r.containerId, state);
    const schedule = (kind: ProbeKind, probe: Probe) => {
      let failures = 0;
      let successes = 0;
      const period = (probe.periodSeconds ?? 10) * 1000;
      const tick = async () => {
        if (loop.stopped) return;
        const gated = kind !== "startup" && !state.started;
        const done = kind === "startup" && state.started;
        if (!gated && !done) {
          const res = await runProbe(this.hooks.runtime, probe, c, r.containerId, r.podIP);
          if (loop.stopped) return;
          if (res.ok) {
            failures = 0;
            successes++;
            if (kind === "startup" && !state.started) {
              state.started = true;
              this.hooks.changed(r.podKey);
            }
            if (kind === "readiness" && !state.ready && successes >= (probe.successThreshold ?? 1)) {
              state.ready = true;
              this.hooks.changed(r.podKey);
            }
          } else {
            successes = 0;
            failures++;
            const label = kind[0].toUpperCase() + kind.slice(1);
            this.hooks.event(r.podKey, "Warning", "Unhealthy", `${label} probe failed: ${res.message ?? ""}`);
            if (failures >= (probe.failureThreshold ?? 3)) {
              if (kind === "readiness") {
                if (state.ready) {
                  state.ready = false;
                  this.hooks.changed(r.podKey);
                }
              } else {
                const why =
                  kind === "liveness"
                    ? `Container ${c.name} failed liveness probe, will be restarted`
                    : `Container ${c.name} failed startup probe, will be restarted`;
                loop.stopped = true;
                this.hooks.kill(r.podKey, r.containerId, probe.terminationGracePeriodSeconds ?? r.graceSec, why);
                return;
              }
            }
          }
        }
        if (!loop.stopped)
          loop.cancel.set(
            kind,
            this.hooks.after(period, () => void tick()),
          );
      };
      const delay = Math.max(0, r.startedAt + (probe.initialDelaySeconds ?? 0) * 1000 - Date.now());
      loop.cancel.set(
        kind,
        this.hooks.after(delay, () => void tick()),
      );
    };
    if (c.startupProbe) schedule("startup", c.startupProbe);
    if (c.livenessProbe) schedule("liveness", c.livenessProbe);
    if (c.readinessProbe) schedule("readiness", c.readinessProbe);
  }

  /** Stops probing instances no longer running (keeps the ones in `keep`). */
  retain(podKey: string, keep: Set<string>) {
    for (const [id, loop] of this.loops) if (loop.podKey === podKey && !keep.has(id)) this.drop(id);
  }

  drop(id: string) {
    const loop = this.loops.get(id);
    if (loop) {
      loop.stopped = true;
      for (const c of loop.cancel.values()) c();
    }
    this.loops.delete(id);
    this.states.delete(id);
  }

  stopAll() {
    for (const id of [...this.loops.keys()]) this.drop(id);
  }
}

/** Runs a lifecycle hook (postStart / preStop) within timeoutMs: exec in the container, httpGet to the pod, or sleep. */
export async function runHook(
  runtime: ContainerRuntime,
  hook: LifecycleHandler,
  c: Container,
  containerId: string,
  podIP: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  if (hook.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(timeoutMs, hook.sleep!.seconds * 1000)));
    return { ok: true };
  }
  if (hook.exec?.command?.length)
    return execProbe(runtime, containerId, hook.exec.command, timeoutMs).catch((e) => ({
      ok: false,
      message: (e as Error).message,
    }));
  if (hook.httpGet) return httpProbe(hook.httpGet.host || podIP, portOf(c, hook.httpGet.port), hook.httpGet, timeoutMs);
  return { ok: true };
}
