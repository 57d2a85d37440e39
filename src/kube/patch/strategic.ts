/**
 * Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch) with the patch strategies and
 * merge keys of the OpenAPI document: lists merged by key (containers by name, ports by
 * containerPort, env by name), `$patch: delete|replace|merge`, `$setElementOrder/<list>`,
 * `$retainKeys`, `$deleteFromPrimitiveList/<list>`. PURE.
 */
import { itemSchema, type OpenApiIndex, patchMetaOf, propertySchema, type Schema } from "../schema.js";
import { deepEqual, type Json, PatchApplyError } from "./json-patch.js";

type Obj = Record<string, Json>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const PATCH = "$patch";
const RETAIN_KEYS = "$retainKeys";
const SET_ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

interface Ctx {
  index: OpenApiIndex | undefined;
}

const child = (ctx: Ctx, s: Schema | undefined, key: string) =>
  ctx.index ? propertySchema(ctx.index, s, key) : undefined;
const items = (ctx: Ctx, s: Schema | undefined) => (ctx.index ? itemSchema(ctx.index, s) : undefined);

/** Applies a strategic merge patch to an object (schema: the object's kind; undefined merges lists atomically). */
export function strategicMerge(
  index: OpenApiIndex | undefined,
  schema: Schema | undefined,
  original: Json,
  patch: Json,
): Json {
  if (!isObj(patch)) throw new PatchApplyError("strategic merge patch must be a JSON object");
  const out = mergeMap({ index }, schema, isObj(original) ? original : {}, patch);
  return out === DELETED ? {} : out;
}

const DELETED = Symbol("deleted");

function mergeMap(ctx: Ctx, schema: Schema | undefined, original: Obj, patch: Obj): Obj | typeof DELETED {
  const directive = patch[PATCH];
  if (directive === "delete") return DELETED;
  if (directive === "replace") {
    const { [PATCH]: _, ...rest } = patch;
    return stripDirectives(rest) as Obj;
  }
  if (directive !== undefined && directive !== "merge")
    throw new PatchApplyError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  const out: Obj = { ...original };
  const retain = patch[RETAIN_KEYS];
  for (const [key, value] of Object.entries(patch)) {
    if (key === PATCH || key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER) || key.startsWith(DELETE_PRIMITIVE)) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const s = child(ctx, schema, key);
    const cur = out[key];
    if (isObj(value)) {
      const merged = mergeMap(ctx, s, isObj(cur) ? cur : {}, value);
      if (merged === DELETED) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(ctx, s, Array.isArray(cur) ? cur : [], value, patch[SET_ORDER + key]);
    } else out[key] = value;
  }
  // $deleteFromPrimitiveList/<key> and lists only given an order.
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const list = key.slice(DELETE_PRIMITIVE.length);
      const cur = out[list];
      if (Array.isArray(cur) && Array.isArray(value))
        out[list] = cur.filter((x) => !value.some((d) => deepEqual(d, x)));
    } else if (key.startsWith(SET_ORDER)) {
      const list = key.slice(SET_ORDER.length);
      const cur = out[list];
      if (!(list in patch) && Array.isArray(cur) && Array.isArray(value)) {
        const key = patchMetaOf(child(ctx, schema, list)).mergeKey;
        out[list] = order(cur, value, cur, key && cur.some(isObj) ? key : undefined);
      }
    }
  }
  if (retain !== undefined) {
    if (!Array.isArray(retain))
      throw new PatchApplyError(`$retainKeys must be a list of strings: ${JSON.stringify(retain)}`);
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v))
    return v.filter((x) => !(isObj(x) && x[PATCH] !== undefined && Object.keys(x).length === 1)).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === PATCH || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function mergeList(
  ctx: Ctx,
  schema: Schema | undefined,
  original: Json[],
  patch: Json[],
  setOrder: Json | undefined,
): Json[] {
  const meta = patchMetaOf(schema);
  // A `{$patch: replace}` element replaces the whole list with the other elements.
  if (patch.some((x) => isObj(x) && x[PATCH] === "replace"))
    return stripDirectives(patch.filter((x) => !(isObj(x) && x[PATCH] === "replace"))) as Json[];
  if (!meta.strategies.includes("merge")) return stripDirectives(patch) as Json[];
  const itemS = items(ctx, schema);
  const key = meta.mergeKey;
  let out: Json[];
  if (key && (patch.some(isObj) || original.some(isObj))) {
    out = original.map((x) => structuredClone(x));
    for (const p of patch) {
      if (!isObj(p)) continue;
      if (!(key in p)) throw new PatchApplyError(`map: ${goMap(p)} does not contain declared merge key: ${key}`);
      const i = out.findIndex((x) => isObj(x) && deepEqual(x[key], p[key]));
      if (p[PATCH] === "delete") {
        if (i >= 0) out = out.filter((x) => !(isObj(x) && deepEqual(x[key], p[key])));
        continue;
      }
      if (i >= 0) {
        const merged = mergeMap(ctx, itemS, out[i] as Obj, p);
        if (merged === DELETED) out.splice(i, 1);
        else out[i] = merged;
      } else {
        const merged = mergeMap(ctx, itemS, {}, p);
        if (merged !== DELETED) out.push(merged);
      }
    }
  } else {
    // A list of primitives with the merge strategy (finalizers): original and patch, deduplicated.
    out = [];
    for (const x of [...original, ...patch]) if (!isObj(x) && !out.some((y) => deepEqual(x, y))) out.push(x);
  }
  const mapKey = key && out.some(isObj) ? key : undefined;
  return order(out, Array.isArray(setOrder) ? setOrder : patch, original, mapKey);
}

/** Go's %v of a map[string]interface{} (keys sorted), as strategicpatch's errors print it. */
function goMap(v: Json): string {
  if (isObj(v))
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goMap(v[k] as Json)}`)
      .join(" ")}]`;
  if (Array.isArray(v)) return `[${v.map(goMap).join(" ")}]`;
  return String(v);
}

/**
 * strategicpatch's normalizeElementOrder: the items the order list names sorted by it, the others
 * (server-only) by their place in the live list, then interleaved by the live order where both are
 * known — `$setElementOrder` > the order in the patch > the order in the live list.
 */
function order(merged: Json[], orderList: Json[], original: Json[], key: string | undefined): Json[] {
  const id = (x: Json) => (key && isObj(x) ? JSON.stringify(x[key]) : JSON.stringify(x));
  const indexIn = (list: Json[]) => {
    const m = new Map<string, number>();
    list.forEach((x, i) => {
      if (!m.has(id(x))) m.set(id(x), i);
    });
    return m;
  };
  const inOrder = indexIn(orderList);
  const server = indexIn(original);
  const named = merged
    .filter((x) => inOrder.has(id(x)))
    .sort((a, b) => (inOrder.get(id(a)) ?? 0) - (inOrder.get(id(b)) ?? 0));
  const serverOnly = merged
    .filter((x) => !inOrder.has(id(x)))
    .sort((a, b) => (server.get(id(a)) ?? 0) - (server.get(id(b)) ?? 0));
  // mergeSortedSlice(serverOnly, named, original)
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < named.length) {
    if (i >= serverOnly.length) out.push(named[j++] as Json);
    else if (j >= named.length) out.push(serverOnly[i++] as Json);
    else {
      const li = server.get(id(serverOnly[i] as Json));
      const ri = server.get(id(named[j] as Json));
      if (li !== undefined && ri !== undefined && li < ri) out.push(serverOnly[i++] as Json);
      else out.push(named[j++] as Json);
    }
  }
  return out;
}
