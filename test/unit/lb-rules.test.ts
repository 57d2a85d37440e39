import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CompiledRule,
  type RequestView,
  cidrContains,
  compileConditions,
  orderRules,
  parseCidr,
  parseIpv6,
  queryPairs,
  selectAction,
  wildcard,
} from "../../src/lb/rules.js";
import type { RuleCondition } from "../../src/protocol/generated/types/elbv2.js";

const request = (over: Partial<RequestView> & { headers?: Record<string, string[]> } = {}): RequestView => ({
  method: over.method ?? "GET",
  path: over.path ?? "/",
  query: over.query ?? "",
  host: over.host ?? "example.com",
  header: (name) => over.headers?.[name] ?? [],
  sourceIp: over.sourceIp ?? "10.0.0.1",
});

const matches = (conditions: RuleCondition[], r: RequestView) => compileConditions(conditions)(r);

describe("wildcards", () => {
  it.each([
    ["/img/*", "/img/a/b.png", true],
    ["/img/*", "/img", false],
    ["/img/?.png", "/img/a.png", true],
    ["/img/?.png", "/img/ab.png", false],
    ["/a.b", "/axb", false],
    ["*", "", true],
    ["/api/(v1)", "/api/(v1)", true],
  ])("%s vs %s → %s (case-sensitive)", (pattern, value, expected) => {
    expect(wildcard(pattern, { caseInsensitive: false }).test(value)).toBe(expected);
  });

  it("honours \\* and \\? escapes when asked (query strings)", () => {
    const re = wildcard("a\\*b", { caseInsensitive: true, escapes: true });
    expect(re.test("a*b")).toBe(true);
    expect(re.test("axxb")).toBe(false);
  });

  it("a pattern without wildcards matches exactly itself", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[*?]/.test(s)),
        fc.string(),
        (pattern, other) => {
          const re = wildcard(pattern, { caseInsensitive: false });
          expect(re.test(pattern)).toBe(true);
          expect(re.test(other)).toBe(other === pattern);
        },
      ),
    );
  });

  it("'*' around any literal matches every string containing it", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[*?]/.test(s)),
        fc.string(),
        fc.string(),
        (mid, a, b) => {
          expect(wildcard(`*${mid}*`, { caseInsensitive: false }).test(`${a}${mid}${b}`)).toBe(true);
        },
      ),
    );
  });
});

describe("CIDR blocks", () => {
  it.each([
    ["10.0.0.0/8", "10.1.2.3", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.255", true],
    ["192.168.1.7/32", "192.168.1.7", true],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["127.0.0.0/8", "::ffff:127.0.0.1", true],
    ["2001:db8::/32", "2001:db8:1::5", true],
    ["2001:db8::/32", "2001:db9::5", false],
    ["::1/128", "::1", true],
  ])("%s contains %s → %s", (block, address, expected) => {
    expect(cidrContains(parseCidr(block)!, address)).toBe(expected);
  });

  it.each(["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "01.2.3.4/8", "::g/8", "1::2::3/64"])("rejects %s", (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it("parses IPv6 forms to the same number", () => {
    expect(parseIpv6("::ffff:1.2.3.4")).toBe(parseIpv6("0:0:0:0:0:ffff:102:304"));
    expect(parseIpv6("1::")).toBe(1n << 112n);
  });

  it("every IPv4 address lies in its own /n block for every n", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, bits) => {
        expect(cidrContains(parseCidr(`${ip}/${bits}`)!, ip)).toBe(true);
      }),
    );
  });
});

describe("conditions", () => {
  const path = (...Values: string[]): RuleCondition => ({ Field: "path-pattern", PathPatternConfig: { Values } });
  const host = (...Values: string[]): RuleCondition => ({ Field: "host-header", Values });

  it.each<[string, RuleCondition[], Partial<RequestView> & { headers?: Record<string, string[]> }, boolean]>([
    ["path: one of several values", [path("/a/*", "/b/*")], { path: "/b/x" }, true],
    ["path: case-sensitive", [path("/API/*")], { path: "/api/x" }, false],
    ["path: query string is not part of the path", [path("/search")], { path: "/search", query: "q=1" }, true],
    ["host: case-insensitive, wildcard", [host("*.Example.com")], { host: "api.example.COM" }, true],
    ["host: no match", [host("api.example.com")], { host: "www.example.com" }, false],
    [
      "http-header: any value of the header, case-insensitive",
      [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["prod*"] } }],
      { headers: { "x-env": ["dev", "PRODUCTION"] } },
      true,
    ],
    [
      "http-header: absent header does not match",
      [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["*"] } }],
      {},
      false,
    ],
    [
      "http-request-method: exact and case-sensitive",
      [{ Field: "http-request-method", HttpRequestMethodConfig: { Values: ["POST", "PUT"] } }],
      { method: "post" },
      false,
    ],
    [
      "http-request-method: match",
      [{ Field: "http-request-method", HttpRequestMethodConfig: { Values: ["POST", "PUT"] } }],
      { method: "PUT" },
      true,
    ],
    [
      "query-string: key and value",
      [{ Field: "query-string", QueryStringConfig: { Values: [{ Key: "version", Value: "v1" }] } }],
      { query: "a=1&version=V1" },
      true,
    ],
    [
      "query-string: value only, any key",
      [{ Field: "query-string", QueryStringConfig: { Values: [{ Value: "blue" }] } }],
      { query: "color=blue" },
      true,
    ],
    [
      "query-string: decoded before comparing",
      [{ Field: "query-string", QueryStringConfig: { Values: [{ Key: "q", Value: "a b" }] } }],
      { query: "q=a%20b" },
      true,
    ],
    [
      "source-ip: in a block",
      [{ Field: "source-ip", SourceIpConfig: { Values: ["192.168.0.0/16", "10.0.0.0/8"] } }],
      { sourceIp: "10.9.8.7" },
      true,
    ],
    [
      "source-ip: ignores X-Forwarded-For",
      [{ Field: "source-ip", SourceIpConfig: { Values: ["1.2.3.4/32"] } }],
      { sourceIp: "10.0.0.1", headers: { "x-forwarded-for": ["1.2.3.4"] } },
      false,
    ],
    ["conditions are ANDed", [path("/a"), host("x.example.com")], { path: "/a", host: "y.example.com" }, false],
    [
      "regex values",
      [{ Field: "path-pattern", PathPatternConfig: { RegexValues: ["^/v[0-9]+/"] } }],
      { path: "/v2/users" },
      true,
    ],
  ])("%s", (_, conditions, req, expected) => {
    expect(matches(conditions, request(req))).toBe(expected);
  });

  it("values within a condition are ORed, conditions ANDed", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }), fc.boolean(), (pathHits, hostHit) => {
        const values = pathHits.map((hit, i) => (hit ? "/p" : `/miss${i}`));
        const r = request({ path: "/p", host: "h.example.com" });
        const got = matches([path(...values), host(hostHit ? "h.example.com" : "other.example.com")], r);
        expect(got).toBe(pathHits.some(Boolean) && hostHit);
      }),
    );
  });

  it("splits query strings into decoded pairs", () => {
    expect(queryPairs("a=1&b&c=x%3Dy&&d=")).toEqual([
      { key: "a", value: "1" },
      { key: "b", value: "" },
      { key: "c", value: "x=y" },
      { key: "d", value: "" },
    ]);
  });
});

describe("rule selection", () => {
  const rule = (priority: number, pathValue: string, action: string): CompiledRule<string> => ({
    priority,
    match: compileConditions([{ Field: "path-pattern", Values: [pathValue] }]),
    action,
  });

  it("takes the first matching rule by priority, else the default action", () => {
    const rules = orderRules([rule(20, "/*", "catch-all"), rule(10, "/api/*", "api"), rule(5, "/api/admin", "admin")]);
    expect(selectAction(rules, request({ path: "/api/admin" }), "default")).toBe("admin");
    expect(selectAction(rules, request({ path: "/api/x" }), "default")).toBe("api");
    expect(selectAction(rules, request({ path: "/other" }), "default")).toBe("catch-all");
    expect(selectAction([rule(1, "/x", "x")], request({ path: "/y" }), "default")).toBe("default");
  });

  it("the chosen rule is the lowest-priority one among those that match", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 50000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (priorities, hits) => {
          const rules = orderRules(
            priorities.map((p, i) => ({ priority: p, match: () => hits[i], action: String(p) })),
          );
          const matching = priorities.filter((_, i) => hits[i]);
          const expected = matching.length ? String(Math.min(...matching)) : "default";
          expect(selectAction(rules, request(), "default")).toBe(expected);
        },
      ),
    );
  });
});
