import { ServiceError, commonErrors } from "../../core/errors.js";
import type { ParsedRequest, Protocol, WireRequest, WireResponse } from "../http.js";
import { type Operation, type ServiceModel, type Shape, shapeOf } from "../model.js";
import { parseJsonInput, parseJsonText, toJsonValue } from "../json/codec.js";
import { scalar } from "../query/parse.js";
import { decodeBase64, memberPath } from "../validate.js";

interface Route {
  op: Operation;
  method: string;
  pattern: RegExp;
  labels: string[];
  /** Literal query keys in the requestUri (`/x?tagging`) that must be present. */
  requiredQuery: string[];
  specificity: number;
}

function compileRoutes(model: ServiceModel): Route[] {
  const routes = Object.values(model.operations).map((op): Route => {
    const [path, query = ""] = op.http.requestUri.split("?");
    const labels: string[] = [];
    const source = path
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const m = /^\{([^}+]+)(\+?)\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        labels.push(m[1]);
        return m[2] ? "(.+)" : "([^/]+)";
      })
      .join("");
    const requiredQuery = query ? query.split("&").map((kv) => kv.split("=")[0]) : [];
    return {
      op,
      method: op.http.method,
      pattern: new RegExp(`^${source}/?$`),
      labels,
      requiredQuery,
      specificity: path.replace(/\{[^}]+\}/g, "").length * 10 + requiredQuery.length,
    };
  });
  return routes.sort((a, b) => b.specificity - a.specificity);
}

/** Text of a URI label, query value or header → the JSON value the body codec expects. */
function bindingValue(shape: Shape, member: Shape | undefined, raw: string | string[], path: string): unknown {
  if (shape.type === "list") {
    const items = Array.isArray(raw) ? raw : raw.split(",").map((s) => s.trim());
    return items.map((item) => jsonScalar(member!.type, item, path));
  }
  return jsonScalar(shape.type, Array.isArray(raw) ? raw[0] : raw, path);
}

const jsonScalar = (type: string, raw: string, path: string) =>
  type === "timestamp" || type === "blob" ? raw : scalar(type, raw, path);

/** restJson1: operations bound to HTTP method + URI template; members bound to path, query, headers, body. */
export function restJsonProtocol(model: ServiceModel, validationCode: string): Protocol {
  const routes = compileRoutes(model);
  return {
    kind: "rest-json",
    parse(req: WireRequest): ParsedRequest {
      let match: { route: Route; groups: string[] } | undefined;
      for (const route of routes) {
        if (route.method !== req.method) continue;
        if (!route.requiredQuery.every((q) => req.query.has(q))) continue;
        const m = route.pattern.exec(req.path);
        if (m) {
          match = { route, groups: m.slice(1) };
          break;
        }
      }
      if (!match)
        throw new ServiceError(
          "UnknownOperationException",
          `No ${model.metadata.serviceId} operation matches ${req.method} ${req.path}.`,
          404,
        );
      const { op } = match.route;
      if (!op.input) return { operation: op.name, input: {} };
      const input = shapeOf(model, op.input);
      const doc: Record<string, unknown> = {};
      const bound: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(input.members ?? {})) {
        const shape = shapeOf(model, ref);
        const member = shape.member ? shapeOf(model, shape.member) : undefined;
        const wire = ref.locationName ?? name;
        if (ref.location === "uri") {
          const i = match.route.labels.indexOf(wire);
          if (i >= 0)
            bound[name] = bindingValue(shape, member, decodeLabel(match.groups[i], name), memberPath("", name));
        } else if (ref.location === "querystring") {
          if (shape.type === "map") {
            const map: Record<string, string> = {};
            for (const [k, v] of req.query) map[k] = v;
            bound[name] = map;
          } else if (req.query.has(wire))
            bound[name] = bindingValue(shape, member, req.query.getAll(wire), memberPath("", name));
        } else if (ref.location === "header") {
          const raw = req.headers[wire.toLowerCase()];
          if (raw !== undefined)
            bound[name] = ref.jsonvalue
              ? parseJson(decodeBase64(wire, raw), `header ${wire}`)
              : bindingValue(shape, member, raw, memberPath("", name));
        } else if (ref.location === "headers") {
          const prefix = wire.toLowerCase();
          const map: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers))
            if (k.startsWith(prefix) && v) map[k.slice(prefix.length)] = v;
          bound[name] = map;
        }
      }
      if (input.payload) {
        const payloadShape = shapeOf(model, input.members![input.payload]);
        if (payloadShape.type === "structure") {
          if (req.body.length) doc[input.payload] = parseJson(req.body, "request body");
        } else if (req.body.length)
          bound[input.payload] = payloadShape.type === "blob" ? req.body : req.body.toString();
      } else if (req.body.length) {
        Object.assign(doc, parseBody(req.body));
      }
      // Validate and type everything against the input shape in one walk (no re-serializing: a
      // deeply nested body would overflow JSON.stringify's stack).
      const parsed = parseJsonInput(model, op.input, { ...doc, ...bound }, validationCode);
      return { operation: op.name, input: parsed };
    },
    serialize(operation, output, requestId): WireResponse {
      const op = model.operations[operation];
      const headers: Record<string, string> = { "content-type": "application/json", "x-amzn-requestid": requestId };
      let status = op.http.responseCode ?? 200;
      let body = "{}";
      if (op.output) {
        const shape = shapeOf(model, op.output);
        const value = (output ?? {}) as Record<string, unknown>;
        for (const [name, ref] of Object.entries(shape.members ?? {})) {
          const v = value[name];
          if (v === undefined) continue;
          if (ref.location === "header") headers[(ref.locationName ?? name).toLowerCase()] = String(v);
          else if (ref.location === "statusCode") status = Number(v);
        }
        body = shape.payload
          ? JSON.stringify(toJsonValue(model, shape.members![shape.payload], value[shape.payload]) ?? {})
          : JSON.stringify(toJsonValue(model, op.output, value) ?? {});
      }
      return { status, headers, body };
    },
    renderError(code, message, status, _fault, requestId, fields): WireResponse {
      return {
        status,
        headers: { "content-type": "application/json", "x-amzn-requestid": requestId, "x-amzn-errortype": code },
        body: JSON.stringify({ message, ...fields }),
      };
    },
  };
}

function parseBody(body: Buffer): Record<string, unknown> {
  const doc = parseJson(body, "request body");
  if (doc && typeof doc === "object" && !Array.isArray(doc)) return doc as Record<string, unknown>;
  throw commonErrors.SerializationException("The request body must be a JSON object.");
}

const parseJson = parseJsonText;

/** A URI label as the client meant it; malformed percent-encoding is the client's error, not a 500. */
function decodeLabel(raw: string, member: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw commonErrors.SerializationException(
      `The request path segment for '${member}' is not valid percent-encoded UTF-8: ${raw.slice(0, 100)}`,
    );
  }
}
