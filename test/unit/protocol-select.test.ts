import { CloudWatchClient, InvalidParameterValueException, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { type HttpRequest, HttpResponse } from "@smithy/protocol-http";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { ServiceError } from "../../src/core/errors.js";
import { createLogger } from "../../src/core/logger.js";
import { buildChain } from "../../src/edge/chain.js";
import type { WireRequest } from "../../src/protocol/http.js";
import { requestProtocolKind } from "../../src/protocol/select.js";
import { defineService } from "../../src/services/define.js";
import { WireHandler, clientOptions, toWire } from "../support/wire.js";

const req = (headers: Record<string, string>, query = ""): WireRequest => ({
  method: "POST",
  path: "/",
  query: new URLSearchParams(query),
  headers,
  body: Buffer.alloc(0),
});

describe("requestProtocolKind", () => {
  it.each([
    [{ "smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor" }, "", "rpc-v2-cbor"],
    [{ "x-amz-target": "GraniteServiceVersion20100801.ListMetrics" }, "", "json"],
    [{ "content-type": "application/x-amz-json-1.0" }, "", "json"],
    [{ "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, "", "query"],
    [{}, "Action=ListMetrics&Version=2010-08-01", "query"],
    [{ "content-type": "text/plain" }, "", undefined],
  ])("%j %s → %s", (headers, query, kind) => {
    expect(requestProtocolKind(req(headers as Record<string, string>, query))).toBe(kind);
  });
});

describe("a service served in several protocols (CloudWatch: awsJson1_0 query-compatible and awsQuery)", () => {
  const service = defineService<Record<string, { input: { Namespace?: string }; output: unknown }>>(
    "cloudwatch",
    {
      ListMetrics: (input: { Namespace?: string }) => {
        if (input.Namespace === "bad") throw new ServiceError("InvalidParameterValue", "The namespace bad is invalid.");
        return { Metrics: [{ Namespace: input.Namespace, MetricName: "m", Dimensions: [{ Name: "a", Value: "b" }] }] };
      },
    },
    { validationCode: "InvalidParameterValue" },
  );
  const handle = buildChain({ config: loadConfig([], {}), services: [service], logger: createLogger("silent") });

  it("defineService accepts a model whose primary protocol Berth does not speak", () => {
    expect(service.protocol.forRequest).toBeDefined();
    expect(service.protocol.kind).toBe("rpc-v2-cbor"); // the model's first; JSON and query by request
  });

  /** An SDK request handler that hands each request to Berth's chain, in process. */
  const viaChain = {
    async handle(request: HttpRequest) {
      const { response } = await handle(toWire(request));
      const body = typeof response.body === "string" ? Buffer.from(response.body) : response.body;
      return { response: new HttpResponse({ statusCode: response.status, headers: response.headers, body }) };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const cw = new CloudWatchClient({ ...clientOptions(new WireHandler()), requestHandler: viaChain });

  it("answers the current SDK in awsJson1_0, errors with x-amzn-query-error", async () => {
    const out = await cw.send(new ListMetricsCommand({ Namespace: "Berth/Test" }));
    expect(out.Metrics).toEqual([
      { Namespace: "Berth/Test", MetricName: "m", Dimensions: [{ Name: "a", Value: "b" }] },
    ]);
    const e = (await cw.send(new ListMetricsCommand({ Namespace: "bad" })).catch((err: unknown) => err)) as Error & {
      Code?: string;
      $response?: unknown;
    };
    expect(e).toBeInstanceOf(InvalidParameterValueException);
    expect(e.Code).toBe("InvalidParameterValue");
    expect(e.message).toBe("The namespace bad is invalid.");
  });

  it("answers awsQuery (older SDKs, AWS CLI v2.9) in XML, errors as ErrorResponse", async () => {
    const form = (body: string): WireRequest => ({
      method: "POST",
      path: "/",
      query: new URLSearchParams(),
      headers: {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00",
      },
      body: Buffer.from(body),
    });
    const ok = (await handle(form("Action=ListMetrics&Version=2010-08-01&Namespace=Berth%2FTest"))).response;
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toBe("text/xml");
    expect(String(ok.body)).toContain(
      '<ListMetricsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ListMetricsResult><Metrics><member>',
    );
    expect(String(ok.body)).toContain("<Namespace>Berth/Test</Namespace>");
    const bad = (await handle(form("Action=ListMetrics&Version=2010-08-01&Namespace=bad"))).response;
    expect(bad.status).toBe(400);
    expect(String(bad.body)).toContain("<Type>Sender</Type><Code>InvalidParameterValue</Code>");
    const unknown = (await handle(form("Action=NoSuchThing&Version=2010-08-01"))).response;
    expect(String(unknown.body)).toContain("<Code>InvalidAction</Code>");
  });
});
