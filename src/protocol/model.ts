import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The subset of a botocore service model the protocols walk. */
export interface ShapeRef {
  shape: string;
  location?: "uri" | "querystring" | "header" | "headers" | "statusCode";
  locationName?: string;
  flattened?: boolean;
  jsonvalue?: boolean;
  xmlNamespace?: { uri: string };
  timestampFormat?: "iso8601" | "unixTimestamp" | "rfc822";
  idempotencyToken?: boolean;
  xmlAttribute?: boolean;
  queryName?: string;
}

export interface Shape {
  type:
    | "structure"
    | "list"
    | "map"
    | "string"
    | "integer"
    | "long"
    | "float"
    | "double"
    | "boolean"
    | "timestamp"
    | "blob";
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  flattened?: boolean;
  payload?: string;
  exception?: boolean;
  /** A Smithy document: any JSON value, passed through untyped (e.g. ECS `hookDetails`). */
  document?: boolean;
  /** Exactly one member may be set. */
  union?: boolean;
  /** An event stream (Logs StartLiveTail, GetLogObject): not supported by Berth's protocols yet. */
  eventstream?: boolean;
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
  timestampFormat?: "iso8601" | "unixTimestamp" | "rfc822";
  locationName?: string;
}

export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: ShapeRef;
  output?: ShapeRef & { resultWrapper?: string };
  errors?: ShapeRef[];
}

export interface ServiceModel {
  metadata: {
    apiVersion: string;
    endpointPrefix: string;
    protocol: "json" | "query" | "rest-json" | "rest-xml" | "ec2";
    protocols?: string[];
    jsonVersion?: string;
    targetPrefix?: string;
    signingName?: string;
    xmlNamespace?: string;
    serviceId: string;
    awsQueryCompatible?: Record<string, unknown>;
  };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

function modelsDir(): string {
  // Walk up from this file: works from src/ (tsx, vitest) and from dist/src/ (built).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "src/protocol/generated/models");
    if (existsSync(candidate)) return candidate;
    const local = join(dir, "generated/models");
    if (existsSync(local)) return local;
    dir = dirname(dir);
  }
  throw new Error("cannot find src/protocol/generated/models; run npm run models");
}

const cache = new Map<string, ServiceModel>();

/** Loads a generated model by Berth's service id (`ecs`, `logs`, `sts`, …). */
export function loadModel(id: string): ServiceModel {
  let model = cache.get(id);
  if (!model) {
    model = JSON.parse(readFileSync(join(modelsDir(), `${id}.json`), "utf8")) as ServiceModel;
    cache.set(id, model);
  }
  return model;
}

export const shapeOf = (model: ServiceModel, ref: ShapeRef | string): Shape => {
  const name = typeof ref === "string" ? ref : ref.shape;
  const shape = model.shapes[name];
  if (!shape) throw new Error(`shape ${name} missing from ${model.metadata.serviceId} model`);
  return shape;
};

/** The operation a wire name (X-Amz-Target suffix, `Action`) names; never an inherited property like `toString`. */
export const operationNamed = (model: ServiceModel, name: string): Operation | undefined =>
  Object.hasOwn(model.operations, name) ? model.operations[name] : undefined;

const wireCodes = new WeakMap<ServiceModel, Map<string, string>>();

/**
 * The exception shape an error code stands for: a shape of that name, or else the shape whose
 * `error.code` is that code (awsQuery and query-compatible services put codes like
 * `LoadBalancerNotFound` on the wire for shapes like `LoadBalancerNotFoundException`).
 * Providers may throw either spelling.
 */
export function errorShape(model: ServiceModel, code: string): { name: string; shape: Shape } | undefined {
  if (Object.hasOwn(model.shapes, code) && model.shapes[code].exception)
    return { name: code, shape: model.shapes[code] };
  let byCode = wireCodes.get(model);
  if (!byCode) {
    byCode = new Map();
    for (const [name, shape] of Object.entries(model.shapes))
      if (shape.exception && shape.error?.code && !byCode.has(shape.error.code)) byCode.set(shape.error.code, name);
    wireCodes.set(model, byCode);
  }
  const name = byCode.get(code);
  return name ? { name, shape: model.shapes[name] } : undefined;
}

/** The code the query wire uses for an error (`<Code>`, `x-amzn-query-error`): the model's `error.code`. */
export const queryErrorCode = (model: ServiceModel, code: string): string =>
  errorShape(model, code)?.shape.error?.code ?? code;

/** HTTP status for an error code, as the model declares it (default 400, or 500 for server faults). */
export function errorStatus(model: ServiceModel, code: string, fallback: number): number {
  return errorShape(model, code)?.shape.error?.httpStatusCode ?? fallback;
}
