import { commonErrors } from "../../core/errors.js";
import type { ParsedRequest, Protocol, WireRequest, WireResponse } from "../http.js";
import { type ServiceModel, type ShapeRef, operationNamed, queryErrorCode } from "../model.js";
import { parseQueryInput } from "./parse.js";
import { escapeXml, toXml } from "./xml.js";

/** awsQuery: form-encoded `Action=<Op>&Version=…` requests, XML responses. */
export function awsQueryProtocol(
  model: ServiceModel,
  validationCode: string,
  /** The code for a value of the wrong type (a word for an integer): STS and IAM say MalformedInput. */
  typeErrorCode = validationCode,
): Protocol {
  const ns = model.metadata.xmlNamespace ?? "";
  const meta = (requestId: string) => `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  return {
    kind: "query",
    parse(req: WireRequest): ParsedRequest {
      const form =
        req.method === "POST" && req.body.length > 0 ? new URLSearchParams(req.body.toString("utf8")) : req.query;
      // The first of repeated parameters counts, as on AWS.
      const action = form.get("Action");
      if (action === null) throw commonErrors.InvalidAction("Missing Action parameter.");
      const version = form.get("Version");
      const op = operationNamed(model, action);
      if (!op || version !== model.metadata.apiVersion)
        throw commonErrors.InvalidAction(
          `Could not find operation ${action} for version ${version ?? "NO_VERSION_SPECIFIED"}`,
        );
      return { operation: action, input: parseQueryInput(model, op.input, form, validationCode, typeErrorCode) };
    },
    serialize(operation, output, requestId): WireResponse {
      const ref = model.operations[operation].output as (ShapeRef & { resultWrapper?: string }) | undefined;
      const result = ref?.resultWrapper ? toXml(model, ref, output ?? {}, ref.resultWrapper) : "";
      const body = `<?xml version="1.0" encoding="UTF-8"?><${operation}Response xmlns="${ns}">${result}${meta(requestId)}</${operation}Response>`;
      return { status: 200, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId }, body };
    },
    renderError(code, message, status, fault, requestId): WireResponse {
      const body = `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${ns}"><Error><Type>${fault}</Type><Code>${escapeXml(queryErrorCode(model, code))}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      return { status, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId }, body };
    },
  };
}
