import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { encodeOpenApiV2, openApiProtoRoot, openApiV2Json, openApiV2Protobuf } from "../../src/kube-api/openapi.js";

// biome-ignore lint/suspicious/noExplicitAny: decoded documents are read loosely
type Any = any;

describe("OpenAPI v2 as gnostic protobuf (what kubectl 1.20 downloads)", () => {
  const Document = openApiProtoRoot().lookupType("openapi.v2.Document");

  it("a small document round-trips through protobufjs' decoder: oneofs, maps, extensions as YAML", () => {
    const doc = {
      swagger: "2.0",
      info: { title: "Kubernetes", version: "v1.27.0" },
      paths: {
        "/api/v1/pods": {
          get: {
            operationId: "listPods",
            parameters: [
              { name: "limit", in: "query", type: "integer", uniqueItems: true },
              { $ref: "#/parameters/x" },
            ],
            responses: { "200": { description: "OK", schema: { $ref: "#/definitions/PodList" } } },
            "x-kubernetes-action": "list",
          },
        },
      },
      definitions: {
        Pod: {
          type: "object",
          required: ["spec"],
          properties: { spec: { $ref: "#/definitions/PodSpec" }, tags: { type: "array", items: { type: "string" } } },
          additionalProperties: false,
          "x-kubernetes-group-version-kind": [{ group: "", kind: "Pod", version: "v1" }],
        },
      },
      securityDefinitions: { BearerToken: { type: "apiKey", name: "authorization", in: "header" } },
      security: [{ BearerToken: [] }],
    };
    const d = Document.toObject(Document.decode(encodeOpenApiV2(doc))) as Any;
    expect(d.swagger).toBe("2.0");
    const op = d.paths.path[0].value.get;
    expect(d.paths.path[0].name).toBe("/api/v1/pods");
    expect(op.parameters[0].parameter.non_body_parameter.query_parameter_sub_schema).toMatchObject({
      name: "limit",
      type: "integer",
    });
    expect(op.parameters[1].json_reference._ref).toBe("#/parameters/x");
    expect(op.responses.response_code[0].value.response.schema.schema._ref).toBe("#/definitions/PodList");
    expect(YAML.parse(op.vendor_extension[0].value.yaml)).toBe("list");
    const pod = d.definitions.additional_properties[0];
    expect(pod.name).toBe("Pod");
    expect(pod.value.type.value).toEqual(["object"]);
    expect(pod.value.additional_properties.boolean).toBe(false);
    expect(pod.value.properties.additional_properties[1].value.items.schema[0].type.value).toEqual(["string"]);
    expect(YAML.parse(pod.value.vendor_extension[0].value.yaml)).toEqual([{ group: "", kind: "Pod", version: "v1" }]);
    expect(d.security_definitions.additional_properties[0].value.api_key_security.in).toBe("header");
    expect(d.security[0].additional_properties[0].name).toBe("BearerToken");
  });

  it("the vendored Kubernetes document: every path and definition survives", () => {
    const json = JSON.parse(openApiV2Json().toString("utf8")) as Any;
    const d = Document.toObject(Document.decode(openApiV2Protobuf())) as Any;
    expect(d.paths.path.length).toBe(Object.keys(json.paths).length);
    expect(d.definitions.additional_properties.length).toBe(Object.keys(json.definitions).length);
    const dep = d.definitions.additional_properties.find((x: Any) => x.name === "io.k8s.api.apps.v1.Deployment");
    const gvk = dep.value.vendor_extension.find((x: Any) => x.name === "x-kubernetes-group-version-kind");
    expect(YAML.parse(gvk.value.yaml)).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(gunzipSync).toBeDefined();
  });
});
