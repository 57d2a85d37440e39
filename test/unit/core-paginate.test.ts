import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import { encodeKey, noTokenIssued, pageByKey, pageByOffset, pageSize } from "../../src/core/paginate.js";

const mine = () => new ServiceError("InvalidNextToken", "The specified token isn't valid.");

/** Every page, following tokens from the first. */
function walk<T>(next: (token?: string) => { page: T[]; nextToken?: string }): T[] {
  const out: T[] = [];
  let token: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const r = next(token);
    out.push(...r.page);
    if (r.nextToken === undefined) return out;
    token = r.nextToken;
  }
  throw new Error("no end");
}

describe("pageByOffset", () => {
  it("property: walking the pages returns the list, in its own order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 7 }), (items, limit) => {
        expect(walk((nextToken) => pageByOffset(items, { nextToken, limit }))).toEqual(items);
      }),
    );
  });

  it.each([
    ["not base64 JSON", "%%%"],
    ["a key token", encodeKey(["name"])],
    ["a negative offset", encodeKey([-1])],
    ["a fractional offset", encodeKey([1.5])],
  ])("rejects %s with the service's error", (_what, token) => {
    expect(() => pageByOffset([1, 2, 3], { nextToken: token, limit: 1, invalidToken: mine })).toThrow(
      expect.objectContaining({ code: "InvalidNextToken" }),
    );
  });
});

describe("pageByKey", () => {
  it("property: walking the pages returns every item once, in key order (either way)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string()),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        (names, limit, descending) => {
          const walked = walk((nextToken) => pageByKey(names, (n) => [n], { nextToken, limit, descending }));
          const sorted = [...names].sort((a, b) => (a < b ? -1 : 1));
          expect(walked).toEqual(descending ? sorted.reverse() : sorted);
        },
      ),
    );
  });

  it("uses the service's error for a token it did not issue, and the default otherwise", () => {
    expect(() => pageByKey(["a"], (n) => [n], { nextToken: "x", limit: 1, invalidToken: mine })).toThrow(
      expect.objectContaining({ code: "InvalidNextToken" }),
    );
    expect(() => pageByKey(["a"], (n) => [n], { nextToken: "x", limit: 1 })).toThrow(
      expect.objectContaining({ code: "InvalidParameterException" }),
    );
  });
});

describe("pageSize", () => {
  it.each([
    [undefined, 10],
    [1, 1],
    [50, 50],
  ])("maxResults %s → %s", (asked, size) => {
    expect(pageSize(asked, { default: 10, max: 50 })).toBe(size);
  });

  it("throws the code given, or the service's own error", () => {
    expect(() => pageSize(51, { default: 10, max: 50 }, "ValidationException")).toThrow(
      expect.objectContaining({ code: "ValidationException", message: "maxResults must be between 1 and 50; got 51." }),
    );
    expect(() => pageSize(0, { default: 10, max: 50 }, (n) => new ServiceError("X", `bad ${n}`))).toThrow("bad 0");
  });
});

describe("noTokenIssued", () => {
  it("refuses any token for a list answered in one page, with the service's error", () => {
    expect(() => noTokenIssued(undefined)).not.toThrow();
    expect(() => noTokenIssued("x")).toThrow(expect.objectContaining({ code: "InvalidParameterException" }));
    expect(() => noTokenIssued("", () => new ServiceError("InvalidNextTokenException", "bad"))).toThrow(
      expect.objectContaining({ code: "InvalidNextTokenException" }),
    );
  });
});
