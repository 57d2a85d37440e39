import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import type { Protocol, WireRequest } from "../../src/protocol/http.js";
import { awsJsonProtocol } from "../../src/protocol/json/protocol.js";
import { loadModel } from "../../src/protocol/model.js";
import { awsQueryProtocol } from "../../src/protocol/query/protocol.js";
import { restJsonProtocol } from "../../src/protocol/restjson/protocol.js";
import { modelPattern } from "../../src/protocol/validate.js";
import {
  type BadCase,
  CODES,
  type RawRequest,
  type WireKind,
  baseRequest,
  casesFor,
  casesForService,
  codeMatches,
  codesOf,
  expectedCodes,
  namesMember,
  patternBreaker,
  validString,
  wireKinds,
} from "../support/bad-input.js";

/**
 * The bad-input generator (test/support/bad-input.ts) checked against Berth's own protocol
 * parsers, in-process: each case the protocol layer must refuse is refused with the expected
 * code naming the member, and every base request (what the cases break) is accepted.
 */
const SERVICES = Object.keys(CODES);
const OPTIONS = { maxBody: 64 * 1024 * 1024, nestingDepth: 10_000 };

/** Every case of a service's operations, generated once for the tests below. */
const generated = new Map<string, BadCase[]>();
function allCases(service: string): BadCase[] {
  let cases = generated.get(service);
  if (!cases) {
    const model = loadModel(service);
    cases = casesForService(service, model, Object.keys(model.operations), OPTIONS);
    generated.set(service, cases);
  }
  return cases;
}

const protocols = new Map<string, Protocol>();
function protocolOf(service: string, wire: WireKind): Protocol {
  const key = `${service}/${wire}`;
  let p = protocols.get(key);
  if (!p) {
    const model = loadModel(service);
    const codes = codesOf(service, model);
    p =
      wire === "json"
        ? awsJsonProtocol(model, codes.validation)
        : wire === "query"
          ? awsQueryProtocol(model, codes.validation, codes.type.query)
          : restJsonProtocol(model, codes.validation);
    protocols.set(key, p);
  }
  return p;
}

const toWire = (r: RawRequest): WireRequest => ({
  method: r.method,
  path: r.path,
  query: new URLSearchParams(r.query),
  headers: r.headers,
  body: Buffer.from(r.body),
});

const parseOutcome = (c: { service: string; protocol: WireKind; request: RawRequest }) => {
  try {
    protocolOf(c.service, c.protocol).parse(toWire(c.request));
    return { accepted: true as const };
  } catch (e) {
    return { accepted: false as const, error: e };
  }
};

/** The protocol layer's answer to a case that must not reach the provider. */
function refusalOf(c: BadCase) {
  const outcome = parseOutcome(c);
  if (outcome.accepted) return { what: c.what, accepted: true };
  const e = outcome.error;
  if (!(e instanceof ServiceError)) return { what: c.what, crashed: String(e) };
  return { what: c.what, status: e.status, code: e.code, message: e.message };
}

describe("bad-input generator", () => {
  it("is pure: the same model gives the same cases", () => {
    const model = loadModel("ecs");
    const a = casesFor("ecs", model, "CreateService", "json", OPTIONS);
    const b = casesFor("ecs", model, "CreateService", "json", OPTIONS);
    expect(a.length).toBeGreaterThan(10);
    expect(a).toEqual(b);
  });

  it("covers every kind of bad input across the served models", { timeout: 60_000 }, () => {
    const kinds = new Set<string>();
    for (const service of SERVICES) for (const c of allCases(service)) kinds.add(c.kind);
    expect([...kinds].sort()).toEqual(
      [
        "arn",
        "enum",
        "length",
        "missing",
        "nesting",
        "overflow",
        "oversized",
        "pattern",
        "range",
        "token",
        "type",
      ].sort(),
    );
  });

  it("the oversized case declares one byte over the edge's limit", () => {
    const model = loadModel("sts");
    const cases = casesForService("sts", model, ["GetCallerIdentity", "AssumeRole"], OPTIONS);
    expect(cases.filter((c) => c.kind === "oversized").map((c) => c.request.declaredLength)).toEqual([
      OPTIONS.maxBody + 1,
    ]);
  });

  it("query lists: an empty list is sent as `Name=`, items as Name.member.N", () => {
    const model = loadModel("elbv2");
    const cases = casesFor("elbv2", model, "AddTags", "query", OPTIONS);
    const empty = cases.find((c) => c.kind === "length" && c.path === "tags" && c.what.includes("[]"));
    expect(new URLSearchParams(empty?.request.body).get("Tags")).toBe("");
    const missing = cases.find((c) => c.kind === "missing" && c.path === "tags.1.member.key");
    expect(missing).toBeUndefined(); // a Tag with only a Key cannot lose it on the query wire
    const wrong = cases.find((c) => c.kind === "length" && c.path === "tags.1.member.key" && c.what.includes("longer"));
    expect(new URLSearchParams(wrong?.request.body).get("Tags.member.1.Key")).toHaveLength(129);
  });

  it("a valid string drawn for a pattern matches it, within the length limits", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SERVICES), fc.nat(), (service, n) => {
        const model = loadModel(service);
        const shapes = Object.values(model.shapes).filter((s) => s.type === "string" && s.pattern && !s.enum);
        if (shapes.length === 0) return;
        const shape = shapes[n % shapes.length];
        const re = modelPattern(shape.pattern!);
        const s = validString(shape);
        expect(s.length).toBeGreaterThanOrEqual(Math.max(shape.min ?? 1, 1));
        if (shape.max !== undefined) expect(s.length).toBeLessThanOrEqual(shape.max);
        const breaker = patternBreaker(shape);
        if (re && breaker !== undefined) expect(re.test(breaker)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe.each(SERVICES)("bad input refused by Berth's %s protocol layer", (service) => {
  const model = loadModel(service);
  const operations = Object.keys(model.operations).sort();

  it.each(wireKinds(model))("base requests (%s) are accepted", (wire) => {
    const refused = operations
      .map((o) => ({
        operation: o,
        outcome: parseOutcome({ service, protocol: wire, request: baseRequest(model, o, wire) }),
      }))
      .filter((r) => !r.outcome.accepted)
      .map((r) => `${r.operation}: ${r.outcome.accepted ? "" : String((r.outcome.error as Error).message)}`);
    expect(refused).toEqual([]);
  });

  it("every case the protocol must refuse is a 4xx with the service's code naming the member", {
    timeout: 60_000,
  }, () => {
    const cases = allCases(service).filter((c) => c.expect === "validation" || c.expect === "type");
    expect(cases.length).toBeGreaterThan(0);
    const wrong = cases
      .map((c) => ({ c, r: refusalOf(c) }))
      .filter(
        ({ c, r }) =>
          r.accepted ||
          r.crashed ||
          r.status! < 400 ||
          r.status! >= 500 ||
          !codeMatches(model, expectedCodes(c, model), r.code!) ||
          !namesMember(r.message!, c.member),
      )
      .map(({ c, r }) => `${c.operation} [${c.protocol}] ${c.what} → ${JSON.stringify(r).slice(0, 300)}`);
    expect(wrong).toEqual([]);
  });
});
