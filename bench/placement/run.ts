/**
 * Placements per second with 100 hosts: src/scheduler (filters → scorers → plan) against the
 * single-function placement it replaced (baseline.ts, copied verbatim), in the same process.
 * Pure CPU work: no Berth process, no Docker, no network.
 * `npm run bench:placement -- [--seconds 1] [--rounds 5] [--max-calls 200000] [--hosts 100] [--count 10]`
 */
import { parseArgs } from "node:util";
import { planPlacement } from "../../src/scheduler/plan.js";
import type { HostRoom } from "../../src/scheduler/room.js";
import type { PlacementConstraint, PlacementStrategy } from "../../src/protocol/generated/types/ecs.js";
import { describeMachine, machine, markdownTable, summarize, today, warnIfBusy } from "../lib.js";
import { type InstanceRoom, placeTasks } from "./baseline.js";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "1" },
    rounds: { type: "string", default: "5" },
    "max-calls": { type: "string", default: "200000" },
    hosts: { type: "string", default: "100" },
    count: { type: "string", default: "10" },
  },
});
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
const MAX_CALLS = Number(opts["max-calls"]);
const HOSTS = Number(opts.hosts);
const COUNT = Number(opts.count);
if (!(SECONDS > 0 && SECONDS <= 30)) throw new Error("--seconds (per side, per round): 0..30");
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error("--rounds: 1..20");
if (!Number.isInteger(MAX_CALLS) || MAX_CALLS < 1 || MAX_CALLS > 10_000_000) throw new Error("--max-calls: 1..1e7");
if (!Number.isInteger(HOSTS) || HOSTS < 1 || HOSTS > 10_000) throw new Error("--hosts: 1..10000");
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 10) throw new Error("--count (tasks per call, as RunTask): 1..10");

/** A cluster of hosts in three zones, part full, deterministic so both sides see the same one. */
function cluster(): HostRoom[] {
  return Array.from({ length: HOSTS }, (_, i) => ({
    id: `arn:aws:ecs:us-east-1:000000000000:container-instance/bench/${i.toString(16).padStart(32, "0")}`,
    cpu: 4096 - ((i * 37) % 2048),
    memory: 16384 - ((i * 977) % 8192),
    ports: new Set(["tcp:22", "tcp:2375", "tcp:2376", "tcp:51678", "tcp:51679", ...(i % 7 === 0 ? ["tcp:8080"] : [])]),
    tasks: i % 5,
    attributes: { "ecs.availability-zone": `us-east-1${"abc"[i % 3]}`, "ecs.instance-type": "berth.local" },
  }));
}
const needs = { cpu: 256, memory: 512, ports: ["tcp:8080"] };

interface Scenario {
  name: string;
  strategy?: PlacementStrategy[];
  constraints?: PlacementConstraint[];
}
/** Both sides place the same way in the first two; the third is what the baseline cannot express (it binpacks). */
const SCENARIOS: Scenario[] = [
  { name: "default (spread over hosts)" },
  { name: "binpack(memory)", strategy: [{ type: "binpack", field: "memory" }] },
  {
    name: "spread(AZ) → binpack(memory), distinctInstance",
    strategy: [
      { type: "spread", field: "attribute:ecs.availability-zone" },
      { type: "binpack", field: "memory" },
    ],
    constraints: [{ type: "distinctInstance" }],
  },
];

/** Calls `place` for SECONDS or MAX_CALLS, whichever ends first; placements per second. */
function measure(place: () => number): number {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let placed = 0;
  let calls = 0;
  while (calls < MAX_CALLS && (calls % 64 !== 0 || performance.now() < deadline)) {
    placed += place();
    calls++;
  }
  return placed / ((performance.now() - start) / 1000);
}

const m = machine();
warnIfBusy(m);
const hosts = cluster();
const rooms: InstanceRoom[] = hosts.map((h) => ({
  arn: h.id,
  cpu: h.cpu,
  memory: h.memory,
  ports: h.ports,
  tasks: h.tasks,
}));
const rows: string[][] = [];
for (const s of SCENARIOS) {
  const scheduler = () =>
    planPlacement(hosts, needs, COUNT, { strategy: s.strategy, placementConstraints: s.constraints }).placements.length;
  const baseline = () =>
    placeTasks(rooms, needs, COUNT, { strategy: s.strategy, constraints: s.constraints }).placed.length;
  // Warm both up, then alternate so drift on the machine hits both alike.
  measure(scheduler);
  measure(baseline);
  const ours: number[] = [];
  const peer: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(measure(scheduler));
    peer.push(measure(baseline));
  }
  const a = summarize(ours).median;
  const b = summarize(peer).median;
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  rows.push([s.name, fmt(a), fmt(b), `${(a / b).toFixed(2)}×`]);
}

process.stdout.write(
  `\nPlacement, ${HOSTS} hosts, ${COUNT} tasks per call (cpu 256, memory 512, fixed port tcp:8080) — ${today()}\n` +
    `${describeMachine(m)}\n` +
    `${ROUNDS} rounds of ${SECONDS} s (at most ${MAX_CALLS} calls) per side, after one warm-up each; medians\n\n` +
    markdownTable(["strategy", "scheduler placements/s", "baseline placements/s", "÷ baseline"], rows, [
      false,
      true,
      true,
      true,
    ]) +
    "\n",
);
