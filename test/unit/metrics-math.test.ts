import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MathError, type MathValue, type Series, asSeries, evaluate, parseExpression } from "../../src/metrics/math.js";

const s = (pairs: [number, number][]): Series => ({
  timestamps: pairs.map(([t]) => t),
  values: pairs.map(([, v]) => v),
});
const m1 = s([
  [0, 1],
  [10, 2],
  [20, 3],
]);
const m2 = s([
  [0, 10],
  [20, 30],
]);
const ctx = {
  lookup: (id: string): MathValue | undefined => ({ m1, m2 })[id as "m1"],
  metrics: () => [
    { id: "m1", label: "cpu", series: m1 },
    { id: "m2", label: "mem", series: m2 },
  ],
  grid: [0, 10, 20],
  periodSec: 10,
};
const run = (e: string) => evaluate(parseExpression(e), ctx);

describe("metric math", () => {
  it.each<[string, MathValue]>([
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["2 ^ 3 ^ 2", 512],
    [
      "-m1",
      s([
        [0, -1],
        [10, -2],
        [20, -3],
      ]),
    ],
    [
      "m1 * 100",
      s([
        [0, 100],
        [10, 200],
        [20, 300],
      ]),
    ],
    [
      "m1 + m2",
      s([
        [0, 11],
        [20, 33],
      ]),
    ],
    ["m2 / (m1 - 1)", s([[20, 15]])],
    ["SUM(m1)", 6],
    ["AVG(m1)", 2],
    [
      "MAX([m1, m2])",
      s([
        [0, 10],
        [10, 2],
        [20, 30],
      ]),
    ],
    [
      "SUM(METRICS())",
      s([
        [0, 11],
        [10, 2],
        [20, 33],
      ]),
    ],
    [
      // METRICS('x') keeps the metrics whose Id contains x
      "SUM(METRICS('1'))",
      s([
        [0, 1],
        [10, 2],
        [20, 3],
      ]),
    ],
    [
      "FILL(m2, 0)",
      s([
        [0, 10],
        [10, 0],
        [20, 30],
      ]),
    ],
    [
      "DIFF(m1)",
      s([
        [10, 1],
        [20, 1],
      ]),
    ],
    // timestamps are epoch ms: one unit per 10 ms is 100 per second
    [
      "RATE(m1)",
      s([
        [10, 100],
        [20, 100],
      ]),
    ],
    [
      "ABS(0 - m1)",
      s([
        [0, 1],
        [10, 2],
        [20, 3],
      ]),
    ],
    [
      "CEIL(m1 / 2)",
      s([
        [0, 1],
        [10, 1],
        [20, 2],
      ]),
    ],
    [
      "FLOOR(m1 / 2)",
      s([
        [0, 0],
        [10, 1],
        [20, 1],
      ]),
    ],
  ])("%s", (expr, expected) => expect(run(expr)).toEqual(expected));

  it.each([
    ["m1 +", /ends too early/],
    ["m3 * 2", /Unrecognized id "m3"/],
    ["ANOMALY_DETECTION_BAND(m1)", /does not support the metric math function ANOMALY_DETECTION_BAND/],
    ["SUM(m1, m2)", /takes 1 argument/],
    ["m1 $ 2", /Unexpected "\$"/],
    ["(m1", /Expected "\)"/],
  ])("%s fails: %s", (expr, message) => {
    expect(() => run(expr)).toThrow(MathError);
    expect(() => run(expr)).toThrow(message);
  });

  it("broadcasts a scalar over the query's periods", () => {
    expect(asSeries(5, [0, 10])).toEqual(
      s([
        [0, 5],
        [10, 5],
      ]),
    );
    expect(() => asSeries([m1, m2], [0])).toThrow(/returns 2 time series/);
  });

  it("property: a + b - b gives back a on their common timestamps", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 20 }),
        (av, bv) => {
          const a = s(av.map((v, i) => [i * 10, v]));
          const b = s(bv.map((v, i) => [i * 10, v]));
          const out = evaluate(parseExpression("a + b - b"), {
            ...ctx,
            lookup: (id) => ({ a, b })[id as "a"],
          }) as Series;
          const n = Math.min(av.length, bv.length);
          expect(out.timestamps).toEqual(a.timestamps.slice(0, n));
          expect(out.values).toEqual(av.slice(0, n));
        },
      ),
    );
  });
});
