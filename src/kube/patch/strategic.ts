/**
 * Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch) with the patch strategies and
 * merge keys of the OpenAPI document: lists merged by key (containers by name, ports by
 * containerPort, env by name), `$patch: delete|replace|merge`, `$setElementOrder/<list>`,
 * `$retainKeys`, `$deleteFromPrimitiveList/<list>`. PURE.
 */
import { itemSchema, type OpenApiIndex, patchMetaOf, propertySchema, resolveSchema, type Schema } from "../schema.js";
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
      if (!(list in patch) && Array.isArray(out[list]) && Array.isArray(value))
        out[list] = order(out[list] as Json[], value, patchMetaOf(child(ctx, schema, list)).mergeKey);
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
      if (!(key in p))
        throw new PatchApplyError(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
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
    // A list of primitives with the merge strategy (finalizers): a union, `$patch: delete` elements ignored.
    out = [...original];
    for (const p of patch) if (!isObj(p) && !out.some((x) => deepEqual(x, p))) out.push(p);
  }
  return Array.isArray(setOrder) ? order(out, setOrder, key) : out;
}

/** Orders a merged list as `$setElementOrder` says; elements it does not name keep their place after them. */
function order(list: Json[], setOrder: Json[], key: string | undefined): Json[] {
  const id = (x: Json) => (key && isObj(x) ? JSON.stringify(x[key]) : JSON.stringify(x));
  const pos = new Map<string, number>();
  setOrder.forEach((o, i) => {
    pos.set(key && isObj(o) ? JSON.stringify(o[key]) : JSON.stringify(o), i);
  });
  const named = list.filter((x) => pos.has(id(x))).sort((a, b) => (pos.get(id(a)) ?? 0) - (pos.get(id(b)) ?? 0));
  const rest = list.filter((x) => !pos.has(id(x)));
  return [...named, ...rest];
}

/** Resolved schema helper for callers that start from a kind. */
export const resolved = (index: OpenApiIndex, s: Schema | undefined) => resolveSchema(index, s);
