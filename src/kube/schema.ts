/**
 * Kubernetes schemas from the vendored official OpenAPI document: validation (kube-apiserver's
 * 422 Invalid field causes; unknown fields per fieldValidation) and defaults. PURE.
 * STUB — kube-pure implements it; the signatures are the contract the API server codes against.
 */
import type { StatusCause } from "./errors.js";
import type { KubeObject } from "./types.js";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The parsed OpenAPI document: definitions by name, GVK → definition, patch metadata. */
export interface OpenApiIndex {
  /** The raw OpenAPI v2 document (served at /openapi/v2). */
  readonly document: Record<string, unknown>;
}

export function loadOpenApi(): OpenApiIndex {
  throw new Error("kube/schema: not implemented yet");
}

export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** Field errors (→ 422 Invalid) and unknown-field findings (Strict → 400 BadRequest, Warn → warnings). */
export function validateObject(
  _index: OpenApiIndex,
  _gvk: GroupVersionKind,
  _obj: KubeObject,
  _opts: { fieldValidation: FieldValidation },
): { causes: StatusCause[]; unknownFields: string[] } {
  throw new Error("kube/schema: not implemented yet");
}

/** Kubernetes' defaults for an object of a kind (pod restartPolicy, deployment strategy, …). */
export function defaultObject(_index: OpenApiIndex, _gvk: GroupVersionKind, obj: KubeObject): KubeObject {
  return obj;
}
