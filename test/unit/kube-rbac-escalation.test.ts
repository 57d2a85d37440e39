import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RequestAttributes, UserInfo } from "../../src/kube/contracts.js";
import { bootstrapRbac, type PolicyRule, type RbacObjects, rbacAuthorize, ruleAllows } from "../../src/kube/rbac.js";
import { checkRbacWrite, uncoveredRules } from "../../src/kube/rbac-escalation.js";
import type { KubeObject } from "../../src/kube/types.js";

const boot = bootstrapRbac();
const alice: UserInfo = { username: "alice", groups: ["system:authenticated"] };
const rbacWith = (bindings: KubeObject[]): RbacObjects => ({
  roles: [],
  roleBindings: bindings.filter((b) => b.kind === "RoleBinding"),
  clusterRoles: boot.filter((o) => o.kind === "ClusterRole"),
  clusterRoleBindings: [
    ...boot.filter((o) => o.kind === "ClusterRoleBinding"),
    ...bindings.filter((b) => b.kind === "ClusterRoleBinding"),
  ],
});
const rb = (ns: string, kind: string, role: string, user = "alice"): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: { name: `${user}-${role}`, namespace: ns },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name: role },
  subjects: [{ kind: "User", name: user }],
});
const role = (ns: string, rules: PolicyRule[]): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: { name: "r", namespace: ns },
  rules,
});
const check = (user: UserInfo, obj: KubeObject, rbac: RbacObjects) =>
  checkRbacWrite(user, obj, rbac, (attrs: RequestAttributes) => rbacAuthorize(user, attrs, rbac).allowed);

describe("RBAC escalation prevention", () => {
  it("a Role may only hold rules its creator holds", () => {
    const rbac = rbacWith([rb("dev", "ClusterRole", "admin")]);
    expect(
      check(alice, role("dev", [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "delete"] }]), rbac),
    ).toBeUndefined();
    const e = check(alice, role("dev", [{ apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get"] }]), rbac);
    expect([e?.code, e?.message]).toEqual([
      403,
      'roles.rbac.authorization.k8s.io "r" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}',
    ]);
    // Not in another namespace.
    expect(check(alice, role("prod", [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]), rbac)?.code).toBe(
      403,
    );
    // system:masters may.
    expect(
      check(
        { username: "root", groups: ["system:masters"] },
        role("prod", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]),
        rbac,
      ),
    ).toBeUndefined();
  });

  it("a binding needs the role's rules, or the bind verb on it", () => {
    const rbac = rbacWith([rb("dev", "ClusterRole", "admin")]);
    expect(check(alice, rb("dev", "ClusterRole", "view", "bob"), rbac)).toBeUndefined();
    expect(check(alice, rb("dev", "ClusterRole", "cluster-admin", "bob"), rbac)?.message).toMatch(
      /^rolebindings.rbac.authorization.k8s.io "bob-cluster-admin" is forbidden: user "alice" .* not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/,
    );
    const binder: KubeObject = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "binder" },
      rules: [
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          resources: ["clusterroles"],
          verbs: ["bind"],
          resourceNames: ["cluster-admin"],
        },
      ],
    };
    const withBind = rbacWith([
      rb("dev", "ClusterRole", "admin"),
      { ...rb("", "ClusterRole", "binder"), kind: "ClusterRoleBinding", metadata: { name: "b" } },
    ]);
    withBind.clusterRoles.push(binder);
    expect(check(alice, rb("dev", "ClusterRole", "cluster-admin", "bob"), withBind)).toBeUndefined();
    expect(check(alice, rb("dev", "ClusterRole", "nope", "bob"), rbac)?.message).toBe(
      'rolebindings.rbac.authorization.k8s.io "bob-nope" is forbidden: clusterrole.rbac.authorization.k8s.io "nope" not found',
    );
  });

  const verb = fc.constantFrom("get", "list", "create", "delete", "*");
  const ruleArb = fc.record({
    apiGroups: fc.subarray(["", "apps", "*"], { minLength: 1 }),
    resources: fc.subarray(["pods", "pods/log", "deployments", "*", "*/scale"], { minLength: 1 }),
    verbs: fc.uniqueArray(verb, { minLength: 1, maxLength: 3 }),
  });
  it("property: covered rules allow nothing the owner rules do not", () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 3 }), fc.array(ruleArb, { maxLength: 3 }), (owner, requested) => {
        if (uncoveredRules(owner, requested).length > 0) return;
        for (const r of requested)
          for (const g of r.apiGroups)
            for (const res of r.resources)
              for (const v of r.verbs) {
                if (g === "*" || res.startsWith("*") || v === "*") continue;
                const [resource, subresource] = res.split("/");
                const attrs = { verb: v, apiGroup: g, resource, subresource, resourceRequest: true };
                expect(owner.some((o) => ruleAllows(attrs, o))).toBe(true);
              }
      }),
    );
  });
});
