import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatAddress, nextFreeAddress, parseCidr } from "../../src/services/ec2/cidr.js";
import {
  type InstanceStateName,
  STATE_CODE,
  type StateRequest,
  TERMINATED_VISIBLE_MS,
  hostStep,
  requestedState,
  userInitiated,
} from "../../src/services/ec2/instance-states.js";

const STATES = Object.keys(STATE_CODE) as InstanceStateName[];
const REQUESTS: StateRequest[] = ["start", "stop", "terminate"];
const state = fc.constantFrom(...STATES);
const request = fc.constantFrom(...REQUESTS);

describe("EC2 instance state requests", () => {
  it.each([
    ["running", "stop", "stopping"],
    ["pending", "stop", "stopping"],
    ["stopping", "stop", "stopping"],
    ["stopped", "stop", "stopped"],
    ["stopped", "start", "pending"],
    ["running", "start", "running"],
    ["pending", "start", "pending"],
    ["running", "terminate", "shutting-down"],
    ["stopped", "terminate", "shutting-down"],
    ["shutting-down", "terminate", "shutting-down"],
    ["terminated", "terminate", "terminated"],
  ] as const)("%s + %s → %s", (current, req, next) => expect(requestedState("i-1", current, req)).toBe(next));

  it.each([
    ["stopping", "start", "started"],
    ["shutting-down", "start", "started"],
    ["terminated", "start", "started"],
    ["shutting-down", "stop", "stopped"],
    ["terminated", "stop", "stopped"],
  ] as const)("%s + %s is IncorrectInstanceState", (current, req, word) => {
    const out = requestedState("i-0abc", current, req);
    expect(out).toEqual({ incorrect: expect.stringContaining("i-0abc") });
    expect((out as { incorrect: string }).incorrect).toContain(word);
  });

  it("asking twice is the same as asking once", () =>
    fc.assert(
      fc.property(state, request, (s, r) => {
        const once = requestedState("i-1", s, r);
        if (typeof once !== "string") return;
        expect(requestedState("i-1", once, r)).toBe(once);
      }),
    ));

  it("terminate is always accepted and never goes back", () =>
    fc.assert(
      fc.property(state, (s) => {
        expect(["shutting-down", "terminated"]).toContain(requestedState("i-1", s, "terminate"));
      }),
    ));

  it("the state codes are EC2's", () =>
    expect(STATE_CODE).toEqual({
      pending: 0,
      running: 16,
      "shutting-down": 32,
      terminated: 48,
      stopping: 64,
      stopped: 80,
    }));

  it("the user-initiated reason reads as EC2 writes it", () =>
    expect(userInitiated(new Date("2026-12-04T06:07:08.123Z"))).toBe("User initiated (2026-12-04 06:07:08 GMT)"));
});

describe("EC2 instance host convergence", () => {
  const live = { booting: false, terminatedForMs: 0 };
  it.each([
    ["pending", undefined, live, { do: "start-host", next: "running" }],
    ["running", { running: true }, live, { do: "nothing" }],
    ["running", { running: false }, live, { do: "host-lost" }],
    ["running", { running: false }, { booting: true, terminatedForMs: 0 }, { do: "start-host", next: "running" }],
    ["running", undefined, live, { do: "start-host", next: "running" }],
    ["stopping", { running: true }, live, { do: "stop-host", next: "stopped" }],
    ["stopped", { running: true }, live, { do: "stop-host" }],
    ["stopped", { running: false }, live, { do: "nothing" }],
    ["shutting-down", { running: true }, live, { do: "destroy-host", next: "terminated" }],
    ["terminated", { running: false }, live, { do: "destroy-host" }],
    ["terminated", undefined, live, { do: "nothing" }],
    ["terminated", undefined, { booting: false, terminatedForMs: TERMINATED_VISIBLE_MS }, { do: "forget" }],
  ] as const)("%s with host %j (%j) → %j", (s, host, opts, step) => expect(hostStep(s, host, opts)).toEqual(step));

  const host = fc.option(fc.record({ running: fc.boolean() }), { nil: undefined });
  const opts = fc.record({ booting: fc.boolean(), terminatedForMs: fc.nat() });

  it("only a terminated instance is ever forgotten, and never before it was visible for an hour", () =>
    fc.assert(
      fc.property(state, host, opts, (s, h, o) => {
        if (hostStep(s, h, o).do !== "forget") return;
        expect(s).toBe("terminated");
        expect(h).toBeUndefined();
        expect(o.terminatedForMs).toBeGreaterThanOrEqual(TERMINATED_VISIBLE_MS);
      }),
    ));

  it("a host is started only for an instance meant to run, and destroyed only for one being terminated", () =>
    fc.assert(
      fc.property(state, host, opts, (s, h, o) => {
        const step = hostStep(s, h, o).do;
        if (step === "start-host") expect(["pending", "running"]).toContain(s);
        if (step === "destroy-host") expect(["shutting-down", "terminated"]).toContain(s);
        if (step === "stop-host") expect(["stopping", "stopped"]).toContain(s);
      }),
    ));
});

describe("EC2 private addresses", () => {
  const subnet = parseCidr("172.31.0.0/28")!;
  it("skips the four addresses AWS reserves at the start", () =>
    expect(nextFreeAddress(subnet, new Set())).toBe("172.31.0.4"));
  it("skips taken addresses", () =>
    expect(nextFreeAddress(subnet, new Set(["172.31.0.4", "172.31.0.5"]))).toBe("172.31.0.6"));
  it("is undefined when only the broadcast address is left", () => {
    const taken = new Set(Array.from({ length: 11 }, (_, i) => formatAddress(subnet.base + 4 + i)));
    expect(nextFreeAddress(subnet, taken)).toBeUndefined();
  });
  it("never hands out a reserved or taken address", () =>
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { maxLength: 16 }), (offsets) => {
        const taken = new Set(offsets.map((o) => formatAddress(subnet.base + o)));
        const got = nextFreeAddress(subnet, taken);
        if (got === undefined) return;
        const offset = Number(got.split(".")[3]);
        expect(offset).toBeGreaterThanOrEqual(4);
        expect(offset).toBeLessThan(15);
        expect(taken.has(got)).toBe(false);
      }),
    ));
});
