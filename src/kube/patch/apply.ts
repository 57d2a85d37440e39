/**
 * Server-side apply (`application/apply-patch+yaml`) and the managedFields bookkeeping of every
 * other write, as kube-apiserver's fieldmanager does it: one entry per manager and operation with a
 * fieldsV1 set; an apply conflicts (409) on fields another manager owns with a different value unless
 * forced; fields an applier stops applying are removed unless someone else owns them. PURE.
 */
import { KubeError } from "../errors.js";
import {
  type GroupVersionKind,
  itemSchema,
  type OpenApiIndex,
  resolveSchema,
  schemaFor,
  type Schema,
} from "../schema.js";
import type { KubeObject } from "../types.js";
import {
  deleteAt,
  type FieldSet,
  Fields,
  hasPath,
  isEmpty,
  keyElement,
  listKind,
  ownedPaths,
  pathString,
  removePath,
  union,
  valueAt,
} from "./fields.js";
import { deepEqual, type Json } from "./json-patch.js";

type Obj = Record<string, Json>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: FieldSet;
  subresource?: string;
}

/** metadata members the field manager never tracks. */
const SYSTEM_META = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
  "generateName",
];

/** The part of an object field ownership is about: no type/meta bookkeeping, and status only for /status. */
function tracked(obj: KubeObject, subresource?: string): Obj {
  const o = structuredClone(obj) as unknown as Obj;
  delete o.apiVersion;
  delete o.kind;
  if (isObj(o.metadata)) {
    for (const k of SYSTEM_META) delete o.metadata[k];
    if (Object.keys(o.metadata).length === 0) delete o.metadata;
  }
  if (subresource === "status") return isObj(o.status) ? { status: o.status } : {};
  delete o.status;
  return o;
}

const nowRfc3339 = (now: Date) => now.toISOString().replace(/\.\d{3}Z$/, "Z");

export const entriesOf = (obj: KubeObject | undefined): ManagedFieldsEntry[] =>
  Array.isArray(obj?.metadata.managedFields) ? structuredClone(obj.metadata.managedFields as ManagedFieldsEntry[]) : [];

const sameManager = (e: ManagedFieldsEntry, manager: string, operation: string, subresource?: string) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? "") === (subresource ?? "");

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  // kube's manager identifier leaves out the time (and, for appliers, the apiVersion).
  if (e.operation === "Update") s += ` using ${e.apiVersion}`;
  return s;
}

/** kube's apply conflict: 409 Conflict, one cause per field. */
export function applyConflictError(conflicts: { entry: ManagedFieldsEntry; path: string[] }[]): KubeError {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(c.entry)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0] as (typeof conflicts)[number];
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.entry)}: ${pathString(c.path)}`;
  } else {
    const by = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = printManager(c.entry);
      by.set(m, [...(by.get(m) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const m of [...by.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of by.get(m) ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new KubeError(409, "Conflict", message, { causes });
}

/** Server-side apply's merge: the config's members over the live object's, lists by their kind. */
function mergeApplied(f: Fields, s: Schema | undefined, live: Json | undefined, config: Json): Json {
  if (isObj(config) && isObj(live) && f.granular(s)) {
    const out: Obj = { ...live };
    for (const [k, v] of Object.entries(config)) {
      if (v === null) continue;
      out[k] = mergeApplied(f, f.child(s, k), live[k], v);
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const lk = listKind(s);
    if (lk.type === "map" && lk.keys.length > 0) {
      const is = itemSchema(f.index, s);
      const out = live.map((x) => structuredClone(x));
      const keyOf = (x: Json) => (isObj(x) ? keyElement(x, lk.keys) : JSON.stringify(x));
      for (const c of config) {
        const i = out.findIndex((x) => keyOf(x) === keyOf(c));
        if (i >= 0) out[i] = mergeApplied(f, is, out[i], c);
        else out.push(structuredClone(c));
      }
      return out;
    }
    if (lk.type === "set") {
      const out = [...live];
      for (const c of config) if (!out.some((x) => deepEqual(x, c))) out.push(c);
      return out;
    }
  }
  return structuredClone(config);
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: string;
  now?: Date;
}

/**
 * Server-side apply of a parsed configuration to the live object (undefined: create). Returns the
 * new object with its managedFields. Throws 409 Conflict (unless force) naming the fields and managers.
 */
export function serverSideApply(
  index: OpenApiIndex,
  gvk: GroupVersionKind,
  live: KubeObject | undefined,
  config: KubeObject,
  opts: ApplyOptions,
): KubeObject {
  const f = new Fields(index);
  const schema = schemaFor(index, gvk);
  const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
  const appliedSet = f.setOf(schema, tracked(config, opts.subresource));
  const entry: ManagedFieldsEntry = {
    manager: opts.fieldManager,
    operation: "Apply",
    apiVersion,
    time: nowRfc3339(opts.now ?? new Date()),
    fieldsType: "FieldsV1",
    fieldsV1: appliedSet,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  if (!live) {
    const created = structuredClone(config);
    created.metadata = { ...created.metadata, managedFields: [entry] };
    return created;
  }
  const entries = entriesOf(live);
  const mine = entries.find((e) => sameManager(e, opts.fieldManager, "Apply", opts.subresource));
  const others = entries.filter((e) => e !== mine);
  const liveT = tracked(live, opts.subresource);
  const configT = tracked(config, opts.subresource);

  // Conflicts: fields others own whose live value differs from the applied one.
  const conflicts: { entry: ManagedFieldsEntry; path: string[] }[] = [];
  const appliedPaths = ownedPaths(appliedSet);
  for (const e of others) {
    for (const p of appliedPaths) {
      if (p[p.length - 1]?.startsWith("k:") || p[p.length - 1]?.startsWith("v:")) continue; // items: existence only
      if (!hasPath(e.fieldsV1, p)) continue;
      const leafOfOther = isEmpty(valueAtSet(e.fieldsV1, p));
      if (!leafOfOther) continue;
      if (!deepEqual(valueAt(liveT, p), valueAt(configT, p))) conflicts.push({ entry: e, path: p });
    }
  }
  if (conflicts.length > 0 && !opts.force) throw applyConflictError(conflicts);
  for (const c of conflicts) removePath(c.entry.fieldsV1, c.path);

  // What this manager applied before and no longer does goes, unless another manager owns it.
  const result = structuredClone(live) as unknown as Obj;
  if (mine) {
    const gone = ownedPaths(mine.fieldsV1)
      .filter((p) => !hasPath(appliedSet, p))
      .filter((p) => !others.some((e) => hasPath(e.fieldsV1, p)))
      .sort((a, b) => a.length - b.length);
    // Outermost first: a removed list item takes its members with it.
    const removed: string[][] = [];
    for (const p of gone) {
      if (removed.some((r) => r.every((el, i) => p[i] === el))) continue;
      deleteAt(result, p);
      removed.push(p);
    }
  }
  const merged = mergeApplied(f, schema, result, tracked(config, opts.subresource)) as unknown as KubeObject;
  merged.apiVersion = live.apiVersion;
  merged.kind = live.kind;
  // An apply that changes nothing keeps its entry's time (a no-op apply writes nothing).
  const unchanged = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } });
  if (
    mine?.time &&
    conflicts.length === 0 &&
    deepEqual(mine.fieldsV1, appliedSet) &&
    deepEqual(unchanged(merged), unchanged(live))
  )
    entry.time = mine.time;
  merged.metadata = {
    ...(merged.metadata ?? {}),
    ...pick(live.metadata, SYSTEM_META),
    managedFields: sortEntries([...others.filter((e) => !isEmpty(e.fieldsV1)), entry]),
  };
  return merged;
}

function valueAtSet(set: FieldSet, path: string[]): FieldSet {
  let cur: FieldSet = set;
  for (const el of path) cur = cur[el] ?? {};
  return Object.fromEntries(Object.entries(cur).filter(([k]) => k !== "."));
}

function pick(meta: Record<string, unknown>, keys: string[]) {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (meta[k] !== undefined && k !== "managedFields") out[k] = meta[k];
  return out;
}

/**
 * managedFields after a non-apply write (create, update, patch) by `manager`: it owns every field it
 * set or changed (taken from the others), removed fields leave every set. What the API server
 * stores with each create/update/patch.
 */
export function updateManagedFields(
  index: OpenApiIndex,
  gvk: GroupVersionKind,
  before: KubeObject | undefined,
  after: KubeObject,
  manager: string,
  opts: { subresource?: string; now?: Date } = {},
): ManagedFieldsEntry[] {
  const f = new Fields(index);
  const schema = schemaFor(index, gvk);
  const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
  // The request's own managedFields win when it carries them (an empty list resets them); else the stored ones.
  const entries =
    Array.isArray(after.metadata.managedFields) && before?.metadata.managedFields !== after.metadata.managedFields
      ? entriesOf(after)
      : entriesOf(before ?? after);
  const oldT = before ? tracked(before, opts.subresource) : {};
  const newT = tracked(after, opts.subresource);
  const oldSet = f.setOf(schema, oldT);
  const newSet = f.setOf(schema, newT);
  const changed = ownedPaths(newSet).filter(
    (p) => !hasPath(oldSet, p) || !deepEqual(valueAt(oldT, p), valueAt(newT, p)),
  );
  const removed = ownedPaths(oldSet).filter((p) => !hasPath(newSet, p));
  let mine = entries.find((e) => sameManager(e, manager, "Update", opts.subresource));
  for (const e of entries) {
    for (const p of removed) removePath(e.fieldsV1, p);
    if (e !== mine) for (const p of changed) if (isEmpty(valueAtSet(e.fieldsV1, p))) removePath(e.fieldsV1, p);
  }
  if (changed.length > 0 || mine) {
    const add: FieldSet = {};
    for (const p of changed) {
      let cur = add;
      for (const el of p) {
        cur[el] ??= {};
        cur = cur[el] as FieldSet;
      }
      if (p[p.length - 1]?.startsWith("k:")) cur["."] = {};
    }
    markNewContainers(f, schema, newT, oldT, [], add);
    if (!mine) {
      mine = { manager, operation: "Update", apiVersion, fieldsType: "FieldsV1", fieldsV1: {} };
      if (opts.subresource) mine.subresource = opts.subresource;
      entries.push(mine);
    }
    mine.fieldsV1 = union(mine.fieldsV1, add);
    if (changed.length > 0) {
      mine.time = nowRfc3339(opts.now ?? new Date());
      mine.apiVersion = apiVersion;
    }
  }
  // Each entry against its own view of the object (status entries see status only).
  const views = new Map<string, Obj>();
  for (const e of entries) {
    const view = e.subresource === "status" ? "status" : "";
    if (!views.has(view)) views.set(view, tracked(after, view || undefined));
    e.fieldsV1 = presentOnly(e.fieldsV1, views.get(view) as Obj);
  }
  return sortEntries(entries.filter((e) => !isEmpty(e.fieldsV1)));
}

/** A set without the members the object no longer has (a removed map takes its "." with it). */
function presentOnly(set: FieldSet, obj: Obj, prefix: string[] = []): FieldSet {
  const out: FieldSet = {};
  for (const [el, sub] of Object.entries(set)) {
    if (el === ".") {
      out["."] = {};
      continue;
    }
    const p = [...prefix, el];
    if (valueAt(obj, p) === undefined) continue;
    out[el] = presentOnly(sub, obj, p);
  }
  return out;
}

/**
 * An update that creates a map or a list owns the member itself too (`.`), as kube's Update entries
 * show (`f:labels: {".": {}, "f:app": {}}`); structs are always present in Go, so they never get one.
 */
function markNewContainers(f: Fields, s: Schema | undefined, now: Obj, before: Obj, path: string[], add: FieldSet) {
  for (const [k, v] of Object.entries(now)) {
    if (v === null || typeof v !== "object") continue;
    const cs = f.child(s, k);
    const p = [...path, `f:${k}`];
    const r = resolveSchema(f.index, cs);
    const isMap = !!r && !r.properties && typeof r.additionalProperties === "object" && f.granular(cs);
    const lk = Array.isArray(v) ? listKind(cs) : undefined;
    const granularList = !!lk && lk.type !== "atomic";
    // Required members (containers) are never omitted in Go, so they are never "created".
    const required = resolveSchema(f.index, s)?.required?.includes(k) ?? false;
    if ((isMap || granularList) && !required && Object.keys(v).length > 0 && valueAt(before, p) === undefined) {
      const node = nodeAt(add, p);
      if (node) node["."] = {};
    }
    if (isObj(v) && f.granular(cs)) markNewContainers(f, cs, v, before, p, add);
    if (Array.isArray(v) && lk?.type === "map" && lk.keys.length > 0) {
      const is = itemSchema(f.index, cs);
      for (const item of v)
        if (isObj(item)) markNewContainers(f, is, item, before, [...p, keyElement(item, lk.keys)], add);
    }
  }
}

function nodeAt(set: FieldSet, path: string[]): FieldSet | undefined {
  let cur: FieldSet | undefined = set;
  for (const el of path) cur = cur?.[el];
  return cur;
}

/** kube's sortEncodedManagedFields: by operation (Apply first), time, manager, apiVersion, subresource. */
export function sortEntries(entries: ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const secs = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  return [...entries].sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      secs(p.time) - secs(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? "", q.subresource ?? ""),
  );
}
