/**
 * /openapi/v2 from the vendored official Kubernetes OpenAPI document (src/kube/openapi), as JSON and
 * as the protobuf kubectl asks for (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`:
 * gnostic's openapi_v2.Document, encoded with protobufjs from OpenAPIv2.proto; extension and
 * free-form values are `Any` messages holding their YAML, as gnostic writes them). /openapi/v3 is
 * the same document converted per group-version (see openapi-v3.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";
import YAML from "yaml";
import { loadOpenApi, type OpenApiIndex } from "../kube/schema.js";

/** What kubectl asks for (Accept) and what kube-openapi answers (Content-Type: `@` is no valid media type character). */
export const OPENAPI_V2_PROTOBUF_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

function vendored(file: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "../kube/openapi", file), join(here, "../../../src/kube/openapi", file)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`cannot find ${file} (looked in ${candidates.join(", ")})`);
  return found;
}

let index: OpenApiIndex | undefined;

/** The parsed OpenAPI index (kube/schema's), read once. */
export function openApiIndex(): OpenApiIndex {
  if (!index) {
    try {
      index = loadOpenApi();
    } catch (e) {
      // kube/schema not implemented yet: the raw document is all the API server itself needs.
      if (!String((e as Error).message).includes("not implemented")) throw e;
      const document = JSON.parse(gunzipSync(readFileSync(vendored("swagger.json.gz"))).toString("utf8"));
      index = { document } as unknown as OpenApiIndex;
    }
  }
  return index;
}

let jsonBody: Buffer | undefined;
let protoBody: Buffer | undefined;

export function openApiV2Json(): Buffer {
  jsonBody ??= Buffer.from(JSON.stringify(openApiIndex().document));
  return jsonBody;
}

export function openApiV2Protobuf(): Buffer {
  protoBody ??= Buffer.from(encodeOpenApiV2(openApiIndex().document));
  return protoBody;
}

let root: protobuf.Root | undefined;
export function openApiProtoRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root().loadSync(vendored("OpenAPIv2.proto"), { keepCase: true });
    root.resolveAll();
  }
  return root;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are walked loosely
type J = any;
type Msg = Record<string, unknown>;

const anyOf = (v: unknown): Msg => ({ yaml: YAML.stringify(v, { lineWidth: 0 }) });

/** The proto field a JSON key maps to: snake_case ↔ camelCase, `$ref` ↔ `_ref`. */
const jsonKeyOf = (field: string) =>
  field === "_ref" ? "$ref" : field.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

const isExtension = (k: string) => k.startsWith("x-");
const vendorExtensions = (o: J) =>
  Object.entries(o)
    .filter(([k]) => isExtension(k))
    .map(([name, value]) => ({ name, value: anyOf(value) }));

/** Converts a JSON value to the plain object of a message type (protobufjs `fromObject` shape, keepCase). */
function toMessage(type: protobuf.Type, v: J): Msg {
  const name = type.name;
  switch (name) {
    case "Any":
      return anyOf(v);
    case "AdditionalPropertiesItem":
      return typeof v === "boolean" ? { boolean: v } : { schema: toMessage(sub(type, "schema"), v) };
    case "TypeItem":
      return { value: Array.isArray(v) ? v : [v] };
    case "ItemsItem":
      return { schema: (Array.isArray(v) ? v : [v]).map((s: J) => toMessage(sub(type, "schema"), s)) };
    case "ParametersItem":
      return v.$ref !== undefined
        ? { json_reference: toMessage(sub(type, "json_reference"), v) }
        : { parameter: toMessage(sub(type, "parameter"), v) };
    case "Parameter":
      return v.in === "body"
        ? { body_parameter: toMessage(sub(type, "body_parameter"), v) }
        : { non_body_parameter: toMessage(sub(type, "non_body_parameter"), v) };
    case "NonBodyParameter": {
      const field =
        v.in === "header"
          ? "header_parameter_sub_schema"
          : v.in === "formData"
            ? "form_data_parameter_sub_schema"
            : v.in === "path"
              ? "path_parameter_sub_schema"
              : "query_parameter_sub_schema";
      return { [field]: toMessage(sub(type, field), v) };
    }
    case "ResponseValue":
      return v.$ref !== undefined
        ? { json_reference: toMessage(sub(type, "json_reference"), v) }
        : { response: toMessage(sub(type, "response"), v) };
    case "SchemaItem":
      return v.type === "file"
        ? { file_schema: toMessage(sub(type, "file_schema"), v) }
        : { schema: toMessage(sub(type, "schema"), v) };
    case "SecurityDefinitionsItem": {
      const flow = v.flow as string | undefined;
      const field =
        v.type === "basic"
          ? "basic_authentication_security"
          : v.type === "apiKey"
            ? "api_key_security"
            : flow === "implicit"
              ? "oauth2_implicit_security"
              : flow === "password"
                ? "oauth2_password_security"
                : flow === "application"
                  ? "oauth2_application_security"
                  : "oauth2_access_code_security";
      return { [field]: toMessage(sub(type, field), v) };
    }
    case "StringArray":
      return { value: v };
    case "Paths":
      return {
        vendor_extension: vendorExtensions(v),
        path: Object.entries(v)
          .filter(([k]) => k.startsWith("/"))
          .map(([k, p]) => ({ name: k, value: toMessage(sub(sub(type, "path"), "value"), p) })),
      };
    case "Responses":
      return {
        response_code: Object.entries(v)
          .filter(([k]) => !isExtension(k))
          .map(([k, r]) => ({ name: k, value: toMessage(sub(sub(type, "response_code"), "value"), r) })),
        vendor_extension: vendorExtensions(v),
      };
  }
  // Maps (Definitions, Properties, Headers, …): a single repeated Named* field `additional_properties`.
  const ap = type.fields.additional_properties;
  if (ap && Object.keys(type.fields).length === 1) {
    const named = ap.resolvedType as protobuf.Type;
    const valueField = named.fields.value;
    return {
      additional_properties: Object.entries(v).map(([k, x]) => ({
        name: k,
        value: valueField.resolvedType ? toMessage(valueField.resolvedType as protobuf.Type, x) : x,
      })),
    };
  }
  const out: Msg = {};
  for (const f of Object.values(type.fields)) {
    if (f.name === "vendor_extension") {
      const ext = vendorExtensions(v);
      if (ext.length) out.vendor_extension = ext;
      continue;
    }
    const x = v[jsonKeyOf(f.name)];
    if (x === undefined || x === null) continue;
    const rt = f.resolvedType as protobuf.Type | null;
    if (rt && rt instanceof protobuf.Type) {
      out[f.name] = f.repeated ? (x as J[]).map((e) => toMessage(rt, e)) : toMessage(rt, x);
    } else out[f.name] = f.repeated && !Array.isArray(x) ? [x] : x;
  }
  return out;
}

function sub(type: protobuf.Type, field: string): protobuf.Type {
  const f = type.fields[field];
  if (!f?.resolvedType) throw new Error(`OpenAPIv2.proto: ${type.name}.${field} is not a message`);
  return f.resolvedType as protobuf.Type;
}

/** Encodes an OpenAPI v2 document as gnostic's openapi.v2.Document. */
export function encodeOpenApiV2(doc: Record<string, unknown>): Uint8Array {
  const Document = openApiProtoRoot().lookupType("openapi.v2.Document");
  const plain = toMessage(Document, doc);
  const err = Document.verify(plain);
  if (err) throw new Error(`openapi.v2.Document: ${err}`);
  return Document.encode(Document.fromObject(plain)).finish();
}
