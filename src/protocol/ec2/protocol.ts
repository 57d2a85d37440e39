import { ServiceError, commonErrors } from "../../core/errors.js";
import type { ParsedRequest, Protocol, WireRequest, WireResponse } from "../http.js";
import { type ServiceModel, type ShapeRef, operationNamed, shapeOf } from "../model.js";
import { type QueryNaming, parseQueryInput } from "../query/parse.js";
import { escapeXml, toXml } from "../query/xml.js";

/**
 * EC2's parameter names (botocore's EC2Serializer): a member's `queryName`, else its
 * `locationName` with the first letter capitalised, else the member name; lists are always
 * `Name.N` whatever the member's own locationName says.
 */
export const EC2_NAMING: QueryNaming = {
  member: (name, ref) =>
    ref.queryName ?? (ref.locationName ? ref.locationName[0].toUpperCase() + ref.locationName.slice(1) : name),
  listItems: (key) => key,
  checkRequired: false,
};

/** EC2's answer to a request without a required parameter. */
export const missingParameter = (name: string) =>
  new ServiceError("MissingParameter", `The request must contain the parameter ${name}`);

/**
 * The ec2 protocol: awsQuery-like `Action=<Op>&Version=…` form requests with EC2's names;
 * responses are `<OpResponse>` with a `<requestId>` and the output's members directly (no
 * `<OpResult>` wrapper); errors are `<Response><Errors><Error>…</Error></Errors><RequestID>`.
 */
export function ec2Protocol(model: ServiceModel, validationCode = "InvalidParameterValue"): Protocol {
  const ns = model.metadata.xmlNamespace ?? "";
  const headers = (requestId: string) => ({ "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": requestId });
  return {
    kind: "ec2",
    parse(req: WireRequest): ParsedRequest {
      const form =
        req.method === "POST" && req.body.length > 0 ? new URLSearchParams(req.body.toString("utf8")) : req.query;
      const action = form.get("Action");
      if (action === null) throw commonErrors.InvalidAction("Missing Action parameter.");
      const version = form.get("Version");
      const op = operationNamed(model, action);
      if (!op) throw new ServiceError("InvalidAction", `The action ${action} is not valid for this web service.`);
      if (version === null) throw missingParameter("Version");
      const input = parseQueryInput(model, op.input, form, validationCode, validationCode, EC2_NAMING);
      if (op.input)
        for (const name of shapeOf(model, op.input).required ?? [])
          if (input[name] === undefined) throw missingParameter(name);
      return { operation: action, input };
    },
    serialize(operation, output, requestId): WireResponse {
      const ref = model.operations[operation].output as ShapeRef | undefined;
      let inner = "";
      if (ref) {
        const values = (output ?? {}) as Record<string, unknown>;
        for (const [name, member] of Object.entries(shapeOf(model, ref).members ?? {}))
          inner += toXml(model, member, values[name], member.locationName ?? name);
      }
      const body = `<?xml version="1.0" encoding="UTF-8"?><${operation}Response xmlns="${ns}/"><requestId>${requestId}</requestId>${inner}</${operation}Response>`;
      return { status: 200, headers: headers(requestId), body };
    },
    renderError(code, message, status, _fault, requestId): WireResponse {
      const body = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      return { status, headers: headers(requestId), body };
    },
  };
}
