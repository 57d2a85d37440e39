import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import type { Protocol, WireRequest } from "../../src/protocol/http.js";
import { awsJsonProtocol } from "../../src/protocol/json/protocol.js";
import { loadModel } from "../../src/protocol/model.js";
import { awsQueryProtocol } from "../../src/protocol/query/protocol.js";
import { restJsonProtocol } from "../../src/protocol/restjson/protocol.js";
import { jsonTooDeep } from "../../src/protocol/validate.js";
import { declaredTooLarge } from "../../src/edge/server.js";

/**
 * Bad input is the client's fault: every malformed request must come back as a ServiceError
 * with a 4xx status and a message that names what was wrong — never an exception that the
 * edge would turn into a 500.
 */
const ecsModel = loadModel("ecs");
const ecs = awsJsonProtocol(ecsModel, "ClientException");
const ecr = awsJsonProtocol(loadModel("ecr"), "InvalidParameterException");
const cloudwatchJson = awsJsonProtocol(loadModel("cloudwatch"), "InvalidParameterValue");
const cloudwatchModel = loadModel("cloudwatch");
const elbModel = loadModel("elbv2");
const stsModel = loadModel("sts");
const cloudwatchQuery = awsQueryProtocol(cloudwatchModel, "InvalidParameterValue");
const elb = awsQueryProtocol(elbModel, "ValidationError");
const sts = awsQueryProtocol(stsModel, "ValidationError", "MalformedInput");
const eks = restJsonProtocol(loadModel("eks"), "InvalidParameterException");

const ECS = "AmazonEC2ContainerServiceV20141113";

const json = (target: string | undefined, body: string | Buffer): WireRequest => ({
  method: "POST",
  path: "/",
  query: new URLSearchParams(),
  headers: { "content-type": "application/x-amz-json-1.1", ...(target ? { "x-amz-target": target } : {}) },
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

/** A form request; without a Version, the API version of the query model that has the Action is added. */
const form = (body: string): WireRequest => {
  const params = new URLSearchParams(body);
  const action = params.get("Action");
  const model = [elbModel, stsModel, cloudwatchModel].find(
    (m) => action !== null && Object.hasOwn(m.operations, action),
  );
  const versioned = params.has("Version") || !model ? body : `${body}&Version=${model.metadata.apiVersion}`;
  return {
    method: "POST",
    path: "/",
    query: new URLSearchParams(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: Buffer.from(versioned),
  };
};

const rest = (method: string, path: string, body = "", query = ""): WireRequest => ({
  method,
  path,
  query: new URLSearchParams(query),
  headers: { "content-type": "application/json" },
  body: Buffer.from(body),
});

/** Runs parse and returns the ServiceError it threw, failing the test on anything else. */
function rejection(protocol: Protocol, req: WireRequest): ServiceError {
  let thrown: unknown;
  try {
    protocol.parse(req);
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error("parse accepted the request");
  if (!(thrown instanceof ServiceError)) throw new Error(`parse threw a non-ServiceError: ${String(thrown)}`);
  expect(thrown.status).toBeGreaterThanOrEqual(400);
  expect(thrown.status).toBeLessThan(500);
  expect(thrown.fault).toBe("Sender");
  return thrown;
}

const expectRejected = (protocol: Protocol, req: WireRequest, code: string, message: RegExp) => {
  const e = rejection(protocol, req);
  expect({ code: e.code, message: e.message }).toEqual({ code, message: expect.stringMatching(message) });
};

const registerTaskDefinition = (containerDefinition: Record<string, unknown>) =>
  json(
    `${ECS}.RegisterTaskDefinition`,
    JSON.stringify({ family: "f", containerDefinitions: [{ name: "a", image: "i", ...containerDefinition }] }),
  );

describe("awsJson: malformed requests are 4xx", () => {
  it.each([
    ["truncated JSON", '{"family": "f", '],
    ["trailing garbage", '{"family": "f"} x'],
    ["not UTF-8 JSON", Buffer.from([0xff, 0xfe, 0x00])],
  ])("%s → SerializationException naming the JSON error", (_what, body) => {
    expectRejected(ecs, json(`${ECS}.RegisterTaskDefinition`, body), "SerializationException", /not valid JSON/);
  });

  it.each([["[]"], ["null"], ['"text"'], ["42"], ["true"]])("top-level %s → SerializationException", (body) => {
    expectRejected(ecs, json(`${ECS}.ListClusters`, body), "SerializationException", /must be a JSON object/);
  });

  it.each([
    ["an object for a list", { command: { a: 1 } }, /'containerDefinitions\.1\.member\.command'.*a list/],
    ["an array for a structure", { healthCheck: ["CMD"] }, /'containerDefinitions\.1\.member\.healthCheck'.*an object/],
    ["an array for a map", { dockerLabels: ["a=b"] }, /'containerDefinitions\.1\.member\.dockerLabels'.*a map/],
    ["a string for an integer", { cpu: "256" }, /'containerDefinitions\.1\.member\.cpu'.*an integer/],
    ["a fraction for an integer", { cpu: 1.5 }, /'containerDefinitions\.1\.member\.cpu'.*an integer/],
    ["a string for a boolean", { essential: "true" }, /'containerDefinitions\.1\.member\.essential'.*true or false/],
    ["an object for a string", { image: { uri: "x" } }, /'containerDefinitions\.1\.member\.image'.*a string/],
    ["a string for a list item structure", { portMappings: ["80:80"] }, /portMappings\.1\.member'.*an object/],
  ])("%s → SerializationException naming the member", (_what, member, message) => {
    expectRejected(ecs, registerTaskDefinition(member), "SerializationException", message);
  });

  it("an integer beyond 32 bits → SerializationException (not silently accepted)", () => {
    expectRejected(ecs, registerTaskDefinition({ cpu: 2 ** 31 }), "SerializationException", /32-bit integer/);
    expectRejected(ecs, registerTaskDefinition({ memory: 1e20 }), "SerializationException", /32-bit integer/);
    expect(ecs.parse(registerTaskDefinition({ cpu: 2 ** 31 - 1 })).input).toBeTruthy();
  });

  it("numbers too large for a double (1e400) → SerializationException", () => {
    const tooBig = '{"family":"f","containerDefinitions":[{"name":"a","image":"i","cpu":1e400}]}';
    expectRejected(ecs, json(`${ECS}.RegisterTaskDefinition`, tooBig), "SerializationException", /'.*cpu'.*integer/);
    const body = '{"taskSet":"t","service":"s","cluster":"c","scale":{"value":1e400,"unit":"PERCENT"}}';
    expectRejected(ecs, json(`${ECS}.UpdateTaskSet`, body), "SerializationException", /'scale\.value'.*a number/);
  });

  it("a long beyond 64 bits → SerializationException", () => {
    const body = JSON.stringify({ logGroupName: "g", logStreamName: "s", startTime: 1e19 });
    const logs = awsJsonProtocol(loadModel("logs"), "InvalidParameterException");
    expectRejected(logs, json("Logs_20140328.GetLogEvents", body), "SerializationException", /'startTime'.*64-bit/);
  });

  it("invalid base64 for a blob → SerializationException", () => {
    const body = (blob: unknown) =>
      JSON.stringify({ repositoryName: "repo", uploadId: "u", partFirstByte: 0, partLastByte: 1, layerPartBlob: blob });
    const target = "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart";
    expectRejected(ecr, json(target, body("not base64!")), "SerializationException", /'layerPartBlob'.*base64/);
    expectRejected(ecr, json(target, body("abcde")), "SerializationException", /base64/);
    expectRejected(ecr, json(target, body(123)), "SerializationException", /base64/);
    expect(ecr.parse(json(target, body("aGk="))).input.layerPartBlob).toEqual(Buffer.from("hi"));
  });

  it.each([
    ["a word", "yesterday"],
    ["an impossible date", "2026-02-30T00:00:00Z"],
    ["a bare number-like text JavaScript would misread", "1"],
    ["a boolean", true],
    ["an object", { seconds: 1 }],
    ["an out-of-range epoch", 1e20],
  ])("a bad timestamp (%s) → SerializationException", (_what, value) => {
    const body = JSON.stringify({
      Namespace: "n",
      MetricName: "m",
      StartTime: value,
      EndTime: 1_767_225_600,
      Period: 60,
      Statistics: ["Sum"],
    });
    const req = { ...json("GraniteServiceVersion20100801.GetMetricStatistics", body) };
    if (value === "1") {
      // Numeric text is epoch seconds, not the year 2001 that `new Date("1")` would give.
      expect(cloudwatchJson.parse(req).input.StartTime).toEqual(new Date(1000));
      return;
    }
    expectRejected(cloudwatchJson, req, "SerializationException", /'startTime'.*timestamp/);
  });

  it.each([
    ["an unknown operation", `${ECS}.LaunchRocket`, /LaunchRocket is not recognized/],
    ["another service's target", "Logs_20140328.PutLogEvents", /not recognized by ECS/],
    ["an inherited property name", `${ECS}.toString`, /not recognized/],
    ["__proto__", `${ECS}.__proto__`, /not recognized/],
    ["constructor", `${ECS}.constructor`, /not recognized/],
    ["no operation", `${ECS}.`, /not recognized/],
    ["no X-Amz-Target", undefined, /Missing X-Amz-Target/],
  ])("%s → UnknownOperationException", (_what, target, message) => {
    expectRejected(ecs, json(target, "{}"), "UnknownOperationException", message);
  });

  it("constraint violations use the service's validation code and AWS's message format", () => {
    const body = JSON.stringify({ cluster: "c", taskDefinition: "t", launchType: "MOON", count: 0 });
    expectRejected(
      ecs,
      json(`${ECS}.RunTask`, body),
      "ClientException",
      /^1 validation error detected: Value 'MOON' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: \[EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES\]$/,
    );
  });

  it("map keys like __proto__ are kept as data, not prototypes", () => {
    const body = '{"family":"f","containerDefinitions":[{"name":"a","dockerLabels":{"__proto__":"x","ok":"y"}}]}';
    const input = ecs.parse(json(`${ECS}.RegisterTaskDefinition`, body)).input as {
      containerDefinitions: { dockerLabels: Record<string, string> }[];
    };
    const labels = input.containerDefinitions[0].dockerLabels;
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.entries(labels)).toEqual([
      ["__proto__", "x"],
      ["ok", "y"],
    ]);
  });

  it("the serializer writes a __proto__ map key too", () => {
    const labels = {};
    Object.defineProperty(labels, "__proto__", { value: "x", enumerable: true });
    const body = ecs.serialize(
      "DescribeTaskDefinition",
      { taskDefinition: { containerDefinitions: [{ name: "a", dockerLabels: labels }] } },
      "r",
    ).body;
    expect(String(body)).toContain('"dockerLabels":{"__proto__":"x"}');
  });

  it("property: no JSON body ever yields anything but a 4xx ServiceError or a parse", () => {
    const ops = Object.keys(ecsModel.operations);
    fc.assert(
      fc.property(fc.constantFrom(...ops), fc.jsonValue({ maxDepth: 4 }), (op, doc) => {
        for (const body of [JSON.stringify(doc), JSON.stringify({ [op]: doc, family: doc, cluster: doc })])
          try {
            ecs.parse(json(`${ECS}.${op}`, body));
          } catch (e) {
            if (!(e instanceof ServiceError) || e.status >= 500) throw e;
          }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("awsQuery: malformed requests are 4xx", () => {
  it.each([
    ["no Action", "Version=2015-12-01", /Missing Action/],
    [
      "an unknown Action",
      "Action=LaunchRocket&Version=2015-12-01",
      /^Could not find operation LaunchRocket for version 2015-12-01$/,
    ],
    ["Action=toString", "Action=toString&Version=2015-12-01", /operation toString for version/],
    ["Action=__proto__", "Action=__proto__&Version=2015-12-01", /operation __proto__ for version/],
    ["a JSON body", '{"Action":"DescribeLoadBalancers"}', /Missing Action/],
    [
      "another Version",
      "Action=DescribeLoadBalancers&Version=2012-06-01",
      /^Could not find operation DescribeLoadBalancers for version 2012-06-01$/,
    ],
    [
      "an empty Version",
      "Action=DescribeLoadBalancers&Version=",
      /^Could not find operation DescribeLoadBalancers for version $/,
    ],
  ])("%s → InvalidAction", (_what, body, message) => {
    expectRejected(elb, form(body), "InvalidAction", message);
  });

  it("no Version → InvalidAction naming NO_VERSION_SPECIFIED, as AWS does", () => {
    const req = { ...form("Action=DescribeLoadBalancers"), body: Buffer.from("Action=DescribeLoadBalancers") };
    expectRejected(
      elb,
      req,
      "InvalidAction",
      /^Could not find operation DescribeLoadBalancers for version NO_VERSION_SPECIFIED$/,
    );
  });

  const createRule = (extra: string) =>
    form(
      `Action=CreateRule&ListenerArn=arn&Conditions.member.1.Field=path-pattern&Actions.member.1.Type=forward&${extra}`,
    );

  it.each([
    ["a word for an integer", "Priority=ten", /Value 'ten' at 'priority'.*an integer/],
    ["a fraction for an integer", "Priority=1.5", /'priority'.*an integer/],
    ["hex for an integer", "Priority=0x10", /'priority'.*an integer/],
    ["an integer beyond 32 bits", "Priority=99999999999", /'priority'.*32-bit integer/],
    [
      "yes for a boolean",
      "Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=yes",
      /'actions\.1\.member\.forwardConfig\.targetGroupStickinessConfig\.enabled'.*true or false/,
    ],
  ])("%s → the service's ValidationError naming the member", (_what, extra, message) => {
    expectRejected(elb, createRule(extra), "ValidationError", message);
  });

  it("STS answers a value of the wrong type with MalformedInput; the first of repeated parameters counts", () => {
    const assume = (extra: string) =>
      form(`Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=ss&${extra}`);
    expectRejected(sts, assume("DurationSeconds=abc"), "MalformedInput", /'durationSeconds'/);
    expectRejected(sts, assume("DurationSeconds=2147483648"), "MalformedInput", /'durationSeconds'/);
    expect(sts.parse(assume("DurationSeconds=900&DurationSeconds=899")).input.DurationSeconds).toBe(900);
    expect(sts.parse(assume("DurationSeconds=%2B900")).input.DurationSeconds).toBe(900);
  });

  it("quotes at most a short prefix of an oversized value", () => {
    const e = rejection(sts, form(`Action=AssumeRole&RoleArn=r&RoleSessionName=${"x".repeat(100_000)}`));
    expect(e.message.length).toBeLessThan(1000);
    expect(e.message).toContain("at 'roleSessionName'");
  });

  it.each([["yesterday"], ["2026-13-01T00:00:00Z"], [""]])("a bad timestamp %j → the validation code", (ts) => {
    const body = `Action=GetMetricStatistics&Namespace=n&MetricName=m&StartTime=${ts}&EndTime=2026-01-01T00:00:00Z&Period=60`;
    expectRejected(cloudwatchQuery, form(body), "InvalidParameterValue", /'startTime'.*timestamp/);
  });

  it("accepts the timestamp spellings clients send: ISO 8601 with and without fractions or offset, epoch seconds", () => {
    const parse = (ts: string) =>
      cloudwatchQuery.parse(
        form(
          `Action=GetMetricStatistics&Namespace=n&MetricName=m&StartTime=${encodeURIComponent(ts)}&EndTime=0&Period=60`,
        ),
      ).input.StartTime;
    expect(parse("2026-01-02T03:04:05Z")).toEqual(new Date("2026-01-02T03:04:05Z"));
    expect(parse("2026-01-02T03:04:05.678Z")).toEqual(new Date("2026-01-02T03:04:05.678Z"));
    expect(parse("2026-01-02T03:04:05+01:00")).toEqual(new Date("2026-01-02T02:04:05Z"));
    expect(parse("2026-01-02T03:04:05")).toEqual(new Date("2026-01-02T03:04:05Z"));
    expect(parse("1767225600.5")).toEqual(new Date(1_767_225_600_500));
  });

  it("a missing required member uses the service's validation code", () => {
    expectRejected(
      sts,
      form("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr"),
      "ValidationError",
      /^1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null$/,
    );
  });

  it("malformed percent-encoding in the form is tolerated, not a crash", () => {
    const { input } = elb.parse(form("Action=DescribeLoadBalancers&Names.member.1=%E0%A4%A"));
    expect(input.Names).toEqual([expect.stringContaining("\uFFFD")]);
  });

  it("a 20,000-item list parses in well under a second", () => {
    const items = Array.from({ length: 20_000 }, (_, i) => `Names.member.${i + 1}=n${i}`).join("&");
    const started = performance.now();
    const { input } = elb.parse(form(`Action=DescribeLoadBalancers&${items}`));
    expect((input.Names as string[]).length).toBe(20_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("property: no form ever yields anything but a 4xx ServiceError or a parse", () => {
    const keys = fc.constantFrom(
      "Priority",
      "ListenerArn",
      "Conditions.member.1.Field",
      "Conditions.member.1.PathPatternConfig.Values.member.1",
      "Conditions.member.2.QueryStringConfig.Values.member.1.Key",
      "Actions.member.1.Type",
      "Actions.member.1.Order",
      "Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight",
      "Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled",
      "Tags.member.1.Key",
      "Tags.member.1",
      "Tags",
      "Conditions",
      "Conditions.member",
      "Conditions.member.0.Field",
    );
    fc.assert(
      fc.property(
        fc.constantFrom("CreateRule", "ModifyRule", "DescribeRules", "SetRulePriorities", "AddTags"),
        fc.array(fc.tuple(keys, fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom("true", "")))),
        (action, pairs) => {
          const params = new URLSearchParams([["Action", action], ...pairs]);
          try {
            elb.parse(form(params.toString()));
          } catch (e) {
            if (!(e instanceof ServiceError) || e.status >= 500) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("restJson1: malformed requests are 4xx", () => {
  it.each([
    ["truncated JSON", '{"name": "dev", ', /not valid JSON/],
    ["an array body", "[1, 2]", /must be a JSON object/],
    ["a string body", '"dev"', /must be a JSON object/],
  ])("%s → SerializationException", (_what, body, message) => {
    expectRejected(eks, rest("POST", "/clusters", body), "SerializationException", message);
  });

  it("wrong JSON types in the body name the member", () => {
    const body = JSON.stringify({ name: "dev", roleArn: "r", resourcesVpcConfig: { subnetIds: "subnet-1" } });
    expectRejected(
      eks,
      rest("POST", "/clusters", body),
      "SerializationException",
      /'resourcesVpcConfig\.subnetIds'.*a list/,
    );
  });

  it("malformed percent-encoding in a URI label → SerializationException, not a URIError", () => {
    expectRejected(eks, rest("GET", "/clusters/%E0%A4%A"), "SerializationException", /'name'.*percent-encoded/);
    expectRejected(eks, rest("POST", "/tags/arn%3", '{"tags":{}}'), "SerializationException", /'resourceArn'/);
  });

  it.each([
    ["a word", "maxResults=ten"],
    ["a fraction", "maxResults=1.5"],
    ["an exponent", "maxResults=1e3"],
    ["an integer beyond 32 bits", "maxResults=4294967296"],
  ])("a bad integer query parameter (%s) → SerializationException", (_what, query) => {
    expectRejected(eks, rest("GET", "/clusters", "", query), "SerializationException", /'maxResults'/);
  });

  it("a query parameter outside the model's range → the service's validation code", () => {
    expectRejected(
      eks,
      rest("GET", "/clusters", "", "maxResults=0"),
      "InvalidParameterException",
      /Value 0 at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1/,
    );
  });

  it("map sizes and map keys are validated against the model", () => {
    const tag = (tags: Record<string, string>) =>
      rest("POST", "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A0%3Acluster%2Fdev", JSON.stringify({ tags }));
    expectRejected(eks, tag({}), "InvalidParameterException", /Value \{\.\.\.\} at 'tags'.*greater than or equal to 1/);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    expectRejected(eks, tag(many), "InvalidParameterException", /at 'tags'.*less than or equal to 50/);
    expectRejected(
      eks,
      tag({ "": "v" }),
      "InvalidParameterException",
      /Value '' at 'tags\.key'.*greater than or equal to 1/,
    );
    expect(eks.parse(tag({ k: "v" })).input.tags).toEqual({ k: "v" });
  });

  it.each([
    ["an unknown path", "GET", "/rockets"],
    ["a known path with the wrong method", "PATCH", "/clusters"],
    ["a path with too many segments", "GET", "/clusters/a/b/c/d/e"],
  ])("%s → UnknownOperationException (404)", (_what, method, path) => {
    const e = rejection(eks, rest(method, path));
    expect(e.code).toBe("UnknownOperationException");
    expect(e.status).toBe(404);
    expect(e.message).toContain(`${method} ${path}`);
  });

  it("property: no body or query ever yields anything but a 4xx ServiceError or a parse", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          ["POST", "/clusters"],
          ["GET", "/clusters"],
          ["GET", "/clusters/dev"],
          ["POST", "/clusters/dev/node-groups"],
          ["POST", "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A0%3Acluster%2Fdev"],
          ["DELETE", "/tags/arn"],
        ),
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc.string(),
        ),
        fc.array(fc.tuple(fc.constantFrom("maxResults", "nextToken", "include", "tagKeys", "x"), fc.string())),
        ([method, path], body, query) => {
          try {
            eks.parse(rest(method, path, body, new URLSearchParams(query).toString()));
          } catch (e) {
            if (!(e instanceof ServiceError) || e.status >= 500) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("issue 16 defects the bad-input suite found", () => {
  it("query: an empty list (`Tags=`) is checked against the list's minimum", () => {
    expectRejected(
      elb,
      form("Action=AddTags&ResourceArns.member.1=arn&Tags="),
      "ValidationError",
      /'tags' failed to satisfy constraint: Member must have length greater than or equal to 1/,
    );
    // where the model allows an empty list, `Name=` still parses as one
    expect(elb.parse(form("Action=DescribeTargetGroups&Names=")).input).toEqual({ Names: [] });
  });

  it("JSON nested 10,000 levels deep is a SerializationException, not a stack overflow (500)", () => {
    const deep = `{"family":"f","containerDefinitions":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    expectRejected(ecs, json(`${ECS}.RegisterTaskDefinition`, deep), "SerializationException", /nesting depth/);
    const efs = restJsonProtocol(loadModel("efs"), "BadRequest");
    const body = `{"CreationToken":"t","Tags":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    expectRejected(efs, rest("POST", "/2015-02-01/file-systems", body), "SerializationException", /nesting depth/);
  });

  it("jsonTooDeep counts brackets outside strings only", () => {
    expect(jsonTooDeep(`[${"[".repeat(5)}]`, 5)).toBe(true);
    expect(jsonTooDeep('{"a":"[[[[[[[[[[[[[[[[[[[[\\"[[[["}', 5)).toBe(false);
    expect(jsonTooDeep("[[[]]]".repeat(1000), 3)).toBe(false);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(jsonTooDeep(JSON.stringify(v), 8)).toBe(false);
      }),
    );
  });

  it("restJson query-string members are named lower-camel in messages, as body members are", () => {
    const efs = restJsonProtocol(loadModel("efs"), "BadRequest");
    const e = rejection(efs, rest("GET", "/2015-02-01/file-systems", "", "MaxItems=abc"));
    expect(e.message).toContain("'maxItems'");
  });

  it("an oversized body is refused from its declared Content-Length, before it is read", () => {
    expect(declaredTooLarge(String(64 * 1024 * 1024 + 1))).toBe(true);
    expect(declaredTooLarge(String(64 * 1024 * 1024))).toBe(false);
    expect(declaredTooLarge(undefined)).toBe(false);
    expect(declaredTooLarge("12, 13")).toBe(false); // malformed: left to Node's parser
  });
});

describe("model patterns checked where AWS's front end checks them (issue 16)", () => {
  const iam = awsQueryProtocol(loadModel("iam"), "ValidationError", "MalformedInput");
  it("IAM: a user name outside [\\w+=,.@-]+ → ValidationError with the pattern", () => {
    const req = form("Action=CreateUser&UserName=a%20b&Version=2010-05-08");
    expectRejected(
      iam,
      req,
      "ValidationError",
      /'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\\w\+=,\.@-\]\+/,
    );
  });

  it("ECS: only tag keys and values are checked against their patterns", () => {
    const body = JSON.stringify({ clusterName: "c", tags: [{ key: "\u0001", value: "v" }] });
    expectRejected(
      ecs,
      json(`${ECS}.CreateCluster`, body),
      "ClientException",
      /'tags\.1\.member\.key'.*regular expression/,
    );
  });
});
