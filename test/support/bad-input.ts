/**
 * Invalid requests derived from a service model, for every operation: missing required members,
 * values of the wrong type for the wire protocol, unknown enum values, numbers outside min/max,
 * lengths outside their limits, strings breaking the model's `pattern`, deep nesting, an
 * oversized body, bad ARNs and invalid pagination tokens. PURE: model in, unsigned raw requests
 * out (the integration test signs and sends them), the same cases on every run.
 *
 * Each case starts from the smallest valid input (required members only, each at its minimum)
 * and breaks exactly one member, so the answer must name that member.
 */
import fc from "fast-check";
import { type ServiceModel, type Shape, type ShapeRef, errorShape, shapeOf } from "../../src/protocol/model.js";
import { memberPath, modelPattern, patternChecked } from "../../src/protocol/validate.js";

/** The wire protocols the suite speaks (CBOR is covered by CloudWatch's JSON and query forms). */
export type WireKind = "json" | "query" | "rest-json";

export type CaseKind =
  | "missing"
  | "type"
  | "overflow"
  | "enum"
  | "range"
  | "length"
  | "pattern"
  | "nesting"
  | "oversized"
  | "arn"
  | "token";

/**
 * What the answer must be: `validation` — the service's validation code naming the member;
 * `type` — the protocol's code for a value of the wrong type naming the member; `rejected` —
 * some 4xx the operation declares (the provider's own checks: ARNs, tokens); `too-large` — 413.
 */
export type Expectation = "validation" | "type" | "rejected" | "too-large";

export interface RawRequest {
  method: string;
  /** Percent-encoded path. */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: string;
  /** A Content-Length to declare instead of the body's (the oversized case sends only the start). */
  declaredLength?: number;
}

export interface BadCase {
  service: string;
  operation: string;
  protocol: WireKind;
  kind: CaseKind;
  /** The member as AWS messages spell its path ('containerDefinitions.1.member.cpu'); "" for the body. */
  path: string;
  /** The member's own name, which the message must contain. */
  member: string;
  expect: Expectation;
  request: RawRequest;
  /** One line saying what was broken, for failure reports. */
  what: string;
}

export interface GenerateOptions {
  /** The largest body the edge reads; the oversized case declares one byte more. */
  maxBody: number;
  /** How deep the nesting case nests. */
  nestingDepth?: number;
  /** Longest string or list a length case builds (longer limits are left to the oversized case). */
  maxBuilt?: number;
}

/** The protocols of a model the suite can speak, in the model's order. */
export function wireKinds(model: ServiceModel): WireKind[] {
  const kinds = model.metadata.protocols?.length ? model.metadata.protocols : [model.metadata.protocol];
  return kinds.filter((k): k is WireKind => k === "json" || k === "query" || k === "rest-json");
}

// ---------- valid values ----------

type Json = unknown;

/** Member names that hold an ARN, and those that carry a pagination token. */
const ARN_MEMBER = /(^|[a-z])(Arn|ARN|arn)s?$|^(resource|resourceId)$/;
const TOKEN_MEMBER = /^(nextToken|NextToken|Marker|NextMarker|PaginationToken)$/;

const SEED = 16;

/** A short printable string the shape accepts: "badinput" cut or padded to its length limits, or one drawn from its pattern. */
export function validString(shape: Shape, salt = 0): string {
  let bySalt = drawnStrings.get(shape);
  if (!bySalt) {
    bySalt = new Map();
    drawnStrings.set(shape, bySalt);
  }
  let s = bySalt.get(salt);
  if (s === undefined) {
    s = drawString(shape, salt);
    bySalt.set(salt, s);
  }
  return s;
}

/** Strings already drawn per shape (drawing from a pattern is slow; the answer never changes). */
const drawnStrings = new WeakMap<Shape, Map<number, string>>();

function drawString(shape: Shape, salt: number): string {
  if (shape.enum) return shape.enum[0];
  const min = Math.max(shape.min ?? 1, 1);
  const max = shape.max ?? Math.max(min, 64);
  const sized = (s: string) => (s.length >= min ? s.slice(0, max) : s + "a".repeat(min - s.length));
  const plain = sized(salt ? `badinput${salt}` : "badinput");
  const re = shape.pattern ? modelPattern(shape.pattern) : undefined;
  if (!re || re.test(plain)) return plain;
  for (const candidate of ["a", "1", "abc123", "arn:aws:iam::000000000000:role/badinput", "/", "sg-12345678"].map(
    sized,
  ))
    if (re.test(candidate)) return candidate;
  try {
    const drawn = fc
      .sample(fc.stringMatching(re), { numRuns: 60, seed: SEED + salt })
      .filter((s) => s.length >= min && s.length <= max && /^[\x21-\x7e]*$/.test(s));
    if (drawn.length) return drawn.sort((a, b) => a.length - b.length)[0];
  } catch {
    // a pattern fast-check cannot generate from: the padded text stands
  }
  return plain;
}

/** The smallest valid value of a shape for a wire protocol: required members only, lists and maps at their minimum. */
export function validValue(model: ServiceModel, ref: ShapeRef, wire: WireKind, depth = 0): Json {
  const shape = shapeOf(model, ref);
  if (shape.document) return { badinput: true };
  switch (shape.type) {
    case "structure": {
      const out: Record<string, Json> = {};
      if (depth > 8) return out;
      const members = shape.members ?? {};
      let required = shape.union ? Object.keys(members).slice(0, 1) : (shape.required ?? []);
      // The query wire cannot carry an empty structure: give a nested one its first plain member.
      if (required.length === 0 && wire === "query" && depth > 0)
        required = Object.keys(members)
          .filter((name) => ["string", "integer", "boolean"].includes(shapeOf(model, members[name]).type))
          .slice(0, 1);
      for (const name of required) out[name] = validValue(model, members[name], wire, depth + 1);
      return out;
    }
    case "list": {
      const n = Math.max(shape.min ?? 0, depth === 0 ? 0 : 1);
      return Array.from({ length: Math.min(n, 3) }, () => validValue(model, shape.member!, wire, depth + 1));
    }
    case "map": {
      const n = Math.max(shape.min ?? 0, wire === "query" ? 1 : 0);
      const out: Record<string, Json> = {};
      for (let i = 0; i < Math.min(n, 3); i++)
        out[validString(shapeOf(model, shape.key!), i + 1)] = validValue(model, shape.value!, wire, depth + 1);
      return out;
    }
    case "string":
      return validString(shape);
    case "integer":
    case "long":
    case "float":
    case "double":
      return shape.min !== undefined ? Math.max(shape.min, Math.min(1, shape.max ?? 1)) : Math.min(1, shape.max ?? 1);
    case "boolean":
      return false;
    case "timestamp":
      return wire === "json" ? 1_700_000_000 : "2023-11-14T22:13:20Z";
    case "blob":
      return "YmFkaW5wdXQ=";
  }
}

// ---------- where a value can be broken ----------

/** One member of the input reachable from the root through structures and first list items. */
interface Site {
  /** Keys from the input root (member names, list indexes). */
  keys: (string | number)[];
  /** Shapes of the ancestors (to fill in when absent), parallel to keys. */
  ancestors: ShapeRef[];
  ref: ShapeRef;
  shape: Shape;
  name: string;
  path: string;
  required: boolean;
  /** restJson: where the member is bound (top-level members only). */
  location?: ShapeRef["location"];
}

const MAX_SITE_DEPTH = 3;

function sitesOf(model: ServiceModel, root: ShapeRef): Site[] {
  const out: Site[] = [];
  const walk = (
    ref: ShapeRef,
    keys: (string | number)[],
    ancestors: ShapeRef[],
    path: string,
    depth: number,
    seen: string[],
  ) => {
    const shape = shapeOf(model, ref);
    if (shape.type !== "structure" || shape.document) return;
    for (const [name, member] of Object.entries(shape.members ?? {})) {
      const mshape = shapeOf(model, member);
      const mpath = memberPath(path, name);
      out.push({
        keys: [...keys, name],
        ancestors: [...ancestors, ref],
        ref: member,
        shape: mshape,
        name,
        path: mpath,
        required: (shape.required ?? []).includes(name),
        location: depth === 0 ? member.location : undefined,
      });
      if (depth + 1 >= MAX_SITE_DEPTH || seen.includes(member.shape) || member.location) continue;
      if (mshape.type === "structure")
        walk(member, [...keys, name], [...ancestors, ref], mpath, depth + 1, [...seen, member.shape]);
      else if (mshape.type === "list" && shapeOf(model, mshape.member!).type === "structure")
        walk(mshape.member!, [...keys, name, 0], [...ancestors, ref, member], `${mpath}.1.member`, depth + 1, [
          ...seen,
          member.shape,
          mshape.member!.shape,
        ]);
    }
  };
  walk(root, [], [], "", 0, [root.shape]);
  return out;
}

/** The base input with one member replaced (or removed), its absent ancestors filled in with valid values. */
function withMember(
  model: ServiceModel,
  base: Json,
  site: Site,
  wire: WireKind,
  value: Json | typeof REMOVE,
): Record<string, Json> {
  const root = structuredClone(base) as Record<string, Json>;
  let node: Json = root;
  for (let i = 0; i < site.keys.length - 1; i++) {
    const key = site.keys[i];
    const container = node as Record<string | number, Json>;
    if (container[key] === undefined || (Array.isArray(container[key]) && (container[key] as Json[]).length === 0)) {
      const next = site.keys[i + 1];
      // ancestors[i + 1] is the list itself when the next key is an index into it.
      container[key] =
        typeof next === "number"
          ? [validValue(model, shapeOf(model, site.ancestors[i + 1]).member!, wire, 1)]
          : validValue(model, nextRef(model, site.ancestors[i], key), wire, 1);
    }
    node = container[key];
  }
  const last = site.keys[site.keys.length - 1];
  const container = node as Record<string | number, Json>;
  if (value === REMOVE) delete container[last];
  else container[last] = value;
  return root;
}

const nextRef = (model: ServiceModel, parent: ShapeRef, key: string | number): ShapeRef =>
  shapeOf(model, parent).members![key as string];

const REMOVE = Symbol("remove");

// ---------- broken values ----------

/** A value of the wrong type for a shape, as the protocol can carry it; undefined when it cannot. */
function wrongType(shape: Shape, text: boolean): Json | undefined {
  if (text) {
    switch (shape.type) {
      case "integer":
      case "long":
      case "float":
      case "double":
        return "abc";
      case "boolean":
        return "maybe";
      case "timestamp":
        return "yesterday";
      default:
        return undefined;
    }
  }
  switch (shape.type) {
    case "string":
      return { not: "a string" };
    case "integer":
    case "long":
      return "abc";
    case "float":
    case "double":
      return "abc";
    case "boolean":
      return "maybe";
    case "timestamp":
      return "yesterday";
    case "blob":
      return { not: "bytes" };
    case "list":
      return { not: "a list" };
    case "map":
    case "structure":
      return ["not", "an object"];
  }
}

/** A string of the shape's allowed length that its pattern refuses, or undefined. */
export function patternBreaker(shape: Shape): string | undefined {
  const re = shape.pattern ? modelPattern(shape.pattern) : undefined;
  if (!re || shape.enum) return undefined;
  const min = Math.max(shape.min ?? 1, 1);
  const max = shape.max ?? Math.max(min, 64);
  for (const seed of ["\u0001", " ", "!", "#{}", "a b", "<>", "\u00e9", "..", "-", "A", "0", "\\"]) {
    const s = seed.length >= min ? seed.slice(0, max) : seed + seed.slice(-1).repeat(min - seed.length);
    if (s.length >= min && s.length <= max && !re.test(s)) return s;
  }
  return undefined;
}

// ---------- wire encodings ----------

function queryParams(model: ServiceModel, ref: ShapeRef, value: Json, prefix: string, out: [string, string][]) {
  if (value === undefined) return;
  const shape = shapeOf(model, ref);
  if (shape.type === "structure" && value && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, member] of Object.entries(shape.members ?? {})) {
      const v = (value as Record<string, Json>)[name];
      const wire = member.locationName ?? name;
      queryParams(model, member, v, prefix ? `${prefix}.${wire}` : wire, out);
    }
  } else if (shape.type === "list" && Array.isArray(value)) {
    if (value.length === 0) out.push([prefix, ""]);
    const itemKey = ref.flattened || shape.flattened ? prefix : `${prefix}.${shape.member!.locationName ?? "member"}`;
    for (const [i, item] of value.entries()) queryParams(model, shape.member!, item, `${itemKey}.${i + 1}`, out);
  } else if (shape.type === "map" && value && typeof value === "object" && !Array.isArray(value)) {
    const entry = ref.flattened || shape.flattened ? prefix : `${prefix}.entry`;
    Object.entries(value).forEach(([k, v], i) => {
      out.push([`${entry}.${i + 1}.${shape.key?.locationName ?? "key"}`, k]);
      queryParams(model, shape.value!, v, `${entry}.${i + 1}.${shape.value?.locationName ?? "value"}`, out);
    });
  } else out.push([prefix, typeof value === "object" ? JSON.stringify(value) : String(value)]);
}

/** A JSON body with the nesting marker replaced by `depth` nested arrays (built as text: too deep for JSON.stringify). */
const NEST = "\u0000nest\u0000";
const jsonText = (value: Json, depth: number) =>
  JSON.stringify(value).replace(JSON.stringify(NEST), `${"[".repeat(depth)}${"]".repeat(depth)}`);

function encode(model: ServiceModel, operation: string, wire: WireKind, input: Record<string, Json>, depth: number) {
  const op = model.operations[operation];
  const meta = model.metadata;
  if (wire === "json")
    return {
      method: "POST",
      path: "/",
      query: [],
      headers: {
        "content-type": `application/x-amz-json-${meta.jsonVersion ?? "1.0"}`,
        "x-amz-target": `${meta.targetPrefix}.${operation}`,
      },
      body: jsonText(input, depth),
    } satisfies RawRequest;
  if (wire === "query") {
    const params: [string, string][] = [
      ["Action", operation],
      ["Version", meta.apiVersion],
    ];
    if (op.input) queryParams(model, op.input, input, "", params);
    return {
      method: "POST",
      path: "/",
      query: [],
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: new URLSearchParams(params).toString(),
    } satisfies RawRequest;
  }
  // restJson: URI labels, query string, headers, and the rest as the JSON body (or the payload member).
  const [template, literalQuery = ""] = op.http.requestUri.split("?");
  const shape = op.input ? shapeOf(model, op.input) : { type: "structure" as const, members: {} };
  const query: [string, string][] = literalQuery
    ? literalQuery.split("&").map((kv) => [kv.split("=")[0], kv.split("=")[1] ?? ""] as [string, string])
    : [];
  const headers: Record<string, string> = { "content-type": "application/json" };
  const body: Record<string, Json> = {};
  let path = template;
  for (const [name, member] of Object.entries(shape.members ?? {})) {
    const v = input[name];
    const wireName = member.locationName ?? name;
    if (member.location === "uri") {
      const text = v === undefined ? "" : String(v);
      path = path
        .replace(`{${wireName}+}`, text.split("/").map(encodeURIComponent).join("/"))
        .replace(`{${wireName}}`, encodeURIComponent(text));
    } else if (v === undefined) {
    } else if (member.location === "querystring") {
      for (const item of Array.isArray(v) ? v : [v]) query.push([wireName, String(item)]);
    } else if (member.location === "header") headers[wireName.toLowerCase()] = String(v);
    else if (!member.location) body[name] = v;
  }
  const payload = shape.payload ? body[shape.payload] : body;
  const text =
    payload === undefined || (!shape.payload && Object.keys(body).length === 0) ? "" : jsonText(payload, depth);
  return { method: op.http.method, path, query, headers, body: text } satisfies RawRequest;
}

// ---------- the cases ----------

/** Every bad-input case of one operation in one wire protocol. */
export function casesFor(
  service: string,
  model: ServiceModel,
  operation: string,
  wire: WireKind,
  options: GenerateOptions,
): BadCase[] {
  const op = model.operations[operation];
  if (!op.input) return [];
  const maxBuilt = options.maxBuilt ?? 70_000;
  const depth = options.nestingDepth ?? 10_000;
  const base = validValue(model, op.input, wire) as Record<string, Json>;
  const checked = patternChecked(model);
  const cases: BadCase[] = [];
  const add = (kind: CaseKind, site: Site, value: Json | typeof REMOVE, expect: Expectation, what: string) => {
    const input = withMember(model, base, site, wire, value);
    cases.push({
      service,
      operation,
      protocol: wire,
      kind,
      path: site.path,
      // Nesting is refused for the body as a whole, before any member is read.
      member: kind === "nesting" ? "" : site.name,
      expect,
      request: encode(model, operation, wire, input, depth),
      what,
    });
  };
  let nested = false;
  for (const site of sitesOf(model, op.input)) {
    const { shape } = site;
    // Members carried as text: everything in the query protocol, restJson's URI, query and header bindings.
    const text = wire === "query" || site.location !== undefined;
    const bound = site.location;
    if (bound === "headers" || bound === "statusCode" || shape.document) continue;
    if (bound === "header" && shape.type === "string" && shape.max === undefined && !shape.enum) continue;
    const inList = site.keys.some((k) => typeof k === "number");
    // The query wire cannot say "a structure with nothing in it": removing its only member removes it.
    const queryEmpty =
      wire === "query" && site.keys.length > 1 && shapeOf(model, site.ancestors.at(-1)!).required?.length === 1;
    if (site.required && bound !== "uri" && !queryEmpty && !(inList && wire === "query"))
      add("missing", site, REMOVE, "validation", `${site.path} left out`);
    const wrong = wrongType(shape, text);
    if (wrong !== undefined) add("type", site, wrong, "type", `${site.path} = ${JSON.stringify(wrong)}`);
    if (shape.type === "integer" || shape.type === "long") {
      const big = shape.type === "integer" ? 2 ** 31 : 1e19;
      add(
        "overflow",
        site,
        text ? (shape.type === "integer" ? "99999999999" : "99999999999999999999") : big,
        "type",
        `${site.path} past ${shape.type}`,
      );
    }
    if (shape.type === "string" && shape.enum)
      add("enum", site, "NOT_A_VALID_VALUE", "validation", `${site.path} = an unknown enum value`);
    if (["integer", "long", "float", "double"].includes(shape.type)) {
      if (shape.min !== undefined && shape.min > -(2 ** 31))
        add("range", site, shape.min - 1, "validation", `${site.path} = ${shape.min - 1} (min ${shape.min})`);
      if (shape.max !== undefined && shape.max < 2 ** 31 - 1)
        add("range", site, shape.max + 1, "validation", `${site.path} = ${shape.max + 1} (max ${shape.max})`);
    }
    if (shape.type === "string" && !shape.enum) {
      if (shape.min !== undefined && shape.min > 1 && bound !== "uri")
        add("length", site, "a".repeat(shape.min - 1), "validation", `${site.path} shorter than ${shape.min}`);
      if (shape.min === 1 && bound !== "uri" && bound !== "header")
        add("length", site, "", "validation", `${site.path} empty (min 1)`);
      if (shape.max !== undefined && shape.max < maxBuilt)
        add("length", site, "a".repeat(shape.max + 1), "validation", `${site.path} longer than ${shape.max}`);
      const breaker = patternBreaker(shape);
      if (breaker !== undefined && !(bound === "header" && /[^\x20-\x7e]/.test(breaker)))
        add(
          "pattern",
          site,
          breaker,
          checked?.has(shape) ? "validation" : "rejected",
          `${site.path} = ${JSON.stringify(breaker)} breaks ${shape.pattern}`,
        );
      if (ARN_MEMBER.test(site.name) && !TOKEN_MEMBER.test(site.name) && bound !== "uri")
        add("arn", site, fitLength("arn:aws:badinput", shape), "rejected", `${site.path} = a malformed ARN`);
      if (TOKEN_MEMBER.test(site.name))
        add(
          "token",
          site,
          fitLength("badinput-not-a-token", shape),
          "rejected",
          `${site.path} = a token Berth never issued`,
        );
    }
    if (shape.type === "list" && !(wire === "query" && inList)) {
      if (shape.min !== undefined && shape.min > 0 && !bound)
        add("length", site, [], "validation", `${site.path} = [] (min ${shape.min})`);
      if (shape.max !== undefined && shape.max < 200 && !bound) {
        const items = Array.from({ length: shape.max + 1 }, (_, i) =>
          shapeOf(model, shape.member!).type === "string"
            ? validString(shapeOf(model, shape.member!), i + 1)
            : validValue(model, shape.member!, wire, 1),
        );
        add("length", site, items, "validation", `${site.path} with ${shape.max + 1} items (max ${shape.max})`);
      }
    }
    if (shape.type === "map" && shape.min !== undefined && shape.min > 0 && wire !== "query" && !bound)
      add("length", site, {}, "validation", `${site.path} = {} (min ${shape.min})`);
    if (!nested && !text && (shape.type === "list" || shape.type === "structure") && site.keys.length === 1) {
      nested = true;
      add("nesting", site, NEST, "type", `${site.path} nested ${depth} arrays deep`);
    }
  }
  return cases;
}

const fitLength = (s: string, shape: Shape) => {
  const min = shape.min ?? 0;
  const max = shape.max ?? s.length;
  return (s.length < min ? s + "x".repeat(min - s.length) : s).slice(0, Math.max(max, min));
};

/** The oversized case of a service: a body one byte over the edge's limit, declared up front. */
export function oversizedCase(
  service: string,
  model: ServiceModel,
  operation: string,
  wire: WireKind,
  maxBody: number,
): BadCase {
  const request = encode(
    model,
    operation,
    wire,
    validValue(model, model.operations[operation].input!, wire) as Record<string, Json>,
    1,
  );
  return {
    service,
    operation,
    protocol: wire,
    kind: "oversized",
    path: "",
    member: "",
    expect: "too-large",
    request: { ...request, declaredLength: maxBody + 1 },
    what: `a ${maxBody + 1}-byte body`,
  };
}

/** The valid base request of an operation (what every case breaks one member of). */
export function baseRequest(model: ServiceModel, operation: string, wire: WireKind): RawRequest {
  const ref = model.operations[operation].input;
  return encode(model, operation, wire, ref ? (validValue(model, ref, wire) as Record<string, Json>) : {}, 1);
}

/** Every case of a service's implemented operations, in every protocol the suite speaks, plus one oversized body per protocol. */
export function casesForService(
  service: string,
  model: ServiceModel,
  operations: string[],
  options: GenerateOptions,
): BadCase[] {
  const ops = operations.filter((o) => Object.hasOwn(model.operations, o)).sort();
  return wireKinds(model).flatMap((wire) => {
    const cases = ops.flatMap((o) => casesFor(service, model, o, wire, options));
    const withInput = ops.find((o) => model.operations[o].input);
    return withInput ? [...cases, oversizedCase(service, model, withInput, wire, options.maxBody)] : cases;
  });
}

// ---------- what each service answers ----------

/** The codes a service answers bad input with: its validation code, and the code for a value of the wrong type per protocol. */
export interface ServiceCodes {
  validation: string;
  type: Partial<Record<WireKind, string>>;
}

const JSON_TYPE = { json: "SerializationException", "rest-json": "SerializationException" } as const;

/**
 * AWS's codes per service (docs/errors.md): awsQuery services answer ValidationError (IAM and
 * STS say MalformedInput for a value of the wrong type); JSON services answer the wrong type
 * with SerializationException and constraint violations with their own validation exception.
 */
export const CODES: Record<string, ServiceCodes> = {
  iam: { validation: "ValidationError", type: { query: "MalformedInput" } },
  sts: { validation: "ValidationError", type: { query: "MalformedInput" } },
  elbv2: { validation: "ValidationError", type: { query: "ValidationError" } },
  cloudwatch: { validation: "InvalidParameterValue", type: { ...JSON_TYPE, query: "InvalidParameterValue" } },
  ecs: { validation: "InvalidParameterException", type: JSON_TYPE },
  ecr: { validation: "InvalidParameterException", type: JSON_TYPE },
  "ecr-public": { validation: "InvalidParameterException", type: JSON_TYPE },
  logs: { validation: "InvalidParameterException", type: JSON_TYPE },
  secretsmanager: { validation: "InvalidParameterException", type: JSON_TYPE },
  ssm: { validation: "ValidationException", type: JSON_TYPE },
  "application-autoscaling": { validation: "ValidationException", type: JSON_TYPE },
  eks: { validation: "InvalidParameterException", type: JSON_TYPE },
  efs: { validation: "BadRequest", type: JSON_TYPE },
  apprunner: { validation: "InvalidRequestException", type: JSON_TYPE },
};

/**
 * The codes of a service the table does not list yet (a new service joins the suite by being
 * served): its model's ValidationException, else InvalidParameterException, else ValidationError.
 */
export function codesOf(service: string, model: ServiceModel): ServiceCodes {
  if (Object.hasOwn(CODES, service)) return CODES[service];
  const has = (name: string) => model.shapes[name]?.exception === true;
  const validation = has("ValidationException")
    ? "ValidationException"
    : has("InvalidParameterException")
      ? "InvalidParameterException"
      : "ValidationError";
  return { validation, type: { ...JSON_TYPE, query: validation } };
}

/** The codes a case may be answered with. */
export function expectedCodes(c: BadCase, model: ServiceModel): string[] {
  const codes = codesOf(c.service, model);
  const typeCode = codes.type[c.protocol] ?? codes.validation;
  switch (c.expect) {
    case "validation":
      return [codes.validation];
    case "type":
      return [typeCode];
    case "too-large":
      return ["RequestEntityTooLargeException"];
    case "rejected": {
      // The provider's own checks: any error the service defines (models do not list every
      // error an operation can answer, e.g. EKS's ResourceNotFoundException), or the protocol's codes.
      const defined = Object.entries(model.shapes).flatMap(([name, shape]) =>
        shape.exception ? (shape.error?.code ? [name, shape.error.code] : [name]) : [],
      );
      return [...new Set([...defined, codes.validation, typeCode, "AccessDenied", "AccessDeniedException"])];
    }
  }
}

/**
 * Whether an answered code is one of the expected: the same code, or the same error shape under
 * its other spelling (query-compatible JSON services put the shape name, `InvalidParameterValueException`,
 * in `__type` and the query code, `InvalidParameterValue`, in x-amzn-query-error).
 */
export function codeMatches(model: ServiceModel, expected: string[], actual: string): boolean {
  if (expected.includes(actual)) return true;
  const shape = errorShape(model, actual)?.name;
  return shape !== undefined && expected.some((c) => errorShape(model, c)?.name === shape);
}

/** Whether a message names a member: its name, with the first letter in either case. */
export const namesMember = (message: string, member: string) =>
  member === "" || message.toLowerCase().includes(member.toLowerCase());
