import fc from "fast-check";
import { type ServiceModel, type ShapeRef, shapeOf } from "../../src/protocol/model.js";
import { patternChecked, modelPattern } from "../../src/protocol/validate.js";

export interface ArbitraryOptions {
  /**
   * Never generate an empty structure or map. The query protocol cannot express `{}`: a
   * structure with no members set, or a map with no entries, puts nothing on the wire.
   */
  nonEmptyStructures?: boolean;
  /**
   * Strings will travel as XML text: leave out whitespace-only strings with a line break,
   * which the SDK's XML parser reads as "" (indentation) however they are escaped.
   */
  xmlText?: boolean;
  /** Characters strings are made of; defaults to a mix that exercises every escaping rule. */
  chars?: fc.Arbitrary<string>;
}

/** Single UTF-16 code units, so `.length` (what the validator measures) equals the generated length. */
export const wireChars = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "é",
      "✓",
      "ß",
      " ",
      "&",
      "=",
      "+",
      "%",
      "/",
      "?",
      "#",
      "<",
      ">",
      '"',
      "'",
      "\n",
      "\r",
      "\t",
    ),
  },
);

/** Strings a model pattern accepts: generated from it where fast-check can, else filtered. Built once per pattern (\p{L} classes are slow to build). */
const matchers = new Map<RegExp, fc.Arbitrary<string>>();
function matching(pattern: RegExp, chars: fc.Arbitrary<string>): fc.Arbitrary<string> {
  let arb = matchers.get(pattern);
  if (!arb) {
    try {
      arb = fc.stringMatching(pattern);
    } catch {
      arb = fc.string({ unit: chars, maxLength: 12 }).filter((t) => pattern.test(t));
    }
    matchers.set(pattern, arb);
  }
  return arb;
}

/**
 * One character of a pattern that is a single class repeated (`[\w]+`, `[A-Z0-9]*`): strings of
 * a long minimum length (IAM's 16-character ids) are built from it, where filtering what
 * stringMatching draws would almost never pass the length.
 */
const singles = new Map<RegExp, fc.Arbitrary<string> | null>();
function singleClass(pattern: RegExp): fc.Arbitrary<string> | null {
  let arb = singles.get(pattern);
  if (arb === undefined) {
    const m = /^\^\(\?:\^?(\[(?:\\.|[^\]\\])+\])[+*]\$?\)\$$/.exec(pattern.source);
    arb = m ? fc.stringMatching(new RegExp(`^${m[1]}$`, pattern.flags)) : null;
    singles.set(pattern, arb);
  }
  return arb;
}

const MAX_DEPTH = 6;
const MAX_ITEMS = 2;
const INT32 = 2 ** 31;

/**
 * Random values that satisfy a model shape as Berth's parsers check it: required members,
 * enums, length and value ranges, and the model's patterns for services whose patterns Berth checks.
 * Values are typed the way the SDK and Berth's providers see them: Date, Buffer, numbers.
 */
export function arbitraryFor(
  model: ServiceModel,
  ref: ShapeRef,
  options: ArbitraryOptions = {},
): fc.Arbitrary<unknown> {
  const chars = options.chars ?? wireChars;
  const build = (ref: ShapeRef, depth: number, extra: { minLength?: number } = {}): fc.Arbitrary<unknown> => {
    const shape = shapeOf(model, ref);
    if (shape.document)
      return fc
        .jsonValue({ maxDepth: 2 })
        .filter((v) => v !== null) // a null member is an absent member
        .map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    switch (shape.type) {
      case "structure": {
        const members = Object.entries(shape.members ?? {});
        const required = new Set([
          ...(shape.required ?? []),
          // The SDK fills an absent idempotency token with a fresh UUID; always give one.
          ...members.filter(([, m]) => m.idempotencyToken).map(([name]) => name),
        ]);
        // Past the depth limit only required members are generated, which ends recursive shapes.
        const chosen = members.filter(([name]) => depth < MAX_DEPTH || required.has(name));
        if (shape.union) {
          return fc.oneof(
            ...chosen.map(([name, m]) => build(m, depth + 1).map((v) => ({ [name]: v }) as Record<string, unknown>)),
          );
        }
        const record = fc.record(
          Object.fromEntries(
            // A URI label cannot be empty, and an empty list in a query string or header is no list at all.
            chosen.map(([name, m]) => [name, build(m, depth + 1, m.location ? { minLength: 1 } : {})]),
          ),
          { requiredKeys: chosen.map(([name]) => name).filter((n) => required.has(n)) },
        );
        return options.nonEmptyStructures && chosen.length > 0
          ? record.filter((r) => Object.keys(r).length > 0)
          : record;
      }
      case "list": {
        const minLength = Math.max(shape.min ?? 0, extra.minLength ?? 0);
        const maxLength = Math.max(minLength, Math.min(shape.max ?? MAX_ITEMS, depth >= MAX_DEPTH ? 0 : MAX_ITEMS));
        return fc.array(build(shape.member!, depth + 1), { minLength, maxLength });
      }
      case "map": {
        const minKeys = Math.max(shape.min ?? 0, options.nonEmptyStructures ? 1 : 0);
        const maxKeys = Math.max(minKeys, Math.min(shape.max ?? MAX_ITEMS, MAX_ITEMS));
        return fc
          .uniqueArray(fc.tuple(build(shape.key!, depth + 1, { minLength: 1 }), build(shape.value!, depth + 1)), {
            minLength: minKeys,
            maxLength: maxKeys,
            selector: ([k]) => k,
          })
          .map((entries) => Object.fromEntries(entries));
      }
      case "string": {
        if (shape.enum) return fc.constantFrom(...shape.enum);
        const minLength = Math.max(shape.min ?? 0, extra.minLength ?? 0);
        const maxLength = Math.max(minLength, Math.min(shape.max ?? 12, 12));
        const pattern = shape.pattern && patternChecked(model)?.has(shape) ? modelPattern(shape.pattern) : undefined;
        const single = pattern && singleClass(pattern);
        const text = single
          ? fc.string({ unit: single, minLength, maxLength })
          : pattern
            ? matching(pattern, chars).filter(
                (t) => t.length >= minLength && t.length <= Math.max(maxLength, shape.max ?? 64),
              )
            : fc.string({ unit: chars, minLength, maxLength });
        return options.xmlText ? text.filter((t) => t.trim() !== "" || !/[\r\n]/.test(t)) : text;
      }
      case "integer":
        return fc.integer({ min: shape.min ?? -INT32, max: shape.max ?? INT32 - 1 });
      case "long":
        return fc.integer({
          min: Math.max(shape.min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
          max: Math.min(shape.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
        });
      case "float":
      case "double": {
        const bounded = shape.min !== undefined || shape.max !== undefined;
        return fc
          .double({ min: shape.min, max: shape.max, noNaN: bounded, noDefaultInfinity: bounded })
          .map((n) => (Object.is(n, -0) ? 0 : n));
      }
      case "boolean":
        return fc.boolean();
      case "timestamp":
        return fc.date({
          min: new Date("1970-01-01T00:00:00Z"),
          max: new Date("2200-01-01T00:00:00Z"),
          noInvalidDate: true,
        });
      case "blob":
        return fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b));
    }
  };
  return build(ref, 0);
}

/** Buffers and other byte arrays as plain arrays, so SDK Uint8Arrays compare equal to Berth's Buffers. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The smallest input an operation can be sent with: every URI label filled in. */
export function labelsOnly(model: ServiceModel, ref: ShapeRef | undefined): Record<string, unknown> {
  if (!ref) return {};
  const members = Object.entries(shapeOf(model, ref).members ?? {});
  return Object.fromEntries(members.filter(([, m]) => m.location === "uri").map(([name]) => [name, "x"]));
}
