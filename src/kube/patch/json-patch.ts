/**
 * JSON patch (RFC 6902) and JSON merge patch (RFC 7386), with the failures worded as
 * kube-apiserver's JSON patch library (evanphx/json-patch) words them. PURE.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

/** A patch that does not apply (kube answers 422 with this as the cause). */
export class PatchApplyError extends Error {}
/** A patch that cannot be read (kube answers 400). */
export class PatchDecodeError extends Error {}

const isObj = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.hasOwn(b as object, k) &&
        deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/"))
    throw new PatchApplyError(`JSON pointer must be empty or start with a "/": ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function decodeJsonPatch(text: string): JsonPatchOp[] {
  let ops: unknown;
  try {
    ops = JSON.parse(text);
  } catch (e) {
    throw new PatchDecodeError(`error decoding patch: ${(e as Error).message}`);
  }
  if (!Array.isArray(ops))
    throw new PatchDecodeError("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  for (const op of ops) {
    if (!isObj(op))
      throw new PatchDecodeError("json: cannot unmarshal non-object into Go value of type jsonpatch.Operation");
  }
  return ops as unknown as JsonPatchOp[];
}

/** Parent container and final key of a pointer; undefined parent when the path is missing. */
function locate(doc: Json, segs: string[]): { parent: Json | undefined; key: string } {
  let cur: Json | undefined = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(s) ? cur[Number(s)] : undefined;
    else if (isObj(cur)) cur = Object.hasOwn(cur, s) ? cur[s] : undefined;
    else cur = undefined;
    if (cur === undefined) break;
  }
  return { parent: cur, key: segs[segs.length - 1] ?? "" };
}

function getAt(doc: Json, path: string): Json | undefined {
  const segs = parsePointer(path);
  if (segs.length === 0) return doc;
  const { parent, key } = locate(doc, segs);
  if (Array.isArray(parent)) return /^\d+$/.test(key) ? parent[Number(key)] : undefined;
  if (isObj(parent)) return Object.hasOwn(parent, key) ? parent[key] : undefined;
  return undefined;
}

function arrayIndex(arr: Json[], key: string, forInsert: boolean, op: string, path: string): number {
  if (forInsert && key === "-") return arr.length;
  if (!/^-?\d+$/.test(key))
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`,
    );
  const i = Number(key);
  const max = forInsert ? arr.length : arr.length - 1;
  if (i < 0 || i > max)
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`,
    );
  return i;
}

function add(doc: Json, path: string, value: Json, op = "add"): Json {
  const segs = parsePointer(path);
  if (segs.length === 0) return value;
  const { parent, key } = locate(doc, segs);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, op, path), 0, value);
  else if (isObj(parent)) parent[key] = value;
  else
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`,
    );
  return doc;
}

function remove(doc: Json, path: string, op = "remove"): Json {
  const segs = parsePointer(path);
  const { parent, key } = locate(doc, segs);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, op, path), 1);
  else if (isObj(parent) && Object.hasOwn(parent, key)) delete parent[key];
  else
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`,
    );
  return doc;
}

/** Applies RFC 6902 operations to a copy of the document. */
export function applyJsonPatch(document: Json, ops: JsonPatchOp[]): Json {
  let doc = structuredClone(document);
  for (const o of ops) {
    const path = o.path;
    if (typeof path !== "string") throw new PatchApplyError(`operation missing path field`);
    switch (o.op) {
      case "add":
        if (!("value" in o)) throw new PatchApplyError("add operation does not apply: missing value");
        doc = add(doc, path, structuredClone(o.value as Json));
        break;
      case "remove":
        doc = remove(doc, path);
        break;
      case "replace": {
        if (!("value" in o)) throw new PatchApplyError("replace operation does not apply: missing value");
        const segs = parsePointer(path);
        if (segs.length === 0) {
          doc = structuredClone(o.value as Json);
          break;
        }
        const { parent, key } = locate(doc, segs);
        if (Array.isArray(parent))
          parent[arrayIndex(parent, key, false, "replace", path)] = structuredClone(o.value as Json);
        else if (isObj(parent) && Object.hasOwn(parent, key)) parent[key] = structuredClone(o.value as Json);
        else throw new PatchApplyError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        break;
      }
      case "move": {
        if (typeof o.from !== "string") throw new PatchApplyError("move operation missing from field");
        const v = getAt(doc, o.from);
        if (v === undefined)
          throw new PatchApplyError(
            `move operation does not apply: doc is missing from path: ${o.from}: missing value`,
          );
        doc = remove(doc, o.from, "move");
        doc = add(doc, path, v, "move");
        break;
      }
      case "copy": {
        if (typeof o.from !== "string") throw new PatchApplyError("copy operation missing from field");
        const v = getAt(doc, o.from);
        if (v === undefined)
          throw new PatchApplyError(
            `copy operation does not apply: doc is missing from path: ${o.from}: missing value`,
          );
        doc = add(doc, path, structuredClone(v), "copy");
        break;
      }
      case "test": {
        const v = getAt(doc, path);
        const expected = o.value === undefined ? null : o.value;
        if (!(v === undefined ? expected === null : deepEqual(v, expected)))
          throw new PatchApplyError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchApplyError(`Unexpected kind: ${String(o.op)}`);
    }
  }
  return doc;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The merge patch that turns `from` into `to` (what `kubectl` computes for merge-patch kinds). */
export function createMergePatch(from: Json, to: Json): Json {
  if (!isObj(from) || !isObj(to)) return structuredClone(to);
  const out: Record<string, Json> = {};
  for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) out[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (!Object.hasOwn(from, k)) out[k] = structuredClone(v);
    else if (!deepEqual(from[k], v))
      out[k] = isObj(from[k]) && isObj(v) ? createMergePatch(from[k] as Json, v) : structuredClone(v);
  }
  return out;
}
