/**
 * What every write goes through before the store, as in kube-apiserver: defaults, mutating
 * admission, validation (kube/schema; unknown fields per `fieldValidation`), the namespace
 * lifecycle (a namespace must exist and not be terminating), and the query options of writes
 * (dryRun, fieldValidation, fieldManager).
 */
import { KubeError, kubeErrors } from "../kube/errors.js";
import { R } from "../kube/resources.js";
import { managerOrUserAgent, updateManagedFields } from "../kube/patch.js";
import {
  defaultObject,
  type FieldValidation,
  pruneUnknownFields,
  strictDecodingError,
  validateObject,
  validateUpdate,
} from "../kube/schema.js";
import type { KubeObject } from "../kube/types.js";
import type { Call } from "./context.js";
import { openApiIndex } from "./openapi.js";

export const gvkOf = (c: Call) => ({ group: c.type.group, version: c.type.version, kind: c.type.kind });

/** `dryRun=All` (the only value kube-apiserver accepts); from DeleteOptions too. */
export function dryRunOf(q: URLSearchParams, fromBody?: unknown): boolean {
  const values = [...q.getAll("dryRun"), ...(Array.isArray(fromBody) ? (fromBody as string[]) : [])];
  for (const v of values)
    if (v !== "All") throw kubeErrors.badRequest(`Invalid dry run value: "${v}": supported values: "All"`);
  return values.length > 0;
}

export function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get("fieldValidation");
  if (v === null || v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw kubeErrors.badRequest(`fieldValidation parameter unsupported: ${v}`);
}

/** Runs a kube/ function another part implements; while it is a stub, its fallback. */
function unlessStub<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof KubeError) && String((e as Error)?.message).includes("not implemented yet")) return fallback;
    throw e;
  }
}

/**
 * Defaults, admission, validation of an object about to be created or updated, as kube-apiserver
 * runs them; unknown fields are refused (Strict), warned about (Warn) or dropped; the writer is
 * recorded in managedFields (server-side apply records its own: `managed: false`). Returns the
 * object to write and the warnings.
 */
export function admit(
  c: Call,
  op: "create" | "update",
  obj: KubeObject,
  old?: KubeObject,
  opts: { subresource?: string; managed?: boolean } = {},
): { obj: KubeObject; warnings: string[] } {
  const index = openApiIndex();
  const gvk = gvkOf(c);
  let next = unlessStub(() => defaultObject(index, gvk, obj), obj);
  for (const a of c.deps.admission ?? []) next = a.admit(c.cluster, op, c.type, next, old);
  const fieldValidation = fieldValidationOf(c.query);
  const found = unlessStub(
    () =>
      op === "update" && old
        ? validateUpdate(index, gvk, next, old, { fieldValidation })
        : validateObject(index, gvk, next, { fieldValidation }),
    { causes: [], unknownFields: [] },
  );
  if (found.unknownFields.length && fieldValidation === "Strict") throw strictDecodingError(gvk, found.unknownFields);
  const warnings = fieldValidation === "Warn" ? [...found.unknownFields] : [];
  if (found.causes.length) throw kubeErrors.invalid(c.type.group, c.type.kind, next.metadata.name ?? "", found.causes);
  if (found.unknownFields.length) next = unlessStub(() => pruneUnknownFields(index, gvk, next), next);
  if (opts.managed !== false) {
    const manager = managerOrUserAgent(c.query.get("fieldManager") ?? undefined, c.req.headers["user-agent"]);
    const managedFields = unlessStub(
      () => updateManagedFields(index, gvk, old, next, manager, { subresource: opts.subresource }),
      undefined,
    );
    if (managedFields) next = { ...next, metadata: { ...next.metadata, managedFields } };
  }
  return { obj: next, warnings };
}

/** The body's apiVersion and kind must be the resource's (filled in when missing). */
export function checkTypeMeta(
  c: Call,
  obj: Record<string, unknown>,
  kind = c.type.kind,
  apiVersion = apiVersionOf(c),
): KubeObject {
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion)
    throw kubeErrors.badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`,
    );
  if (obj.kind !== undefined && obj.kind !== kind)
    throw kubeErrors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${kind})`);
  const metadata = obj.metadata ?? {};
  if (typeof metadata !== "object" || Array.isArray(metadata))
    throw kubeErrors.badRequest("the object provided is unrecognized: metadata must be an object");
  return { ...obj, apiVersion, kind, metadata } as KubeObject;
}

const apiVersionOf = (c: Call) => (c.type.group ? `${c.type.group}/${c.type.version}` : c.type.version);

/** The namespace of a namespaced write: the URL's, which the body's must match. */
export function namespaceFor(c: Call, obj: KubeObject): string | undefined {
  if (!c.type.namespaced) {
    if (obj.metadata.namespace) delete obj.metadata.namespace;
    return undefined;
  }
  const ns = c.info.namespace;
  if (!ns) throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  if (obj.metadata.namespace && obj.metadata.namespace !== ns)
    throw kubeErrors.badRequest(
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  obj.metadata.namespace = ns;
  return ns;
}

/** kube-apiserver's NamespaceLifecycle admission: creates need a namespace that exists and is not terminating. */
export function checkNamespaceForCreate(c: Call, ns: string | undefined, name: string) {
  if (ns === undefined) return;
  const n = c.deps.objects.get(c.cluster, R.namespaces, undefined, ns);
  if (!n) throw kubeErrors.notFound("", "namespaces", ns);
  const terminating =
    n.metadata.deletionTimestamp || (n.status as { phase?: string } | undefined)?.phase === "Terminating";
  if (terminating) {
    const message = `unable to create new content in namespace ${ns} because it is being terminated`;
    throw new KubeError(
      403,
      "Forbidden",
      `${c.type.group ? `${c.type.resource}.${c.type.group}` : c.type.resource} "${name}" is forbidden: ${message}`,
      {
        name,
        group: c.type.group || undefined,
        kind: c.type.resource,
        causes: [{ reason: "NamespaceTerminating", message, field: "metadata.namespace" }],
      },
    );
  }
}
