/**
 * Invalid Kubernetes objects derived from the OpenAPI schemas (issue 16, the Kubernetes side of
 * the bad-input suite): from a valid object, each field it sets is broken once — the wrong JSON
 * type, a value outside the schema's enum, a required field left out. PURE: schema index and
 * object in, the broken objects out with the field path kube-apiserver must name.
 */
import {
  type GroupVersionKind,
  type OpenApiIndex,
  type Schema,
  fieldPath,
  isFreeForm,
  refName,
  resolveSchema,
  schemaFor,
} from "../../src/kube/schema.js";
import type { KubeObject } from "../../src/kube/types.js";

export interface KubeBadCase {
  kind: "type" | "enum" | "missing";
  /** The field path the 422's causes must name (`spec.template.spec.containers[0].image`). */
  field: string;
  object: KubeObject;
}

const MAX_DEPTH = 8;
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/** A value of the wrong JSON type for a schema, or undefined where every type is allowed. */
function wrongType(s: Schema, name: string | undefined): unknown {
  if (name === QUANTITY || s.format === "int-or-string" || s["x-kubernetes-int-or-string"]) return { wrong: true };
  if (isFreeForm(s) && !s.type) return undefined;
  switch (s.type) {
    case "string":
      return { wrong: true };
    case "integer":
    case "number":
      return "abc";
    case "boolean":
      return "maybe";
    case "array":
      return { wrong: true };
    case "object":
      return isFreeForm(s) ? "wrong" : ["wrong"];
    default:
      return undefined;
  }
}

function setAt(obj: KubeObject, path: (string | number)[], value: unknown, remove = false): KubeObject {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (remove) delete node[last];
  else node[last] = value;
  return copy as unknown as KubeObject;
}

/** Every case of one valid object. `metadata` is left to kube's own name rules (tested elsewhere). */
export function kubeCasesFor(index: OpenApiIndex, gvk: GroupVersionKind, valid: KubeObject): KubeBadCase[] {
  const out: KubeBadCase[] = [];
  const walk = (schema: Schema | undefined, value: unknown, path: (string | number)[]) => {
    if (path.length > MAX_DEPTH || value === null || value === undefined) return;
    const name = refName(schema);
    const s = resolveSchema(index, schema);
    if (!s || path[0] === "metadata" || path[0] === "apiVersion" || path[0] === "kind") return;
    if (path.length > 0) {
      const wrong = wrongType(s, name);
      if (wrong !== undefined) out.push({ kind: "type", field: fieldPath(path), object: setAt(valid, path, wrong) });
      if (s.enum && typeof value === "string")
        out.push({ kind: "enum", field: fieldPath(path), object: setAt(valid, path, "NotASupportedValue") });
    }
    if (s.type === "array" && Array.isArray(value))
      for (const [i, v] of value.entries()) walk(s.items, v, [...path, i]);
    else if (s.type === "object" && value && typeof value === "object" && !Array.isArray(value) && !isFreeForm(s)) {
      const obj = value as Record<string, unknown>;
      for (const r of s.required ?? [])
        if (obj[r] !== undefined && path.length > 0)
          out.push({
            kind: "missing",
            field: fieldPath([...path, r]),
            object: setAt(valid, [...path, r], undefined, true),
          });
      for (const [k, v] of Object.entries(obj)) if (s.properties?.[k]) walk(s.properties[k], v, [...path, k]);
    }
  };
  walk(schemaFor(index, gvk), valid, []);
  return out;
}
