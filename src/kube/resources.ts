import type { ResourceType } from "./types.js";

/**
 * The built-in resources Berth serves. Their schemas come from the vendored Kubernetes OpenAPI
 * document (src/kube/openapi); this table says what kube-apiserver's discovery says of each.
 */
const ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const row = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType => ({
  group,
  version,
  resource,
  kind,
  singular: kind.toLowerCase(),
  namespaced,
  verbs: ALL,
  status: false,
  ...extra,
});

export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  row("", "v1", "namespaces", "Namespace", false, {
    shortNames: ["ns"],
    status: true,
    subresources: ["finalize"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  }),
  row("", "v1", "nodes", "Node", false, { shortNames: ["no"], status: true }),
  row("", "v1", "pods", "Pod", true, {
    shortNames: ["po"],
    categories: ["all"],
    status: true,
    graceful: true,
    subresources: ["log", "exec", "attach", "portforward", "binding", "eviction"],
  }),
  row("", "v1", "services", "Service", true, {
    shortNames: ["svc"],
    categories: ["all"],
    status: true,
    subresources: ["proxy"],
  }),
  row("", "v1", "endpoints", "Endpoints", true, { shortNames: ["ep"] }),
  row("", "v1", "configmaps", "ConfigMap", true, { shortNames: ["cm"] }),
  row("", "v1", "secrets", "Secret", true),
  row("", "v1", "serviceaccounts", "ServiceAccount", true, { shortNames: ["sa"], subresources: ["token"] }),
  row("", "v1", "events", "Event", true, { shortNames: ["ev"] }),
  row("", "v1", "persistentvolumes", "PersistentVolume", false, { shortNames: ["pv"], status: true }),
  row("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, { shortNames: ["pvc"], status: true }),
  row("", "v1", "resourcequotas", "ResourceQuota", true, { shortNames: ["quota"], status: true }),
  row("", "v1", "limitranges", "LimitRange", true, { shortNames: ["limits"] }),
  row("apps", "v1", "deployments", "Deployment", true, {
    shortNames: ["deploy"],
    categories: ["all"],
    status: true,
    subresources: ["scale"],
  }),
  row("apps", "v1", "replicasets", "ReplicaSet", true, {
    shortNames: ["rs"],
    categories: ["all"],
    status: true,
    subresources: ["scale"],
  }),
  row("apps", "v1", "statefulsets", "StatefulSet", true, {
    shortNames: ["sts"],
    categories: ["all"],
    status: true,
    subresources: ["scale"],
  }),
  row("apps", "v1", "daemonsets", "DaemonSet", true, { shortNames: ["ds"], categories: ["all"], status: true }),
  row("apps", "v1", "controllerrevisions", "ControllerRevision", true),
  row("batch", "v1", "jobs", "Job", true, { categories: ["all"], status: true }),
  row("batch", "v1", "cronjobs", "CronJob", true, { shortNames: ["cj"], categories: ["all"], status: true }),
  row("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true),
  row("coordination.k8s.io", "v1", "leases", "Lease", true),
  row("events.k8s.io", "v1", "events", "Event", true, { shortNames: ["ev"] }),
  row("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, { shortNames: ["pdb"], status: true }),
  row("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
  row("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
  row("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
  row("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
  row("storage.k8s.io", "v1", "storageclasses", "StorageClass", false, { shortNames: ["sc"] }),
  row("storage.k8s.io", "v1", "csidrivers", "CSIDriver", false),
  row("storage.k8s.io", "v1", "csinodes", "CSINode", false),
  row("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", false, { status: true }),
  row("networking.k8s.io", "v1", "ingresses", "Ingress", true, { shortNames: ["ing"], status: true }),
  row("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false),
  row("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, {
    verbs: ["create"],
  }),
  row("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false, { verbs: ["create"] }),
  row("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", false, { verbs: ["create"] }),
  row("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false, { verbs: ["create"] }),
  row("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", false, { verbs: ["create"] }),
];

/** Looks a built-in resource up by group and plural name. */
export function builtin(group: string, resource: string): ResourceType {
  const t = BUILTIN_RESOURCES.find((r) => r.group === group && r.resource === resource);
  if (!t) throw new Error(`no built-in resource ${resource}.${group}`);
  return t;
}

/** The resources controllers use, by name. */
export const R = {
  namespaces: builtin("", "namespaces"),
  nodes: builtin("", "nodes"),
  pods: builtin("", "pods"),
  services: builtin("", "services"),
  endpoints: builtin("", "endpoints"),
  configmaps: builtin("", "configmaps"),
  secrets: builtin("", "secrets"),
  serviceaccounts: builtin("", "serviceaccounts"),
  events: builtin("", "events"),
  deployments: builtin("apps", "deployments"),
  replicasets: builtin("apps", "replicasets"),
  statefulsets: builtin("apps", "statefulsets"),
  daemonsets: builtin("apps", "daemonsets"),
  controllerrevisions: builtin("apps", "controllerrevisions"),
  jobs: builtin("batch", "jobs"),
  endpointslices: builtin("discovery.k8s.io", "endpointslices"),
  leases: builtin("coordination.k8s.io", "leases"),
  poddisruptionbudgets: builtin("policy", "poddisruptionbudgets"),
  persistentvolumes: builtin("", "persistentvolumes"),
  persistentvolumeclaims: builtin("", "persistentvolumeclaims"),
  storageclasses: builtin("storage.k8s.io", "storageclasses"),
  csidrivers: builtin("storage.k8s.io", "csidrivers"),
  volumeattachments: builtin("storage.k8s.io", "volumeattachments"),
} as const;
