import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MathError,
  type MathValue,
  type Series,
  asSeriesList,
  evaluate,
  parseExpression,
  referencedIds,
} from "../../src/metrics/math.js";

const s = (pairs: [number, number][], label?: string): Series => ({
  timestamps: pairs.map(([t]) => t),
  values: pairs.map(([, v]) => v),
  ...(label === undefined ? {} : { label }),
});
const m1 = s([
  [0, 1],
  [10, 2],
  [20, 3],
]);
const gap = s([
  [0, 2],
  [30, 8],
]);
const errors4xx = s([
  [0, 5],
  [10, 1],
]);
const errors5xx = s([
  [0, 1],
  [10, 4],
]);
const ctx = {
  lookup: (id: string): MathValue | undefined => ({ m1, gap, errors4xx, errors5xx })[id as "m1"],
  metrics: () => [
    { id: "m1", label: "cpu", series: m1 },
    { id: "errors4xx", label: "4xx", series: errors4xx },
    { id: "errors5xx", label: "5xx", series: errors5xx },
  ],
  grid: [0, 10, 20, 30],
  periodSec: 10,
  search: (expression: string, stat: string, period: number) => [s([[0, period]], `${expression} ${stat}`)],
};
const run = (e: string) => evaluate(parseExpression(e), ctx);

describe("metric math functions and operators", () => {
  it.each<[string, MathValue]>([
    [
      "m1 > 1",
      s([
        [0, 0],
        [10, 1],
        [20, 1],
      ]),
    ],
    [
      "m1 == 2",
      s([
        [0, 0],
        [10, 1],
        [20, 0],
      ]),
    ],
    [
      "m1 >= 2 AND m1 < 3",
      s([
        [0, 0],
        [10, 1],
        [20, 0],
      ]),
    ],
    [
      "m1 < 2 || m1 > 2",
      s([
        [0, 1],
        [10, 0],
        [20, 1],
      ]),
    ],
    [
      "NOT (m1 == 2)",
      s([
        [0, 1],
        [10, 0],
        [20, 1],
      ]),
    ],
    ["1 + 2 > 2", 1],
    [
      "IF(m1 > 1, m1 * 10)",
      s([
        [10, 20],
        [20, 30],
      ]),
    ],
    [
      "IF(m1 > 1, m1, 0)",
      s([
        [0, 0],
        [10, 2],
        [20, 3],
      ]),
    ],
    [
      "FILL(gap, REPEAT)",
      s([
        [0, 2],
        [10, 2],
        [20, 2],
        [30, 8],
      ]),
    ],
    [
      "FILL(gap, LINEAR)",
      s([
        [0, 2],
        [10, 4],
        [20, 6],
        [30, 8],
      ]),
    ],
    [
      "FILL(gap, -1)",
      s([
        [0, 2],
        [10, -1],
        [20, -1],
        [30, 8],
      ]),
    ],
    ["STDDEV(m1)", Math.sqrt(2 / 3)],
    [
      "LOG10(m1 * 10)",
      s([
        [0, 1],
        [10, Math.log10(20)],
        [20, Math.log10(30)],
      ]),
    ],
    [
      "RUNNING_SUM(m1)",
      s([
        [0, 1],
        [10, 3],
        [20, 6],
      ]),
    ],
    ["DIFF_TIME(gap)", s([[30, 0.03]])],
    ["DATAPOINT_COUNT(m1)", 3],
    ["METRIC_COUNT(METRICS())", 3],
    ["METRIC_COUNT(METRICS('errors'))", 2],
    ["PERIOD(m1)", 10],
    [
      "TIME_SERIES(7)",
      s([
        [0, 7],
        [10, 7],
        [20, 7],
        [30, 7],
      ]),
    ],
    [
      "SUM([METRICS('4xx'), METRICS('5xx')])",
      s([
        [0, 6],
        [10, 5],
      ]),
    ],
    [
      "MAX(METRICS('errors'))",
      s([
        [0, 5],
        [10, 4],
      ]),
    ],
    [
      "SORT(METRICS('errors'), SUM, DESC, 1)",
      [
        s(
          [
            [0, 5],
            [10, 1],
          ],
          "4xx",
        ),
      ],
    ],
    [
      "FIRST(SORT(METRICS('errors'), MAX, ASC))",
      s(
        [
          [0, 1],
          [10, 4],
        ],
        "5xx",
      ),
    ],
    [
      "LAST(METRICS())",
      s(
        [
          [0, 1],
          [10, 4],
        ],
        "5xx",
      ),
    ],
    ["REMOVE_EMPTY([m1, m1 / 0])", [m1]],
    [
      "EPOCH(m1)",
      s([
        [0, 0],
        [10, 0],
        [20, 0],
      ]),
    ],
    [
      "METRICS('errors') * 2",
      [
        s(
          [
            [0, 10],
            [10, 2],
          ],
          "4xx",
        ),
        s(
          [
            [0, 2],
            [10, 8],
          ],
          "5xx",
        ),
      ],
    ],
    [
      `SEARCH('{AWS/ECS,ClusterName} MetricName="CPUUtilization"', 'Average', 300)`,
      [s([[0, 300]], '{AWS/ECS,ClusterName} MetricName="CPUUtilization" Average')],
    ],
  ])("%s", (expr, expected) => expect(run(expr)).toEqual(expected));

  it.each([
    ["SQRT(m1)", /does not support the metric math function SQRT/],
    ["METRICS() + METRICS()", /cannot combine two arrays/],
    ["FILL(m1, SOMETIMES)", /Unrecognized id "SOMETIMES"/],
    ["SORT(METRICS(), MEDIAN, ASC)", /SORT takes SUM or AVG or MIN or MAX/],
    ["SEARCH(m1, 'Average', 60)", /SEARCH takes a quoted string/],
    ["METRICS(m1)", /METRICS takes a quoted string/],
    ["IF(m1)", /IF takes 2 to 3 arguments/],
    ["'text'", /can only be an argument/],
    ["", /empty/],
  ])("%s fails: %s", (expr, message) => {
    expect(() => run(expr)).toThrow(MathError);
    expect(() => run(expr)).toThrow(message);
  });

  it("keywords of FILL and SORT are not ids", () => {
    expect(referencedIds(parseExpression("FILL(m1, REPEAT) + SORT(METRICS(), SUM, DESC)"))).toEqual(["m1"]);
  });

  it("an array gives one series per member, a scalar one series over the grid", () => {
    expect(asSeriesList(run("METRICS()"), ctx.grid)).toHaveLength(3);
    expect(asSeriesList(5, [0, 10])).toEqual([
      s([
        [0, 5],
        [10, 5],
      ]),
    ]);
  });

  const series = fc
    .array(fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }), { minLength: 1, maxLength: 30 })
    .map((vs) => {
      const out: Series = { timestamps: [], values: [] };
      vs.forEach((v, i) => {
        if (v !== undefined) {
          out.timestamps.push(i * 10);
          out.values.push(v);
        }
      });
      return { out, n: vs.length };
    });

  it("property: comparisons and logic give only 0 and 1, on the series' own timestamps", () => {
    fc.assert(
      fc.property(
        series,
        fc.integer({ min: -1000, max: 1000 }),
        fc.constantFrom("==", "!=", "<", "<=", ">", ">="),
        ({ out: a }, k, op) => {
          const r = evaluate(parseExpression(`NOT (a ${op} ${k}) OR a ${op} ${k}`), {
            ...ctx,
            lookup: () => a,
          }) as Series;
          expect(r.timestamps).toEqual(a.timestamps);
          expect(r.values.every((v) => v === 1)).toBe(true);
        },
      ),
    );
  });

  it("property: FILL with REPEAT leaves no gap after the first datapoint, and keeps every datapoint", () => {
    fc.assert(
      fc.property(series, ({ out: a, n }) => {
        const grid = Array.from({ length: n }, (_, i) => i * 10);
        const r = evaluate(parseExpression("FILL(a, REPEAT)"), { ...ctx, grid, lookup: () => a }) as Series;
        if (a.timestamps.length) expect(r.timestamps).toEqual(grid.filter((t) => t >= a.timestamps[0]));
        for (const [i, t] of a.timestamps.entries()) expect(r.values[r.timestamps.indexOf(t)]).toBe(a.values[i]);
      }),
    );
  });

  it("property: RUNNING_SUM ends at SUM", () => {
    fc.assert(
      fc.property(series, ({ out: a }) => {
        fc.pre(a.values.length > 0);
        const l = { ...ctx, lookup: () => a };
        const running = evaluate(parseExpression("RUNNING_SUM(a)"), l) as Series;
        expect(running.values.at(-1)).toBe(evaluate(parseExpression("SUM(a)"), l));
      }),
    );
  });
});
