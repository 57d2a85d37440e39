import { ServiceError } from "../../core/errors.js";
import type { ParsedRequest, Protocol, WireRequest, WireResponse } from "../http.js";
import type { ServiceModel } from "../model.js";
import { parseJsonDocument, toJsonValue } from "./codec.js";

/** awsJson1_0 / awsJson1_1: POST /, X-Amz-Target `<prefix>.<Operation>`, JSON bodies. */
export function awsJsonProtocol(model: ServiceModel, validationCode: string): Protocol {
  const contentType = `application/x-amz-json-${model.metadata.jsonVersion ?? "1.0"}`;
  const prefix = `${model.metadata.targetPrefix}.`;
  const queryCompatible = model.metadata.awsQueryCompatible !== undefined;
  return {
    parse(req: WireRequest): ParsedRequest {
      const target = req.headers["x-amz-target"] ?? "";
      const name = target.startsWith(prefix) ? target.slice(prefix.length) : "";
      const op = model.operations[name];
      if (!op)
        throw new ServiceError(
          "UnknownOperationException",
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
      const headers: Record<string, string> = {
        "content-type": contentType,
        "x-amzn-requestid": requestId,
        "x-amzn-errortype": code,
      };
      if (queryCompatible) headers["x-amzn-query-error"] = `${code};${fault}`;
      return { status, headers, body: JSON.stringify({ __type: code, message, ...fields }) };
    },
  };
}
