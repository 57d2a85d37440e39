import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type SelectableTarget,
  pickLeastOutstanding,
  pickRoundRobin,
  pickWeighted,
  routable,
} from "../../src/lb/select.js";

type T = SelectableTarget & { name: string };
const t = (name: string, state: T["state"], over: Partial<T> = {}): T => ({
  name,
  state,
  draining: false,
  addressable: true,
  inflight: 0,
  healthySince: 0,
  ...over,
});
const names = (ts: T[]) => ts.map((x) => x.name);

describe("routable targets", () => {
  it.each<[string, T[], string[]]>([
    ["healthy ones only", [t("a", "healthy"), t("b", "unhealthy"), t("c", "initial")], ["a"]],
    [
      "fail open: all unhealthy when none is healthy",
      [t("a", "unhealthy"), t("b", "unhealthy"), t("c", "initial")],
      ["a", "b"],
    ],
    ["never initial targets", [t("a", "initial")], []],
    ["never draining targets", [t("a", "healthy", { draining: true }), t("b", "unhealthy")], ["b"]],
    ["never unaddressable targets", [t("a", "healthy", { addressable: false })], []],
    ["no targets", [], []],
  ])("%s", (_, targets, expected) => {
    expect(names(routable(targets))).toEqual(expected);
  });

  it("is never empty while a healthy or unhealthy, non-draining target exists", () => {
    const arb = fc.array(
      fc.record({
        state: fc.constantFrom<T["state"]>("initial", "healthy", "unhealthy"),
        draining: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(arb, (specs) => {
        const targets = specs.map((s, i) => t(String(i), s.state, { draining: s.draining }));
        const r = routable(targets);
        const candidates = targets.filter((x) => !x.draining && x.state !== "initial");
        expect(r.length > 0).toBe(candidates.length > 0);
        expect(r.every((x) => !x.draining && x.state !== "initial")).toBe(true);
        if (targets.some((x) => !x.draining && x.state === "healthy"))
          expect(r.every((x) => x.state === "healthy")).toBe(true);
      }),
    );
  });
});

describe("round robin", () => {
  it("visits every target once per cycle", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 20 }), (n, start) => {
        const targets = Array.from({ length: n }, (_, i) => t(String(i), "healthy"));
        const cursor = { next: start };
        const seen = Array.from(
          { length: n },
          () => pickRoundRobin(targets, cursor, { now: 0, slowStartMs: 0, random: Math.random })!.name,
        );
        expect(new Set(seen).size).toBe(n);
      }),
    );
  });

  it("slow start sends a new target a growing share", () => {
    const old = t("old", "healthy", { healthySince: -1_000_000 });
    const fresh = t("new", "healthy", { healthySince: 0 });
    const share = (now: number) => {
      const cursor = { next: 0 };
      let rnd = 0;
      const random = () => {
        rnd = (rnd + 0.3819660113) % 1; // deterministic, evenly spread
        return rnd;
      };
      let count = 0;
      for (let i = 0; i < 2000; i++)
        if (pickRoundRobin([old, fresh], cursor, { now, slowStartMs: 30_000, random })?.name === "new") count++;
      return count / 2000;
    };
    expect(share(1_500)).toBeLessThan(0.15);
    expect(share(15_000)).toBeGreaterThan(0.25);
    expect(share(15_000)).toBeLessThan(0.45);
    expect(share(40_000)).toBeCloseTo(0.5, 1);
  });
});

describe("least outstanding requests", () => {
  it("picks a target with the fewest in-flight requests", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5), { minLength: 1, maxLength: 8 }), fc.nat(10), (loads, start) => {
        const targets = loads.map((inflight, i) => t(String(i), "healthy", { inflight }));
        const got = pickLeastOutstanding(targets, { next: start })!;
        expect(got.inflight).toBe(Math.min(...loads));
      }),
    );
  });

  it("spreads ties round robin", () => {
    const targets = [t("a", "healthy"), t("b", "healthy"), t("c", "healthy")];
    const cursor = { next: 0 };
    expect([1, 2, 3, 4].map(() => pickLeastOutstanding(targets, cursor)!.name)).toEqual(["a", "b", "c", "a"]);
  });
});

describe("weighted target groups (smooth weighted round robin)", () => {
  it("gives each group exactly its weight over every sum(weights) picks", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 5 }), (weights) => {
        const total = weights.reduce((a, b) => a + b, 0);
        const current = weights.map(() => 0);
        const counts = weights.map(() => 0);
        for (let i = 0; i < total * 2; i++) {
          const g = pickWeighted(weights, current);
          expect(g).toBeGreaterThanOrEqual(0);
          counts[g]++;
        }
        expect(counts).toEqual(weights.map((w) => w * 2));
        if (total === 0) expect(pickWeighted(weights, current)).toBe(-1);
      }),
    );
  });

  it("never picks a group of weight 0", () => {
    const current = [0, 0, 0];
    for (let i = 0; i < 50; i++) expect(pickWeighted([0, 3, 1], current)).not.toBe(0);
  });
});
