/** create, update, patch, delete, deletecollection: through admission and validation to the ObjectStore. */
import { KubeError, kubeErrors, qualified } from "../kube/errors.js";
import { applyPatch, type PatchType } from "../kube/patch.js";
import { R } from "../kube/resources.js";
import type { KubeObject } from "../kube/types.js";
import { admit, checkNamespaceForCreate, checkTypeMeta, dryRunOf, gvkOf, namespaceFor } from "./admit.js";
import type { Call } from "./context.js";
import { mediaType, parseObject, sendJson, warningHeader } from "./http.js";
import { openApiIndex } from "./openapi.js";
import { getObject, listMatching, typed } from "./read.js";
import { prepareForCreate } from "./strategies.js";

function reply(c: Call, status: number, obj: unknown, warnings: string[] = []) {
  if (warnings.length) c.res.setHeader("warning", warningHeader(warnings));
  sendJson(c.res, status, obj);
}

function createObject(c: Call, obj: KubeObject, managed = true): { created: KubeObject; warnings: string[] } {
  const ns = namespaceFor(c, obj);
  const dryRun = dryRunOf(c.query);
  checkNamespaceForCreate(c, ns, obj.metadata.name ?? obj.metadata.generateName ?? "");
  const prepared = prepareForCreate(c.type, obj);
  const { obj: admitted, warnings } = admit(c, "create", prepared, undefined, { managed });
  return { created: typed(c, c.deps.objects.create(c.cluster, c.type, admitted, { dryRun })), warnings };
}

export function handleCreate(c: Call, body: Buffer) {
  if (c.info.name) throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  const obj = checkTypeMeta(c, parseObject(body, mediaType(c.req)));
  const { created, warnings } = createObject(c, obj);
  reply(c, 201, created, warnings);
}

function checkName(c: Call, obj: KubeObject) {
  const name = c.info.name ?? "";
  if (obj.metadata.name === undefined || obj.metadata.name === "") obj.metadata.name = name;
  if (obj.metadata.name !== name)
    throw kubeErrors.badRequest(
      `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
    );
}

/** Writes an object over the stored one (as update does): admission, validation, the conditional write. */
function writeUpdate(c: Call, obj: KubeObject, old: KubeObject, subresource?: "status", managed = true) {
  const { obj: admitted, warnings } = admit(c, "update", obj, old, { subresource, managed });
  const dryRun = dryRunOf(c.query);
  const updated = c.deps.objects.update(c.cluster, c.type, admitted, { subresource, dryRun });
  return { updated: typed(c, updated), warnings };
}

export function handleUpdate(c: Call, body: Buffer, subresource?: "status" | "finalize") {
  const obj = checkTypeMeta(c, parseObject(body, mediaType(c.req)));
  checkName(c, obj);
  namespaceFor(c, obj);
  const old = getObject(c);
  if (subresource === "finalize") return reply(c, 200, finalizeNamespace(c, obj, old));
  const { updated, warnings } = writeUpdate(c, obj, old, subresource);
  reply(c, 200, updated, warnings);
}

/** PUT namespaces/x/finalize: the namespace controller's "content gone": spec.finalizers as sent. */
function finalizeNamespace(c: Call, obj: KubeObject, old: KubeObject): KubeObject {
  const finalizers = ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) as string[];
  const next: KubeObject = {
    ...old,
    metadata: {
      ...old.metadata,
      resourceVersion: obj.metadata.resourceVersion || old.metadata.resourceVersion,
      // The metadata finalizer stands for spec.finalizers' "kubernetes" (the store removes the object once none is left).
      finalizers: (old.metadata.finalizers ?? []).filter(
        (f) => f !== "kubernetes" || finalizers.includes("kubernetes"),
      ),
    },
    spec: { ...(old.spec as object), finalizers },
  };
  return typed(c, c.deps.objects.update(c.cluster, c.type, next, { dryRun: dryRunOf(c.query) }));
}

const PATCH_TYPES: readonly PatchType[] = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
];

export function patchTypeOf(c: Call): PatchType {
  const t = mediaType(c.req) as PatchType;
  if (!PATCH_TYPES.includes(t))
    throw kubeErrors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
    );
  return t;
}

export function patchOptions(c: Call, type: PatchType) {
  const fieldManager = c.query.get("fieldManager") ?? undefined;
  const force = c.query.get("force") === "true";
  if (type === "application/apply-patch+yaml" && !fieldManager)
    throw kubeErrors.badRequest("PATCH, application/apply-patch+yaml: fieldManager is required for apply requests");
  if (force && type !== "application/apply-patch+yaml")
    throw kubeErrors.badRequest("force is only allowed for apply requests");
  return { fieldManager, force };
}

const isConflict = (e: unknown) => e instanceof KubeError && e.reason === "Conflict";

export function handlePatch(c: Call, body: Buffer, subresource?: "status") {
  const type = patchTypeOf(c);
  const opts = patchOptions(c, type);
  const text = body.toString("utf8");
  for (let attempt = 0; ; attempt++) {
    const current = c.deps.objects.get(c.cluster, c.type, c.info.namespace, c.info.name ?? "");
    if (!current && (type !== "application/apply-patch+yaml" || subresource))
      throw kubeErrors.notFound(c.type.group, c.type.resource, c.info.name ?? "");
    const patched = applyPatch(openApiIndex(), gvkOf(c), current && typed(c, current), text, type, opts);
    const obj = checkTypeMeta(c, patched);
    checkName(c, obj);
    if (!current) {
      const { created, warnings } = createObject(c, obj, type !== "application/apply-patch+yaml");
      return reply(c, 201, created, warnings);
    }
    namespaceFor(c, obj);
    const precondition = obj.metadata.resourceVersion !== current.metadata.resourceVersion;
    if (!obj.metadata.resourceVersion) obj.metadata.resourceVersion = current.metadata.resourceVersion;
    try {
      const { updated, warnings } = writeUpdate(c, obj, current, subresource, type !== "application/apply-patch+yaml");
      return reply(c, 200, updated, warnings);
    } catch (e) {
      if (!isConflict(e) || precondition || attempt >= 4) throw e;
    }
  }
}

interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  dryRun?: string[];
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** DeleteOptions from the body (if any) and the query, as kube-apiserver merges them. */
export function deleteOptionsOf(c: Call, body: Buffer): DeleteOptions {
  let opts: DeleteOptions = {};
  if (body.length && body.toString("utf8").trim())
    opts = parseObject(body, mediaType(c.req) || "application/json") as DeleteOptions;
  const q = c.query;
  const grace = q.get("gracePeriodSeconds");
  if (grace !== null) {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw kubeErrors.badRequest(`invalid gracePeriodSeconds: ${grace}`);
    opts.gracePeriodSeconds = n;
  }
  if (q.get("propagationPolicy")) opts.propagationPolicy = q.get("propagationPolicy") ?? undefined;
  if (q.get("orphanDependents")) opts.orphanDependents = q.get("orphanDependents") === "true";
  const p = opts.propagationPolicy;
  if (p !== undefined && p !== "Orphan" && p !== "Background" && p !== "Foreground")
    throw kubeErrors.badRequest(
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${p}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  if (p !== undefined && opts.orphanDependents !== undefined)
    throw kubeErrors.badRequest("orphanDependents and propagationPolicy cannot both be set");
  return opts;
}

/** The finalizer kube-apiserver records for a propagation policy (the garbage collector acts on it). */
export function propagationFinalizers(opts: DeleteOptions): string[] {
  if (opts.propagationPolicy === "Orphan" || opts.orphanDependents === true) return ["orphan"];
  if (opts.propagationPolicy === "Foreground") return ["foregroundDeletion"];
  return [];
}

function deleteOne(c: Call, namespace: string | undefined, name: string, opts: DeleteOptions, dryRun: boolean) {
  const finalizers = propagationFinalizers(opts);
  const isNamespace = c.type.group === "" && c.type.resource === "namespaces";
  return c.deps.objects.transaction(() => {
    const held =
      isNamespace &&
      (
        (c.deps.objects.get(c.cluster, c.type, undefined, name)?.spec as { finalizers?: string[] } | undefined)
          ?.finalizers ?? []
      ).includes("kubernetes");
    const r = c.deps.objects.delete(c.cluster, c.type, namespace, name, {
      gracePeriodSeconds: opts.gracePeriodSeconds,
      uid: opts.preconditions?.uid,
      resourceVersion: opts.preconditions?.resourceVersion,
      dryRun,
      // A namespace is emptied by the namespace controller first: marked Terminating, held by "kubernetes".
      finalizers: held ? [...finalizers, "kubernetes"] : finalizers,
    });
    if (isNamespace && !r.removed && (r.object.status as { phase?: string } | undefined)?.phase !== "Terminating") {
      const marked = { ...r.object, status: { ...(r.object.status as object), phase: "Terminating" } };
      return {
        object: c.deps.objects.update(c.cluster, R.namespaces, marked, { subresource: "status", dryRun }),
        removed: false,
      };
    }
    return r;
  });
}

export function handleDelete(c: Call, body: Buffer) {
  const opts = deleteOptionsOf(c, body);
  const dryRun = dryRunOf(c.query, opts.dryRun);
  const r = deleteOne(c, c.info.namespace, c.info.name ?? "", opts, dryRun);
  const obj = typed(c, r.object);
  if (r.removed && !c.type.graceful)
    return sendJson(c.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: {
        name: obj.metadata.name,
        group: c.type.group || undefined,
        kind: c.type.resource,
        uid: obj.metadata.uid,
      },
    });
  sendJson(c.res, r.removed ? 200 : 202, obj);
}

export function handleDeleteCollection(c: Call, body: Buffer) {
  const opts = deleteOptionsOf(c, body);
  const dryRun = dryRunOf(c.query, opts.dryRun);
  const { items, resourceVersion } = listMatching(c);
  const deleted: KubeObject[] = [];
  for (const o of items) {
    try {
      deleted.push(typed(c, deleteOne(c, o.metadata.namespace, o.metadata.name ?? "", opts, dryRun).object));
    } catch (e) {
      if (!(e instanceof KubeError && e.reason === "NotFound")) throw e;
    }
  }
  sendJson(c.res, 200, {
    kind: `${c.type.kind}List`,
    apiVersion: c.type.group ? `${c.type.group}/${c.type.version}` : c.type.version,
    metadata: { resourceVersion },
    items: deleted,
  });
}

export const resourceName = (c: Call) => qualified(c.type.group, c.type.resource);
