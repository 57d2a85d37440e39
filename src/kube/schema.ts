/**
 * Kubernetes schemas from the vendored official OpenAPI document: validation (kube-apiserver's
 * 422 Invalid field causes; unknown fields per fieldValidation) and defaults. PURE: the document is
 * read once, on the first loadOpenApi().
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { applyDefaults } from "./defaults.js";
import { type KubeError, kubeErrors, type StatusCause } from "./errors.js";
import { goQuote, goValue, validateKind, validateKindUpdate } from "./kind-validation.js";
import { canonicalQuantity } from "./quantity.js";
import type { KubeObject } from "./types.js";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** One OpenAPI v2 schema node, with the Kubernetes extensions Berth reads. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  "x-kubernetes-group-version-kind"?: GroupVersionKind[];
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-patch-merge-key"?: string;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
}

/** How a field merges: strategic merge patch's strategy and key, server-side apply's list type. */
export interface PatchMeta {
  /** "merge", "replace", "retainKeys", "merge,retainKeys" (x-kubernetes-patch-strategy). */
  strategies: string[];
  mergeKey?: string;
  listType?: "atomic" | "set" | "map";
  listMapKeys?: string[];
  mapType?: "atomic" | "granular";
}

/** The parsed OpenAPI document: definitions by name, GVK → definition, patch metadata. */
export interface OpenApiIndex {
  /** The raw OpenAPI v2 document (served at /openapi/v2). */
  readonly document: Record<string, unknown>;
  /** Every definition by its name (`io.k8s.api.apps.v1.Deployment`). */
  readonly definitions: ReadonlyMap<string, Schema>;
  /** `group/version/kind` (group "" for core) → definition name. */
  readonly kinds: ReadonlyMap<string, string>;
}

export const gvkKey = (gvk: GroupVersionKind) => `${gvk.group}/${gvk.version}/${gvk.kind}`;

/** `apps/v1` + `Deployment` → {group: "apps", version: "v1", kind}; `v1` → core. */
export function gvkOf(apiVersion: string, kind: string): GroupVersionKind {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion, kind }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind };
}

const FILE = "swagger.json.gz";

/** The document: beside this module under src/ (tsx, vitest), or in src/kube/openapi/ when running from dist/. */
function documentFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "openapi", FILE), join(here, "../../../src/kube/openapi", FILE)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`cannot find ${FILE} (looked in ${candidates.join(", ")})`);
  return found;
}

/** Builds the index of an OpenAPI v2 document (exported for tests with small documents). */
export function indexOpenApi(document: Record<string, unknown>): OpenApiIndex {
  const defs = (document.definitions ?? {}) as Record<string, Schema>;
  const definitions = new Map(Object.entries(defs));
  const kinds = new Map<string, string>();
  for (const [name, s] of definitions) {
    const gvks = s["x-kubernetes-group-version-kind"] ?? [];
    // DeleteOptions, WatchEvent, … carry every group's GVK; a kind's own definition wins.
    for (const g of gvks) if (!kinds.has(gvkKey(g)) || gvks.length === 1) kinds.set(gvkKey(g), name);
  }
  return { document, definitions, kinds };
}

let loaded: OpenApiIndex | undefined;

export function loadOpenApi(): OpenApiIndex {
  loaded ??= indexOpenApi(JSON.parse(gunzipSync(readFileSync(documentFile())).toString("utf8")));
  return loaded;
}

const REF = "#/definitions/";

/** The definition name a `$ref` names. */
export const refName = (s: Schema | undefined) => (s?.$ref?.startsWith(REF) ? s.$ref.slice(REF.length) : undefined);

/** A schema with its `$ref` followed (the field's own patch extensions are kept by patchMetaOf on the unresolved node). */
export function resolveSchema(index: OpenApiIndex, s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur?.$ref && i < 32; i++) cur = index.definitions.get(refName(cur) ?? "");
  return cur;
}

export function schemaFor(index: OpenApiIndex, gvk: GroupVersionKind): Schema | undefined {
  const name = index.kinds.get(gvkKey(gvk));
  return name ? index.definitions.get(name) : undefined;
}

/** The (unresolved) schema of an object's member: a property, or the map's value schema. */
export function propertySchema(index: OpenApiIndex, s: Schema | undefined, key: string): Schema | undefined {
  const r = resolveSchema(index, s);
  if (!r) return undefined;
  if (r.properties && key in r.properties) return r.properties[key];
  if (r.additionalProperties && typeof r.additionalProperties === "object") return r.additionalProperties;
  return undefined;
}

/** The (unresolved) schema of an array's items. */
export const itemSchema = (index: OpenApiIndex, s: Schema | undefined) => resolveSchema(index, s)?.items;

export function patchMetaOf(s: Schema | undefined): PatchMeta {
  return {
    strategies: (s?.["x-kubernetes-patch-strategy"] ?? "").split(",").filter(Boolean),
    mergeKey: s?.["x-kubernetes-patch-merge-key"],
    listType: s?.["x-kubernetes-list-type"],
    listMapKeys: s?.["x-kubernetes-list-map-keys"],
    mapType: s?.["x-kubernetes-map-type"],
  };
}

/** A free-form object (RawExtension, FieldsV1, JSON): anything goes inside. */
export function isFreeForm(s: Schema | undefined): boolean {
  if (!s) return true;
  if (s["x-kubernetes-preserve-unknown-fields"]) return true;
  if (!s.type && !s.properties && !s.items) return true;
  return s.type === "object" && !s.properties && !s.additionalProperties;
}

export type FieldValidation = "Strict" | "Warn" | "Ignore";

const QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;
const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The JSON type of a value as the OpenAPI validator names it in messages. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** `spec.containers[0].image` from path segments (numbers index lists). */
export function fieldPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

const ENUM_ORDER: Record<string, string[]> = { restartPolicy: ["Always", "OnFailure", "Never"] };

interface Walk {
  index: OpenApiIndex;
  causes: StatusCause[];
  unknown: string[];
}

function typeError(w: Walk, path: (string | number)[], value: unknown, expected: string) {
  const f = fieldPath(path);
  const got = jsonTypeOf(value);
  w.causes.push({
    reason: "FieldValueTypeInvalid",
    message: `Invalid value: ${goQuote(got)}: ${f} in body must be of type ${expected}: ${goQuote(got)}`,
    field: f,
  });
}

function walk(w: Walk, schema: Schema | undefined, value: unknown, path: (string | number)[]): void {
  if (value === null || value === undefined) return; // null is "unset" to Go's decoder
  const name = refName(schema);
  const s = resolveSchema(w.index, schema);
  if (!s) return;
  if (name === QUANTITY_DEF) {
    if (typeof value === "number") return;
    if (typeof value !== "string") {
      typeError(w, path, value, "string");
      return;
    }
    if (!QUANTITY.test(value))
      w.causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${goQuote(value)}: ${QUANTITY_MESSAGE}`,
        field: fieldPath(path),
      });
    return;
  }
  if (s.format === "int-or-string" || s["x-kubernetes-int-or-string"]) {
    if (typeof value === "string" || (typeof value === "number" && Number.isInteger(value))) return;
    typeError(w, path, value, "integer-or-string");
    return;
  }
  if (isFreeForm(s) && !s.type) return;
  switch (s.type) {
    case "string":
      if (typeof value !== "string") {
        typeError(w, path, value, "string");
        return;
      }
      if (s.format === "date-time" && !DATE_TIME.test(value)) {
        const f = fieldPath(path);
        w.causes.push({
          reason: "FieldValueInvalid",
          message: `Invalid value: ${goQuote(value)}: ${f} in body must be of type date-time: ${goQuote(value)}`,
          field: f,
        });
      } else if (s.format === "byte" && !BASE64.test(value)) {
        const f = fieldPath(path);
        w.causes.push({
          reason: "FieldValueInvalid",
          message: `Invalid value: ${goQuote(value)}: ${f} in body must be of type byte: ${goQuote(value)}`,
          field: f,
        });
      }
      break;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        typeError(w, path, value, "integer");
        return;
      }
      break;
    case "number":
      if (typeof value !== "number") {
        typeError(w, path, value, "number");
        return;
      }
      break;
    case "boolean":
      if (typeof value !== "boolean") {
        typeError(w, path, value, "boolean");
        return;
      }
      break;
    case "array":
      if (!Array.isArray(value)) {
        typeError(w, path, value, "array");
        return;
      }
      for (const [i, v] of value.entries()) walk(w, s.items, v, [...path, i]);
      return;
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) {
        typeError(w, path, value, "object");
        return;
      }
      if (isFreeForm(s)) return;
      const obj = value as Record<string, unknown>;
      for (const r of s.required ?? []) {
        if (obj[r] === undefined || obj[r] === null) {
          w.causes.push({ reason: "FieldValueRequired", message: "Required value", field: fieldPath([...path, r]) });
        }
      }
      for (const [k, v] of Object.entries(obj)) {
        const p = s.properties?.[k];
        if (p) walk(w, p, v, [...path, k]);
        else if (s.additionalProperties && typeof s.additionalProperties === "object")
          walk(w, s.additionalProperties, v, [...path, k]);
        else if (s.additionalProperties !== true) w.unknown.push(`unknown field ${goQuote(fieldPath([...path, k]))}`);
      }
      return;
    }
  }
  if (s.enum && !s.enum.includes(value)) {
    // Go validation lists the values in its own order where it has one.
    const values = (path[path.length - 1] === "restartPolicy" && ENUM_ORDER.restartPolicy) || s.enum;
    w.causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: ${goValue(value)}: supported values: ${values.map((e) => goValue(e)).join(", ")}`,
      field: fieldPath(path),
    });
  }
}

/**
 * Field errors (→ 422 Invalid) and unknown-field findings (Strict → 400 BadRequest, Warn → warnings).
 * Run it on the defaulted object (kube validates after defaulting). Unknown fields are reported as
 * kube-apiserver words them (`unknown field "spec.foo"`); with Ignore none are reported.
 */
export function validateObject(
  index: OpenApiIndex,
  gvk: GroupVersionKind,
  obj: KubeObject,
  opts: { fieldValidation: FieldValidation },
): { causes: StatusCause[]; unknownFields: string[] } {
  const w: Walk = { index, causes: [], unknown: [] };
  const schema = schemaFor(index, gvk);
  if (schema) walk(w, schema, obj, []);
  // Wrong types and malformed values are decoding errors: kube reports those alone. Otherwise Go
  // validation's causes, then what the schema adds (required members, enums) that it did not say.
  const decoding = w.causes.filter((c) => c.reason === "FieldValueTypeInvalid" || c.reason === "FieldValueInvalid");
  if (decoding.length === 0) {
    const causes = validateKind(gvk, obj);
    const seen = new Set(causes.map((c) => `${c.field}|${c.reason}`));
    for (const c of w.causes) if (!seen.has(`${c.field}|${c.reason}`)) causes.push(c);
    w.causes = causes;
  } else w.causes = decoding;
  return { causes: w.causes, unknownFields: opts.fieldValidation === "Ignore" ? [] : w.unknown };
}

/**
 * What fieldValidation=Strict answers for unknown fields on create/update: 400 BadRequest worded as
 * kube's decoder (`Deployment in version "v1" cannot be handled as a Deployment: strict decoding
 * error: unknown field "spec.foo"`). With Warn, each entry of unknownFields is one Warning header.
 */
export function strictDecodingError(gvk: GroupVersionKind, unknownFields: string[]): KubeError {
  return kubeErrors.badRequest(
    `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: strict decoding error: ${unknownFields.join(", ")}`,
  );
}

/** validateObject for an update: also what may not change (immutable selectors, pod specs, Job templates, …). */
export function validateUpdate(
  index: OpenApiIndex,
  gvk: GroupVersionKind,
  obj: KubeObject,
  old: KubeObject,
  opts: { fieldValidation: FieldValidation },
): { causes: StatusCause[]; unknownFields: string[] } {
  const r = validateObject(index, gvk, obj, opts);
  if (!r.causes.some((c) => c.reason === "FieldValueTypeInvalid")) r.causes.push(...validateKindUpdate(gvk, obj, old));
  return r;
}

/** The object without members its schema does not know (what kube-apiserver stores after decoding). */
export function pruneUnknownFields(index: OpenApiIndex, gvk: GroupVersionKind, obj: KubeObject): KubeObject {
  const prune = (schema: Schema | undefined, value: unknown): unknown => {
    const s = resolveSchema(index, schema);
    if (!s || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return s.type === "array" ? value.map((v) => prune(s.items, v)) : value;
    if (s.type !== "object" || isFreeForm(s)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = s.properties?.[k];
      if (p) out[k] = prune(p, v);
      else if (s.additionalProperties && typeof s.additionalProperties === "object")
        out[k] = prune(s.additionalProperties, v);
      else if (s.additionalProperties === true) out[k] = v;
    }
    return out;
  };
  const schema = schemaFor(index, gvk);
  return schema ? (prune(schema, obj) as KubeObject) : obj;
}

/**
 * Kubernetes' defaults for an object of a kind (pod restartPolicy, deployment strategy, …), with its
 * quantities in canonical form ("0.5" → "500m") as kube stores them. Does not modify `obj`.
 */
export function defaultObject(index: OpenApiIndex, gvk: GroupVersionKind, obj: KubeObject): KubeObject {
  const out = applyDefaults(gvk, structuredClone(obj));
  const schema = schemaFor(index, gvk);
  return schema ? (canonicalQuantities(index, schema, out) as KubeObject) : out;
}

/** Every Quantity-typed member in canonical form (members that are not quantities left for validation to report). */
function canonicalQuantities(index: OpenApiIndex, schema: Schema | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (refName(schema) === QUANTITY_DEF) return canonicalQuantity(value) ?? value;
  const s = resolveSchema(index, schema);
  if (!s) return value;
  if (Array.isArray(value))
    return s.type === "array" ? value.map((v) => canonicalQuantities(index, s.items, v)) : value;
  if (typeof value !== "object" || s.type !== "object" || isFreeForm(s)) return value;
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    const p = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
    if (p) o[k] = canonicalQuantities(index, p, v);
  }
  return o;
}
