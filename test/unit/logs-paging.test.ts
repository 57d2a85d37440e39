import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeFilterToken,
  decodeStreamToken,
  encodeFilterToken,
  encodeStreamToken,
  eventId,
} from "../../src/services/logs/paging.js";
import { pageByKey } from "../../src/core/paginate.js";

describe("event ids and tokens", () => {
  it("are 56 digits that sort like (timestamp, seq)", () => {
    const a = eventId({ time: 1_700_000_000_000, seq: 5 });
    const b = eventId({ time: 1_700_000_000_000, seq: 12 });
    const c = eventId({ time: 1_700_000_000_001, seq: 1 });
    expect(a).toMatch(/^\d{56}$/);
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });

  it("round-trip through GetLogEvents and FilterLogEvents tokens", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.constantFrom("forward" as const, "backward" as const),
        (time, seq, direction) => {
          const t = encodeStreamToken(direction, { time, seq });
          expect(t).toMatch(/^[fb]\/\d{56}$/);
          expect(decodeStreamToken(t)).toEqual({ direction, boundary: { time, seq } });
          expect(decodeFilterToken(encodeFilterToken({ time, seq }))).toEqual({ time, seq });
        },
      ),
    );
  });

  it.each(["", "f/123", "x/00000000000000000000000000000000000000000000000000000000", "garbage"])(
    "rejects the stream token %j with InvalidParameterException",
    (token) => {
      expect(() => decodeStreamToken(token)).toThrow(expect.objectContaining({ code: "InvalidParameterException" }));
    },
  );

  it("rejects a foreign filter token", () => {
    expect(() => decodeFilterToken("bm9wZQ")).toThrow(expect.objectContaining({ code: "InvalidParameterException" }));
  });
});

describe("pageByKey", () => {
  it("walks every item exactly once, in order, for any page size and direction", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.boolean(),
        (names, limit, descending) => {
          const seen: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const r = pageByKey(names, (n) => [n], { descending, nextToken: token, limit });
            expect(r.page.length).toBeLessThanOrEqual(limit);
            seen.push(...r.page);
            token = r.nextToken;
            pages++;
          } while (token && pages < 100);
          const sorted = [...names].sort();
          expect(seen).toEqual(descending ? sorted.reverse() : sorted);
        },
      ),
    );
  });

  it("keeps its place when items are added or removed between pages", () => {
    const first = pageByKey(["a", "b", "c", "d"], (n) => [n], { limit: 2 });
    expect(first.page).toEqual(["a", "b"]);
    const second = pageByKey(["a", "aa", "c", "d", "e"], (n) => [n], { limit: 2, nextToken: first.nextToken });
    expect(second.page).toEqual(["c", "d"]);
  });

  it("rejects a token it did not make", () => {
    expect(() => pageByKey(["a"], (n) => [n], { limit: 1, nextToken: "nope" })).toThrow(
      expect.objectContaining({ code: "InvalidParameterException" }),
    );
  });
});
