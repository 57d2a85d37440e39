import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import { parseJsonDocument } from "../../src/protocol/json/codec.js";
import { loadModel } from "../../src/protocol/model.js";
import { parseQueryInput } from "../../src/protocol/query/parse.js";
import { Violations, fromJava, modelPattern, patternChecked, skippedPatterns } from "../../src/protocol/validate.js";

const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof ServiceError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "accepted";
};

describe("model patterns as JS regular expressions", () => {
  it.each([
    // pattern, accepted, rejected
    ["[\\.\\-_/#A-Za-z0-9]+", ["/ecs/web", "a.b-c_d#e"], ["bad name", "", "é"]],
    ["[^:*]*", ["", "ecs/web/0123"], ["a:b", "a*"]],
    ["^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$", ["team", "ключ", "a b"], ["bad!", ""]],
    ["[\\w+=,.@-]*", ["ci-run_1@x"], ["bad name", "a/b"]],
    // Java lets `\` escape any punctuation, and `-` follow a class escape in a class.
    ["[\\w-_]*", ["a-b_c"], ["a.b"]],
    ["[0-9A-Za-z][\\-\\.\\_0-9A-Za-z]{0,126}[0-9A-Za-z]", ["a.b_c-d"], ["-ab", "a"]],
    ["^[0-9a-fA-F]{8}\\-[0-9a-fA-F]{4}$", ["0123abcd-ef01"], ["0123abcd_ef01"]],
    // Java's \p{Print} is printable ASCII; (?i) ignores case.
    ["\\p{Print}+", ["cpu-target 1"], ["é", "a\tb", ""]],
    ["(?i)all|[0-9]{12}", ["ALL", "All", "123456789012"], ["al", "12345"]],
    // Java's matches(): the whole value, alternatives included.
    ["SampleCount|Average", ["Average"], ["Averages", "xAverage"]],
    // Surrogate pairs stand for the code point above U+FFFF.
    ["[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*", ["a\tb", "😀"], ["\u0001"]],
  ])("%s", (pattern, accepted, rejected) => {
    const re = modelPattern(pattern);
    expect(re, fromJava(pattern).source).toBeDefined();
    for (const v of accepted) expect(re!.test(v), v).toBe(true);
    for (const v of rejected) expect(re!.test(v), v).toBe(false);
  });

  it.each([
    "[a-z&&[^b]]+", // class intersection
    "[[a-z][0-9]]", // nested classes
    "^(\\/|(\\/(?!\\.)+[^$#<>;`|&?{}^*/\\n]+){1,4})$", // a quantified lookahead (EFS)
    "a*+", // possessive
  ])("skips and counts %s rather than guessing", (pattern) => {
    expect(modelPattern(pattern)).toBeUndefined();
    expect(skippedPatterns()).toContain(pattern);
  });

  it("compiles all but a handful of the patterns in the extracted models", () => {
    const ids = ["ecs", "logs", "ecr", "ecr-public", "sts", "iam", "elbv2", "eks", "cloudwatch"];
    const all = ["application-autoscaling", "efs", "ssm", "secretsmanager", "apprunner", ...ids];
    const patterns = new Set(all.flatMap((id) => Object.values(loadModel(id).shapes).flatMap((s) => s.pattern ?? [])));
    const unchecked = [...patterns].filter((p) => !modelPattern(p));
    expect(patterns.size).toBeGreaterThan(150);
    expect(unchecked.length).toBeLessThanOrEqual(2);
  });

  it("property: a pattern-derived value always passes its own check", () => {
    const re = modelPattern("[\\.\\-_/#A-Za-z0-9]+")!;
    fc.assert(fc.property(fc.stringMatching(re), (s) => re.test(s)));
  });
});

describe("the protocol layer enforces patterns where AWS does", () => {
  const logs = loadModel("logs");
  const ecs = loadModel("ecs");
  const sts = loadModel("sts");
  const json = (body: unknown) => Buffer.from(JSON.stringify(body));
  const logsInput = (op: string, body: unknown) =>
    parseJsonDocument(logs, logs.operations[op].input, json(body), "InvalidParameterException");

  it.each([
    [
      "CreateLogGroup",
      { logGroupName: "bad name" },
      "InvalidParameterException: 1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
    ],
    [
      "CreateLogStream",
      { logGroupName: "g", logStreamName: "a:b" },
      "InvalidParameterException: 1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*",
    ],
    [
      "CreateLogGroup",
      { logGroupName: "g", tags: { "bad!": "v" } },
      "InvalidParameterException: 1 validation error detected: Value 'bad!' at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$",
    ],
    [
      "CreateLogGroup",
      { logGroupName: "" },
      "InvalidParameterException: 2 validation errors detected: Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
    ],
    ["CreateLogGroup", { logGroupName: "/ecs/web", tags: { team: "core" } }, "accepted"],
    // DescribeLogGroups' ARNs end in `:*`, which Logs accepts as an identifier though the pattern lacks it.
    ["DescribeLogStreams", { logGroupIdentifier: "arn:aws:logs:us-east-1:000000000000:log-group:g:*" }, "accepted"],
  ])("logs %s %j", (op, body, expected) => {
    expect(message(() => logsInput(op, body))).toBe(expected);
  });

  it("checks only ECS's tag patterns (ECS answers its other bad values with messages of its own)", () => {
    expect([...(patternChecked(ecs) ?? [])]).toEqual([ecs.shapes.TagKey, ecs.shapes.TagValue]);
    const input = { clusterName: "c", tags: [{ key: "bad!", value: "v" }] };
    expect(
      message(() =>
        parseJsonDocument(ecs, ecs.operations.CreateCluster.input, json(input), "InvalidParameterException"),
      ),
    ).toMatch(/^InvalidParameterException: 1 validation error detected: Value 'bad!' at 'tags\.1\.member\.key'/);
  });

  it("checks STS's patterns with the message its front end gives, naming the member", () => {
    const form = new URLSearchParams({ RoleArn: "arn:aws:iam::000000000000:role/r", RoleSessionName: "bad name" });
    expect(message(() => parseQueryInput(sts, sts.operations.AssumeRole.input, form, "ValidationError"))).toBe(
      "ValidationError: 1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  });

  it("collects a pattern violation with the others", () => {
    const v = new Violations("ValidationException", patternChecked(logs));
    v.check(logs.shapes.LogGroupName, "a b", "logGroupName");
    v.missing("logStreamName");
    expect(message(() => v.throwIfAny())).toBe(
      "ValidationException: 2 validation errors detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+; Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
    );
  });
});
