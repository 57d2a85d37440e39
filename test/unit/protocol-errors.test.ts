import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type ErrorFactory, ServiceError, commonErrors, isError } from "../../src/core/errors.js";
import { applicationAutoscalingErrors } from "../../src/protocol/generated/errors/application-autoscaling.js";
import { cloudwatchErrors } from "../../src/protocol/generated/errors/cloudwatch.js";
import { ecsErrors } from "../../src/protocol/generated/errors/ecs.js";
import { efsErrors } from "../../src/protocol/generated/errors/efs.js";
import { logsErrors } from "../../src/protocol/generated/errors/logs.js";
import { stsErrors } from "../../src/protocol/generated/errors/sts.js";
import { loadModel, queryErrorCode } from "../../src/protocol/model.js";
import { awsQueryProtocol } from "../../src/protocol/query/protocol.js";

const errorsDir = join(dirname(fileURLToPath(import.meta.url)), "../../src/protocol/generated/errors");
const exportName = (id: string) => `${id.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}Errors`;

describe("generated error factories", () => {
  it.each([
    ["ecs ClusterNotFoundException", ecsErrors.ClusterNotFoundException, "ClusterNotFoundException", 400, "Sender"],
    ["ecs ServerException (a fault)", ecsErrors.ServerException, "ServerException", 500, "Receiver"],
    [
      "sts MalformedPolicyDocumentException",
      stsErrors.MalformedPolicyDocumentException,
      "MalformedPolicyDocument",
      400,
      "Sender",
    ],
    ["sts IDPRejectedClaimException", stsErrors.IDPRejectedClaimException, "IDPRejectedClaim", 403, "Sender"],
    ["cloudwatch ResourceNotFound", cloudwatchErrors.ResourceNotFound, "ResourceNotFound", 404, "Sender"],
    [
      "cloudwatch InvalidParameterValueException",
      cloudwatchErrors.InvalidParameterValueException,
      "InvalidParameterValue",
      400,
      "Sender",
    ],
    ["cloudwatch InternalServiceFault", cloudwatchErrors.InternalServiceFault, "InternalServiceError", 500, "Receiver"],
    ["efs DependencyTimeout", efsErrors.DependencyTimeout, "DependencyTimeout", 504, "Receiver"],
    [
      "logs ResourceNotFoundException",
      logsErrors.ResourceNotFoundException,
      "ResourceNotFoundException",
      400,
      "Sender",
    ],
  ] as [string, ErrorFactory<object>, string, number, string][])(
    "%s carries the model's code and status",
    (_, make, code, status, fault) => {
      const e = make("boom");
      expect(e).toBeInstanceOf(ServiceError);
      expect({ code: e.code, status: e.status, fault: e.fault, message: e.message, name: e.name }).toEqual({
        code,
        status,
        fault,
        message: "boom",
        name: code,
      });
      expect(make.code).toBe(code);
      expect(isError(e, make)).toBe(true);
    },
  );

  it("passes the shape's other members as fields", () => {
    const e = applicationAutoscalingErrors.ResourceNotFoundException("gone", { ResourceName: "arn:x" });
    expect(e.fields).toEqual({ ResourceName: "arn:x" });
    expect(logsErrors.ResourceAlreadyExistsException("dup").fields).toEqual({});
  });

  it("does not compile a misspelt code", () => {
    // @ts-expect-error ClusterNotFoundExceptoin is no error shape of the ECS model
    expect(ecsErrors.ClusterNotFoundExceptoin).toBeUndefined();
  });

  it("renders on the query wire with the code AWS sends", () => {
    const sts = awsQueryProtocol(loadModel("sts"), "ValidationError");
    const e = stsErrors.PackedPolicyTooLargeException("too big");
    const body = String(sts.renderError(e.code, e.message, e.status, e.fault, "r1").body);
    expect(body).toContain("<Code>PackedPolicyTooLarge</Code>");
    expect(body).toContain("<Type>Sender</Type>");
  });

  it("keeps the common set to codes no model of the error's kind declares by that name", () => {
    expect(commonErrors.AccessDenied("no").status).toBe(403);
    expect(commonErrors.NotImplemented("x")).toMatchObject({ status: 501, fault: "Receiver" });
    expect(commonErrors.ValidationError("x").code).toBe("ValidationError");
  });
});

describe("every generated factory is an error shape of its model, and every error shape has one", () => {
  const ids = readdirSync(errorsDir).map((f) => f.replace(/\.ts$/, ""));
  it("covers every extracted model", () => expect(ids.length).toBeGreaterThanOrEqual(14));
  it.each(ids)("%s", async (id) => {
    const mod = (await import(join(errorsDir, `${id}.js`))) as Record<string, Record<string, ErrorFactory<object>>>;
    const factories = mod[exportName(id)];
    const model = loadModel(id);
    const shapes = Object.entries(model.shapes).filter(([, s]) => s.exception);
    expect(Object.keys(factories).sort()).toEqual(shapes.map(([n]) => n).sort());
    for (const [name, shape] of shapes) {
      const f = factories[name];
      expect(f.code, name).toBe(shape.error?.code ?? name);
      expect(queryErrorCode(model, f.code), name).toBe(shape.error?.code ?? name);
      if (shape.error?.httpStatusCode) expect(f.status, name).toBe(shape.error.httpStatusCode);
    }
  });
});
