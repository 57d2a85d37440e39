import { ServiceError } from "../core/errors.js";
import type { Shape } from "./model.js";

/**
 * Collects constraint violations while a parser walks the input, and reports them the way
 * AWS's request validation does: "N validation error(s) detected: Value X at 'path' failed to
 * satisfy constraint: …".
 */
export class Violations {
  private readonly items: string[] = [];

  constructor(private readonly code: string) {}

  missing(path: string) {
    this.items.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
  }

  check(shape: Shape, value: unknown, path: string) {
    const show =
      typeof value === "string"
        ? `'${value}'`
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

/** A value of the wrong JSON type: what AWS's deserializer rejects before validation. */
export const serializationError = (path: string, expected: string, value: unknown) =>
  new ServiceError(
    "SerializationException",
    `Cannot deserialize '${path}': expected ${expected}, got ${value === null ? "null" : Array.isArray(value) ? "an array" : `${typeof value} ${JSON.stringify(value)?.slice(0, 60)}`}.`,
  );

/** Joins a member path the way AWS names members in validation messages. */
export const memberPath = (parent: string, member: string) => (parent ? `${parent}.${member}` : member);

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
