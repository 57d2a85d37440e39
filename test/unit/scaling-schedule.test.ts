import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ScheduleError,
  latestDue,
  nextOccurrence,
  parseSchedule,
  validTimezone,
} from "../../src/controllers/scaling/schedule.js";

const t = (iso: string) => Date.parse(iso);
const w = (over: Partial<Parameters<typeof nextOccurrence>[2]> = {}) => ({
  createdAt: t("2026-01-01T00:00:00Z"),
  ...over,
});
const next = (expr: string, after: string, over = {}) => {
  const n = nextOccurrence(parseSchedule(expr), t(after), w(over));
  return n === undefined ? undefined : new Date(n).toISOString();
};

describe("schedule expressions", () => {
  it.each([
    ["at(2026-03-01T10:00:00)", "2026-01-01T00:00:00Z", {}, "2026-03-01T10:00:00.000Z"],
    ["at(2026-03-01T10:00:00)", "2026-03-01T10:00:00Z", {}, undefined],
    ["at(2026-07-01T10:00:00)", "2026-01-01T00:00:00Z", { timezone: "America/New_York" }, "2026-07-01T14:00:00.000Z"],
    ["at(2026-01-15T10:00:00)", "2026-01-01T00:00:00Z", { timezone: "Europe/Berlin" }, "2026-01-15T09:00:00.000Z"],
    ["rate(5 minutes)", "2026-01-01T00:00:00Z", {}, "2026-01-01T00:05:00.000Z"],
    ["rate(5 minutes)", "2026-01-01T00:07:00Z", {}, "2026-01-01T00:10:00.000Z"],
    ["rate(1 hour)", "2026-01-01T00:00:00Z", { startTime: t("2026-02-01T12:00:00Z") }, "2026-02-01T12:00:00.000Z"],
    ["rate(1 day)", "2026-01-01T00:00:00Z", { endTime: t("2026-01-01T12:00:00Z") }, undefined],
    ["cron(0 9 * * ? *)", "2026-01-01T09:00:00Z", {}, "2026-01-02T09:00:00.000Z"],
    ["cron(*/15 * * * ? *)", "2026-01-01T00:07:00Z", {}, "2026-01-01T00:15:00.000Z"],
    ["cron(0 18 ? * MON-FRI *)", "2026-01-02T19:00:00Z", {}, "2026-01-05T18:00:00.000Z"],
    ["cron(0 8 ? * 1 *)", "2026-01-01T00:00:00Z", {}, "2026-01-04T08:00:00.000Z"],
    ["cron(30 2 L * ? *)", "2026-02-01T00:00:00Z", {}, "2026-02-28T02:30:00.000Z"],
    ["cron(0 0 1 JAN ? 2027)", "2026-01-01T00:00:00Z", {}, "2027-01-01T00:00:00.000Z"],
    ["cron(0 0 1 JAN ? 2025)", "2026-01-01T00:00:00Z", {}, undefined],
    ["cron(0 9 * * ? *)", "2026-06-01T12:00:00Z", { timezone: "Asia/Tokyo" }, "2026-06-02T00:00:00.000Z"],
    // 02:30 does not exist in New York on 2026-03-08 (DST): the instant after the gap.
    ["cron(30 2 8 MAR ? 2026)", "2026-03-01T00:00:00Z", { timezone: "America/New_York" }, "2026-03-08T07:30:00.000Z"],
  ])("%s after %s %j → %s", (expr, after, over, want) => expect(next(expr, after, over)).toBe(want));

  it.each([
    ["every 5 minutes", /at\(yyyy-mm-ddThh:mm:ss\), rate\(value unit\) or cron/],
    ["at(2026-02-30T10:00:00)", /not a real date/],
    ["at(2026-02-01 10:00:00)", /yyyy-mm-ddThh:mm:ss/],
    ["rate(0 minutes)", /at least 1/],
    ["rate(1 minutes)", /singular unit/],
    ["rate(5 minute)", /singular unit/],
    ["rate(5 weeks)", /minute\(s\), hour\(s\) or day\(s\)/],
    ["cron(0 9 * * *)", /six fields/],
    ["cron(0 9 * * * *)", /Exactly one of the day-of-month and day-of-week/],
    ["cron(0 9 ? * ? *)", /Exactly one of the day-of-month and day-of-week/],
    ["cron(61 9 * * ? *)", /minutes must be between 0 and 59/],
    ["cron(0 25 * * ? *)", /hours must be between 0 and 23/],
    ["cron(0 9 ? * 8 *)", /day-of-week must be between 1 and 7/],
    ["cron(0 9 ? * MON#2 *)", /W, # or L/],
    ["cron(0 9 * FOO ? *)", /not a valid value for the month field/],
  ])("rejects %s", (expr, message) => {
    expect(() => parseSchedule(expr)).toThrow(ScheduleError);
    expect(() => parseSchedule(expr)).toThrow(message);
  });

  it("knows time zones", () => {
    expect(validTimezone("Europe/Paris")).toBe(true);
    expect(validTimezone("UTC")).toBe(true);
    expect(validTimezone("Mars/Olympus")).toBe(false);
  });

  it("latestDue runs the newest missed occurrence only", () => {
    const s = parseSchedule("cron(*/10 * * * ? *)");
    expect(new Date(latestDue(s, t("2026-01-01T00:00:00Z"), t("2026-01-01T00:35:00Z"), w())!).toISOString()).toBe(
      "2026-01-01T00:30:00.000Z",
    );
    expect(latestDue(s, t("2026-01-01T00:30:00Z"), t("2026-01-01T00:35:00Z"), w())).toBeUndefined();
    const r = parseSchedule("rate(10 minutes)");
    expect(new Date(latestDue(r, t("2026-01-01T00:00:00Z"), t("2026-01-01T00:35:00Z"), w())!).toISOString()).toBe(
      "2026-01-01T00:30:00.000Z",
    );
  });

  it("property: next occurrences are strictly increasing and match the cron fields", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: t("2026-01-01T00:00:00Z"), max: t("2030-01-01T00:00:00Z") }),
        fc.constantFrom("UTC", "America/New_York", "Asia/Kolkata", "Europe/London"),
        (minute, hour, after, timezone) => {
          const s = parseSchedule(`cron(${minute} ${hour} * * ? *)`);
          const a = nextOccurrence(s, after, w({ timezone }))!;
          const b = nextOccurrence(s, a, w({ timezone }))!;
          expect(a).toBeGreaterThan(after);
          expect(b).toBeGreaterThan(a);
          expect(new Date(a).getUTCMinutes() % 30).toBe(minute % 30); // zones here are whole or half hours off UTC
          expect(b - a).toBeLessThanOrEqual(25 * 3600_000);
        },
      ),
    );
  });
});
