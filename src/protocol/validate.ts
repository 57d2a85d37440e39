import { ServiceError, commonErrors } from "../core/errors.js";
import type { ServiceModel, Shape } from "./model.js";

/**
 * AWS front ends (by endpoint prefix) that check the model's `pattern` constraints and answer
 * with the standard validation message: every pattern except the shapes listed (`except`), or
 * only the shapes listed (`only`) where the providers answer the other bad values with messages
 * of their own (ECS, ELBv2, EFS, ECR). Services join as their answers are checked against AWS's.
 */
const PATTERN_CHECKING: Record<string, { except: string[] } | { only: string[] }> = {
  // A log group ARN may end in the `:*` DescribeLogGroups puts on it, which the pattern lacks.
  logs: { except: ["LogGroupIdentifier"] },
  "application-autoscaling": { except: [] },
  monitoring: { except: [] },
  autoscaling: { except: [] },
  // IAM and STS: "Member must satisfy regular expression pattern: [\w+=,.@-]+" for names, paths, tags.
  iam: { except: [] },
  sts: { except: [] },
  ecs: { only: ["TagKey", "TagValue"] },
  elasticloadbalancing: { only: ["TagKey", "TagValue", "CustomerOwnedIpv4Pool", "IpamPoolId"] },
  elasticfilesystem: { only: ["TagKey", "TagValue"] },
  "api.ecr": { only: ["RegistryId"] },
  "api.ecr-public": { only: ["RegistryId"] },
  secretsmanager: { only: ["RegionType"] },
};

const policies = new WeakMap<ServiceModel, Set<Shape> | null>();

/** The shapes of a model whose patterns requests are checked against, or null for none. */
export function patternChecked(model: ServiceModel): ReadonlySet<Shape> | null {
  let checked = policies.get(model);
  if (checked === undefined) {
    const policy = Object.hasOwn(PATTERN_CHECKING, model.metadata.endpointPrefix)
      ? PATTERN_CHECKING[model.metadata.endpointPrefix]
      : undefined;
    const chosen = (name: string) =>
      policy !== undefined && ("only" in policy ? policy.only.includes(name) : !policy.except.includes(name));
    checked = policy
      ? new Set(Object.entries(model.shapes).flatMap(([name, s]) => (s.pattern && chosen(name) ? [s] : [])))
      : null;
    policies.set(model, checked);
  }
  return checked;
}

const compiled = new Map<string, RegExp | null>();
const skipped = new Set<string>();

/**
 * A model pattern as a JS regular expression matching the whole value (Java's `matches()`), or
 * undefined for the few patterns written in Java syntax JS lacks or reads differently (class
 * intersection `&&`, nested classes, `\Q…\E`, possessive quantifiers): those are skipped, not guessed.
 */
export function modelPattern(pattern: string): RegExp | undefined {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = /&&|\[\[/.test(pattern.replace(/\\./g, "")) ? null : compile(pattern);
    if (re === null) skipped.add(pattern);
    compiled.set(pattern, re);
  }
  return re ?? undefined;
}

function compile(pattern: string): RegExp | null {
  const { source, flags } = fromJava(pattern);
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch {
    return null;
  }
}

/** What JS's `u` mode lets `\` escape; Java lets it escape any other non-alphanumeric too. */
const JS_ESCAPABLE = "^$\\.*+?()[]{}|/";

/**
 * Java regex → JS `u`-mode source for the Java habits the models use: `\` before any punctuation
 * (`\-`, `\:`, `\_`) is that character; `-` after a class escape in a class (`[\w-_]`) is a
 * hyphen; `\p{Print}` is printable ASCII; a leading `(?i)` ignores case.
 */
export function fromJava(pattern: string): { source: string; flags: string } {
  let flags = "u";
  let p = pattern;
  if (p.startsWith("(?i)")) {
    flags += "i";
    p = p.slice(4);
  }
  let out = "";
  let inClass = false;
  let afterClassEscape = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    const wasClassEscape = afterClassEscape;
    afterClassEscape = false;
    if (c === "\\" && i + 1 < p.length) {
      const n = p[++i];
      if (p.startsWith("p{Print}", i)) {
        out += inClass ? "\\x20-\\x7E" : "[\\x20-\\x7E]";
        i += 7;
      } else if (/[A-Za-z0-9]/.test(n)) {
        out += `\\${n}`;
        if ((n === "p" || n === "P") && p[i + 1] === "{") {
          const end = p.indexOf("}", i);
          out += p.slice(i + 1, end + 1);
          i = end;
        }
        afterClassEscape = /[wWdDsSpP]/.test(n);
      } else {
        out += JS_ESCAPABLE.includes(n) || (inClass && n === "-") ? `\\${n}` : n;
      }
    } else if (inClass && c === "-" && wasClassEscape) {
      out += "\\-";
    } else if (c === "[" && !inClass) {
      inClass = true;
      out += c;
      if (p[i + 1] === "^") out += p[++i];
    } else {
      if (c === "]" && inClass) inClass = false;
      out += c;
    }
  }
  return { source: out, flags };
}

/** The patterns seen so far that could not be checked (see modelPattern). */
export const skippedPatterns = (): string[] => [...skipped];

/**
 * Collects constraint violations while a parser walks the input, and reports them the way
 * AWS's request validation does: "N validation error(s) detected: Value X at 'path' failed to
 * satisfy constraint: …".
 */
export class Violations {
  private readonly items: string[] = [];

  constructor(
    private readonly code: string,
    /** The shapes whose `pattern` strings are checked against (see patternChecked). */
    private readonly patterns: ReadonlySet<Shape> | null = null,
  ) {}

  missing(path: string) {
    this.items.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
  }

  check(shape: Shape, value: unknown, path: string) {
    const show =
      typeof value === "string"
        ? quoteValue(value)
        : Array.isArray(value)
          ? "[...]"
          : typeof value === "object" && value !== null
            ? "{...}"
            : String(value);
    if (shape.type === "string" && typeof value === "string") {
      if (shape.enum && !shape.enum.includes(value))
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(", ")}]`,
        );
      if (shape.min !== undefined && value.length < shape.min)
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        );
      if (shape.max !== undefined && value.length > shape.max)
        this.items.push(
          `Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        );
      if (shape.pattern && this.patterns?.has(shape) && modelPattern(shape.pattern)?.test(value) === false)
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`,
        );
    } else if (typeof value === "number") {
      if (shape.min !== undefined && value < shape.min)
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`,
        );
      if (shape.max !== undefined && value > shape.max)
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`,
        );
    } else if (Array.isArray(value) || (shape.type === "map" && value !== null && typeof value === "object")) {
      const length = Array.isArray(value) ? value.length : Object.keys(value as object).length;
      if (shape.min !== undefined && length < shape.min)
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        );
      if (shape.max !== undefined && length > shape.max)
        this.items.push(
          `Value ${show} at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        );
    }
  }

  throwIfAny() {
    if (this.items.length === 0) return;
    const n = this.items.length;
    throw new ServiceError(this.code, `${n} validation error${n > 1 ? "s" : ""} detected: ${this.items.join("; ")}`);
  }
}

/** A value as messages quote it: in quotes, cut to a short prefix (a 1 MB input is not echoed whole). */
export const quoteValue = (value: unknown) => {
  const text = String(value);
  return text.length > MAX_QUOTED ? `'${text.slice(0, MAX_QUOTED)}...'` : `'${text}'`;
};
const MAX_QUOTED = 256;

/** A value of the wrong JSON type: what AWS's deserializer rejects before validation. */
export const serializationError = (path: string, expected: string, value: unknown) =>
  commonErrors.SerializationException(
    `Cannot deserialize '${path}': expected ${expected}, got ${value === null ? "null" : Array.isArray(value) ? "an array" : `${typeof value} ${JSON.stringify(value)?.slice(0, 60)}`}.`,
  );

/**
 * Joins a member path the way AWS names members in validation messages: each member with its
 * first letter lower-cased ('roleSessionName', 'tags.1.member.key'), as AWS's services report them.
 */
export const memberPath = (parent: string, member: string) => {
  const name = member.charAt(0).toLowerCase() + member.slice(1);
  return parent ? `${parent}.${name}` : name;
};

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;

/** Whether an integral number fits the model type (`integer` is 32-bit, `long` 64-bit). */
export const integerFits = (type: string, n: number) =>
  type === "integer" ? n >= -INT32 && n < INT32 : n >= -INT64 && n < INT64;

/** The non-finite doubles as Smithy protocols spell them on the wire. */
export const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, "-Infinity": -Infinity };

/** Strict standard base64 (padding optional, as the SDKs and the CLI always pad). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** base64 text → bytes, or a SerializationException naming the member. */
export function decodeBase64(path: string, raw: string): Buffer {
  if (!BASE64.test(raw)) throw serializationError(path, "base64-encoded bytes", raw);
  return Buffer.from(raw, "base64");
}

/** Sets a key that came off the wire as an own data property, even `__proto__`. */
export function setEntry(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The deepest JSON nesting a request may have (Jackson's default limit, which AWS's JSON front ends keep). */
export const MAX_JSON_DEPTH = 1000;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, scanned without parsing (strings
 * skipped): a body 10,000 levels deep parses, but every recursive walk after it (validation,
 * storing, serializing) would overflow the stack and answer 500.
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The SerializationException for a body nested past MAX_JSON_DEPTH, in Jackson's words. */
export const tooDeepError = () =>
  commonErrors.SerializationException(
    `Document nesting depth exceeds the maximum allowed (${MAX_JSON_DEPTH}): the request body is not valid JSON for this operation.`,
  );
