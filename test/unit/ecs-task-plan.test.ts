import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ObservedTask, dependencies, planTask, taskHealth } from "../../src/controllers/tasks/plan.js";
import type { ContainerDefinition } from "../../src/protocol/generated/types/ecs.js";
import type { ObservedContainer } from "../../src/runtime/runtime.js";
import type { TaskRecord } from "../../src/store/schema/ecs.js";

const now = new Date("2026-01-01T00:00:00Z");

function task(defs: ContainerDefinition[], extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskArn: "arn:aws:ecs:us-east-1:000000000000:task/c/abc",
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
    lastStatus: "PROVISIONING",
    desiredStatus: "RUNNING",
    createdAt: now,
    version: 1,
    containers: defs.map((d) => ({ name: d.name, lastStatus: "PENDING" })),
    attachments: [
      { id: "att", type: "ElasticNetworkInterface", status: "PRECREATED", details: [{ name: "subnetId", value: "s" }] },
    ],
    spec: {
      family: "f",
      revision: 1,
      networkMode: "awsvpc",
      containers: defs.map((d) => ({ essential: true, ...d })),
      volumes: [],
    },
    ...extra,
  };
}

const c = (
  name: string,
  state: ObservedContainer["state"],
  extra: Partial<ObservedContainer> = {},
): ObservedContainer => ({
  id: `${name}-id`,
  name,
  image: "img",
  imageId: "sha256:x",
  labels: {},
  state,
  startedAt: state === "created" ? undefined : now,
  ports: [],
  ...extra,
});

const observed = (
  pause: ObservedContainer | undefined,
  ...containers: [string, ObservedContainer][]
): ObservedTask => ({
  pause,
  containers: new Map(containers),
});
const pause = c("pause", "running", {
  ipAddress: "172.18.0.9",
  ports: [{ containerPort: 80, protocol: "tcp", hostIp: "127.0.0.1", hostPort: 32000 }],
});

describe("planTask", () => {
  const pair: ContainerDefinition[] = [
    { name: "a", image: "i", portMappings: [{ containerPort: 80 }] },
    { name: "b", image: "i", essential: false },
  ];

  it("creates the shared network namespace first for multi-container awsvpc tasks", () => {
    const plan = planTask(task(pair), observed(undefined), now);
    expect(plan.actions).toEqual([{ type: "createPause" }]);
  });

  it("moves to PENDING with the ENI details and runs containers once the namespace is up", () => {
    const plan = planTask(task(pair), observed(pause), now);
    expect(plan.next?.lastStatus).toBe("PENDING");
    expect(plan.next?.attachments?.[0].status).toBe("ATTACHED");
    expect(plan.next?.attachments?.[0].details).toContainEqual({ name: "privateIPv4Address", value: "172.18.0.9" });
    expect(plan.actions).toEqual([
      { type: "runContainer", name: "a" },
      { type: "runContainer", name: "b" },
    ]);
    expect(plan.next?.pullStartedAt).toEqual(now);
  });

  it("reports RUNNING with the namespace's bindings once every container started", () => {
    const plan = planTask(
      task(pair, { lastStatus: "PENDING" }),
      observed(pause, ["a", c("a", "running")], ["b", c("b", "running")]),
      now,
    );
    expect(plan.next?.lastStatus).toBe("RUNNING");
    expect(plan.next?.containers?.[0].networkBindings).toEqual([
      { bindIP: "127.0.0.1", containerPort: 80, hostPort: 32000, protocol: "tcp" },
    ]);
    expect(plan.next?.connectivity).toBe("CONNECTED");
  });

  it("runs a one-container awsvpc task without a pause container; the container holds the ENI", () => {
    const solo = [{ name: "a", image: "i", portMappings: [{ containerPort: 80 }] }];
    const first = planTask(task(solo), observed(undefined), now);
    expect(first.actions).toEqual([{ type: "runContainer", name: "a" }]);
    expect(first.next?.lastStatus).toBe("PENDING");
    const own = c("a", "running", {
      ipAddress: "172.17.0.5",
      ports: [{ containerPort: 80, protocol: "tcp", hostIp: "127.0.0.1", hostPort: 32001 }],
    });
    const second = planTask(first.next!, observed(undefined, ["a", own]), now);
    expect(second.next?.lastStatus).toBe("RUNNING");
    expect(second.next?.attachments?.[0].details).toContainEqual({ name: "privateIPv4Address", value: "172.17.0.5" });
    expect(second.next?.containers?.[0].networkBindings).toEqual([
      { bindIP: "127.0.0.1", containerPort: 80, hostPort: 32001, protocol: "tcp" },
    ]);
  });

  it("stops the task when an essential container exits", () => {
    const plan = planTask(
      task([{ name: "a", image: "i" }], { lastStatus: "RUNNING", everRunning: true }),
      observed(pause, ["a", c("a", "exited", { exitCode: 2 })]),
      now,
    );
    expect(plan.next).toMatchObject({
      desiredStatus: "STOPPED",
      stopCode: "EssentialContainerExited",
      stoppedReason: "Essential container in task exited",
    });
    expect(plan.next?.containers?.[0]).toMatchObject({ lastStatus: "STOPPED", exitCode: 2 });
  });

  it("stops containers in reverse dependency order with their stopTimeout", () => {
    const defs: ContainerDefinition[] = [
      { name: "db", image: "i", stopTimeout: 5 },
      { name: "app", image: "i", dependsOn: [{ containerName: "db", condition: "START" }] },
    ];
    const t = task(defs, { lastStatus: "RUNNING", desiredStatus: "STOPPED" });
    const first = planTask(t, observed(pause, ["db", c("db", "running")], ["app", c("app", "running")]), now);
    expect(first.actions).toEqual([{ type: "stopContainer", name: "app", id: "app-id", timeoutSec: 30 }]);
    expect(first.next?.lastStatus).toBe("STOPPING");
    const second = planTask(
      t,
      observed(pause, ["db", c("db", "running")], ["app", c("app", "exited", { exitCode: 0 })]),
      now,
    );
    expect(second.actions).toEqual([{ type: "stopContainer", name: "db", id: "db-id", timeoutSec: 5 }]);
  });

  it("deprovisions, then reports STOPPED once nothing is left", () => {
    const t = task([{ name: "a", image: "i" }], { lastStatus: "STOPPING", desiredStatus: "STOPPED" });
    const dep = planTask(t, observed(pause, ["a", c("a", "exited", { exitCode: 0 })]), now);
    expect(dep.next?.lastStatus).toBe("DEPROVISIONING");
    expect(dep.actions).toEqual([{ type: "cleanup" }]);
    const done = planTask({ ...t, lastStatus: "DEPROVISIONING" }, observed(undefined), now);
    expect(done.next).toMatchObject({ lastStatus: "STOPPED", stoppedAt: now });
    expect(done.next?.attachments?.[0].status).toBe("DELETED");
    expect(done.actions).toEqual([]);
  });

  it("stops a task whose containers vanished behind Berth's back", () => {
    const t = task([{ name: "a", image: "i" }], { lastStatus: "RUNNING", everRunning: true });
    t.containers = [{ name: "a", lastStatus: "RUNNING", runtimeId: "gone" }];
    const plan = planTask(t, observed(pause), now);
    expect(plan.next).toMatchObject({ desiredStatus: "STOPPED", stopCode: "EssentialContainerExited" });
    expect(plan.next?.stoppedReason).toMatch(/no longer exist/);
  });

  it("is idempotent: nothing to do for a settled RUNNING task", () => {
    const t = task(pair, { lastStatus: "PENDING" });
    const obs = observed(pause, ["a", c("a", "running")], ["b", c("b", "running")]);
    const settled = planTask(t, obs, now).next!;
    expect(planTask(settled, obs, now)).toEqual({ next: undefined, actions: [] });
  });
});

describe("dependencies", () => {
  const def = (condition: "START" | "COMPLETE" | "SUCCESS" | "HEALTHY"): ContainerDefinition => ({
    name: "app",
    dependsOn: [{ containerName: "dep", condition }],
  });
  it.each([
    ["START", undefined, false, false],
    ["START", c("dep", "running"), true, false],
    ["COMPLETE", c("dep", "running"), false, false],
    ["COMPLETE", c("dep", "exited", { exitCode: 9 }), true, false],
    ["SUCCESS", c("dep", "exited", { exitCode: 0 }), true, false],
    ["SUCCESS", c("dep", "exited", { exitCode: 1 }), false, true],
    ["HEALTHY", c("dep", "running", { health: "starting" }), false, false],
    ["HEALTHY", c("dep", "running", { health: "healthy" }), true, false],
    ["HEALTHY", c("dep", "running", { health: "unhealthy" }), false, true],
  ] as const)("%s with %o → ready %s, failed %s", (cond, dep, ready, failedNow) => {
    const r = dependencies(def(cond), observed(pause, ...(dep ? [["dep", dep] as [string, ObservedContainer]] : [])));
    expect(r.ready).toBe(ready);
    expect(!r.ready && r.failure !== undefined).toBe(failedNow);
  });
});

describe("taskHealth", () => {
  it("is HEALTHY only when every essential container with a check is", () => {
    const t = task([
      { name: "a", image: "i", healthCheck: { command: ["CMD", "x"] } },
      { name: "b", image: "i", healthCheck: { command: ["CMD", "x"] } },
    ]);
    expect(
      taskHealth(t, [
        { name: "a", healthStatus: "HEALTHY" },
        { name: "b", healthStatus: "UNKNOWN" },
      ]),
    ).toBe("UNKNOWN");
    expect(
      taskHealth(t, [
        { name: "a", healthStatus: "HEALTHY" },
        { name: "b", healthStatus: "HEALTHY" },
      ]),
    ).toBe("HEALTHY");
    expect(
      taskHealth(t, [
        { name: "a", healthStatus: "UNHEALTHY" },
        { name: "b", healthStatus: "HEALTHY" },
      ]),
    ).toBe("UNHEALTHY");
  });
});

describe("planner properties", () => {
  const states = fc.constantFrom<ObservedContainer["state"] | "absent">("absent", "created", "running", "exited");
  const conds = fc.constantFrom("START", "COMPLETE", "SUCCESS");
  const scenario = fc.record({
    depCond: conds,
    depState: states,
    appState: states,
    exit: fc.integer({ min: 0, max: 2 }),
    desired: fc.constantFrom("RUNNING", "STOPPED"),
    last: fc.constantFrom("PENDING", "RUNNING", "STOPPING"),
  });

  it("never runs or starts a container whose dependencies do not hold, nor anything once stopping", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const defs: ContainerDefinition[] = [
          { name: "dep", image: "i", essential: false },
          { name: "app", image: "i", dependsOn: [{ containerName: "dep", condition: s.depCond as "START" }] },
        ];
        const entries: [string, ObservedContainer][] = [];
        if (s.depState !== "absent")
          entries.push(["dep", c("dep", s.depState, { exitCode: s.depState === "exited" ? s.exit : undefined })]);
        if (s.appState !== "absent")
          entries.push(["app", c("app", s.appState, { exitCode: s.appState === "exited" ? 0 : undefined })]);
        const obs = observed(pause, ...entries);
        const plan = planTask(task(defs, { lastStatus: s.last, desiredStatus: s.desired }), obs, now);
        for (const a of plan.actions) {
          if (a.type !== "runContainer" && a.type !== "startContainer") continue;
          if (s.desired === "STOPPED") return false;
          if (a.name === "app" && !dependencies(defs[1], obs).ready) return false;
        }
        return true;
      }),
    );
  });
});
