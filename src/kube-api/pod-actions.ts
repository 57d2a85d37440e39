/** pods/binding (a scheduler assigns a node) and pods/eviction (kubectl drain): subresources that act. */
import { KubeError, kubeErrors } from "../kube/errors.js";
import { evictPod } from "../kube/eviction.js";
import type { Call } from "./context.js";
import { mediaType, parseObject, sendJson } from "./http.js";
import { getObject } from "./read.js";

// biome-ignore lint/suspicious/noExplicitAny: bodies are read loosely
type Any = any;

const success = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };

export function handleBinding(c: Call, body: Buffer) {
  if (c.info.verb !== "create")
    throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  const binding = parseObject(body, mediaType(c.req)) as Any;
  const node = binding?.target?.name;
  if (!node) throw kubeErrors.badRequest("Binding has no target node");
  const name = c.info.name ?? "";
  const pod = getObject(c);
  const assigned = (pod.spec as Any)?.nodeName;
  if (assigned) throw kubeErrors.conflict("", "pods", name, `pod ${name} is already assigned to node "${assigned}"`);
  c.deps.objects.update(c.cluster, c.type, {
    ...pod,
    spec: { ...(pod.spec as object), nodeName: node },
  });
  sendJson(c.res, 201, success);
}

export function handleEviction(c: Call, body: Buffer) {
  if (c.info.verb !== "create")
    throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  const ev = body.length ? (parseObject(body, mediaType(c.req)) as Any) : {};
  const grace = ev?.deleteOptions?.gracePeriodSeconds;
  const pod = getObject(c);
  // Budgets are respected (429 when one allows no disruption now), as kube-apiserver does.
  try {
    evictPod(c.deps.objects, c.cluster, pod.metadata.namespace ?? "default", pod.metadata.name ?? "", {
      gracePeriodSeconds: typeof grace === "number" ? grace : undefined,
      uid: ev?.deleteOptions?.preconditions?.uid,
      now: new Date(),
    });
  } catch (e) {
    if (!(e instanceof KubeError && e.reason === "NotFound")) throw e;
  }
  sendJson(c.res, 201, success);
}
