import { ServiceError, commonErrors } from "../../core/errors.js";
import type { ParsedRequest, Protocol, WireRequest, WireResponse } from "../http.js";
import { parseValue } from "../json/codec.js";
import { type ServiceModel, errorShape, operationNamed, queryErrorCode } from "../model.js";
import { Violations, patternChecked, setEntry, tooDeepError } from "../validate.js";
import { outputWalker } from "../output.js";
import { CborError, decodeCbor, encodeCbor } from "./cbor.js";

/** CBOR-decoded input → what the JSON input walker checks (bytes → base64, Date → epoch seconds, ±Inf/NaN → text). */
function jsonish(v: unknown): unknown {
  if (v instanceof Date) return v.getTime() / 1000;
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (Array.isArray(v)) return v.map(jsonish);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setEntry(out, k, jsonish(x));
    return out;
  }
  return v;
}

/** Typed output → CBOR-ready value following the model (timestamps as Date/tag 1, blobs as bytes). */
const toCborValue = outputWalker((shape, _ref, value) => {
  if (shape.type === "timestamp") return value instanceof Date ? value : new Date(value as string);
  if (shape.type === "blob") return Buffer.from(value as Uint8Array);
  return value;
});

/**
 * Smithy RPC v2 CBOR: `POST /service/<ServiceName>/operation/<Operation>`, `smithy-protocol:
 * rpc-v2-cbor`, CBOR bodies. Errors name the shape in `__type`; query-compatible services also
 * send `x-amzn-query-error`.
 */
export function rpcV2CborProtocol(model: ServiceModel, validationCode: string): Protocol {
  const service = model.metadata.targetPrefix ?? model.metadata.serviceId.replace(/\s+/g, "");
  const namespace = `com.amazonaws.${model.metadata.serviceId.replace(/\s+/g, "").toLowerCase()}`;
  const queryCompatible = model.metadata.awsQueryCompatible !== undefined;
  const headers = (requestId: string) => ({
    "content-type": "application/cbor",
    "smithy-protocol": "rpc-v2-cbor",
    "x-amzn-requestid": requestId,
  });
  return {
    kind: "rpc-v2-cbor",
    parse(req: WireRequest): ParsedRequest {
      const m = /\/service\/([^/]+)\/operation\/([^/]+)$/.exec(req.path);
      const name = m && decodeURIComponent(m[1]) === service ? decodeURIComponent(m[2]) : "";
      const op = operationNamed(model, name);
      if (!op || req.method !== "POST")
        throw new ServiceError(
          "UnknownOperationException",
          m
            ? `Operation ${m[2]} of service ${m[1]} is not recognized.`
            : `Expected POST /service/${service}/operation/<Operation>.`,
          404,
        );
      if (!op.input) return { operation: name, input: {} };
      let doc: unknown = {};
      if (req.body.length > 0) {
        try {
          doc = decodeCbor(req.body);
        } catch (e) {
          if (e instanceof CborError || e instanceof TypeError)
            throw commonErrors.SerializationException(`The request body is not valid CBOR: ${e.message}`);
          if (e instanceof RangeError) throw tooDeepError();
          throw e;
        }
      }
      if (doc === null || typeof doc !== "object" || Array.isArray(doc) || Buffer.isBuffer(doc))
        throw commonErrors.SerializationException("The request body must be a CBOR map.");
      const violations = new Violations(validationCode, patternChecked(model));
      let plain: unknown;
      try {
        plain = jsonish(doc);
      } catch (e) {
        // Nesting past what a recursive walk can follow is the client's error, not a 500.
        if (e instanceof RangeError) throw tooDeepError();
        throw e;
      }
      const input = parseValue(model, op.input, plain, "", violations) as Record<string, unknown>;
      violations.throwIfAny();
      return { operation: name, input };
    },
    serialize(operation, output, requestId): WireResponse {
      const ref = model.operations[operation].output;
      const value = ref ? (toCborValue(model, ref, output ?? {}) ?? {}) : {};
      return { status: 200, headers: headers(requestId), body: encodeCbor(value) };
    },
    renderError(code, message, status, fault, requestId, fields): WireResponse {
      const shape = errorShape(model, code)?.name ?? code;
      const h: Record<string, string> = headers(requestId);
      if (queryCompatible) h["x-amzn-query-error"] = `${queryErrorCode(model, code)};${fault}`;
      return { status, headers: h, body: encodeCbor({ __type: `${namespace}#${shape}`, message, ...fields }) };
    },
  };
}
