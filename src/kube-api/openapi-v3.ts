/**
 * /openapi/v3: not served yet (404). kubectl falls back to /openapi/v2 for explain, apply's patch
 * computation and field-validation discovery.
 */
import type { ResourceType } from "../kube/types.js";
import { notFoundPath } from "./http.js";

export function openApiV3Index(_resources: readonly ResourceType[]): never {
  throw notFoundPath();
}

export function openApiV3Document(_gv: string): Buffer | undefined {
  return undefined;
}
