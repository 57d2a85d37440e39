import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memberOf, misfit } from "../../src/scheduler/filters.js";
import { type PlacementOptions, planOnHosts, planPlacement, revalidate } from "../../src/scheduler/plan.js";
import type { TaskNeeds } from "../../src/scheduler/reservation.js";
import { type HostRoom, hostRoom } from "../../src/scheduler/room.js";

const host = (id: string, over: Partial<HostRoom> = {}): HostRoom => ({
  id,
  cpu: 2048,
  memory: 4096,
  ports: new Set(),
  tasks: 0,
  attributes: {},
  ...over,
});
const needs = (over: Partial<TaskNeeds> = {}): TaskNeeds => ({ cpu: 0, memory: 10, ports: [], ...over });
const hostsOf = (plan: { placements: { hostId: string }[] }) => plan.placements.map((p) => p.hostId);

/** A seeded generator, so `random` placement is repeatable in tests. */
const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

describe("hostRoom", () => {
  it("takes the live tasks' reservations and fixed ports from the host's capacity", () => {
    const room = hostRoom({ id: "h", cpu: 1024, memory: 2048, reservedPorts: ["tcp:22"] }, [
      {
        networkMode: "bridge",
        containers: [{ cpu: 256, memory: 512, portMappings: [{ containerPort: 80, hostPort: 8080 }] }],
      },
      { networkMode: "awsvpc", cpuUnits: 256, memoryMiB: 512, containers: [] },
    ]);
    expect(room).toEqual({
      id: "h",
      cpu: 512,
      memory: 1024,
      ports: new Set(["tcp:22", "tcp:8080"]),
      tasks: 2,
      attributes: undefined,
    });
  });
});

describe("memberOf expressions", () => {
  const attrs = { "ecs.instance-type": "t2.small", "ecs.availability-zone": "us-east-1a", gpu: "" };
  it.each<[string, boolean]>([
    ["attribute:ecs.instance-type == t2.small", true],
    ["attribute:ecs.instance-type == t2.large", false],
    ["attribute:ecs.instance-type != t2.large", true],
    ["attribute:ecs.instance-type =~ t2.*", true],
    ["attribute:ecs.instance-type !~ t2.*", false],
    ["attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true],
    ["attribute:ecs.availability-zone not_in ['us-east-1a']", false],
    ["attribute:gpu exists", true],
    ["attribute:fpga exists", false],
    ["attribute:gpu exists and attribute:ecs.instance-type == t2.large", false],
    ["attribute:fpga exists or attribute:ecs.instance-type == t2.small", true],
    // Outside the subset Berth reads: constrains nothing.
    ["task:group == service:web", true],
    ["not(attribute:gpu exists)", true],
  ])("%s → %s", (expression, expected) => {
    expect(memberOf(expression)(host("h", { attributes: attrs }))).toBe(expected);
  });
});

describe("planPlacement", () => {
  it.each<[string, HostRoom[], PlacementOptions, number, string[]]>([
    ["default spreads over hosts", [host("a", { tasks: 1 }), host("b")], {}, 2, ["b", "a"]],
    [
      "binpack memory fills the fullest host first",
      [host("a"), host("b", { memory: 30 })],
      { strategy: [{ type: "binpack", field: "memory" }] },
      4,
      ["b", "b", "b", "a"],
    ],
    [
      "binpack cpu ranks by cpu left",
      [host("a", { cpu: 100 }), host("b", { cpu: 50 })],
      { strategy: [{ type: "binpack", field: "cpu" }] },
      1,
      ["b"],
    ],
    [
      "spread over an attribute, then binpack within the value",
      [
        host("a1", { attributes: { az: "a" }, memory: 100 }),
        host("a2", { attributes: { az: "a" }, memory: 50 }),
        host("b1", { attributes: { az: "b" }, memory: 1000 }),
      ],
      {
        strategy: [
          { type: "spread", field: "attribute:az" },
          { type: "binpack", field: "memory" },
        ],
      },
      3,
      ["a2", "b1", "a2"],
    ],
    [
      "strategy order is priority: binpack first ignores spread",
      [host("a", { memory: 100, tasks: 5 }), host("b", { memory: 200 })],
      {
        strategy: [
          { type: "binpack", field: "memory" },
          { type: "spread", field: "instanceId" },
        ],
      },
      1,
      ["a"],
    ],
    [
      "memberOf keeps tasks on matching hosts",
      [host("a", { attributes: { t: "x" } }), host("b", { attributes: { t: "y" } })],
      { placementConstraints: [{ type: "memberOf", expression: "attribute:t == y" }] },
      2,
      ["b", "b"],
    ],
  ])("%s", (_, hosts, opts, count, expected) => {
    expect(hostsOf(planPlacement(hosts, needs(), count, opts))).toEqual(expected);
  });

  it("random places on feasible hosts only, repeatably for one seed", () => {
    const hosts = [host("a"), host("b", { memory: 5 }), host("c")];
    const opts = { strategy: [{ type: "random" }], random: seeded(7) };
    const first = hostsOf(planPlacement(hosts, needs(), 5, opts));
    expect(first.every((h) => h !== "b")).toBe(true);
    expect(hostsOf(planPlacement(hosts, needs(), 5, { ...opts, random: seeded(7) }))).toEqual(first);
  });

  it("reads at most five strategies", () => {
    const five = Array.from({ length: 5 }, () => ({ type: "spread", field: "instanceId" }));
    const hosts = [host("a", { memory: 100 }), host("b", { memory: 50 })];
    // The sixth (binpack) would pick b; spread ties keep input order.
    const plan = planPlacement(hosts, needs(), 1, { strategy: [...five, { type: "binpack", field: "memory" }] });
    expect(hostsOf(plan)).toEqual(["a"]);
  });

  it("names the memberOf failure as ECS does", () => {
    const plan = planPlacement([host("a", { attributes: { t: "x" } })], needs(), 1, {
      placementConstraints: [{ type: "memberOf", expression: "attribute:t == y" }],
    });
    expect(plan).toEqual({
      placements: [],
      failures: [{ hostId: "a", reason: "MemberOf placement constraint unsatisfied" }],
    });
  });
});

describe("planOnHosts (StartTask)", () => {
  it("one task per named host, in order; a host named twice gives what is left", () => {
    const plan = planOnHosts([host("a", { memory: 15 }), host("b")], needs(), ["a", "b", "a"]);
    expect(plan).toEqual({
      placements: [
        { taskIndex: 0, hostId: "a" },
        { taskIndex: 1, hostId: "b" },
      ],
      failures: [{ hostId: "a", reason: "RESOURCE:MEMORY", taskIndex: 2 }],
    });
  });
});

describe("revalidate", () => {
  const plan = planPlacement([host("a", { memory: 25 }), host("b", { memory: 25 })], needs(), 4);
  it.each<[string, HostRoom[], object | undefined]>([
    ["the same state: the plan stands", [host("a", { memory: 25 }), host("b", { memory: 25 })], undefined],
    [
      "a host filled meanwhile",
      [host("a", { memory: 15 }), host("b", { memory: 25 })],
      { placement: { taskIndex: 2, hostId: "a" }, reason: "RESOURCE:MEMORY" },
    ],
    ["a host gone", [host("b", { memory: 25 })], { placement: { taskIndex: 0, hostId: "a" }, reason: "MISSING" }],
    [
      "a port taken meanwhile",
      [host("a", { memory: 25, ports: new Set(["tcp:1"]) }), host("b", { memory: 25 })],
      undefined,
    ],
  ])("%s", (_, now, expected) => {
    expect(revalidate(plan, now, needs())).toEqual(expected);
  });
});

describe("placement properties", () => {
  const arbHost = (i: number) =>
    fc
      .record({
        cpu: fc.integer({ min: 0, max: 4096 }),
        memory: fc.integer({ min: 0, max: 8192 }),
        tasks: fc.integer({ min: 0, max: 5 }),
        az: fc.constantFrom("a", "b", "c"),
        port: fc.boolean(),
      })
      .map((h) =>
        host(`h${i}`, {
          cpu: h.cpu,
          memory: h.memory,
          tasks: h.tasks,
          attributes: { az: h.az },
          ports: new Set(h.port ? ["tcp:80"] : []),
        }),
      );
  const arbHosts = fc
    .integer({ min: 1, max: 8 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbHost(i))));
  const arbNeeds = fc.record({
    cpu: fc.integer({ min: 0, max: 2048 }),
    memory: fc.integer({ min: 0, max: 4096 }),
    ports: fc.subarray(["tcp:80", "udp:53"]),
  });
  const arbStrategy = fc.array(
    fc.oneof(
      fc.record({ type: fc.constant("binpack"), field: fc.constantFrom("cpu", "memory", "CPU") }),
      fc.record({ type: fc.constant("spread"), field: fc.constantFrom("instanceId", "attribute:az", "host") }),
      fc.record({ type: fc.constant("random") }),
    ),
    { maxLength: 5 },
  );
  const arbConstraints = fc.subarray([
    { type: "distinctInstance" },
    { type: "memberOf", expression: "attribute:az != c" },
  ]);

  it("never over-commits a host, and a plan re-validates against the state it was made from", () => {
    fc.assert(
      fc.property(
        arbHosts,
        arbNeeds,
        fc.integer({ min: 1, max: 10 }),
        arbStrategy,
        arbConstraints,
        fc.integer(),
        (hosts, n, count, strategy, placementConstraints, seed) => {
          const plan = planPlacement(hosts, n, count, { strategy, placementConstraints, random: seeded(seed) });
          expect(plan.placements.map((p) => p.taskIndex)).toEqual(plan.placements.map((_, i) => i));
          expect(plan.failures.length === 0).toBe(plan.placements.length === count);
          for (const h of hosts) {
            const k = plan.placements.filter((p) => p.hostId === h.id).length;
            expect(k * n.cpu).toBeLessThanOrEqual(Math.max(h.cpu, 0));
            expect(k * n.memory).toBeLessThanOrEqual(Math.max(h.memory, 0));
            if (n.ports.length > 0) expect(k).toBeLessThanOrEqual(n.ports.some((p) => h.ports.has(p)) ? 0 : 1);
          }
          expect(revalidate(plan, hosts, n, placementConstraints)).toBeUndefined();
        },
      ),
    );
  });

  it("distinctInstance never places two tasks on one host", () => {
    fc.assert(
      fc.property(arbHosts, arbNeeds, fc.integer({ min: 1, max: 10 }), arbStrategy, (hosts, n, count, strategy) => {
        const plan = planPlacement(hosts, n, count, { strategy, placementConstraints: [{ type: "distinctInstance" }] });
        const ids = hostsOf(plan);
        expect(new Set(ids).size).toBe(ids.length);
      }),
    );
  });

  it("binpack picks the fullest feasible host", () => {
    fc.assert(
      fc.property(arbHosts, arbNeeds, fc.constantFrom<"cpu" | "memory">("cpu", "memory"), (hosts, n, field) => {
        const plan = planPlacement(hosts, n, 1, { strategy: [{ type: "binpack", field }] });
        const feasible = hosts.filter((h) => misfit(h, n) === undefined);
        if (feasible.length === 0) {
          expect(plan.placements).toEqual([]);
          return;
        }
        const chosen = hosts.find((h) => h.id === plan.placements[0].hostId)!;
        expect(chosen[field]).toBe(Math.min(...feasible.map((h) => h[field])));
      }),
    );
  });

  it("leaves the caller's rooms untouched", () => {
    fc.assert(
      fc.property(arbHosts, arbNeeds, fc.integer({ min: 1, max: 10 }), (hosts, n, count) => {
        const before = hosts.map((h) => ({ ...h, ports: [...h.ports] }));
        planPlacement(hosts, n, count);
        expect(hosts.map((h) => ({ ...h, ports: [...h.ports] }))).toEqual(before);
      }),
    );
  });
});
