import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  backoffSec,
  emptyRuntimeState,
  type Instance,
  type ObservedPod,
  type PlanInput,
  planPod,
  type PodRuntimeState,
} from "../../src/controllers/kube/kubelet/plan.js";
import type { Pod } from "../../src/controllers/kube/kubelet/types.js";
import type { ObservedContainer } from "../../src/runtime/runtime.js";

const NOW = new Date("2026-01-01T00:10:00Z");
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

const pod = (spec: Partial<Pod["spec"]> = {}, status?: Pod["status"]): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "u1" },
  spec: { nodeName: "berth-local", containers: [{ name: "app", image: "busybox:1" }], ...spec },
  ...(status ? { status } : {}),
});

let seq = 0;
const ctr = (state: ObservedContainer["state"], extra: Partial<ObservedContainer> = {}): ObservedContainer => ({
  id: `c${++seq}`,
  name: `n${seq}`,
  image: "busybox:1",
  imageId: "sha256:abc",
  labels: {},
  state,
  ports: [],
  ...(state === "running" ? { startedAt: ago(60) } : {}),
  ...extra,
});
const exited = (code: number, startedSecAgo: number, finishedSecAgo: number) =>
  ctr("exited", { exitCode: code, startedAt: ago(startedSecAgo), finishedAt: ago(finishedSecAgo) });
const inst = (container: ObservedContainer, attempt = 0, backoffBase = 0): Instance => ({
  container,
  attempt,
  backoffBase,
});
const sandbox = () => ctr("running", { ipAddress: "10.9.0.5" });
const observed = (
  containers: Record<string, Instance[]> = {},
  sb: ObservedContainer | null = sandbox(),
): ObservedPod => ({
  sandbox: sb ?? undefined,
  staleSandboxes: [],
  containers: new Map(Object.entries(containers)),
});
const plan = (p: Pod, obs: ObservedPod, state: PodRuntimeState = emptyRuntimeState()) =>
  planPod({ pod: p, obs, state, now: NOW, hostIP: "10.9.0.1" } satisfies PlanInput);
const cond = (s: ReturnType<typeof plan>["status"], type: string) => s.conditions?.find((c) => c.type === type)?.status;

describe("kubelet pod plan", () => {
  it("a new pod gets a sandbox first; containers wait in ContainerCreating", () => {
    const r = plan(pod(), observed({}, null));
    expect(r.actions).toEqual([{ type: "createSandbox", attempt: 0 }]);
    expect(r.status.phase).toBe("Pending");
    expect(r.status.containerStatuses?.[0].state).toEqual({ waiting: { reason: "ContainerCreating" } });
    expect(r.status.qosClass).toBe("BestEffort");
    expect(r.status.hostIP).toBe("10.9.0.1");
  });

  it("with the sandbox up: init containers one at a time, in order, before the app containers", () => {
    const p = pod({
      initContainers: [
        { name: "i1", image: "b" },
        { name: "i2", image: "b" },
      ],
    });
    let r = plan(p, observed());
    expect(r.actions).toEqual([{ type: "runContainer", name: "i1", init: true, attempt: 0, backoffBase: 0 }]);
    expect(r.status.containerStatuses?.[0].state.waiting?.reason).toBe("PodInitializing");
    expect(cond(r.status, "Initialized")).toBe("False");
    r = plan(p, observed({ i1: [inst(ctr("running"))] }));
    expect(r.actions).toEqual([]);
    r = plan(p, observed({ i1: [inst(exited(0, 20, 10))] }));
    expect(r.actions).toEqual([{ type: "runContainer", name: "i2", init: true, attempt: 0, backoffBase: 0 }]);
    r = plan(p, observed({ i1: [inst(exited(0, 20, 10))], i2: [inst(exited(0, 9, 5))] }));
    expect(r.actions).toEqual([{ type: "runContainer", name: "app", init: false, attempt: 0, backoffBase: 0 }]);
    expect(cond(r.status, "Initialized")).toBe("True");
    expect(r.status.initContainerStatuses?.[0].state.terminated?.reason).toBe("Completed");
  });

  it("a failed init container restarts (Always/OnFailure) or fails the pod (Never)", () => {
    const spec = { initContainers: [{ name: "i1", image: "b" }] };
    const r = plan(pod(spec), observed({ i1: [inst(exited(1, 20, 10))] }));
    expect(r.actions).toEqual([{ type: "runContainer", name: "i1", init: true, attempt: 1, backoffBase: 0 }]);
    const n = plan(pod({ ...spec, restartPolicy: "Never" }), observed({ i1: [inst(exited(1, 20, 10))] }));
    expect(n.status.phase).toBe("Failed");
    expect(n.actions.some((a) => a.type === "runContainer")).toBe(false);
  });

  it("running and ready: phase Running, Ready and ContainersReady True, the pod IP from the sandbox", () => {
    const r = plan(pod(), observed({ app: [inst(ctr("running"))] }));
    expect(r.actions).toEqual([]);
    expect(r.status.phase).toBe("Running");
    expect(cond(r.status, "Ready")).toBe("True");
    expect(cond(r.status, "ContainersReady")).toBe("True");
    expect(r.status.podIP).toBe("10.9.0.5");
    expect(r.status.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
    expect(r.status.containerStatuses?.[0].containerID).toMatch(/^docker:\/\//);
  });

  it("a readiness probe gates Ready; a startup probe gates started", () => {
    const running = ctr("running");
    const p = pod({
      containers: [
        {
          name: "app",
          image: "b",
          readinessProbe: { tcpSocket: { port: 80 } },
          startupProbe: { tcpSocket: { port: 80 } },
        },
      ],
    });
    let r = plan(p, observed({ app: [inst(running)] }));
    expect(r.status.containerStatuses?.[0]).toMatchObject({ ready: false, started: false });
    expect(cond(r.status, "Ready")).toBe("False");
    expect(r.status.conditions?.find((c) => c.type === "Ready")?.message).toBe("containers with unready status: [app]");
    const state = emptyRuntimeState();
    state.probes.set(running.id, { ready: true, started: true });
    r = plan(p, observed({ app: [inst(running)] }), state);
    expect(r.status.containerStatuses?.[0]).toMatchObject({ ready: true, started: true });
  });

  it("crash back-off: first restart at once, then 10 s doubling to 300 s (CrashLoopBackOff), reset after 10 minutes running", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((k) => backoffSec(k))).toEqual([0, 10, 20, 40, 80, 160, 300, 300]);
    let r = plan(pod(), observed({ app: [inst(exited(1, 5, 3), 0, 0)] }));
    expect(r.actions).toEqual([{ type: "runContainer", name: "app", init: false, attempt: 1, backoffBase: 0 }]);
    r = plan(pod(), observed({ app: [inst(exited(1, 5, 3), 1, 0), inst(exited(1, 30, 29))] }));
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBe(7000);
    const s = r.status.containerStatuses?.[0];
    expect(s?.state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(s?.state.waiting?.message).toBe("back-off 10s restarting failed container=app pod=web_default(u1)");
    expect(s?.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect(s?.restartCount).toBe(1);
    expect(r.status.phase).toBe("Running");
    r = plan(pod(), observed({ app: [inst(exited(1, 5, 3), 3, 0)] }));
    expect(r.status.containerStatuses?.[0].state.waiting?.message).toMatch(/^back-off 40s/);
    r = plan(pod(), observed({ app: [inst(exited(1, 700, 3), 6, 0)] }));
    expect(r.actions).toEqual([{ type: "runContainer", name: "app", init: false, attempt: 7, backoffBase: 7 }]);
  });

  it("restart policies: Never and OnFailure end the pod Succeeded or Failed and stop the sandbox", () => {
    const sb = sandbox();
    let r = plan(pod({ restartPolicy: "Never" }), observed({ app: [inst(exited(0, 5, 3))] }, sb));
    expect(r.status.phase).toBe("Succeeded");
    expect(r.actions).toEqual([{ type: "stopContainer", id: sb.id, graceSec: 0 }]);
    expect(r.status.containerStatuses?.[0].state.terminated?.reason).toBe("Completed");
    expect(r.status.conditions?.find((c) => c.type === "Ready")?.reason).toBe("PodCompleted");
    r = plan(pod({ restartPolicy: "Never" }), observed({ app: [inst(exited(2, 5, 3))] }));
    expect(r.status.phase).toBe("Failed");
    r = plan(pod({ restartPolicy: "OnFailure" }), observed({ app: [inst(exited(0, 5, 3))] }));
    expect(r.status.phase).toBe("Succeeded");
    r = plan(pod({ restartPolicy: "OnFailure" }), observed({ app: [inst(exited(1, 5, 3))] }));
    expect(r.actions[0]).toMatchObject({ type: "runContainer", attempt: 1 });
    // A terminal pod stays terminal and runs nothing.
    r = plan(pod({ restartPolicy: "Always" }, { phase: "Failed" }), observed({}, null));
    expect(r.status.phase).toBe("Failed");
    expect(r.actions).toEqual([]);
  });

  it("OOMKilled and start errors are reported as kube does", () => {
    const r = plan(
      pod({ restartPolicy: "Never" }),
      observed({ app: [inst(ctr("exited", { exitCode: 137, oomKilled: true, finishedAt: ago(1) }))] }),
    );
    expect(r.status.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    const s = plan(
      pod({ restartPolicy: "Never" }),
      observed({ app: [inst(ctr("created", { error: "exec: not found" }))] }),
    );
    expect(s.status.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 128, reason: "StartError" });
  });

  it("deletion terminates with the grace period", () => {
    const p = pod({ terminationGracePeriodSeconds: 5 });
    p.metadata.deletionTimestamp = "2026-01-01T00:10:05Z";
    p.metadata.deletionGracePeriodSeconds = 3;
    expect(plan(p, observed()).actions).toEqual([{ type: "terminate", graceSec: 3 }]);
  });

  it("keeps two instances of a container (for logs --previous) and removes older ones", () => {
    const old = exited(1, 100, 99);
    const r = plan(pod(), observed({ app: [inst(ctr("running"), 2), inst(exited(1, 50, 49), 1), inst(old, 0)] }));
    expect(r.actions).toEqual([{ type: "removeContainer", id: old.id }]);
    expect(r.status.containerStatuses?.[0].lastState.terminated?.exitCode).toBe(1);
  });

  it("a dead sandbox takes the pod's containers with it and is made again; restarts keep counting", () => {
    const dead = ctr("exited", { exitCode: 137, finishedAt: ago(1) });
    const app = ctr("running");
    const r = plan(pod(), observed({ app: [inst(app, 2)] }, dead));
    expect(r.actions).toEqual([
      { type: "removeContainer", id: app.id },
      { type: "removeContainer", id: dead.id },
    ]);
    const status = {
      containerStatuses: [
        {
          name: "app",
          state: {},
          lastState: {},
          ready: false,
          restartCount: 2,
          image: "b",
          imageID: "",
          containerID: "docker://x",
        },
      ],
    };
    const again = plan(pod({}, status), observed());
    expect(again.actions).toEqual([{ type: "runContainer", name: "app", init: false, attempt: 3, backoffBase: 3 }]);
  });

  it("image pull failures wait with their reason until the retry time", () => {
    const state = emptyRuntimeState();
    state.waiting.set("app", {
      reason: "ImagePullBackOff",
      message: "Back-off pulling image",
      retryAtMs: NOW.getTime() + 5000,
    });
    const r = plan(pod(), observed(), state);
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBe(5000);
    expect(r.status.containerStatuses?.[0].state.waiting?.reason).toBe("ImagePullBackOff");
  });

  it("property: planning again with the status it wrote gives the same status (no needless writes)", () => {
    const states = fc.constantFrom<"none" | "running" | "exit0" | "exit1" | "created">(
      "none",
      "running",
      "exit0",
      "exit1",
      "created",
    );
    fc.assert(
      fc.property(
        fc.array(states, { minLength: 1, maxLength: 3 }),
        fc.constantFrom<"Always" | "OnFailure" | "Never">("Always", "OnFailure", "Never"),
        fc.boolean(),
        (cs, restartPolicy, withSandbox) => {
          const containers = cs.map((_, i) => ({ name: `c${i}`, image: "b" }));
          const obsMap: Record<string, Instance[]> = {};
          cs.forEach((s, i) => {
            if (s === "none") return;
            const o =
              s === "running"
                ? ctr("running")
                : s === "created"
                  ? ctr("created")
                  : exited(s === "exit0" ? 0 : 1, 30, 20);
            obsMap[`c${i}`] = [inst(o, 1, 0)];
          });
          const obs = observed(obsMap, withSandbox ? sandbox() : null);
          const first = plan(pod({ containers, restartPolicy }), obs);
          const second = plan(pod({ containers, restartPolicy }, first.status), obs);
          expect(second.status).toEqual(first.status);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("kubelet pod plan: activeDeadlineSeconds", () => {
  it("fails the pod with DeadlineExceeded and stops its containers once the deadline passed", () => {
    const running = ctr("running");
    const p = pod({ activeDeadlineSeconds: 30 }, { startTime: "2026-01-01T00:09:00Z" });
    const r = plan(p, observed({ app: [inst(running)] }));
    expect(r.status).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded" });
    expect(r.actions).toContainEqual({ type: "stopContainer", id: running.id, graceSec: 30 });
    const early = plan(
      pod({ activeDeadlineSeconds: 90 }, { startTime: "2026-01-01T00:09:00Z" }),
      observed({ app: [inst(running)] }),
    );
    expect(early.status.phase).toBe("Running");
    expect(early.requeueAfterMs).toBe(30_000);
  });
});
