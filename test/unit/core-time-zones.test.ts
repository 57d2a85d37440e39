import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validTimeZone, wallClock } from "../../src/core/time-zones.js";

describe("wallClock", () => {
  it.each<[string, string | undefined, Partial<ReturnType<typeof wallClock>>]>([
    ["2026-12-04T02:30:15Z", undefined, { year: 2026, month: 12, day: 4, hour: 2, minute: 30, second: 15, weekday: 5 }],
    ["2026-12-04T02:30:15Z", "Europe/Paris", { day: 4, hour: 3, minute: 30, weekday: 5 }],
    ["2026-12-04T02:30:15Z", "America/New_York", { day: 3, hour: 21, weekday: 4 }],
    ["2026-07-01T00:00:00Z", "America/New_York", { month: 6, day: 30, hour: 20 }], // EDT
    ["2026-03-29T01:30:00Z", "Europe/London", { hour: 2, minute: 30 }], // BST starts at 01:00 UTC
    ["2026-01-01T00:00:00Z", "Asia/Kolkata", { hour: 5, minute: 30 }],
  ])("%s in %s", (iso, tz, expected) => {
    expect(wallClock(Date.parse(iso), tz)).toMatchObject(expected);
  });

  it("agrees with Date's UTC fields in Etc/UTC (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(wallClock(ms, "America/Los_Angeles").minute).toBe(new Date(ms).getUTCMinutes());
        const viaIntl = wallClock(ms, "Etc/GMT");
        const d = new Date(ms);
        return viaIntl.hour === d.getUTCHours() && viaIntl.weekday === d.getUTCDay() && viaIntl.day === d.getUTCDate();
      }),
    );
  });

  it("knows zones", () => {
    expect(validTimeZone("Europe/Paris")).toBe(true);
    expect(validTimeZone("Mars/Olympus")).toBe(false);
  });
});
