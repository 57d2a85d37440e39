/**
 * RBAC as kube-apiserver evaluates it: Roles, ClusterRoles (with aggregation), RoleBindings,
 * ClusterRoleBindings → allowed or the RBAC reason. PURE. STUB — kube-pure implements it.
 */
import type { AuthorizationDecision, RequestAttributes, UserInfo } from "./contracts.js";
import type { KubeObject } from "./types.js";

export interface RbacObjects {
  roles: KubeObject[];
  clusterRoles: KubeObject[];
  roleBindings: KubeObject[];
  clusterRoleBindings: KubeObject[];
}

export function rbacAuthorize(_user: UserInfo, _attrs: RequestAttributes, _rbac: RbacObjects): AuthorizationDecision {
  return { allowed: false, reason: "RBAC: not implemented yet" };
}

/** The ClusterRoles and ClusterRoleBindings a new cluster starts with (cluster-admin, admin, edit, view, system:*). */
export function bootstrapRbac(): KubeObject[] {
  return [];
}
