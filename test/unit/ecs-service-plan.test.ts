import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ServiceSnapshot,
  type TargetState,
  failureThreshold,
  planService,
} from "../../src/controllers/services/plan.js";
import type { DeploymentRecord, ServiceRecord, TaskRecord } from "../../src/store/schema/ecs.js";

const now = new Date("2026-01-01T00:10:00Z");
const old = new Date("2026-01-01T00:00:00Z");
let seq = 0;

const deployment = (
  id: string,
  status: "PRIMARY" | "ACTIVE",
  extra: Partial<DeploymentRecord> = {},
): DeploymentRecord => ({
  id,
  status,
  taskDefinition: `td:${id}`,
  desiredCount: 0,
  runningCount: 0,
  pendingCount: 0,
  failedTasks: 0,
  createdAt: old,
  updatedAt: old,
  rolloutState: "IN_PROGRESS",
  ...extra,
});

function service(desired: number, deployments: DeploymentRecord[], extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    serviceArn: "arn:aws:ecs:us-east-1:000000000000:service/c/web",
    serviceName: "web",
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
    status: "ACTIVE",
    desiredCount: desired,
    taskDefinition: deployments[0].taskDefinition,
    deployments,
    events: [],
    createdAt: old,
    tags: [],
    draining: {},
    deploymentConfiguration: {
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
    ...extra,
  };
}

function task(dep: string, state: "RUNNING" | "PENDING" | "STOPPED", extra: Partial<TaskRecord> = {}): TaskRecord {
  seq++;
  return {
    taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/t${seq}`,
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
    lastStatus: state,
    desiredStatus: state === "STOPPED" ? "STOPPED" : "RUNNING",
    createdAt: old,
    startedAt: state === "RUNNING" ? old : undefined,
    startedBy: dep,
    group: "service:web",
    attachments: [
      { type: "ElasticNetworkInterface", details: [{ name: "privateIPv4Address", value: `10.0.0.${seq % 250}` }] },
    ],
    spec: {
      family: "f",
      revision: 1,
      networkMode: "awsvpc",
      containers: [{ name: "web", image: "i", essential: true }],
      volumes: [],
    },
    ...extra,
  };
}

const snap = (s: ServiceRecord, tasks: TaskRecord[], targets = new Map<string, TargetState[]>()): ServiceSnapshot => ({
  service: s,
  tasks,
  targets,
  now,
  healthyAfterMs: 40_000,
});

describe("planService", () => {
  it("starts the desired count for a new service", () => {
    const p = planService(snap(service(3, [deployment("d1", "PRIMARY")]), []));
    expect(p.start).toEqual([{ deploymentId: "d1", count: 3 }]);
    expect(p.next?.events[0].message).toBe("(service web) has started 3 tasks.");
  });

  it("completes the rollout once every task is running and healthy", () => {
    const p = planService(
      snap(service(2, [deployment("d1", "PRIMARY")]), [task("d1", "RUNNING"), task("d1", "RUNNING")]),
    );
    expect(p.start).toEqual([]);
    expect(p.next?.deployments[0]).toMatchObject({ rolloutState: "COMPLETED", runningCount: 2 });
    expect(p.next?.events[0].message).toBe("(service web) has reached a steady state.");
  });

  it("replaces a stopped task", () => {
    const p = planService(
      snap(service(2, [deployment("d1", "PRIMARY")]), [
        task("d1", "RUNNING"),
        task("d1", "STOPPED", { stopCode: "EssentialContainerExited" }),
      ]),
    );
    expect(p.start).toEqual([{ deploymentId: "d1", count: 1 }]);
  });

  it("rolls: starts new tasks up to maximumPercent and stops old ones only above minimumHealthyPercent", () => {
    const s = service(2, [deployment("new", "PRIMARY"), deployment("old", "ACTIVE", { rolloutState: "COMPLETED" })]);
    const first = planService(snap(s, [task("old", "RUNNING"), task("old", "RUNNING")]));
    expect(first.start).toEqual([{ deploymentId: "new", count: 2 }]);
    expect(first.stop).toEqual([]);
    const halfway = planService(
      snap(s, [task("old", "RUNNING"), task("old", "RUNNING"), task("new", "RUNNING"), task("new", "PENDING")]),
    );
    expect(halfway.stop).toHaveLength(1); // one new task is healthy, so one old one may go
  });

  it("scales in extra tasks", () => {
    const p = planService(
      snap(service(1, [deployment("d1", "PRIMARY")]), [task("d1", "RUNNING"), task("d1", "RUNNING")]),
    );
    expect(p.stop).toHaveLength(1);
    expect(p.stop[0].reason).toBe("Scaling activity initiated by (deployment d1)");
  });

  it("trips the circuit breaker and rolls back to the previous deployment", () => {
    const s = service(2, [deployment("bad", "PRIMARY"), deployment("good", "ACTIVE", { rolloutState: "COMPLETED" })]);
    const failed = [1, 2, 3].map(() => task("bad", "STOPPED", { stopCode: "EssentialContainerExited" }));
    const p = planService(snap(s, [task("good", "RUNNING"), task("good", "RUNNING"), ...failed]));
    const bad = p.next?.deployments.find((d) => d.id === "bad");
    expect(p.next?.deployments[0]).toMatchObject({ id: "good", status: "PRIMARY" });
    expect(bad).toBeUndefined(); // no tasks left: gone from deployments[]
    expect(p.next?.taskDefinition).toBe("td:good");
    expect(p.next?.events.map((e) => e.message)).toContain("(service web) rolling back to deployment good.");
  });

  it("deregisters and drains a task behind a load balancer before stopping it", () => {
    const tg = "arn:tg";
    const s = service(1, [deployment("d1", "PRIMARY")], {
      loadBalancers: [{ targetGroupArn: tg, containerName: "web", containerPort: 80 }],
    });
    const a = task("d1", "RUNNING");
    const b = task("d1", "RUNNING");
    const ip = (t: TaskRecord) => t.attachments![0].details![0].value!;
    const targets = new Map([
      [
        tg,
        [
          { id: ip(a), port: 80, state: "healthy" },
          { id: ip(b), port: 80, state: "healthy" },
        ],
      ],
    ]);
    const p = planService(snap(s, [a, b], targets));
    expect(p.stop).toEqual([]);
    expect(p.deregister).toHaveLength(1);
    const drainingArn = Object.keys(p.next!.draining)[0];
    const gone = new Map([[tg, [{ id: ip(drainingArn === a.taskArn ? b : a), port: 80, state: "healthy" }]]]);
    const later = planService(snap(p.next!, [a, b], gone));
    expect(later.stop.map((x) => x.taskArn)).toEqual([drainingArn]);
  });

  it.each([
    [1, 3],
    [6, 3],
    [10, 5],
    [1000, 200],
  ])("failure threshold for %i desired is %i", (desired, threshold) =>
    expect(failureThreshold(desired)).toBe(threshold),
  );
});

describe("rolling deployment properties", () => {
  it("never plans below minimumHealthyPercent healthy nor above maximumPercent live", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom([100, 200], [50, 200], [0, 100], [50, 150], [100, 150]),
        fc.array(fc.record({ dep: fc.constantFrom("new", "old"), state: fc.constantFrom("RUNNING", "PENDING") }), {
          maxLength: 16,
        }),
        (desired, [min, max], shape) => {
          const s = service(
            desired,
            [deployment("new", "PRIMARY"), deployment("old", "ACTIVE", { rolloutState: "COMPLETED" })],
            {
              deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max },
            },
          );
          const tasks = shape.map((x) => task(x.dep, x.state as "RUNNING" | "PENDING"));
          const p = planService(snap(s, tasks));
          const stopped = new Set(p.stop.map((x) => x.taskArn));
          const healthyBefore = tasks.filter((t) => t.lastStatus === "RUNNING").length;
          const healthyAfter = tasks.filter((t) => t.lastStatus === "RUNNING" && !stopped.has(t.taskArn)).length;
          const minHealthy = Math.ceil((desired * min) / 100);
          const maxLive = Math.max(Math.floor((desired * max) / 100), 1);
          const liveAfter = tasks.length - stopped.size + p.start.reduce((n, x) => n + x.count, 0);
          const primaryLive = tasks.filter((t) => t.startedBy === "new").length;
          // Stopping healthy tasks never takes the healthy count below the floor (unless it was already below,
          // or the primary deployment has more tasks than desired and is scaling in).
          const floorKept = healthyAfter >= Math.min(minHealthy, healthyBefore) || primaryLive > desired;
          const capKept = p.start.length === 0 || liveAfter <= Math.max(maxLive, tasks.length - stopped.size);
          return floorKept && capKept;
        },
      ),
    );
  });
});
