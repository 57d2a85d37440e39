import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { misfit } from "../../src/scheduler/filters.js";
import { type PlacementOptions, planPlacement } from "../../src/scheduler/plan.js";
import { type TaskNeeds, taskNeeds } from "../../src/scheduler/reservation.js";
import type { HostRoom } from "../../src/scheduler/room.js";

type InstanceRoom = HostRoom;
const room = (id: string, over: Partial<InstanceRoom> = {}): InstanceRoom => ({
  id,
  cpu: 2048,
  memory: 4096,
  ports: new Set(["tcp:22"]),
  tasks: 0,
  ...over,
});

/** The plan in the shape these assertions were written for: host per placed task, failures by host. */
const placeTasks = (
  rooms: InstanceRoom[],
  needs: TaskNeeds,
  count: number,
  opts: { strategy?: PlacementOptions["strategy"]; constraints?: PlacementOptions["placementConstraints"] } = {},
) => {
  const plan = planPlacement(rooms, needs, count, { strategy: opts.strategy, placementConstraints: opts.constraints });
  return {
    placed: plan.placements.map((p) => p.hostId),
    failures: plan.failures.map((f) => ({ arn: f.hostId, reason: f.reason })),
  };
};

describe("taskNeeds", () => {
  it.each<[string, Parameters<typeof taskNeeds>[0], object]>([
    [
      "task-level size wins over containers",
      { cpuUnits: 512, memoryMiB: 1024, networkMode: "awsvpc", containers: [{ name: "a", cpu: 10, memory: 20 }] },
      { cpu: 512, memory: 1024, ports: [] },
    ],
    [
      "sums containers; memoryReservation when memory is unset",
      {
        networkMode: "bridge",
        containers: [
          { name: "a", cpu: 100, memory: 64 },
          { name: "b", memoryReservation: 32 },
        ],
      },
      { cpu: 100, memory: 96, ports: [] },
    ],
    [
      "bridge reserves fixed host ports only",
      {
        networkMode: "bridge",
        containers: [
          {
            name: "a",
            memory: 8,
            portMappings: [
              { containerPort: 80, hostPort: 8080 },
              { containerPort: 81 },
              { containerPort: 82, hostPort: 0 },
              { containerPort: 53, hostPort: 5353, protocol: "udp" },
            ],
          },
        ],
      },
      { cpu: 0, memory: 8, ports: ["tcp:8080", "udp:5353"] },
    ],
    [
      "host mode reserves every container port",
      { networkMode: "host", containers: [{ name: "a", memory: 8, portMappings: [{ containerPort: 9000 }] }] },
      { cpu: 0, memory: 8, ports: ["tcp:9000"] },
    ],
    [
      "awsvpc reserves no host ports",
      {
        networkMode: "awsvpc",
        containers: [{ name: "a", memory: 8, portMappings: [{ containerPort: 80, hostPort: 80 }] }],
      },
      { cpu: 0, memory: 8, ports: [] },
    ],
  ])("%s", (_, spec, expected) => {
    expect(taskNeeds(spec)).toEqual(expected);
  });
});

describe("placement", () => {
  it.each<[string, InstanceRoom, object, string | undefined]>([
    ["fits", room("i"), { cpu: 1024, memory: 512, ports: ["tcp:80"] }, undefined],
    ["cpu first", room("i", { cpu: 100, memory: 10 }), { cpu: 200, memory: 20, ports: [] }, "RESOURCE:CPU"],
    ["then memory", room("i"), { cpu: 0, memory: 5000, ports: [] }, "RESOURCE:MEMORY"],
    ["then ports", room("i"), { cpu: 0, memory: 1, ports: ["tcp:22"] }, "RESOURCE:PORTS"],
    ["exactly full fits", room("i"), { cpu: 2048, memory: 4096, ports: [] }, undefined],
  ])("misfit: %s", (_, r, needs, expected) => {
    expect(misfit(r, needs as never)).toBe(expected);
  });

  it("places until the instance is full, then names the reason once per instance", () => {
    const out = placeTasks([room("i", { memory: 1000 })], { cpu: 0, memory: 400, ports: [] }, 3);
    expect(out).toEqual({ placed: ["i", "i"], failures: [{ arn: "i", reason: "RESOURCE:MEMORY" }] });
  });

  it("a fixed host port takes one task per instance", () => {
    const out = placeTasks([room("a"), room("b")], { cpu: 0, memory: 1, ports: ["tcp:8080"] }, 3);
    expect(out.placed.sort()).toEqual(["a", "b"]);
    expect(out.failures).toEqual([
      { arn: "a", reason: "RESOURCE:PORTS" },
      { arn: "b", reason: "RESOURCE:PORTS" },
    ]);
  });

  it("spreads by default and binpacks on memory when asked", () => {
    const instances = [room("a", { tasks: 2 }), room("b", { memory: 1000 })];
    expect(placeTasks(instances, { cpu: 0, memory: 10, ports: [] }, 1).placed).toEqual(["b"]);
    const big = [room("a", { memory: 3000 }), room("b", { memory: 1000 })];
    expect(
      placeTasks(big, { cpu: 0, memory: 10, ports: [] }, 1, { strategy: [{ type: "binpack", field: "memory" }] })
        .placed,
    ).toEqual(["b"]);
  });

  it("distinctInstance puts each task on its own instance", () => {
    const out = placeTasks([room("a"), room("b")], { cpu: 0, memory: 1, ports: [] }, 3, {
      constraints: [{ type: "distinctInstance" }],
    });
    expect(out.placed.sort()).toEqual(["a", "b"]);
    expect(out.failures.map((f) => f.reason)).toEqual(["DistinctInstance", "DistinctInstance"]);
  });

  it("property: never overcommits an instance, and fails only when something did not fit", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cpu: fc.integer({ min: 0, max: 4096 }),
            memory: fc.integer({ min: 0, max: 8192 }),
            tasks: fc.integer({ min: 0, max: 5 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.record({
          cpu: fc.integer({ min: 0, max: 2048 }),
          memory: fc.integer({ min: 0, max: 4096 }),
          ports: fc.subarray(["tcp:80", "tcp:22", "udp:53"]),
        }),
        fc.integer({ min: 1, max: 10 }),
        (specs, needs, count) => {
          const rooms = specs.map((s, i) => room(`i${i}`, s));
          const out = placeTasks(rooms, needs, count);
          expect(out.placed.length).toBeLessThanOrEqual(count);
          expect(out.failures.length === 0).toBe(out.placed.length === count);
          for (const r of rooms) {
            const n = out.placed.filter((a) => a === r.id).length;
            expect(n * needs.cpu).toBeLessThanOrEqual(r.cpu);
            expect(n * needs.memory).toBeLessThanOrEqual(r.memory);
            if (needs.ports.length > 0) expect(n).toBeLessThanOrEqual(needs.ports.some((p) => r.ports.has(p)) ? 0 : 1);
          }
        },
      ),
    );
  });
});
