/**
 * Field sets as server-side apply keeps them (structured-merge-diff's fieldpath.Set, serialized as
 * `fieldsV1`): `f:<field>`, `k:<keys JSON>` for items of associative lists, `v:<value JSON>` for
 * items of sets, `.` for a list item itself. List types come from the OpenAPI extensions
 * (x-kubernetes-list-type / -map-keys), else from the patch strategy, as kube derives them. PURE.
 */
import {
  isFreeForm,
  itemSchema,
  type OpenApiIndex,
  patchMetaOf,
  propertySchema,
  resolveSchema,
  type Schema,
} from "../schema.js";
import { deepEqual, type Json } from "./json-patch.js";

export type FieldSet = { [element: string]: FieldSet };
type Obj = Record<string, Json>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export interface ListKind {
  type: "map" | "set" | "atomic";
  keys: string[];
}

export function listKind(s: Schema | undefined): ListKind {
  const m = patchMetaOf(s);
  if (m.listType === "map") return { type: "map", keys: m.listMapKeys ?? (m.mergeKey ? [m.mergeKey] : []) };
  if (m.listType === "set") return { type: "set", keys: [] };
  if (m.listType === "atomic") return { type: "atomic", keys: [] };
  if (m.strategies.includes("merge"))
    return m.mergeKey ? { type: "map", keys: [m.mergeKey] } : { type: "set", keys: [] };
  return { type: "atomic", keys: [] };
}

export class Fields {
  constructor(readonly index: OpenApiIndex) {}

  child = (s: Schema | undefined, key: string) => propertySchema(this.index, s, key);
  items = (s: Schema | undefined) => itemSchema(this.index, s);

  /** Whether an object member is tracked field by field (else it is one atomic value). */
  granular(s: Schema | undefined): boolean {
    const r = resolveSchema(this.index, s);
    if (!r || isFreeForm(r) || r.type !== "object") return false;
    return s?.["x-kubernetes-map-type"] !== "atomic" && r["x-kubernetes-map-type"] !== "atomic";
  }

  /** The field set of an object's members. */
  setOf(s: Schema | undefined, value: Obj): FieldSet {
    const out: FieldSet = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null) continue;
      out[`f:${k}`] = this.memberSet(this.child(s, k), v);
    }
    return out;
  }

  private memberSet(s: Schema | undefined, v: Json): FieldSet {
    if (isObj(v)) return this.granular(s) && Object.keys(v).length > 0 ? this.setOf(s, v) : {};
    if (Array.isArray(v)) {
      const lk = listKind(s);
      const out: FieldSet = {};
      if (lk.type === "map" && lk.keys.length > 0) {
        const is = this.items(s);
        for (const item of v) if (isObj(item)) out[keyElement(item, lk.keys)] = { ".": {}, ...this.setOf(is, item) };
        return out;
      }
      if (lk.type === "set") {
        for (const item of v) out[`v:${JSON.stringify(item)}`] = {};
        return out;
      }
    }
    return {};
  }
}

/**
 * Defaults of list-map key fields: an applied port without `protocol` is the TCP port the live
 * object holds (kube keys it `k:{"containerPort":80,"protocol":"TCP"}`).
 */
const KEY_DEFAULTS: Record<string, Json> = { protocol: "TCP" };

const keyValue = (item: Obj, key: string): Json | undefined => item[key] ?? KEY_DEFAULTS[key];

export function keyElement(item: Obj, keys: string[]): string {
  const k: Obj = {};
  for (const key of [...keys].sort()) {
    const v = keyValue(item, key);
    if (v !== undefined) k[key] = v;
  }
  return `k:${JSON.stringify(k)}`;
}

/** Whether a list item has the key values a `k:` element names (defaults filling missing keys). */
export const keyMatches = (item: Json, keys: Obj) =>
  isObj(item) && Object.entries(keys).every(([k, v]) => deepEqual(keyValue(item, k), v));

/** Every path of a set that names something owned: leaves ({}) and list items ("." present). */
export function ownedPaths(set: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [el, sub] of Object.entries(set)) {
    if (el === ".") continue;
    const p = [...prefix, el];
    const keys = Object.keys(sub);
    if (keys.length === 0 || keys.includes(".")) out.push(p);
    out.push(...ownedPaths(sub, p));
  }
  return out;
}

export function hasPath(set: FieldSet, path: string[]): boolean {
  let cur: FieldSet | undefined = set;
  for (const el of path) {
    cur = cur?.[el];
    if (!cur) return false;
  }
  return true;
}

export function removePath(set: FieldSet, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const sub = set[head];
  if (!sub) return;
  if (rest.length === 0) {
    delete set[head];
    return;
  }
  removePath(sub, rest);
  if (Object.keys(sub).length === 0) delete set[head];
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = structuredClone(a);
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? union(out[k] as FieldSet, v) : structuredClone(v);
  return out;
}

export const isEmpty = (s: FieldSet) => Object.keys(s).length === 0;

/** The value a path names in an object (undefined when absent). */
export function valueAt(obj: Json | undefined, path: string[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const el of path) {
    if (cur === undefined || cur === null) return undefined;
    if (el === ".") continue;
    if (el.startsWith("f:")) cur = isObj(cur) ? cur[el.slice(2)] : undefined;
    else if (el.startsWith("k:")) {
      const keys = JSON.parse(el.slice(2)) as Obj;
      cur = Array.isArray(cur)
        ? cur.find((x) => isObj(x) && Object.entries(keys).every(([k, v]) => deepEqual(x[k], v)))
        : undefined;
    } else if (el.startsWith("v:")) {
      const v = JSON.parse(el.slice(2)) as Json;
      cur = Array.isArray(cur) ? cur.find((x) => deepEqual(x, v)) : undefined;
    } else return undefined;
  }
  return cur;
}

/** Removes what a path names from an object (a member, or a list item); returns whether it did. */
export function deleteAt(obj: Json, path: string[]): boolean {
  const parent = valueAt(obj, path.slice(0, -1));
  const el = path[path.length - 1] ?? "";
  if (el.startsWith("f:") && isObj(parent)) {
    const had = el.slice(2) in parent;
    delete parent[el.slice(2)];
    return had;
  }
  if (Array.isArray(parent)) {
    const target = valueAt(parent, [el]);
    const i = parent.indexOf(target as Json);
    if (i >= 0) parent.splice(i, 1);
    return i >= 0;
  }
  return false;
}

/** structured-merge-diff's path string: `.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`. */
export function pathString(path: string[]): string {
  let out = "";
  for (const el of path) {
    if (el === ".") continue;
    if (el.startsWith("f:")) out += `.${el.slice(2)}`;
    else if (el.startsWith("k:")) {
      const keys = JSON.parse(el.slice(2)) as Obj;
      out += `[${Object.entries(keys)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    } else if (el.startsWith("v:")) out += `[=${el.slice(2)}]`;
  }
  return out;
}
