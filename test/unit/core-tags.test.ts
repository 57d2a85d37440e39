import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import {
  type TagLimit,
  duplicateTagKey,
  keyValueFields,
  lowercaseFields,
  mergeTags,
  removeTags,
} from "../../src/core/tags.js";

const limit = (max: number, missingValue?: string): TagLimit => ({
  max,
  tooMany: (n) => new ServiceError("TooManyTags", `would carry ${n}`),
  missingValue,
});
const tag = fc.record({
  Key: fc.constantFrom("a", "b", "c", "d", "e"),
  Value: fc.option(fc.string(), { nil: undefined }),
});

describe("mergeTags", () => {
  it.each([
    [
      "adds new keys after the existing ones",
      [{ Key: "a", Value: "1" }],
      [{ Key: "b", Value: "2" }],
      [
        { Key: "a", Value: "1" },
        { Key: "b", Value: "2" },
      ],
    ],
    [
      "replaces a value in place",
      [
        { Key: "a", Value: "1" },
        { Key: "b", Value: "2" },
      ],
      [{ Key: "a", Value: "3" }],
      [
        { Key: "a", Value: "3" },
        { Key: "b", Value: "2" },
      ],
    ],
    ["keeps a missing value missing by default", [], [{ Key: "a" }], [{ Key: "a", Value: undefined }]],
    ["takes undefined added tags as none", [{ Key: "a", Value: "1" }], undefined, [{ Key: "a", Value: "1" }]],
  ])("%s", (_what, existing, added, expected) => {
    expect(mergeTags(existing, added, limit(50))).toEqual(expected);
  });

  it("stores the service's missing value", () => {
    expect(mergeTags([], [{ Key: "a" }], limit(50, ""))).toEqual([{ Key: "a", Value: "" }]);
  });

  it("throws the service's error with the count past the limit, and allows exactly the limit", () => {
    const two = [{ Key: "a" }, { Key: "b" }];
    expect(mergeTags([], two, limit(2))).toHaveLength(2);
    expect(() => mergeTags([{ Key: "c" }], two, limit(2))).toThrow("would carry 3");
  });

  it("property: every key once, the last value written wins, removal drops exactly the keys", () => {
    fc.assert(
      fc.property(fc.array(tag), fc.array(tag), fc.subarray(["a", "b", "c", "d", "e"]), (existing, added, drop) => {
        const merged = mergeTags(mergeTags([], existing, limit(50)), added, limit(50));
        const keys = merged.map((t) => t.Key);
        expect(new Set(keys).size).toBe(keys.length);
        for (const t of merged) {
          const last = [...existing, ...added].filter((x) => x.Key === t.Key).pop();
          expect(t.Value).toBe(last?.Value);
        }
        const left = removeTags(merged, drop);
        expect(left.map((t) => t.Key)).toEqual(keys.filter((k) => !drop.includes(k as string)));
      }),
    );
  });
});

describe("tag fields", () => {
  it("merges and removes lowercase key/value tags (ECS) as it does Key/Value ones", () => {
    const merged = mergeTags(
      [
        { key: "a", value: "1" },
        { key: "b", value: "2" },
      ],
      [{ key: "a", value: "3" }, { key: "c" }],
      limit(50),
      lowercaseFields,
    );
    expect(merged).toEqual([
      { key: "a", value: "3" },
      { key: "b", value: "2" },
      { key: "c", value: undefined },
    ]);
    expect(removeTags(merged, ["a", "c"], lowercaseFields)).toEqual([{ key: "b", value: "2" }]);
    expect(() => mergeTags(merged, [{ key: "d" }], limit(3), lowercaseFields)).toThrow("would carry 4");
  });

  it("property: lowercase tags merge exactly as their Key/Value spelling does", () => {
    fc.assert(
      fc.property(fc.array(tag), fc.array(tag), (existing, added) => {
        const lower = (ts: readonly { Key?: string; Value?: string }[]) =>
          ts.map((t) => ({ key: t.Key, value: t.Value }));
        const upper = mergeTags(existing, added, limit(50), keyValueFields);
        expect(mergeTags(lower(existing), lower(added), limit(50), lowercaseFields)).toEqual(lower(upper));
      }),
    );
  });
});

describe("duplicateTagKey", () => {
  it.each([
    [[{ Key: "a" }, { Key: "b" }], false, undefined],
    [[{ Key: "a" }, { Key: "a" }], false, "a"],
    [[{ Key: "a" }, { Key: "A" }], false, undefined],
    [[{ Key: "a" }, { Key: "A" }], true, "A"],
    [undefined, false, undefined],
  ])("%j (case-insensitive %s) → %s", (tags, ci, expected) => {
    expect(duplicateTagKey(tags, ci)).toBe(expected);
  });
});
