/**
 * Namespaces: what every cluster starts with (kube-apiserver's system namespaces, the `default`
 * ServiceAccount, the kube-root-ca.crt ConfigMap) and the namespace lifecycle's decisions, PURE
 * (a terminating namespace is emptied, then its `kubernetes` finalizer removed).
 */
import type { ObjectStore } from "../../kube/objects.js";
import { R } from "../../kube/resources.js";
import type { ClusterRef, KubeObject } from "../../kube/types.js";
import { KubeError } from "../../kube/errors.js";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;
export const NAMESPACE_FINALIZER = "kubernetes";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

export function namespaceObject(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: [NAMESPACE_FINALIZER] },
    status: { phase: "Active" },
  };
}

export const defaultServiceAccount = (namespace: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { name: "default", namespace },
});

export const rootCaConfigMap = (namespace: string, caPem: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: ROOT_CA_CONFIGMAP,
    namespace,
    annotations: { "kubernetes.io/description": ROOT_CA_DESCRIPTION },
  },
  data: { "ca.crt": caPem },
});
const ROOT_CA_DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/** Creates what a new cluster has before anyone talks to it; idempotent (what exists is left alone). */
export function bootstrapClusterObjects(objects: ObjectStore, cluster: ClusterRef, opts: { caPem?: string } = {}) {
  for (const ns of SYSTEM_NAMESPACES) {
    createIfMissing(objects, cluster, R.namespaces, namespaceObject(ns));
    ensureNamespaceContents(objects, cluster, ns, opts.caPem);
  }
}

/** The `default` ServiceAccount and (given the CA) the kube-root-ca.crt ConfigMap of a namespace. */
export function ensureNamespaceContents(objects: ObjectStore, cluster: ClusterRef, ns: string, caPem?: string) {
  createIfMissing(objects, cluster, R.serviceaccounts, defaultServiceAccount(ns));
  if (caPem === undefined) return;
  const cm = objects.get(cluster, R.configmaps, ns, ROOT_CA_CONFIGMAP);
  if (!cm) createIfMissing(objects, cluster, R.configmaps, rootCaConfigMap(ns, caPem));
  else if ((cm.data as Record<string, string> | undefined)?.["ca.crt"] !== caPem)
    objects.mutate(cluster, R.configmaps, ns, ROOT_CA_CONFIGMAP, (c) => ({ ...c, data: { "ca.crt": caPem } }));
}

function createIfMissing(objects: ObjectStore, cluster: ClusterRef, type: typeof R.pods, obj: KubeObject) {
  if (objects.get(cluster, type, obj.metadata.namespace, obj.metadata.name ?? "")) return;
  try {
    objects.create(cluster, type, obj);
  } catch (e) {
    if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
  }
}

export interface NamespacePlan {
  /** status.phase becomes Terminating. */
  terminating: boolean;
  /** Objects still in the namespace and not yet being deleted: delete them. */
  delete: KubeObject[];
  /** Nothing is left: remove the `kubernetes` finalizer (the namespace then goes). */
  finalize: boolean;
}

/** What the namespace controller does for a namespace, given every namespaced object still in it. */
export function planNamespace(ns: KubeObject, contents: KubeObject[]): NamespacePlan {
  if (!ns.metadata.deletionTimestamp) return { terminating: false, delete: [], finalize: false };
  const phase = (ns.status as { phase?: string } | undefined)?.phase;
  const finalizers = [
    ...(((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) as string[]),
    ...(ns.metadata.finalizers ?? []),
  ];
  return {
    terminating: phase !== "Terminating",
    delete: contents.filter((o) => !o.metadata.deletionTimestamp),
    finalize: contents.length === 0 && finalizers.includes(NAMESPACE_FINALIZER),
  };
}
