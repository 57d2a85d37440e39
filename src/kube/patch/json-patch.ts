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

const decodeKey = (k: string) => k.replace(/~1/g, "/").replace(/~0/g, "~");

/**
 * evanphx/json-patch v4.12's findObject: the container holding the last path segment, or undefined
 * when the path is not a pointer or a parent is missing or not a container.
 */
function findObject(doc: Json, path: string): { con: Json[] | Record<string, Json>; key: string } | undefined {
  const split = path.split("/");
  if (split.length < 2) return undefined;
  let cur: Json = doc;
  for (const part of split.slice(1, -1)) {
    const next = getIn(cur as Json[] | Record<string, Json>, decodeKey(part));
    if (next === undefined || next === null || typeof next !== "object") return undefined;
    cur = next;
  }
  if (cur === null || typeof cur !== "object") return undefined;
  return { con: cur, key: decodeKey(split[split.length - 1] ?? "") };
}

/** A container's member: undefined when missing (an object's missing key is not an error, as in the library). */
function getIn(con: Json[] | Record<string, Json>, key: string): Json | undefined {
  if (Array.isArray(con)) {
    const i = index(key, con.length);
    return con[i];
  }
  return Object.hasOwn(con, key) ? con[key] : undefined;
}

function index(key: string, size: number): number {
  if (!/^-?\d+$/.test(key)) throw new PatchApplyError(`value was not a proper array index: '${key}'`);
  let i = Number(key);
  if (i >= size || i < -size)
    throw new PatchApplyError(`Unable to access invalid index: ${i}: invalid index referenced`);
  if (i < 0) i += size;
  return i;
}

function addIn(con: Json[] | Record<string, Json>, key: string, value: Json) {
  if (!Array.isArray(con)) {
    con[key] = value;
    return;
  }
  if (key === "-") {
    con.push(value);
    return;
  }
  con.splice(index(key, con.length + 1), 0, value);
}

function removeIn(con: Json[] | Record<string, Json>, key: string) {
  if (!Array.isArray(con)) {
    if (!Object.hasOwn(con, key)) throw new PatchApplyError(`Unable to remove nonexistent key: ${key}: missing value`);
    delete con[key];
    return;
  }
  con.splice(index(key, con.length), 1);
}

const wrap = (what: string, path: string, f: () => void) => {
  try {
    f();
  } catch (e) {
    throw new PatchApplyError(`error in ${what} for path: '${path}': ${(e as Error).message}`);
  }
};

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

/** Applies RFC 6902 operations to a copy of the document, with evanphx/json-patch v4.12's semantics and words. */
export function applyJsonPatch(document: Json, ops: JsonPatchOp[]): Json {
  const doc = structuredClone(document);
  for (const o of ops) {
    const path = o.path;
    if (typeof path !== "string") throw new PatchApplyError("operation missing path field");
    const value = (o.value === undefined ? null : structuredClone(o.value)) as Json;
    switch (o.op) {
      case "add": {
        const at = findObject(doc, path);
        if (!at)
          throw new PatchApplyError(
            `add operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`,
          );
        wrap("add", path, () => addIn(at.con, at.key, value));
        break;
      }
      case "remove": {
        const at = findObject(doc, path);
        if (!at)
          throw new PatchApplyError(
            `remove operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`,
          );
        wrap("remove", path, () => removeIn(at.con, at.key));
        break;
      }
      case "replace": {
        const at = findObject(doc, path);
        if (!at)
          throw new PatchApplyError(`replace operation does not apply: doc is missing path: ${path}: missing value`);
        if (Array.isArray(at.con)) {
          const i = /^-?\d+$/.test(at.key) ? Number(at.key) : Number.NaN;
          if (!(i >= -at.con.length && i < at.con.length))
            throw new PatchApplyError(`Object to be patched is missing field (${path}: missing value)`);
          at.con[i < 0 ? i + at.con.length : i] = value;
        } else at.con[at.key] = value;
        break;
      }
      case "move": {
        const from = o.from ?? "";
        const src = findObject(doc, from);
        if (!src)
          throw new PatchApplyError(`move operation does not apply: doc is missing from path: ${from}: missing value`);
        let v: Json = null;
        wrap("move", src.key, () => {
          v = getIn(src.con, src.key) ?? null;
          removeIn(src.con, src.key);
        });
        const dst = findObject(doc, path);
        if (!dst)
          throw new PatchApplyError(
            `move operation does not apply: doc is missing destination path: ${path}: missing value`,
          );
        wrap("move", dst.key, () => addIn(dst.con, dst.key, v));
        break;
      }
      case "copy": {
        const from = o.from ?? "";
        const src = findObject(doc, from);
        if (!src)
          throw new PatchApplyError(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
        let v: Json = null;
        wrap("copy", from, () => {
          v = structuredClone(getIn(src.con, src.key) ?? null);
        });
        const dst = findObject(doc, path);
        if (!dst)
          throw new PatchApplyError(
            `copy operation does not apply: doc is missing destination path: ${path}: missing value`,
          );
        wrap("copy", path, () => addIn(dst.con, dst.key, v));
        break;
      }
      case "test": {
        const at = findObject(doc, path);
        if (!at) throw new PatchApplyError(`test operation does not apply: is missing path: ${path}: missing value`);
        let v: Json | undefined;
        wrap("test", path, () => {
          v = getIn(at.con, at.key);
        });
        const ok = v === undefined || v === null ? value === null : deepEqual(v, value);
        if (!ok) throw new PatchApplyError(`testing value ${path} failed: test failed`);
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
