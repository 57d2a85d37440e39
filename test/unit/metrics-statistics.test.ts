import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Sample,
  aggregate,
  bucketize,
  parseStatistic,
  percentile,
  statistic,
  trimmedMean,
  validQueryPeriod,
} from "../../src/metrics/statistics.js";

const value = (timestamp: number, v: number, unit = "None"): Sample => ({
  timestamp,
  unit,
  count: 1,
  sum: v,
  min: v,
  max: v,
  values: [[v, 1]],
});

describe("statistic names", () => {
  it.each([
    ["Average", { kind: "basic", name: "Average" }],
    ["SampleCount", { kind: "basic", name: "SampleCount" }],
    ["p99", { kind: "percentile", p: 99 }],
    ["p99.9", { kind: "percentile", p: 99.9 }],
    ["p0", { kind: "percentile", p: 0 }],
    ["p100", { kind: "percentile", p: 100 }],
    ["tm90", { kind: "trimmedMean", lower: 0, upper: 90 }],
    ["tm(10%:90%)", { kind: "trimmedMean", lower: 10, upper: 90 }],
    ["tm(%:90%)", { kind: "trimmedMean", lower: 0, upper: 90 }],
  ])("%s", (name, spec) => expect(parseStatistic(name)).toEqual(spec));

  it.each(["average", "p101", "p-1", "tm(90%:10%)", "x", "", "wm99"])("rejects %s", (name) =>
    expect(parseStatistic(name)).toBeUndefined(),
  );

  it.each([
    [1, true],
    [5, true],
    [10, true],
    [30, true],
    [60, true],
    [300, true],
    [45, false],
    [0, false],
    [90, false],
    [-60, false],
  ])("query period %d valid: %s", (p, ok) => expect(validQueryPeriod(p)).toBe(ok));
});

describe("aggregates", () => {
  it("folds values, value lists and statistic sets", () => {
    const agg = aggregate([
      value(0, 10),
      {
        timestamp: 0,
        unit: "None",
        count: 3,
        sum: 6,
        min: 1,
        max: 3,
        values: [
          [1, 1],
          [2, 1],
          [3, 1],
        ],
      },
    ])!;
    expect(agg).toMatchObject({ count: 4, sum: 16, min: 1, max: 10 });
    expect(statistic(agg, { kind: "basic", name: "Average" })).toBe(4);
    expect(statistic(agg, { kind: "percentile", p: 50 })).toBe(2);
    expect(statistic(agg, { kind: "percentile", p: 100 })).toBe(10);
  });

  it("has no percentiles for a statistic set with different min and max, but does for one repeated value", () => {
    const set = aggregate([{ timestamp: 0, unit: "None", count: 4, sum: 10, min: 1, max: 4 }])!;
    expect(statistic(set, { kind: "percentile", p: 50 })).toBeUndefined();
    expect(statistic(set, { kind: "basic", name: "Average" })).toBe(2.5);
    const same = aggregate([{ timestamp: 0, unit: "None", count: 4, sum: 8, min: 2, max: 2 }])!;
    expect(statistic(same, { kind: "percentile", p: 90 })).toBe(2);
  });

  it("weights percentiles and trimmed means by counts", () => {
    expect(
      percentile(
        [
          [1, 9],
          [100, 1],
        ],
        90,
      ),
    ).toBe(1);
    expect(
      percentile(
        [
          [1, 9],
          [100, 1],
        ],
        91,
      ),
    ).toBe(100);
    expect(
      trimmedMean(
        [
          [1, 9],
          [100, 1],
        ],
        0,
        90,
      ),
    ).toBe(1);
    expect(
      trimmedMean(
        [
          [1, 1],
          [2, 1],
          [3, 1],
          [4, 1],
        ],
        25,
        75,
      ),
    ).toBe(2.5);
  });

  it("buckets by epoch-aligned periods inside the range", () => {
    const buckets = bucketize([value(1_000, 1), value(9_999, 3), value(10_000, 5), value(25_000, 7)], 10, 0, 20_000);
    expect([...buckets.keys()]).toEqual([0, 10_000]);
    expect(buckets.get(0)).toMatchObject({ count: 2, sum: 4 });
  });

  it("property: min ≤ every percentile ≤ max, percentiles rise with p, average between min and max", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 5 })), {
          minLength: 1,
          maxLength: 50,
        }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, p, q) => {
          const agg = aggregate([
            {
              timestamp: 0,
              unit: "None",
              count: values.reduce((n, [, c]) => n + c, 0),
              sum: values.reduce((n, [v, c]) => n + v * c, 0),
              min: Math.min(...values.map(([v]) => v)),
              max: Math.max(...values.map(([v]) => v)),
              values,
            },
          ])!;
          const [lo, hi] = p <= q ? [p, q] : [q, p];
          const a = statistic(agg, { kind: "percentile", p: lo })!;
          const b = statistic(agg, { kind: "percentile", p: hi })!;
          expect(a).toBeGreaterThanOrEqual(agg.min);
          expect(b).toBeLessThanOrEqual(agg.max);
          expect(a).toBeLessThanOrEqual(b);
          const avg = statistic(agg, { kind: "basic", name: "Average" })!;
          expect(avg).toBeGreaterThanOrEqual(agg.min - 1e-6 * Math.abs(agg.min) - 1e-9);
          expect(avg).toBeLessThanOrEqual(agg.max + 1e-6 * Math.abs(agg.max) + 1e-9);
        },
      ),
    );
  });
});
