/**
 * PATCH bodies applied to an object: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic
 * merge patch (patch strategies and merge keys from the OpenAPI document), server-side apply
 * (managedFields, conflicts). PURE. STUB — kube-pure implements it.
 */
import type { OpenApiIndex, GroupVersionKind } from "./schema.js";
import type { KubeObject } from "./types.js";

export type PatchType =
  | "application/json-patch+json"
  | "application/merge-patch+json"
  | "application/strategic-merge-patch+json"
  | "application/apply-patch+yaml";

/**
 * The object after the patch. `current` is undefined only for server-side apply of a new object.
 * Throws KubeError (400 BadRequest for a malformed patch, 409 Conflict for apply conflicts
 * without force, 415 for an unknown type).
 */
export function applyPatch(
  _index: OpenApiIndex,
  _gvk: GroupVersionKind,
  _current: KubeObject | undefined,
  _patch: string,
  _type: PatchType,
  _opts: { fieldManager?: string; force?: boolean },
): KubeObject {
  throw new Error("kube/patch: not implemented yet");
}
