import { commonErrors } from "../../core/errors.js";
import { outputWalker } from "../output.js";
import { type ServiceModel, type ShapeRef, shapeOf } from "../model.js";
import { parseTimestamp } from "../timestamp.js";
import {
  NON_FINITE,
  Violations,
  patternChecked,
  decodeBase64,
  integerFits,
  jsonTooDeep,
  memberPath,
  serializationError,
  setEntry,
  tooDeepError,
} from "../validate.js";

/**
 * Model-driven JSON codec shared by awsJson1_0/1_1 and restJson1 bodies: parses a request
 * document into typed input (timestamps → Date, blobs → Buffer) checking types, required
 * members, enums and lengths; serializes typed output back (Date → epoch seconds).
 */
export function parseJsonDocument(
  model: ServiceModel,
  ref: ShapeRef | undefined,
  body: Buffer,
  validationCode: string,
) {
  if (!ref) return {};
  let doc: unknown = {};
  if (body.length > 0) doc = parseJsonText(body, "request body");
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw commonErrors.SerializationException("The request body must be a JSON object.");
  return parseJsonInput(model, ref, doc as Record<string, unknown>, validationCode);
}

/** JSON text → value; malformed or too deeply nested text is the client's SerializationException. */
export function parseJsonText(text: Buffer, what: string): unknown {
  const source = text.toString("utf8");
  if (jsonTooDeep(source)) throw tooDeepError();
  try {
    return JSON.parse(source);
  } catch (e) {
    throw commonErrors.SerializationException(`The ${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** An already-parsed JSON object → typed input, checked against the shape (restJson merges its bindings in first). */
export function parseJsonInput(
  model: ServiceModel,
  ref: ShapeRef,
  doc: Record<string, unknown>,
  validationCode: string,
): Record<string, unknown> {
  const violations = new Violations(validationCode, patternChecked(model));
  const value = parseValue(model, ref, doc, "", violations);
  violations.throwIfAny();
  return value as Record<string, unknown>;
}

export function parseValue(model: ServiceModel, ref: ShapeRef, value: unknown, path: string, v: Violations): unknown {
  const shape = shapeOf(model, ref);
  if (shape.document) return value;
  switch (shape.type) {
    case "structure": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw serializationError(path || "input", "an object", value);
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const raw = input[name];
        if (raw === undefined || raw === null) continue;
        out[name] = parseValue(model, member, raw, memberPath(path, name), v);
      }
      for (const name of shape.required ?? []) if (out[name] === undefined) v.missing(memberPath(path, name));
      return out;
    }
    case "list": {
      if (!Array.isArray(value)) throw serializationError(path, "a list", value);
      v.check(shape, value, path);
      return value.map((item, i) => parseValue(model, shape.member!, item, `${path}.${i + 1}.member`, v));
    }
    case "map": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw serializationError(path, "a map", value);
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(value)) {
        if (item === null) continue;
        v.check(shapeOf(model, shape.key!), k, `${path}.key`);
        setEntry(out, k, parseValue(model, shape.value!, item, `${path}.${k}`, v));
      }
      v.check(shape, out, path);
      return out;
    }
    case "string": {
      // Like AWS's deserializer, a JSON number or boolean is accepted as its text.
      if (typeof value === "number" || typeof value === "boolean") value = String(value);
      if (typeof value !== "string") throw serializationError(path, "a string", value);
      v.check(shape, value, path);
      return value;
    }
    case "integer":
    case "long": {
      if (typeof value !== "number" || !Number.isInteger(value)) throw serializationError(path, "an integer", value);
      if (!integerFits(shape.type, value))
        throw serializationError(path, `a ${shape.type === "integer" ? "32" : "64"}-bit integer`, value);
      v.check(shape, value, path);
      return value;
    }
    case "float":
    case "double": {
      // Smithy JSON protocols send NaN and ±Infinity as strings; a finite number otherwise.
      if (typeof value === "string" && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value];
      if (typeof value !== "number" || !Number.isFinite(value)) throw serializationError(path, "a number", value);
      v.check(shape, value, path);
      return value;
    }
    case "boolean": {
      if (typeof value !== "boolean") throw serializationError(path, "true or false", value);
      return value;
    }
    case "timestamp": {
      const date = parseTimestamp(value);
      if (!date) throw serializationError(path, "a timestamp (epoch seconds or ISO 8601)", value);
      return date;
    }
    case "blob": {
      if (Buffer.isBuffer(value)) return value; // a restJson blob payload, already bytes
      if (typeof value !== "string") throw serializationError(path, "base64 text", value);
      return decodeBase64(path, value);
    }
  }
}

/** Typed output → plain JSON value following the model (unknown members are dropped). */
export const toJsonValue = outputWalker((shape, ref, value) => {
  switch (shape.type) {
    case "timestamp": {
      const date = value instanceof Date ? value : new Date(value as string);
      const format = ref.timestampFormat ?? shape.timestampFormat;
      if (format === "iso8601") return date.toISOString();
      return date.getTime() / 1000;
    }
    case "blob":
      return Buffer.from(value as Uint8Array).toString("base64");
    case "float":
    case "double":
      return Number.isFinite(value) ? value : String(value);
    default:
      return value;
  }
});
