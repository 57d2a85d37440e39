import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type FilterSubject, checkFilters, matchesFilters, words } from "../../src/services/secretsmanager/filters.js";

const db: FilterSubject = {
  name: "prod/DatabaseMain",
  description: "Primary Postgres credentials for orders",
  tags: [
    { Key: "team", Value: "Payments" },
    { Key: "env", Value: "prod" },
  ],
  primaryRegion: "us-east-1",
};
const api: FilterSubject = { name: "dev/api-key", tags: [{ Key: "Team", Value: "web" }], primaryRegion: "us-east-1" };
const plain: FilterSubject = { name: "plain", description: "nothing special", tags: [] };
const all = { db, api, plain };
const find = (filters: { Key: string; Values: string[] }[]) =>
  Object.entries(all)
    .filter(([, s]) => matchesFilters(s, filters))
    .map(([n]) => n);

describe("Secrets Manager filters", () => {
  it.each<[string, { Key: string; Values: string[] }[], string[]]>([
    ["name: prefix, case-sensitive", [{ Key: "name", Values: ["prod/"] }], ["db"]],
    ["name: case matters", [{ Key: "name", Values: ["Prod/"] }], []],
    ["name: not a substring", [{ Key: "name", Values: ["Database"] }], []],
    ["name: any of several values", [{ Key: "name", Values: ["prod/", "dev/"] }], ["db", "api"]],
    ["name: negation", [{ Key: "name", Values: ["!prod/"] }], ["api", "plain"]],
    ["description: words, not case-sensitive", [{ Key: "description", Values: ["postgres"] }], ["db"]],
    ["description: several words all begin words", [{ Key: "description", Values: ["prim cred"] }], ["db"]],
    ["description: a word that is absent", [{ Key: "description", Values: ["primary mysql"] }], []],
    [
      "description: negation includes secrets without one",
      [{ Key: "description", Values: ["!postgres"] }],
      ["api", "plain"],
    ],
    ["tag-key: case-sensitive prefix", [{ Key: "tag-key", Values: ["te"] }], ["db"]],
    ["tag-key: Team", [{ Key: "tag-key", Values: ["Team"] }], ["api"]],
    ["tag-key: negation means no such key", [{ Key: "tag-key", Values: ["!env"] }], ["api", "plain"]],
    ["tag-value", [{ Key: "tag-value", Values: ["Pay"] }], ["db"]],
    ["primary-region", [{ Key: "primary-region", Values: ["us-east"] }], ["db", "api"]],
    ["owning-service: Berth's secrets have none", [{ Key: "owning-service", Values: ["rds"] }], []],
    ["owning-service negation", [{ Key: "owning-service", Values: ["!rds"] }], ["db", "api", "plain"]],
    ["all: words anywhere, not case-sensitive", [{ Key: "all", Values: ["payments"] }], ["db"]],
    ["all: camel case splits", [{ Key: "all", Values: ["database"] }], ["db"]],
    ["all: special characters split words", [{ Key: "all", Values: ["api-KEY"] }], ["api"]],
    ["all: team is a tag key of two", [{ Key: "all", Values: ["team"] }], ["db", "api"]],
    [
      "repeated keys must all match",
      [
        { Key: "tag-key", Values: ["team"] },
        { Key: "tag-key", Values: ["env"] },
      ],
      ["db"],
    ],
    [
      "different keys must all match",
      [
        { Key: "name", Values: ["dev/"] },
        { Key: "tag-value", Values: ["prod"] },
      ],
      [],
    ],
  ])("%s", (_, filters, expected) => {
    expect(() => checkFilters(filters)).not.toThrow();
    expect(find(filters)).toEqual(expected);
  });

  it("splits words as Secrets Manager documents", () => {
    expect(words("credsDatabase#892")).toEqual(["creds", "Database", "892"]);
    expect(words("My_Secret")).toEqual(["My", "Secret"]);
    expect(words("AWSCurrent v2")).toEqual(["AWS", "Current", "v", "2"]);
  });

  it.each([
    [{ Key: "colour", Values: ["x"] }, /^Invalid filter key: colour/],
    [{ Key: "name", Values: ["a#b"] }, /regular expression pattern/],
    [{ Key: "name", Values: ["x".repeat(513)] }, /length less than or equal to 512/],
    [{ Key: "name", Values: [] }, /filters\.1\.member\.values/],
  ])("refuses %j", (filter, message) => {
    expect(() => checkFilters([filter])).toThrow(message);
  });

  const subject = fc.record({
    name: fc.stringMatching(/^[a-zA-Z0-9/_+=.@-]{1,20}$/),
    description: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
    tags: fc.array(fc.record({ Key: fc.string({ minLength: 1, maxLength: 8 }), Value: fc.string({ maxLength: 8 }) }), {
      maxLength: 3,
    }),
  });
  const value = fc.stringMatching(/^[a-zA-Z0-9 :_@/+=.-]{1,10}$/);
  const key = fc.constantFrom("name", "description", "tag-key", "tag-value", "all");

  it("property: a value and its negation split the secrets exactly", () => {
    fc.assert(
      fc.property(subject, key, value, (s, k, v) => {
        expect(matchesFilters(s, [{ Key: k, Values: [`!${v}`] }])).toBe(!matchesFilters(s, [{ Key: k, Values: [v] }]));
      }),
    );
  });

  it("property: a name matches every prefix of itself, and filters only narrow", () => {
    fc.assert(
      fc.property(subject, fc.integer({ min: 1, max: 20 }), key, value, (s, n, k, v) => {
        expect(matchesFilters(s, [{ Key: "name", Values: [s.name.slice(0, n)] }])).toBe(true);
        if (
          matchesFilters(s, [
            { Key: "name", Values: [s.name] },
            { Key: k, Values: [v] },
          ])
        )
          expect(matchesFilters(s, [{ Key: k, Values: [v] }])).toBe(true);
      }),
    );
  });
});
