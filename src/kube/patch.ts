/**
 * PATCH bodies applied to an object: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic
 * merge patch (patch strategies and merge keys from the OpenAPI document), server-side apply
 * (managedFields, conflicts). PURE. The pieces live in ./patch/.
 */
import { parse as parseYaml } from "yaml";
import { KubeError, kubeErrors } from "./errors.js";
import { serverSideApply } from "./patch/apply.js";
import {
  applyJsonPatch,
  decodeJsonPatch,
  type Json,
  mergePatch,
  PatchApplyError,
  PatchDecodeError,
} from "./patch/json-patch.js";
import { strategicMerge } from "./patch/strategic.js";
import { type GroupVersionKind, type OpenApiIndex, schemaFor } from "./schema.js";
import type { KubeObject } from "./types.js";

export { applyConflictError, type ManagedFieldsEntry, serverSideApply, updateManagedFields } from "./patch/apply.js";
export { applyJsonPatch, createMergePatch, deepEqual, mergePatch } from "./patch/json-patch.js";
export { strategicMerge } from "./patch/strategic.js";

export type PatchType =
  | "application/json-patch+json"
  | "application/merge-patch+json"
  | "application/strategic-merge-patch+json"
  | "application/apply-patch+yaml";

export const PATCH_TYPES: readonly PatchType[] = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
];

const isObj = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseJsonObject(text: string): Record<string, Json> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw kubeErrors.badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  if (!isObj(v))
    throw kubeErrors.badRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
  return v;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** kube's answer to a JSON patch that does not apply: 422 with the library's words as the cause. */
const unprocessable = (why: string) =>
  new KubeError(422, "Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ reason: "UnexpectedServerResponse", message: why }],
  });

/** The field manager of a write: the fieldManager parameter, else the User-Agent up to its first "/" (kube's managerOrUserAgent). */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  // kube drops unprintable characters and keeps at most 128.
  const product = (userAgent ?? "").split("/")[0] ?? "";
  return [...product]
    .filter((c) => c >= " " && c !== "\u007f")
    .join("")
    .slice(0, 128);
}

/**
 * The object after the patch. `current` is undefined only for server-side apply of a new object.
 * Throws KubeError (400 BadRequest for a malformed patch, 422 for a JSON patch that does not apply,
 * 409 Conflict for apply conflicts without force, 415 for an unknown type or strategic merge on a
 * kind without a schema).
 */
export function applyPatch(
  index: OpenApiIndex,
  gvk: GroupVersionKind,
  current: KubeObject | undefined,
  patch: string,
  type: PatchType,
  opts: { fieldManager?: string; force?: boolean; subresource?: string; now?: Date },
): KubeObject {
  if (type === "application/apply-patch+yaml") {
    let config: unknown;
    try {
      // kubectl sends JSON (valid YAML); JSON.parse reads it far faster.
      config = /^\s*\{/.test(patch) ? (tryJson(patch) ?? parseYaml(patch)) : parseYaml(patch);
    } catch (e) {
      throw kubeErrors.badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isObj(config)) throw kubeErrors.badRequest("error decoding YAML: the apply configuration must be an object");
    if (!opts.fieldManager)
      throw kubeErrors.invalid("meta.k8s.io", "PatchOptions", "", [
        { field: "fieldManager", reason: "FieldValueRequired", message: "Required value: is required for apply patch" },
      ]);
    const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
    if (config.apiVersion !== apiVersion || config.kind !== gvk.kind)
      throw kubeErrors.badRequest(
        `the apiVersion and kind of the configuration (${String(config.apiVersion ?? "")}, ${String(config.kind ?? "")}) must be ${apiVersion}, ${gvk.kind}`,
      );
    const meta = isObj(config.metadata) ? config.metadata : {};
    if (meta.managedFields !== undefined && meta.managedFields !== null)
      throw kubeErrors.badRequest("metadata.managedFields must be nil");
    return serverSideApply(index, gvk, current, { ...config, metadata: meta } as unknown as KubeObject, {
      fieldManager: opts.fieldManager,
      force: opts.force,
      subresource: opts.subresource,
      now: opts.now,
    });
  }
  if (!PATCH_TYPES.includes(type))
    throw kubeErrors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
    );
  if (opts.force !== undefined && opts.force !== false)
    throw kubeErrors.invalid("meta.k8s.io", "PatchOptions", "", [
      { field: "force", reason: "FieldValueForbidden", message: "Forbidden: may not be specified for non-apply patch" },
    ]);
  if (!current) throw kubeErrors.internal("patch of an object that does not exist");
  const doc = current as unknown as Json;
  let out: Json;
  try {
    switch (type) {
      case "application/json-patch+json":
        out = applyJsonPatch(doc, decodeJsonPatch(patch));
        break;
      case "application/merge-patch+json":
        out = mergePatch(doc, parseJsonObject(patch));
        break;
      default: {
        const schema = schemaFor(index, gvk);
        if (!schema)
          throw kubeErrors.unsupportedMediaType(
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
          );
        out = strategicMerge(index, schema, doc, parseJsonObject(patch));
      }
    }
  } catch (e) {
    if (e instanceof KubeError) throw e;
    if (e instanceof PatchDecodeError) throw kubeErrors.badRequest(e.message);
    // kube answers 422 for a JSON patch that does not apply; a strategic merge patch's own errors
    // (a list item without its merge key, an unknown $patch) come back as they are: 500.
    if (e instanceof PatchApplyError)
      throw type === "application/json-patch+json" ? unprocessable(e.message) : kubeErrors.internal(e.message);
    throw e;
  }
  if (!isObj(out)) throw unprocessable("the patched document is not an object");
  const obj = out as unknown as KubeObject;
  if (!isObj(obj.metadata)) obj.metadata = {};
  return obj;
}
