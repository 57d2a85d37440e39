import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serviceInFlight } from "../../src/controllers/services/in-flight.js";
import { planService } from "../../src/controllers/services/plan.js";
import type { DeploymentRecord, ServiceRecord, TaskRecord } from "../../src/store/schema/ecs.js";

const now = new Date("2026-01-01T00:10:00Z");
const old = new Date("2026-01-01T00:00:00Z");
let seq = 0;

const deployment = (extra: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  id: "d1",
  status: "PRIMARY",
  taskDefinition: "td:1",
  desiredCount: 0,
  runningCount: 0,
  pendingCount: 0,
  failedTasks: 0,
  createdAt: old,
  updatedAt: old,
  rolloutState: "COMPLETED",
  ...extra,
});

const service = (desired: number, extra: Partial<ServiceRecord> = {}): ServiceRecord => ({
  serviceArn: "arn:aws:ecs:us-east-1:000000000000:service/c/web",
  serviceName: "web",
  clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
  status: "ACTIVE",
  desiredCount: desired,
  taskDefinition: "td:1",
  deployments: [deployment({ desiredCount: desired, runningCount: desired })],
  events: [],
  createdAt: old,
  tags: [],
  draining: {},
  runningCount: desired,
  pendingCount: 0,
  ...extra,
});

const task = (lastStatus: string, desiredStatus = "RUNNING"): TaskRecord => ({
  taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/t${++seq}`,
  clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
  lastStatus,
  desiredStatus,
  createdAt: old,
  startedAt: lastStatus === "RUNNING" ? old : undefined,
  startedBy: "d1",
  group: "service:web",
  spec: { family: "f", revision: 1, networkMode: "awsvpc", containers: [{ name: "web", image: "i" }], volumes: [] },
});

const running = (n: number) => Array.from({ length: n }, () => task("RUNNING"));

describe("serviceInFlight", () => {
  const cases: [string, ServiceRecord, TaskRecord[], boolean][] = [
    ["steady: every task running, deployment completed", service(2), running(2), false],
    ["steady with zero tasks", service(0), [], false],
    ["steady; stopped tasks of the past do not count", service(1), [...running(1), task("STOPPED", "STOPPED")], false],
    [
      "a deployment in progress",
      service(2, { deployments: [deployment({ rolloutState: "IN_PROGRESS" })] }),
      running(2),
      true,
    ],
    [
      "two deployments (old one shrinking)",
      service(2, { deployments: [deployment(), deployment({ id: "d0", status: "ACTIVE" })] }),
      running(2),
      true,
    ],
    ["fewer tasks than desired", service(3), running(2), true],
    ["more tasks than desired", service(1), running(2), true],
    ["a task still starting", service(2), [...running(1), task("PENDING")], true],
    ["a task stopping", service(1), [...running(1), task("RUNNING", "STOPPED")], true],
    ["a task draining from its target group", service(2, { draining: { x: "reason" } }), running(2), true],
    ["being deleted", service(0, { status: "DRAINING" }), [], true],
    ["a task in its health check grace period", service(1, { healthCheckGracePeriodSeconds: 3600 }), running(1), true],
    ["the grace period over", service(1, { healthCheckGracePeriodSeconds: 60 }), running(1), false],
  ];
  it.each(cases)("%s", (_name, s, tasks, expected) => {
    expect(serviceInFlight(s, tasks, now)).toBe(expected);
  });

  it("a service it leaves alone has nothing for the planner to do (no LB, no health checks)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 3 }), (n, stoppedBefore) => {
        const s = service(n);
        const tasks = [...running(n), ...Array.from({ length: stoppedBefore }, () => task("STOPPED", "STOPPED"))];
        fc.pre(!serviceInFlight(s, tasks, now));
        const plan = planService({ service: s, tasks, targets: new Map(), now, healthyAfterMs: 40_000 });
        expect(plan.start).toEqual([]);
        expect(plan.stop).toEqual([]);
        expect(plan.register).toEqual([]);
        expect(plan.deregister).toEqual([]);
      }),
    );
  });
});
