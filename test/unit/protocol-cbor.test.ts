import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CborError, decodeCbor, encodeCbor } from "../../src/protocol/cbor/cbor.js";
import { rpcV2CborProtocol } from "../../src/protocol/cbor/protocol.js";
import type { WireRequest } from "../../src/protocol/http.js";
import { errorStatus, loadModel } from "../../src/protocol/model.js";
import { requestProtocolKind } from "../../src/protocol/select.js";
import { defineService } from "../../src/services/define.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("CBOR codec", () => {
  // RFC 8949 appendix A.
  it.each<[string, unknown]>([
    ["00", 0],
    ["17", 23],
    ["1818", 24],
    ["1903e8", 1000],
    ["1a000f4240", 1000000],
    ["1b000000e8d4a51000", 1000000000000],
    ["20", -1],
    ["3903e7", -1000],
    ["f90000", 0],
    ["f93c00", 1],
    ["f9c400", -4],
    ["f97c00", Number.POSITIVE_INFINITY],
    ["fa47c35000", 100000],
    ["fb3ff199999999999a", 1.1],
    ["f4", false],
    ["f5", true],
    ["f6", null],
    ["6161", "a"],
    ["6449455446", "IETF"],
    ["62c3bc", "ü"],
    ["4401020304", Buffer.from([1, 2, 3, 4])],
    ["83010203", [1, 2, 3]],
    ["a201020304", { 1: 2, 3: 4 }],
    ["a26161016162820203", { a: 1, b: [2, 3] }],
    ["7f657374726561646d696e67ff", "streaming"],
    ["5f42010243030405ff", Buffer.from([1, 2, 3, 4, 5])],
    ["9f018202039f0405ffff", [1, [2, 3], [4, 5]]],
    ["bf61610161629f0203ffff", { a: 1, b: [2, 3] }],
    ["c11a514b67b0", new Date(1363896240 * 1000)],
    ["c1fb41d452d9ec200000", new Date(1363896240.5 * 1000)],
  ])("decodes %s", (h, value) => {
    if (h === "a201020304") {
      expect(() => decodeCbor(hex(h))).toThrow(CborError); // Smithy maps have text keys
      return;
    }
    expect(decodeCbor(hex(h))).toEqual(value);
  });

  it.each(["", "18", "5f41", "a1", "ff", "0000", "1c"])("rejects malformed %s", (h) =>
    expect(() => decodeCbor(hex(h))).toThrow(CborError),
  );

  it("encodes the shortest integer heads, doubles and tag-1 timestamps", () => {
    expect(encodeCbor(0).toString("hex")).toBe("00");
    expect(encodeCbor(500).toString("hex")).toBe("1901f4");
    expect(encodeCbor(-500).toString("hex")).toBe("3901f3");
    expect(encodeCbor(1.5).toString("hex")).toBe("fb3ff8000000000000");
    expect(encodeCbor(new Date(1500)).toString("hex")).toBe("c1fb3ff8000000000000");
    expect(encodeCbor({ a: undefined, b: null }).toString("hex")).toBe("a16162f6");
  });

  it("property: decode(encode(x)) = x", () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.integer(),
        fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.uint8Array().map((a) => Buffer.from(a)),
        fc.array(tie("v"), { maxLength: 5 }),
        fc.dictionary(fc.string(), tie("v"), { maxKeys: 5 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        expect(decodeCbor(encodeCbor(v))).toEqual(v);
      }),
    );
  });
});

describe("Smithy RPC v2 CBOR protocol (CloudWatch)", () => {
  const model = loadModel("cloudwatch");
  const cbor = rpcV2CborProtocol(model, "InvalidParameterValue");
  const req = (op: string, body: unknown): WireRequest => ({
    method: "POST",
    path: `/service/GraniteServiceVersion20100801/operation/${op}`,
    query: new URLSearchParams(),
    headers: { "smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor" },
    body: encodeCbor(body),
  });

  it("is picked for requests that carry smithy-protocol: rpc-v2-cbor", () => {
    const service = defineService("cloudwatch", {}, { validationCode: "InvalidParameterValue" });
    const r = req("ListMetrics", {});
    expect(requestProtocolKind(r)).toBe("rpc-v2-cbor");
    expect(service.protocol.forRequest!(r).kind).toBe("rpc-v2-cbor");
  });

  it("parses input with tag-1 timestamps and checks it against the model", () => {
    const at = new Date(1_700_000_000_123);
    const parsed = cbor.parse(
      req("PutMetricData", {
        Namespace: "N",
        MetricData: [{ MetricName: "m", Timestamp: at, Value: 1.5, Values: [1, 2], Counts: [1, 1] }],
      }),
    );
    expect(parsed).toEqual({
      operation: "PutMetricData",
      input: {
        Namespace: "N",
        MetricData: [{ MetricName: "m", Timestamp: at, Value: 1.5, Values: [1, 2], Counts: [1, 1] }],
      },
    });
    expect(() => cbor.parse(req("PutMetricData", { MetricData: [] }))).toThrow(/'namespace'/);
    expect(() => cbor.parse({ ...req("ListMetrics", {}), body: hex("ff") })).toThrow(/not valid CBOR/);
    expect(() => cbor.parse(req("NoSuchOperation", {}))).toThrow(/not recognized/);
  });

  it("serializes output and errors as CBOR", () => {
    const out = cbor.serialize(
      "GetMetricStatistics",
      { Label: "m", Datapoints: [{ Timestamp: new Date(60_000), Sum: 3, Unit: "None" }] },
      "rid",
    );
    expect(out.headers).toMatchObject({ "content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor" });
    expect(decodeCbor(out.body as Buffer)).toEqual({
      Label: "m",
      Datapoints: [{ Timestamp: new Date(60_000), Sum: 3, Unit: "None" }],
    });
    const err = cbor.renderError(
      "ResourceNotFound",
      "gone",
      errorStatus(model, "ResourceNotFound", 400),
      "Sender",
      "rid",
    );
    expect(err.status).toBe(404);
    expect(err.headers["x-amzn-query-error"]).toBe("ResourceNotFound;Sender");
    expect(decodeCbor(err.body as Buffer)).toEqual({
      __type: "com.amazonaws.cloudwatch#ResourceNotFound",
      message: "gone",
    });
  });
});
