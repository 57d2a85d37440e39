import { ServiceError, commonErrors } from "../../core/errors.js";
import { type ServiceModel, type Shape, type ShapeRef, shapeOf } from "../model.js";
import { parseTimestamp } from "../timestamp.js";
import {
  NON_FINITE,
  Violations,
  patternChecked,
  decodeBase64,
  integerFits,
  memberPath,
  quoteValue,
  serializationError,
  setEntry,
} from "../validate.js";

/**
 * How a query-family protocol names parameters: awsQuery uses a member's `locationName` and
 * `X.member.N` lists unless flattened; EC2 uses `queryName`, else the capitalised
 * `locationName`, and always `X.N` lists (botocore's EC2Serializer).
 */
export interface QueryNaming {
  member(name: string, ref: ShapeRef): string;
  listItems(key: string, ref: ShapeRef, list: Shape): string;
  /** Whether the walk reports missing `required` members (EC2 reports them its own way). */
  checkRequired: boolean;
}

export const AWS_QUERY_NAMING: QueryNaming = {
  member: (name, ref) => ref.locationName ?? name,
  listItems: (key, ref, list) =>
    ref.flattened || list.flattened ? key : `${key}.${list.member!.locationName ?? "member"}`,
  checkRequired: true,
};

/** Parses awsQuery form parameters (`A.member.1.B=…`, `M.entry.1.key=…`) into typed input. */
export function parseQueryInput(
  model: ServiceModel,
  ref: ShapeRef | undefined,
  form: URLSearchParams,
  code: string,
  typeErrorCode = code,
  naming: QueryNaming = AWS_QUERY_NAMING,
) {
  if (!ref) return {};
  const params: Params = { values: new Map(), prefixes: new Set(), typeError: typeErrorCode, naming };
  for (const [k, v] of form) {
    if (params.values.has(k)) continue; // the first of repeated parameters counts, as on AWS
    params.values.set(k, v);
    // Every dotted prefix of every key, so "is anything under X.member.7?" is one lookup
    // rather than a scan of all keys (which made a 20,000-item list take seconds).
    for (let i = k.indexOf("."); i >= 0; i = k.indexOf(".", i + 1)) params.prefixes.add(k.slice(0, i));
  }
  const v = new Violations(code, patternChecked(model));
  const out = (parse(model, ref, params, "", "", v) ?? {}) as Record<string, unknown>;
  v.throwIfAny();
  return out;
}

interface Params {
  values: Map<string, string>;
  /** Every proper dotted prefix of a key in `values`. */
  prefixes: Set<string>;
  /** The error code for a value of the wrong type. */
  typeError: string;
  naming: QueryNaming;
}

const hasPrefix = (params: Params, prefix: string) => params.values.has(prefix) || params.prefixes.has(prefix);

function parse(model: ServiceModel, ref: ShapeRef, params: Params, key: string, path: string, v: Violations): unknown {
  const shape = shapeOf(model, ref);
  switch (shape.type) {
    case "structure": {
      if (key && !hasPrefix(params, key)) return undefined;
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const wire = params.naming.member(name, member);
        const value = parse(model, member, params, key ? `${key}.${wire}` : wire, memberPath(path, name), v);
        if (value !== undefined) out[name] = value;
      }
      if (params.naming.checkRequired)
        for (const name of shape.required ?? []) if (out[name] === undefined) v.missing(memberPath(path, name));
      return out;
    }
    case "list": {
      if (params.values.get(key) === "") {
        // `Name=` is how the query protocol sends an empty list; it still has to meet the list's minimum.
        v.check(shape, [], path);
        return [];
      }
      const itemKey = params.naming.listItems(key, ref, shape);
      const items: unknown[] = [];
      for (let i = 1; hasPrefix(params, `${itemKey}.${i}`); i++)
        items.push(parse(model, shape.member!, params, `${itemKey}.${i}`, `${path}.${i}.member`, v));
      if (items.length === 0) return undefined;
      v.check(shape, items, path);
      return items;
    }
    case "map": {
      const flattened = ref.flattened || shape.flattened;
      const entryKey = flattened ? key : `${key}.entry`;
      const k = shape.key?.locationName ?? "key";
      const val = shape.value?.locationName ?? "value";
      const out: Record<string, unknown> = {};
      let any = false;
      for (let i = 1; hasPrefix(params, `${entryKey}.${i}`); i++) {
        const name = params.values.get(`${entryKey}.${i}.${k}`);
        if (name === undefined) continue;
        v.check(shapeOf(model, shape.key!), name, `${path}.key`);
        setEntry(out, name, parse(model, shape.value!, params, `${entryKey}.${i}.${val}`, `${path}.${name}`, v));
        any = true;
      }
      if (any) v.check(shape, out, path);
      return any ? out : undefined;
    }
    default: {
      const raw = params.values.get(key);
      if (raw === undefined) return undefined;
      return scalar(
        shape.type,
        raw,
        path,
        (s) => v.check(shapeOf(model, ref), s, path),
        queryTypeError(params.typeError),
      );
    }
  }
}

/** A query parameter of the wrong type, in the service's code, as a validation message naming the member. */
const queryTypeError =
  (code: string): TypeError =>
  (path, expected, raw) =>
    new ServiceError(
      code,
      `1 validation error detected: Value ${quoteValue(raw)} at '${path}' failed to satisfy constraint: Member must be ${expected}`,
    );

type TypeError = (path: string, expected: string, raw: unknown) => ServiceError;

/** Text → typed scalar for the query protocol and restJson's URI, query and header bindings. */
export function scalar(
  type: string,
  raw: string,
  path: string,
  check: (value: unknown) => void = () => {},
  typeError: TypeError = serializationError,
): unknown {
  switch (type) {
    case "string":
      check(raw);
      return raw;
    case "integer":
    case "long": {
      const n = Number(raw);
      if (!/^[+-]?\d+$/.test(raw)) throw typeError(path, "an integer", raw);
      if (!integerFits(type, n)) throw typeError(path, `a ${type === "integer" ? "32" : "64"}-bit integer`, raw);
      check(n);
      return n;
    }
    case "float":
    case "double": {
      if (Object.hasOwn(NON_FINITE, raw)) return NON_FINITE[raw];
      const n = Number(raw);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) || !Number.isFinite(n))
        throw typeError(path, "a number", raw);
      check(n);
      return n;
    }
    case "boolean":
      if (raw !== "true" && raw !== "false") throw typeError(path, "true or false", raw);
      return raw === "true";
    case "timestamp": {
      const d = parseTimestamp(raw);
      if (!d) throw typeError(path, "a timestamp (ISO 8601 or epoch seconds)", raw);
      return d;
    }
    case "blob":
      return decodeBase64(path, raw);
    default:
      throw commonErrors.SerializationException(`Unsupported type ${type} at ${path}`);
  }
}
