/**
 * EKS access policies (AmazonEKS*Policy) as the Kubernetes permissions EKS documents for them
 * ("Review access policy permissions" in the EKS User Guide), and their evaluation for an access
 * entry's associations. PURE. Policies EKS lists but whose rules it does not publish (the Auto Mode,
 * SageMaker HyperPod, EMR, AIOps and ARC ones) carry the rules their descriptions name, or none.
 */
import type { AuthorizationDecision, RequestAttributes } from "./contracts.js";
import type { UserInfo } from "./contracts.js";
import {
  ADMIN_RULES,
  CLUSTER_ADMIN_RULES,
  EDIT_RULES,
  type PolicyRule,
  type RbacObjects,
  rbacAuthorize,
  ruleAllows,
  VIEW_RULES,
} from "./rbac.js";

export interface AccessPolicyAssociation {
  policyArn: string;
  accessScope: { type: "cluster" | "namespace"; namespaces?: string[] };
}

export interface AccessPolicy {
  name: string;
  arn: string;
  /** The Kubernetes rules the policy grants (as a ClusterRole's). */
  rules: readonly PolicyRule[];
}

const READ = ["get", "list", "watch"];
const r = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });
const LEASES = [r(["coordination.k8s.io"], ["leases"], ["create", "get", "update", "patch", "delete", "watch"])];

/** EKS's Edit and Admin policies are kube's edit/admin rules without pods/eviction and serviceaccounts/token (as EKS documents them). */
const EKS_EDIT_RULES = EDIT_RULES.filter(
  (rule) => !rule.resources?.some((x) => x === "pods/eviction" || x === "serviceaccounts/token"),
);

const policy = (name: string, rules: readonly PolicyRule[] = []): AccessPolicy => ({
  name,
  arn: `arn:aws:eks::aws:cluster-access-policy/${name}`,
  rules,
});

/** Every access policy ListAccessPolicies returns, in the order it returns them (by name). */
export const ACCESS_POLICIES: readonly AccessPolicy[] = [
  policy("AmazonAIOpsAssistantPolicy", [
    r(["", "apps", "batch"], ["pods", "pods/log", "events", "nodes", "deployments", "replicasets", "jobs"], READ),
  ]),
  policy("AmazonARCRegionSwitchScalingPolicy", [
    r(["apps"], ["deployments", "deployments/scale"], ["get", "list", "patch", "update"]),
  ]),
  policy("AmazonEKSAdminPolicy", [...VIEW_RULES, ...EKS_EDIT_RULES, ...ADMIN_RULES]),
  policy("AmazonEKSAdminViewPolicy", [r(["*"], ["*"], READ)]),
  policy("AmazonEKSAutoNodePolicy", [
    r([""], ["endpoints", "services", "nodes", "pods", "namespaces"], READ),
    r(["discovery.k8s.io"], ["endpointslices"], READ),
    r(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
  ]),
  policy("AmazonEKSBlockStorageClusterPolicy", [
    r(["storage.k8s.io"], ["csidrivers"], ["create", "get", "list", "watch", "update", "delete"]),
    r([""], ["persistentvolumes"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
    r([""], ["persistentvolumeclaims"], ["get", "list", "watch", "update"]),
    r([""], ["persistentvolumeclaims/status"], ["patch"]),
    r([""], ["nodes", "pods"], READ),
    r(["", "events.k8s.io"], ["events"], ["create", "patch", "update", "list", "watch"]),
    r(["storage.k8s.io"], ["storageclasses", "csinodes", "volumeattributesclasses"], READ),
    r(["storage.k8s.io"], ["volumeattachments", "volumeattachments/status"], [...READ, "patch", "update"]),
  ]),
  policy("AmazonEKSBlockStoragePolicy", LEASES),
  policy("AmazonEKSClusterAdminPolicy", CLUSTER_ADMIN_RULES),
  policy("AmazonEKSComputeClusterPolicy", [
    r(["karpenter.sh", "eks.amazonaws.com"], ["*"], ["*"]),
    r(
      [""],
      ["pods", "nodes", "persistentvolumes", "persistentvolumeclaims", "replicationcontrollers", "namespaces"],
      READ,
    ),
    r(["storage.k8s.io"], ["storageclasses", "csinodes", "volumeattachments"], READ),
    r(["apps"], ["deployments", "daemonsets", "replicasets", "statefulsets"], ["list", "watch"]),
    r(["policy"], ["poddisruptionbudgets"], READ),
    r(["", "events.k8s.io"], ["events"], ["create", "patch", "update", ...READ]),
    r([""], ["nodes"], ["update", "patch", "delete"]),
    r([""], ["pods/eviction"], ["create"]),
    r([""], ["pods"], ["delete"]),
    r(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["create", ...READ]),
  ]),
  policy("AmazonEKSComputePolicy", [...LEASES, r(["coordination.k8s.io"], ["leases"], ["get", "watch"])]),
  policy("AmazonEKSEditPolicy", [...VIEW_RULES, ...EKS_EDIT_RULES]),
  policy("AmazonEKSHybridPolicy", [r(["*"], ["nodes"], ["list"])]),
  policy("AmazonEKSLoadBalancingClusterPolicy", [
    r(["", "events.k8s.io"], ["events"], ["create", "patch"]),
    r([""], ["pods", "nodes", "endpoints", "namespaces"], READ),
    r([""], ["pods/status"], ["update", "patch"]),
    r([""], ["services", "services/status"], ["*"]),
    r(["networking.k8s.io"], ["ingresses", "ingresses/status"], ["*"]),
    r(["discovery.k8s.io"], ["endpointslices"], READ),
    r(["networking.k8s.io"], ["ingressclasses"], READ),
    r(["eks.amazonaws.com", "elbv2.k8s.aws"], ["*"], ["*"]),
    r(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["create", ...READ]),
    r(
      ["admissionregistration.k8s.io"],
      ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
      ["create", ...READ],
    ),
  ]),
  policy("AmazonEKSLoadBalancingPolicy", LEASES),
  policy("AmazonEKSNetworkingClusterPolicy", [
    r(["eks.amazonaws.com"], ["nodeclasses", "nodeclasses/status", "nodeclaims", "nodeclaims/status"], READ),
    r([""], ["pods"], READ),
    r(
      ["eks.amazonaws.com", "vpcresources.k8s.aws"],
      ["cninodes", "cninodes/status"],
      ["create", "get", "list", "watch", "update", "delete", "patch"],
    ),
    r(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["create", ...READ]),
    r(["", "events.k8s.io"], ["events"], ["create", "patch"]),
  ]),
  policy("AmazonEKSNetworkingPolicy", LEASES),
  policy("AmazonEKSViewPolicy", VIEW_RULES),
  policy("AmazonEMRJobPolicy"),
  policy("AmazonSagemakerHyperpodClusterPolicy"),
  policy("AmazonSagemakerHyperpodControllerPolicy"),
  policy("AmazonSagemakerHyperpodSystemNamespacePolicy"),
];

const BY_ARN = new Map(ACCESS_POLICIES.map((p) => [p.arn, p]));

/** The policy an ARN names (any partition: arn:aws-cn:eks::aws:cluster-access-policy/… too). */
export function accessPolicy(arn: string): AccessPolicy | undefined {
  return BY_ARN.get(arn.replace(/^arn:[^:]+:/, "arn:aws:"));
}

/** Whether a namespace is in an access scope's list (EKS allows a trailing `*` wildcard). */
export function namespaceInScope(namespace: string, namespaces: readonly string[]): boolean {
  return namespaces.some((n) => n === namespace || (n.endsWith("*") && namespace.startsWith(n.slice(0, -1))));
}

/** The rules the associations grant in a namespace ("" for cluster-scoped requests), for a rules review. */
export function accessPolicyRules(namespace: string, associations: AccessPolicyAssociation[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const a of associations) {
    const p = accessPolicy(a.policyArn);
    if (!p) continue;
    if (
      a.accessScope.type === "namespace" &&
      !(namespace && namespaceInScope(namespace, a.accessScope.namespaces ?? []))
    )
      continue;
    out.push(...p.rules.map((r) => structuredClone(r)));
  }
  return out;
}

/** Allowed when an association grants it; undefined when none does (RBAC decides then). */
export function accessPolicyAuthorize(
  attrs: RequestAttributes,
  associations: AccessPolicyAssociation[],
): AuthorizationDecision | undefined {
  for (const a of associations) {
    const p = accessPolicy(a.policyArn);
    if (!p) continue;
    if (a.accessScope.type === "namespace") {
      // Like a RoleBinding: only namespaced resource requests in one of the namespaces.
      if (!attrs.resourceRequest || !attrs.namespace) continue;
      if (!namespaceInScope(attrs.namespace, a.accessScope.namespaces ?? [])) continue;
    }
    if (p.rules.some((rule) => ruleAllows(attrs, rule))) {
      const how =
        a.accessScope.type === "namespace" ? `RoleBinding in namespace "${attrs.namespace}"` : "ClusterRoleBinding";
      return { allowed: true, reason: `EKS Access Policy: allowed by ${how} of ClusterRole "${p.arn}"` };
    }
  }
  return undefined;
}

/**
 * An EKS cluster's authorizer chain: RBAC (with system:masters), then the access entry's access
 * policies. Denied carries RBAC's reason (the API server builds the 403 with rbac.forbiddenError).
 */
export function eksAuthorize(
  user: UserInfo,
  attrs: RequestAttributes,
  rbac: RbacObjects,
  associations: AccessPolicyAssociation[],
): AuthorizationDecision {
  const r = rbacAuthorize(user, attrs, rbac);
  if (r.allowed) return r;
  return accessPolicyAuthorize(attrs, associations) ?? r;
}
