import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import {
  DAY,
  HOUR,
  MAX_BATCH_BYTES,
  RETENTION_DAYS,
  batchBytes,
  checkGroupName,
  checkRetention,
  checkStreamName,
  checkTags,
  judgeBatch,
} from "../../src/services/logs/rules.js";

const NOW = Date.UTC(2025, 5, 1, 12);
const ev = (timestamp: number, message = "m") => ({ timestamp, message });

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof ServiceError ? e.code : String(e);
  }
  return "no error";
};

describe("PutLogEvents batch rules", () => {
  const cases: {
    name: string;
    events: { timestamp: number; message: string }[];
    retention?: number;
    start: number;
    end: number;
    rejected?: Record<string, number>;
  }[] = [
    { name: "all current", events: [ev(NOW - 1000), ev(NOW), ev(NOW)], start: 0, end: 3 },
    {
      name: "older than 14 days at the front",
      events: [ev(NOW - 14 * DAY - 2 * HOUR), ev(NOW - 14 * DAY - 1), ev(NOW - 14 * DAY + HOUR)],
      start: 2,
      end: 3,
      rejected: { tooOldLogEventEndIndex: 2 },
    },
    {
      name: "more than 2 hours ahead at the back",
      events: [ev(NOW), ev(NOW + 2 * HOUR), ev(NOW + 2 * HOUR + 1), ev(NOW + 3 * HOUR)],
      start: 0,
      end: 2,
      rejected: { tooNewLogEventStartIndex: 2 },
    },
    {
      name: "older than the retention",
      events: [ev(NOW - DAY - 2 * HOUR), ev(NOW - DAY - 1), ev(NOW - DAY + HOUR)],
      retention: 1,
      start: 2,
      end: 3,
      rejected: { expiredLogEventEndIndex: 2 },
    },
    {
      name: "everything rejected",
      events: [ev(NOW + 3 * HOUR), ev(NOW + 4 * HOUR)],
      start: 0,
      end: 0,
      rejected: { tooNewLogEventStartIndex: 0 },
    },
  ];
  it.each(cases)("$name", ({ events, retention, start, end, rejected }) => {
    const verdict = judgeBatch(events, NOW, retention);
    expect(verdict.start).toBe(start);
    expect(verdict.end).toBe(end);
    expect(verdict.rejected).toEqual(rejected);
  });

  it("refuses events out of chronological order", () => {
    expect(() => judgeBatch([ev(NOW), ev(NOW - 1)], NOW)).toThrow(/chronological order/);
    expect(code(() => judgeBatch([ev(NOW), ev(NOW - 1)], NOW))).toBe("InvalidParameterException");
  });

  it("refuses a batch spanning more than 24 hours", () => {
    expect(() => judgeBatch([ev(NOW - 25 * HOUR), ev(NOW)], NOW)).toThrow(/24 hours/);
    expect(judgeBatch([ev(NOW - 24 * HOUR), ev(NOW)], NOW).end).toBe(2);
  });

  it("counts 26 bytes per event plus UTF-8 message bytes, up to 1,048,576", () => {
    expect(batchBytes([ev(0, "é"), ev(0, "ab")])).toBe(2 + 26 + 2 + 26);
    const exact = [ev(NOW, "x".repeat(MAX_BATCH_BYTES - 26))];
    expect(judgeBatch(exact, NOW).end).toBe(1);
    const over = [ev(NOW, "x".repeat(MAX_BATCH_BYTES - 25))];
    expect(() => judgeBatch(over, NOW)).toThrow(/Upload too large: 1048577 bytes/);
  });
});

describe("names, retention and tags", () => {
  it.each(["/aws/ecs/app", "a", "my-group_1.log#2"])("accepts log group name %s", (n) => {
    expect(checkGroupName(n)).toBe(n);
  });
  it.each(["has space", "colon:name", "star*", "ünï"])("rejects log group name %s", (n) => {
    expect(code(() => checkGroupName(n))).toBe("InvalidParameterException");
  });
  it("rejects stream names with : or *", () => {
    expect(checkStreamName("ecs/web/0123abcd")).toBe("ecs/web/0123abcd");
    expect(code(() => checkStreamName("a:b"))).toBe("InvalidParameterException");
    expect(code(() => checkStreamName("a*"))).toBe("InvalidParameterException");
  });
  it("accepts exactly the retention values AWS lists", () => {
    for (const d of RETENTION_DAYS) expect(checkRetention(d)).toBe(d);
    for (const d of [0, 2, 4, 10, 31, 366, 3654, -1])
      expect(() => checkRetention(d)).toThrow(/Member must satisfy enum value set: \[1, 3, 5/);
  });
  it("checks tag keys and values", () => {
    expect(checkTags({ team: "a b", "k:x/y": "" })).toEqual({ team: "a b", "k:x/y": "" });
    expect(code(() => checkTags({ "bad!": "x" }))).toBe("InvalidParameterException");
    expect(code(() => checkTags({ ok: "bad!" }))).toBe("InvalidParameterException");
    expect(code(() => checkTags({ "aws:reserved": "x" }))).toBe("InvalidParameterException");
  });
});
