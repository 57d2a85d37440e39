import * as cloudwatchSdk from "@aws-sdk/client-cloudwatch";
import * as logsSdk from "@aws-sdk/client-cloudwatch-logs";
import * as ecsSdk from "@aws-sdk/client-ecs";
import * as elbSdk from "@aws-sdk/client-elastic-load-balancing-v2";
import * as eksSdk from "@aws-sdk/client-eks";
import * as stsSdk from "@aws-sdk/client-sts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Protocol } from "../../src/protocol/http.js";
import { parseJsonDocument, toJsonValue } from "../../src/protocol/json/codec.js";
import { awsJsonProtocol } from "../../src/protocol/json/protocol.js";
import { type ServiceModel, loadModel, shapeOf } from "../../src/protocol/model.js";
import { awsQueryProtocol } from "../../src/protocol/query/protocol.js";
import { restJsonProtocol } from "../../src/protocol/restjson/protocol.js";
import { arbitraryFor, labelsOnly, plain } from "../support/arbitrary.js";
import { WireHandler, clientOptions, toWire } from "../support/wire.js";

const RUNS = 100;

/** Whether an operation's output is (or holds) an event stream, which Berth does not serve yet. */
const streams = (model: ServiceModel, op: string) => {
  const ref = model.operations[op].output;
  const members = ref ? Object.values(shapeOf(model, ref).members ?? {}) : [];
  return members.some((m) => shapeOf(model, m).eventstream);
};

/** One random (operation, value) pair per run, over every operation of a model that has the given shape. */
const operationValue = (
  model: ServiceModel,
  which: "input" | "output",
  options: Parameters<typeof arbitraryFor>[2] = {},
  filter: (op: string) => boolean = () => true,
) =>
  fc.oneof(
    ...Object.values(model.operations)
      .filter((op) => op[which] && !streams(model, op.name) && filter(op.name))
      .map((op) => arbitraryFor(model, op[which]!, options).map((value) => ({ op: op.name, value }))),
  );

type SdkModule = Record<string, unknown>;
type Client = { send(command: unknown): Promise<unknown> };
type CommandCtor = new (input: unknown) => unknown;

const command = (sdk: SdkModule, op: string, input: unknown) => {
  const Ctor = sdk[`${op}Command`] as CommandCtor | undefined;
  if (!Ctor) throw new Error(`the SDK has no ${op}Command`);
  return new Ctor(input);
};

/** Sends through the real SDK and returns the request it put on the wire. */
async function sdkRequest(client: Client, wire: WireHandler, sdk: SdkModule, op: string, input: unknown) {
  await client.send(command(sdk, op, input)).catch(() => undefined); // the canned reply may not fit the output
  return toWire(wire.last);
}

/** Feeds a Berth response to the SDK and returns what it deserialized, without $metadata. */
async function sdkOutput(
  model: ServiceModel,
  sdk: SdkModule,
  makeClient: (w: WireHandler) => Client,
  op: string,
  response: unknown,
) {
  const wire = new WireHandler().reply(response as Parameters<WireHandler["reply"]>[0]);
  const input = labelsOnly(model, model.operations[op].input);
  const { $metadata: _, ...data } = (await makeClient(wire).send(command(sdk, op, input))) as Record<string, unknown>;
  return data;
}

describe("JSON codec: parse ∘ serialize is the identity", () => {
  for (const id of ["ecs", "logs", "cloudwatch", "ecr"]) {
    const model = loadModel(id);
    it(`for random inputs of every ${id} operation`, () => {
      fc.assert(
        fc.property(operationValue(model, "input"), ({ op, value }) => {
          const ref = model.operations[op].input!;
          const wire = JSON.stringify(toJsonValue(model, ref, value) ?? {});
          expect(plain(parseJsonDocument(model, ref, Buffer.from(wire), "V"))).toEqual(plain(value));
        }),
        { numRuns: RUNS },
      );
    });
  }
});

const jsonServices: [string, SdkModule, string, (w: WireHandler) => Client][] = [
  ["ecs", ecsSdk, "ClientException", (w) => new ecsSdk.ECSClient(clientOptions(w))],
  ["logs", logsSdk, "InvalidParameterException", (w) => new logsSdk.CloudWatchLogsClient(clientOptions(w))],
  ["cloudwatch", cloudwatchSdk, "InvalidParameterValue", (w) => new cloudwatchSdk.CloudWatchClient(clientOptions(w))],
];

for (const [id, sdk, validationCode, makeClient] of jsonServices) {
  describe(`awsJson: the SDK and Berth agree on random ${id} values`, () => {
    const model = loadModel(id);
    const protocol = awsJsonProtocol(model, validationCode);
    const wire = new WireHandler();
    const client = makeClient(wire);

    it(`Berth parses what the SDK serializes, for every ${id} operation`, async () => {
      await fc.assert(
        fc.asyncProperty(operationValue(model, "input"), async ({ op, value }) => {
          const req = await sdkRequest(client, wire, sdk, op, value);
          expect(plain(protocol.parse(req))).toEqual(plain({ operation: op, input: value }));
        }),
        { numRuns: RUNS },
      );
    });

    it(`the SDK deserializes what Berth serializes, for every ${id} operation`, async () => {
      await fc.assert(
        fc.asyncProperty(operationValue(model, "output"), async ({ op, value }) => {
          const response = protocol.serialize(op, value, "r");
          expect(plain(await sdkOutput(model, sdk, makeClient, op, response))).toEqual(plain(value));
        }),
        { numRuns: RUNS },
      );
    });
  });
}

const queryServices: [string, SdkModule, (w: WireHandler) => Client][] = [
  ["elbv2", elbSdk, (w) => new elbSdk.ElasticLoadBalancingV2Client(clientOptions(w))],
  ["sts", stsSdk, (w) => new stsSdk.STSClient(clientOptions(w))],
];

for (const [id, sdk, makeClient] of queryServices) {
  describe(`awsQuery: the SDK and Berth agree on random ${id} values`, () => {
    const model = loadModel(id);
    const protocol: Protocol = awsQueryProtocol(model, "ValidationError");
    const wire = new WireHandler();
    const client = makeClient(wire);

    it(`Berth's query parser inverts the SDK's query serializer, for every ${id} operation`, async () => {
      await fc.assert(
        fc.asyncProperty(operationValue(model, "input", { nonEmptyStructures: true }), async ({ op, value }) => {
          const req = await sdkRequest(client, wire, sdk, op, value);
          expect(plain(protocol.parse(req))).toEqual(plain({ operation: op, input: value }));
        }),
        { numRuns: RUNS },
      );
    });

    it(`the SDK deserializes Berth's XML, for every ${id} operation`, async () => {
      const outputs = operationValue(model, "output", { nonEmptyStructures: true, xmlText: true });
      await fc.assert(
        fc.asyncProperty(outputs, async ({ op, value }) => {
          const response = protocol.serialize(op, value, "r");
          expect(plain(await sdkOutput(model, sdk, makeClient, op, response))).toEqual(plain(value));
        }),
        { numRuns: RUNS },
      );
    });
  });
}

describe("restJson1: the SDK and Berth agree on random EKS values", () => {
  const model = loadModel("eks");
  const eks = restJsonProtocol(model, "InvalidParameterException");
  const wire = new WireHandler();
  const client = new eksSdk.EKSClient(clientOptions(wire));

  it("Berth parses what the SDK sends (labels, query strings, body), for every EKS operation", async () => {
    await fc.assert(
      fc.asyncProperty(operationValue(model, "input"), async ({ op, value }) => {
        const req = await sdkRequest(client, wire, eksSdk, op, value);
        expect(plain(eks.parse(req))).toEqual(plain({ operation: op, input: value }));
      }),
      { numRuns: RUNS },
    );
  });

  it("the SDK deserializes what Berth serializes, for every EKS operation", async () => {
    await fc.assert(
      fc.asyncProperty(operationValue(model, "output"), async ({ op, value }) => {
        const response = eks.serialize(op, value, "r");
        const got = await sdkOutput(model, eksSdk, (w) => new eksSdk.EKSClient(clientOptions(w)), op, response);
        expect(plain(got)).toEqual(plain(value));
      }),
      { numRuns: RUNS },
    );
  });
});
