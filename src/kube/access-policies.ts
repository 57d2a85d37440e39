/**
 * EKS access policies (AmazonEKS*Policy) as the Kubernetes permissions EKS documents for them, and
 * their evaluation for an access entry's associations. PURE. STUB — kube-pure completes it.
 */
import type { AuthorizationDecision, RequestAttributes } from "./contracts.js";

export interface AccessPolicyAssociation {
  policyArn: string;
  accessScope: { type: "cluster" | "namespace"; namespaces?: string[] };
}

export interface AccessPolicy {
  name: string;
  arn: string;
}

const policy = (name: string): AccessPolicy => ({ name, arn: `arn:aws:eks::aws:cluster-access-policy/${name}` });

/** Every access policy ListAccessPolicies returns. */
export const ACCESS_POLICIES: readonly AccessPolicy[] = [
  policy("AmazonEKSAdminPolicy"),
  policy("AmazonEKSClusterAdminPolicy"),
  policy("AmazonEKSEditPolicy"),
  policy("AmazonEKSViewPolicy"),
];

/** Allowed when an association grants it; undefined when none does (RBAC decides then). */
export function accessPolicyAuthorize(
  _attrs: RequestAttributes,
  _associations: AccessPolicyAssociation[],
): AuthorizationDecision | undefined {
  return undefined;
}
