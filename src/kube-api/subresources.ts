/** The scale subresource (autoscaling/v1 Scale of deployments, replicasets, statefulsets) and pods/log. */
import { KubeError, kubeErrors } from "../kube/errors.js";
import { applyPatch } from "../kube/patch.js";
import type { KubeObject } from "../kube/types.js";
import { checkTypeMeta, dryRunOf } from "./admit.js";
import type { Call } from "./context.js";
import { mediaType, parseObject, sendJson } from "./http.js";
import { openApiIndex } from "./openapi.js";
import { getObject } from "./read.js";
import { selectorString } from "./selectors.js";
import { patchOptions, patchTypeOf } from "./write.js";

// biome-ignore lint/suspicious/noExplicitAny: specs are read loosely
type Any = any;

/** The Scale of an object with spec.replicas (status.selector in the string syntax). */
export function scaleOf(o: KubeObject): KubeObject {
  const spec = (o.spec ?? {}) as Any;
  const status = (o.status ?? {}) as Any;
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(spec.selector) },
  };
}

function writeScale(c: Call, current: KubeObject, scale: KubeObject) {
  const replicas = (scale.spec as Any)?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0)
    throw kubeErrors.invalid("autoscaling", "Scale", current.metadata.name ?? "", [
      {
        field: "spec.replicas",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
      },
    ]);
  const rv = scale.metadata.resourceVersion || current.metadata.resourceVersion;
  const next = {
    ...current,
    metadata: { ...current.metadata, resourceVersion: rv },
    spec: { ...(current.spec as object), replicas },
  };
  const updated = c.deps.objects.update(c.cluster, c.type, next, { dryRun: dryRunOf(c.query) });
  sendJson(c.res, 200, scaleOf(updated));
}

export function handleScale(c: Call, body: Buffer) {
  const verb = c.info.verb;
  if (verb === "get") return sendJson(c.res, 200, scaleOf(getObject(c)));
  const current = getObject(c);
  if (verb === "update") {
    const scale = checkTypeMeta(c, parseObject(body, mediaType(c.req)), "Scale", "autoscaling/v1");
    return writeScale(c, current, scale);
  }
  if (verb === "patch") {
    const type = patchTypeOf(c);
    const patched = applyPatch(
      openApiIndex(),
      { group: "autoscaling", version: "v1", kind: "Scale" },
      scaleOf(current),
      body.toString("utf8"),
      type,
      patchOptions(c, type),
    );
    return writeScale(c, current, patched);
  }
  throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
}

const int = (q: URLSearchParams, k: string): number | undefined => {
  const v = q.get(k);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw kubeErrors.badRequest(`invalid ${k}: ${v}`);
  return n;
};
const bool = (q: URLSearchParams, k: string) => q.get(k) === "true" || q.get(k) === "1";

/** The container a pods/log or exec request means, with kube-apiserver's errors. */
export function containerOf(pod: KubeObject, requested: string | null | undefined): string {
  const spec = (pod.spec ?? {}) as Any;
  const names = ((spec.containers ?? []) as Any[]).map((x) => x.name as string);
  const all = [
    ...names,
    ...((spec.initContainers ?? []) as Any[]).map((x) => x.name as string),
    ...((spec.ephemeralContainers ?? []) as Any[]).map((x) => x.name as string),
  ];
  const name = pod.metadata.name;
  if (requested) {
    if (!all.includes(requested)) throw kubeErrors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const defaulted = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (defaulted && all.includes(defaulted)) return defaulted;
  if (names.length === 1) return names[0];
  throw kubeErrors.badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]` +
      (spec.initContainers?.length
        ? ` or one of the init containers: [${(spec.initContainers as Any[]).map((x) => x.name).join(" ")}]`
        : ""),
  );
}

/** pods/log: the kubelet's log stream of one container, streamed as text/plain. */
export async function handleLog(c: Call): Promise<void> {
  if (c.info.verb !== "get")
    throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  const pod = getObject(c);
  const container = containerOf(pod, c.query.get("container"));
  if (!c.deps.logs) throw new KubeError(503, "InternalError", "pod logs are not available on this server");
  const opts = {
    container,
    follow: bool(c.query, "follow"),
    previous: bool(c.query, "previous"),
    timestamps: bool(c.query, "timestamps"),
    tailLines: int(c.query, "tailLines"),
    sinceSeconds: int(c.query, "sinceSeconds"),
    limitBytes: int(c.query, "limitBytes"),
  };
  const abort = new AbortController();
  const onClose = () => abort.abort();
  c.req.on("close", onClose);
  c.res.on("close", onClose);
  const iter = c.deps.logs
    .logs(c.cluster, pod.metadata.namespace ?? "default", pod.metadata.name ?? "", opts, abort.signal)
    [Symbol.asyncIterator]();
  // The first chunk (or error) decides the status: a kubelet error is still a Status.
  let first: IteratorResult<Buffer>;
  try {
    first = await iter.next();
  } catch (e) {
    abort.abort();
    throw e instanceof KubeError ? e : kubeErrors.badRequest(String((e as Error)?.message ?? e));
  }
  c.res.writeHead(200, {
    "content-type": "text/plain",
    "transfer-encoding": "chunked",
    "cache-control": "no-cache, private",
  });
  try {
    for (let r = first; !r.done; r = await iter.next()) {
      if (abort.signal.aborted) break;
      if (!c.res.write(r.value)) await new Promise<void>((ok) => c.res.once("drain", ok));
    }
  } catch (e) {
    c.deps.logger.debug({ err: e }, "kube-api: log stream ended with an error");
  } finally {
    c.req.off("close", onClose);
    c.res.end();
    abort.abort();
  }
}
