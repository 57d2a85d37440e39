import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FilterPatternError,
  compileFilterPattern,
  parseFilterPattern,
  splitFields,
} from "../../src/services/logs/filter-pattern.js";

const matches = (pattern: string, message: string) => compileFilterPattern(pattern)(message);

describe("filter patterns: terms", () => {
  const cases: [pattern: string, message: string, expected: boolean][] = [
    ["", "anything at all", true],
    ["   ", "anything at all", true],
    ['""', "anything at all", true],
    ["ERROR", "[ERROR] disk full", true],
    ["ERROR", "[error] disk full", false], // case-sensitive
    ["ERROR", "ERRORS happened", true], // substring
    ["ERROR disk", "[ERROR] disk full", true],
    ["ERROR memory", "[ERROR] disk full", false],
    ['"disk full"', "[ERROR] disk full", true],
    ['"full disk"', "[ERROR] disk full", false],
    ['"say \\"hi\\""', 'they say "hi" twice', true],
    ["?ERROR ?WARN", "WARN low memory", true],
    ["?ERROR ?WARN", "INFO started", false],
    ["-DEBUG", "INFO started", true],
    ["-DEBUG", "DEBUG details", false],
    ["ERROR -timeout", "ERROR timeout talking to db", false],
    ["ERROR -timeout", "ERROR refused", true],
    ['-"disk full"', "[ERROR] disk full", false],
    // A `?` starts a new alternative; the terms after it join that alternative.
    ['?"ERROR" "MainThread" ?"WARN" "Deadlock"', "ERROR in MainThread", true],
    ['?"ERROR" "MainThread" ?"WARN" "Deadlock"', "WARN Deadlock found", true],
    ['?"ERROR" "MainThread" ?"WARN" "Deadlock"', "ERROR Deadlock found", false],
    ["404", "GET /x 404 12ms", true],
    ["%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", true],
    ["%^\\[ERROR%", "[ERROR 401] UNAUTHORIZED REQUEST", true],
    ["%^\\[ERROR%", "oops [ERROR 401]", false],
    ["%[Ee]rror|[Ff]ail%", "request failed", true],
    ["-%[0-9]{3}%", "no codes here", true],
    ["-%[0-9]{3}%", "code 500", false],
  ];
  it.each(cases)("%j on %j → %s", (pattern, message, expected) => {
    expect(matches(pattern, message)).toBe(expected);
  });
});

describe("filter patterns: JSON", () => {
  const event = JSON.stringify({
    level: "error",
    eventType: "UpdateTrail",
    sourceIPAddress: "123.123.1.2",
    latency: 120,
    status: 200,
    retry: true,
    cached: false,
    parent: null,
    user: { id: 1, name: "Jane Doe", roles: ["admin", "dev"] },
    items: [
      { sku: "a1", qty: 2 },
      { sku: "b2", qty: 9 },
    ],
  });
  const cases: [pattern: string, expected: boolean][] = [
    ['{ $.level = "error" }', true],
    ['{ $.level = "ERROR" }', false],
    ['{ $.level != "error" }', false],
    ['{ $.level != "info" }', true],
    ["{ $.eventType = UpdateTrail }", true],
    ["{ $.sourceIPAddress = 123.123.* }", true],
    ["{ $.sourceIPAddress != 123.123.* }", false],
    ['{ $.eventType = "Update*" }', true],
    ['{ $.eventType = "*Trail" }', true],
    ['{ $.eventType = "*dat*" }', true],
    ['{ $.eventType = "Delete*" }', false],
    ["{ $.latency > 100 }", true],
    ["{ $.latency > 120 }", false],
    ["{ $.latency >= 120 }", true],
    ["{ $.latency < 1e3 }", true],
    ["{ $.latency <= 119.5 }", false],
    ["{ $.status = 200 }", true],
    ["{ $.status != 200 }", false],
    ['{ $.status = "200" }', true],
    ["{ $.level > 5 }", false], // not a number
    ["{ $.missing = 5 }", false],
    ['{ $.missing != "x" }', false],
    ["{ $.retry IS TRUE }", true],
    ["{ $.cached IS FALSE }", true],
    ["{ $.cached IS TRUE }", false],
    ["{ $.parent IS NULL }", true],
    ["{ $.missing IS NULL }", false],
    ["{ $.missing NOT EXISTS }", true],
    ["{ $.level NOT EXISTS }", false],
    ["{ $.user.id = 1 }", true],
    ['{ $.user.name = "Jane Doe" }', true],
    ['{ $.user.roles[0] = "admin" }', true],
    ['{ $.user.roles[1] = "admin" }', false],
    ['{ $.user.roles[*] = "dev" }', true],
    ["{ $.items[1].qty > 5 }", true],
    ["{ $.items[*].qty > 5 }", true],
    ["{ $.items[*].qty > 10 }", false],
    ['{ $.level = "error" && $.latency > 100 }', true],
    ['{ $.level = "error" && $.latency > 500 }', false],
    ['{ $.level = "info" || $.latency > 100 }', true],
    ['{ ($.level = "info" || $.latency > 100) && $.retry IS TRUE }', true],
    ['{ ($.level = "info" || $.latency > 500) && $.retry IS TRUE }', false],
    ['{ $.level = "info" || $.latency > 500 && $.retry IS TRUE }', false],
    ['{ $.level = "error" || $.latency > 500 && $.retry IS FALSE }', true], // && binds tighter
    ["{$.latency>100}", true],
    ["{ $.level = %err% }", true],
    ["{ $.level = %^warn% }", false],
  ];
  it.each(cases)("%s → %s", (pattern, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });

  it("never matches an event that is not JSON", () => {
    expect(matches('{ $.level = "error" }', 'level="error"')).toBe(false);
    expect(matches("{ $.x NOT EXISTS }", "plain text")).toBe(false);
    expect(matches("{ $.x NOT EXISTS }", "42")).toBe(false);
  });
});

describe("filter patterns: space-delimited", () => {
  const access = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534';
  const cases: [pattern: string, expected: boolean][] = [
    ["[ip, user, username, timestamp, request, status_code, bytes]", true],
    ["[ip, user, username, timestamp, request, status_code]", false], // field count differs
    ["[ip, user, username, timestamp, request, status_code = 404, bytes]", true],
    ["[ip, user, username, timestamp, request, status_code = 4*, bytes]", true],
    ["[ip, user, username, timestamp, request, status_code = 5*, bytes]", false],
    ["[ip, user, username, timestamp, request, status_code != 200, bytes > 1000]", true],
    ["[ip, user, username, timestamp, request, status_code, bytes < 1000]", false],
    ["[..., status_code = 404, bytes]", true],
    ["[ip = 127.0.0.1, ...]", true],
    ["[ip = 10.*, ...]", false],
    ['[..., request = "GET *", status, bytes]', true],
    ["[..., status_code = 404 || status_code = 410, bytes]", true],
    ["[..., status_code = 500 || status_code = 410, bytes]", false],
    ["[..., status_code >= 400 && status_code < 500, bytes]", true],
    ["[ip, ..., bytes = 1534]", true],
    ["[ip, user, ..., username, timestamp, request, status_code, bytes]", true], // ... may match nothing
  ];
  it.each(cases)("%s → %s", (pattern, expected) => {
    expect(matches(pattern, access)).toBe(expected);
  });

  it("splits fields at spaces and keeps quoted and bracketed text together", () => {
    expect(splitFields(access)).toEqual([
      "127.0.0.1",
      "-",
      "frank",
      "10/Oct/2000:13:25:15 -0700",
      "GET /apache_pb.gif HTTP/1.0",
      "404",
      "1534",
    ]);
    expect(splitFields("  a   b  ")).toEqual(["a", "b"]);
  });
});

describe("filter patterns: errors", () => {
  const bad = [
    '"unterminated',
    "{ $.level = ",
    "{ $.level }",
    "{ level = 1 }",
    '{ $.level = "x" ',
    '{ $.level = "x" && }',
    '{ ($.level = "x" }',
    '{ $.level > "x" }',
    "{ $.a IS MAYBE }",
    "{ $.a NOT THERE }",
    "{ $.a[x] = 1 }",
    "{ }",
    "[a, b",
    "[]",
    "[a, , b]",
    "[a, b = ]",
    "[a, b = 1 || c = 2]",
    "%unterminated",
    "%(group)%",
    "%[a-%",
    'ab"cd',
  ];
  it.each(bad)("rejects %j with a FilterPatternError", (pattern) => {
    expect(() => parseFilterPattern(pattern)).toThrow(FilterPatternError);
  });
});

describe("filter patterns: properties", () => {
  const word = fc.stringMatching(/^[A-Za-z0-9_]{1,6}$/);
  const message = fc.string({ maxLength: 40 });

  it("the empty pattern matches every message", () => {
    fc.assert(fc.property(message, (m) => matches("", m)));
  });

  it("a word matches exactly the messages that contain it, and -word exactly the others", () => {
    fc.assert(
      fc.property(word, message, (w, m) => {
        expect(matches(w, m)).toBe(m.includes(w));
        expect(matches(`-${w}`, m)).toBe(!m.includes(w));
      }),
    );
  });

  it("plain terms are ANDed and ?terms ORed", () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), message, (ws, m) => {
        expect(matches(ws.join(" "), m)).toBe(ws.every((w) => m.includes(w)));
        expect(matches(ws.map((w) => `?${w}`).join(" "), m)).toBe(ws.some((w) => m.includes(w)));
      }),
    );
  });

  it("a quoted phrase matches exactly the messages that contain it", () => {
    const phrase = fc.string({ maxLength: 12 }).filter((s) => !s.includes('"') && !s.includes("\\"));
    fc.assert(
      fc.property(phrase, message, (p, m) => {
        expect(matches(`"${p}"`, m)).toBe(m.includes(p));
      }),
    );
  });

  it("JSON string equality without wildcards is exact equality", () => {
    const value = fc.string({ maxLength: 12 }).filter((s) => !/["\\*]/.test(s));
    fc.assert(
      fc.property(word, value, value, (key, v, probe) => {
        const event = JSON.stringify({ [key]: v });
        expect(matches(`{ $.${key} = "${probe}" }`, event)).toBe(v === probe);
        expect(matches(`{ $.${key} != "${probe}" }`, event)).toBe(v !== probe);
      }),
    );
  });

  it("JSON numeric comparisons agree with JavaScript's", () => {
    const n = fc.integer({ min: -1000, max: 1000 });
    fc.assert(
      fc.property(n, n, fc.constantFrom("<", "<=", ">", ">=", "=", "!="), (actual, bound, op) => {
        const expected = {
          "<": actual < bound,
          "<=": actual <= bound,
          ">": actual > bound,
          ">=": actual >= bound,
          "=": actual === bound,
          "!=": actual !== bound,
        }[op];
        expect(matches(`{ $.n ${op} ${bound} }`, JSON.stringify({ n: actual }))).toBe(expected);
      }),
    );
  });

  it("parsing never throws anything but FilterPatternError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (p) => {
        try {
          parseFilterPattern(p);
        } catch (e) {
          expect(e).toBeInstanceOf(FilterPatternError);
        }
      }),
    );
  });
});
