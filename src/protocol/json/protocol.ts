import { commonErrors } from "../../core/errors.js";
import type { ParsedRequest, Protocol, WireRequest, WireResponse } from "../http.js";
import { type ServiceModel, errorShape, operationNamed, queryErrorCode } from "../model.js";
import { parseJsonDocument, toJsonValue } from "./codec.js";

/** awsJson1_0 / awsJson1_1: POST /, X-Amz-Target `<prefix>.<Operation>`, JSON bodies. */
export function awsJsonProtocol(model: ServiceModel, validationCode: string): Protocol {
  const contentType = `application/x-amz-json-${model.metadata.jsonVersion ?? "1.0"}`;
  const prefix = `${model.metadata.targetPrefix}.`;
  const queryCompatible = model.metadata.awsQueryCompatible !== undefined;
  return {
    kind: "json",
    parse(req: WireRequest): ParsedRequest {
      const target = req.headers["x-amz-target"] ?? "";
      const name = target.startsWith(prefix) ? target.slice(prefix.length) : "";
      const op = operationNamed(model, name);
      if (!op)
        throw commonErrors.UnknownOperationException(
          target
            ? `Operation ${target} is not recognized by ${model.metadata.serviceId}.`
            : "Missing X-Amz-Target header.",
        );
      return { operation: name, input: parseJsonDocument(model, op.input, req.body, validationCode) };
    },
    serialize(operation, output, requestId): WireResponse {
      const ref = model.operations[operation].output;
      const body = ref ? JSON.stringify(toJsonValue(model, ref, output ?? {}) ?? {}) : "{}";
      return { status: 200, headers: { "content-type": contentType, "x-amzn-requestid": requestId }, body };
    },
    renderError(code, message, status, fault, requestId, fields): WireResponse {
      // Query-compatible services name the shape in `__type` and put its query code in a header,
      // whichever of the two spellings the provider threw.
      const type = queryCompatible ? (errorShape(model, code)?.name ?? code) : code;
      const headers: Record<string, string> = {
        "content-type": contentType,
        "x-amzn-requestid": requestId,
        "x-amzn-errortype": type,
      };
      if (queryCompatible) headers["x-amzn-query-error"] = `${queryErrorCode(model, code)};${fault}`;
      return { status, headers, body: JSON.stringify({ __type: type, message, ...fields }) };
    },
  };
}
