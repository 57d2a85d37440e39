import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AlarmRule,
  type AlarmState,
  type TreatMissingData,
  breaches,
  evaluateAlarm,
  evaluationRange,
} from "../../src/controllers/alarms/evaluate.js";

const rule = (over: Partial<AlarmRule> = {}): AlarmRule => ({
  periodSec: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  threshold: 50,
  comparison: "GreaterThanThreshold",
  treatMissingData: "missing",
  ...over,
});
/** "X" breaching (80), "0" not breaching (10), "-" missing; oldest first. */
const points = (pattern: string) =>
  [...pattern.replaceAll(" ", "")].map((c, i) => ({
    timestamp: 1_700_000_000_000 + i * 60_000,
    value: c === "X" ? 80 : c === "0" ? 10 : undefined,
  }));

describe("alarm evaluation: M out of N with missing data", () => {
  const cases: [string, number, TreatMissingData, AlarmState, AlarmState][] = [
    // pattern, M, treatMissingData, current, expected
    ["X X X", 3, "missing", "OK", "ALARM"],
    ["0 X X", 3, "missing", "ALARM", "OK"],
    ["0 X X", 2, "missing", "OK", "ALARM"],
    ["- - -", 3, "missing", "OK", "INSUFFICIENT_DATA"],
    ["- - -", 3, "ignore", "ALARM", "ALARM"],
    ["- - -", 3, "breaching", "OK", "ALARM"],
    ["- - -", 3, "notBreaching", "ALARM", "OK"],
    ["X - X", 3, "breaching", "OK", "ALARM"],
    ["X - X", 3, "notBreaching", "ALARM", "OK"],
    ["X - X", 3, "missing", "INSUFFICIENT_DATA", "OK"],
    ["X - X", 2, "missing", "OK", "ALARM"],
    ["X - X", 2, "ignore", "OK", "ALARM"],
    ["0 - -", 1, "missing", "ALARM", "OK"],
  ];
  it.each(cases)("%s, %d to alarm, %s, from %s → %s", (pattern, m, treat, current, expected) => {
    const e = evaluateAlarm(rule({ datapointsToAlarm: m, treatMissingData: treat }), points(pattern), current);
    expect(e.state).toBe(expected);
    expect(e.changed).toBe(expected !== current);
  });

  it.each([
    ["GreaterThanThreshold", 50, false],
    ["GreaterThanOrEqualToThreshold", 50, true],
    ["LessThanThreshold", 50, false],
    ["LessThanOrEqualToThreshold", 50, true],
    ["GreaterThanThreshold", 51, true],
    ["LessThanThreshold", 49, true],
  ] as const)("%s with value %d vs 50: %s", (op, v, expected) => expect(breaches(v, 50, op)).toBe(expected));

  it("writes AWS's reason text", () => {
    const e = evaluateAlarm(rule(), points("XXX"), "OK");
    expect(e.reason).toMatch(
      /^Threshold Crossed: 3 out of the last 3 datapoints \[80\.0 \(14\/11\/23 22:15:20\), 80\.0 .*\] were greater than the threshold \(50\.0\) \(minimum 3 datapoints for OK -> ALARM transition\)\.$/,
    );
    expect(evaluateAlarm(rule(), points("0XX"), "ALARM").reason).toMatch(
      /^Threshold Crossed: 1 out of the last 3 datapoints .* was not greater than the threshold \(50\.0\)/,
    );
    expect(evaluateAlarm(rule(), points("---"), "OK").reason).toBe("Insufficient Data: 3 datapoints were unknown.");
  });

  it("evaluates the N periods before the last complete one (after the delay)", () => {
    expect(evaluationRange(10, 3, 100_500, 0)).toEqual([70_000, 80_000, 90_000]);
    expect(evaluationRange(10, 3, 101_500, 2000)).toEqual([60_000, 70_000, 80_000]);
    expect(evaluationRange(60, 1, 120_000, 0)).toEqual([60_000]);
  });

  it("property: ALARM exactly when at least M periods breach (missing treated as breaching/not)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("X", "0", "-"), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom<TreatMissingData>("breaching", "notBreaching", "ignore", "missing"),
        fc.constantFrom<AlarmState>("OK", "ALARM", "INSUFFICIENT_DATA"),
        (cells, mRaw, treat, current) => {
          const n = cells.length;
          const m = Math.min(mRaw, n);
          const e = evaluateAlarm(
            rule({ evaluationPeriods: n, datapointsToAlarm: m, treatMissingData: treat }),
            points(cells.join("")),
            current,
          );
          const x = cells.filter((c) => c === "X").length;
          const missing = cells.filter((c) => c === "-").length;
          const breaching = x + (treat === "breaching" ? missing : 0);
          if (breaching >= m) expect(e.state).toBe("ALARM");
          else if (missing === n && treat === "missing") expect(e.state).toBe("INSUFFICIENT_DATA");
          else if (missing === n && treat === "ignore") expect(e.state).toBe(current);
          else expect(e.state).toBe("OK");
        },
      ),
    );
  });
});
