/**
 * What kube-apiserver's per-kind strategies do to a new object before admission (PrepareForCreate):
 * status is the server's (dropped for kinds with a status subresource; pods start Pending with
 * their QoS class; namespaces Active with the "kubernetes" finalizer). PURE.
 */
import type { KubeObject, ResourceType } from "../kube/types.js";

// biome-ignore lint/suspicious/noExplicitAny: pod specs are read loosely
type Any = any;

/** A pod's QoS class (Guaranteed: every container's requests equal its limits for cpu and memory). */
export function qosClass(spec: Any): "Guaranteed" | "Burstable" | "BestEffort" {
  const cs = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])] as Any[];
  let any = false;
  let guaranteed = cs.length > 0;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export function prepareForCreate(type: ResourceType, obj: KubeObject): KubeObject {
  const key = `${type.group}/${type.resource}`;
  if (key === "/namespaces") {
    const finalizers = ((obj.spec as Any)?.finalizers as string[] | undefined) ?? ["kubernetes"];
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        labels: { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name ?? "" },
      },
      spec: { ...(obj.spec as object), finalizers },
      status: { phase: "Active" },
    };
  }
  if (key === "/pods") return { ...obj, status: { phase: "Pending", qosClass: qosClass(obj.spec) } };
  // kube's persistentvolume(claim) strategies: a new volume or claim is Pending until bound.
  if (key === "/persistentvolumeclaims" || key === "/persistentvolumes")
    return { ...obj, status: { phase: "Pending" } };
  if (type.status && key !== "/nodes") {
    const { status: _s, ...rest } = obj;
    return rest as KubeObject;
  }
  return obj;
}
