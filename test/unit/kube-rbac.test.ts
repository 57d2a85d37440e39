import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACCESS_POLICIES,
  type AccessPolicyAssociation,
  accessPolicy,
  accessPolicyAuthorize,
  accessPolicyRules,
  eksAuthorize,
} from "../../src/kube/access-policies.js";
import type { RequestAttributes, UserInfo } from "../../src/kube/contracts.js";
import {
  bootstrapRbac,
  forbiddenError,
  type RbacObjects,
  rbacAuthorize,
  rbacRulesReview,
  ruleAllows,
  serviceAccountUsername,
} from "../../src/kube/rbac.js";
import type { KubeObject } from "../../src/kube/types.js";

const boot = bootstrapRbac();
const base = (): RbacObjects => ({
  roles: [],
  roleBindings: [],
  clusterRoles: boot.filter((o) => o.kind === "ClusterRole"),
  clusterRoleBindings: boot.filter((o) => o.kind === "ClusterRoleBinding"),
});
const res = (verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({
  verb,
  resource,
  apiGroup: "",
  resourceRequest: true,
  ...extra,
});
const nonRes = (verb: string, path: string): RequestAttributes => ({ verb, path, resourceRequest: false });
const alice: UserInfo = { username: "alice", groups: ["system:authenticated"] };
const anon: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"] };

const role = (name: string, namespace: string, rules: unknown[]): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: { name, namespace },
  rules,
});
const roleBinding = (name: string, namespace: string, kind: string, ref: string, subjects: unknown[]): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: { name, namespace },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name: ref },
  subjects,
});
const crb = (name: string, ref: string, subjects: unknown[]): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: { name },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ref },
  subjects,
});

describe("kube RBAC rules", () => {
  it.each([
    [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "pods"), true],
    [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "pods", { subresource: "log" }), false],
    [{ verbs: ["get"], apiGroups: [""], resources: ["pods/log"] }, res("get", "pods", { subresource: "log" }), true],
    [
      { verbs: ["get"], apiGroups: [""], resources: ["*/scale"] },
      res("get", "deployments", { subresource: "scale" }),
      true,
    ],
    [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, res("delete", "deployments", { apiGroup: "apps" }), true],
    [{ verbs: ["get"], apiGroups: ["apps"], resources: ["pods"] }, res("get", "pods"), false],
    [
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      res("get", "configmaps", { name: "a" }),
      true,
    ],
    [
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      res("get", "configmaps", { name: "b" }),
      false,
    ],
    [
      { verbs: ["list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      res("list", "configmaps"),
      false,
    ],
    [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }, nonRes("get", "/healthz"), true],
    [{ verbs: ["get"], nonResourceURLs: ["/apis/*"] }, nonRes("get", "/apis/apps/v1"), true],
    [{ verbs: ["get"], nonResourceURLs: ["/apis/*"] }, nonRes("get", "/api"), false],
    [{ verbs: ["get"], nonResourceURLs: ["*"] }, nonRes("get", "/metrics"), true],
    [{ verbs: ["get"], apiGroups: ["*"], resources: ["*"] }, nonRes("get", "/healthz"), false],
  ])("rule %j vs %j → %s", (rule, attrs, allowed) => expect(ruleAllows(attrs, rule)).toBe(allowed));
});

describe("kube RBAC authorize", () => {
  it("bootstrap: discovery for the authenticated, public info for everyone, nothing else", () => {
    expect(rbacAuthorize(alice, nonRes("get", "/apis"), base()).allowed).toBe(true);
    expect(rbacAuthorize(anon, nonRes("get", "/version"), base()).allowed).toBe(true);
    expect(rbacAuthorize(anon, nonRes("get", "/apis"), base()).allowed).toBe(false);
    expect(
      rbacAuthorize(alice, res("create", "selfsubjectaccessreviews", { apiGroup: "authorization.k8s.io" }), base()),
    ).toMatchObject({ allowed: true });
    expect(rbacAuthorize(alice, res("list", "pods", { namespace: "default" }), base())).toEqual({
      allowed: false,
      reason: "",
    });
  });

  it("system:masters may do anything; the cluster-admin binding names its source", () => {
    const root: UserInfo = { username: "admin", groups: ["system:masters"] };
    expect(
      rbacAuthorize(root, res("delete", "nodes"), {
        roles: [],
        roleBindings: [],
        clusterRoles: [],
        clusterRoleBindings: [],
      }).allowed,
    ).toBe(true);
    const rbac = base();
    rbac.clusterRoleBindings.push(crb("alice-admin", "cluster-admin", [{ kind: "User", name: "alice" }]));
    expect(rbacAuthorize(alice, res("delete", "nodes"), rbac)).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "alice-admin" of ClusterRole "cluster-admin" to User "alice"',
    });
  });

  it("aggregated roles: view reads, edit writes, admin manages roles; view reads no secrets", () => {
    const rbac = base();
    rbac.roleBindings.push(
      roleBinding("v", "dev", "ClusterRole", "view", [{ kind: "User", name: "alice" }]),
      roleBinding("e", "ops", "ClusterRole", "edit", [{ kind: "Group", name: "ops" }]),
      roleBinding("a", "adm", "ClusterRole", "admin", [{ kind: "User", name: "alice" }]),
    );
    const opsUser: UserInfo = { username: "bob", groups: ["ops", "system:authenticated"] };
    expect(rbacAuthorize(alice, res("list", "deployments", { apiGroup: "apps", namespace: "dev" }), rbac).allowed).toBe(
      true,
    );
    expect(rbacAuthorize(alice, res("get", "secrets", { namespace: "dev" }), rbac).allowed).toBe(false);
    expect(rbacAuthorize(alice, res("create", "pods", { namespace: "dev" }), rbac).allowed).toBe(false);
    expect(rbacAuthorize(opsUser, res("patch", "deployments", { apiGroup: "apps", namespace: "ops" }), rbac)).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "e/ops" of ClusterRole "edit" to Group "ops"',
    });
    expect(
      rbacAuthorize(opsUser, res("create", "roles", { apiGroup: "rbac.authorization.k8s.io", namespace: "ops" }), rbac)
        .allowed,
    ).toBe(false);
    expect(
      rbacAuthorize(
        alice,
        res("create", "rolebindings", { apiGroup: "rbac.authorization.k8s.io", namespace: "adm" }),
        rbac,
      ).allowed,
    ).toBe(true);
    expect(rbacAuthorize(alice, res("get", "secrets", { namespace: "adm" }), rbac).allowed).toBe(true);
    // A RoleBinding never grants cluster-scoped requests.
    expect(rbacAuthorize(alice, res("list", "namespaces"), rbac).allowed).toBe(false);
  });

  it("a ClusterRole's aggregationRule picks up later ClusterRoles by label", () => {
    const rbac = base();
    rbac.clusterRoles.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "crd-view", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
      rules: [{ apiGroups: ["example.com"], resources: ["widgets"], verbs: ["get"] }],
    });
    rbac.clusterRoleBindings.push(crb("ev", "edit", [{ kind: "User", name: "alice" }]));
    expect(rbacAuthorize(alice, res("get", "widgets", { apiGroup: "example.com", name: "w" }), rbac).allowed).toBe(
      true,
    );
  });

  it("service accounts: by namespace and name, or by their groups", () => {
    const sa: UserInfo = {
      username: serviceAccountUsername("dev", "builder"),
      groups: ["system:serviceaccounts", "system:serviceaccounts:dev", "system:authenticated"],
    };
    const rbac = base();
    rbac.roles.push(role("cm", "dev", [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }]));
    rbac.roleBindings.push(roleBinding("b", "dev", "Role", "cm", [{ kind: "ServiceAccount", name: "builder" }]));
    expect(rbacAuthorize(sa, res("get", "configmaps", { namespace: "dev", name: "x" }), rbac)).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "b/dev" of Role "cm" to ServiceAccount "builder/dev"',
    });
    const other = { ...sa, username: serviceAccountUsername("prod", "builder"), groups: ["system:serviceaccounts"] };
    expect(rbacAuthorize(other, res("get", "configmaps", { namespace: "dev" }), rbac).allowed).toBe(false);
    rbac.clusterRoleBindings.push(crb("sas", "view", [{ kind: "Group", name: "system:serviceaccounts:dev" }]));
    expect(rbacAuthorize(sa, res("list", "pods", { namespace: "prod" }), rbac).allowed).toBe(true);
  });

  it("the 403 is worded as kube-apiserver's", () => {
    expect(forbiddenError(alice, res("list", "pods", { namespace: "dev" }), "").message).toBe(
      'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev"',
    );
    const e = forbiddenError(
      alice,
      res("get", "deployments", { apiGroup: "apps", name: "web", subresource: "scale" }),
      "RBAC: x",
    );
    expect(e.message).toBe(
      'deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments/scale" in API group "apps" at the cluster scope: RBAC: x',
    );
    expect(e.toStatus()).toMatchObject({
      code: 403,
      reason: "Forbidden",
      details: { group: "apps", kind: "deployments", name: "web" },
    });
    expect(forbiddenError(anon, nonRes("get", "/metrics"), "").message).toBe(
      'forbidden: User "system:anonymous" cannot get path "/metrics"',
    );
  });

  it("missing roles are the reason, in kube's words", () => {
    const rbac = base();
    rbac.clusterRoleBindings.push(crb("x", "nope", [{ kind: "User", name: "alice" }]));
    expect(rbacAuthorize(alice, res("get", "pods", { namespace: "dev" }), rbac)).toEqual({
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found',
    });
    rbac.roleBindings.push(roleBinding("y", "dev", "Role", "gone", [{ kind: "User", name: "alice" }]));
    expect(rbacAuthorize(alice, res("get", "pods", { namespace: "dev" }), rbac).reason).toBe(
      'RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, role.rbac.authorization.k8s.io "gone" not found]',
    );
  });

  it("rules review: what applies in a namespace, incomplete with the error when a role is missing", () => {
    const rbac = base();
    rbac.roleBindings.push(roleBinding("v", "dev", "ClusterRole", "view", [{ kind: "User", name: "alice" }]));
    rbac.roleBindings.push(roleBinding("m", "dev", "Role", "missing", [{ kind: "User", name: "alice" }]));
    const r = rbacRulesReview(alice, "dev", rbac);
    expect(r.incomplete).toBe(true);
    expect(r.evaluationError).toBe('role.rbac.authorization.k8s.io "missing" not found');
    expect(r.resourceRules).toContainEqual({
      verbs: ["get", "list", "watch"],
      apiGroups: [""],
      resources: ["namespaces"],
    });
    expect(r.nonResourceRules).toContainEqual({
      verbs: ["get"],
      nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"],
    });
    expect(rbacRulesReview(alice, "prod", base()).resourceRules.some((x) => x.resources?.includes("pods"))).toBe(false);
  });

  const verbs = ["get", "list", "watch", "create", "update", "patch", "delete"];
  const attrsArb = fc.record({
    verb: fc.constantFrom(...verbs),
    resource: fc.constantFrom("pods", "secrets", "deployments", "configmaps", "roles", "nodes"),
    apiGroup: fc.constantFrom("", "apps", "rbac.authorization.k8s.io"),
    namespace: fc.constantFrom("dev", "prod", undefined),
    name: fc.constantFrom("a", undefined),
    resourceRequest: fc.constant(true),
  });
  const bindingArb = fc.record({
    namespaced: fc.boolean(),
    ns: fc.constantFrom("dev", "prod"),
    ref: fc.constantFrom("view", "edit", "admin", "cluster-admin", "missing"),
    subject: fc.constantFrom(
      { kind: "User", name: "alice" },
      { kind: "Group", name: "system:authenticated" },
      { kind: "User", name: "bob" },
    ),
  });
  const add = (rbac: RbacObjects, b: { namespaced: boolean; ns: string; ref: string; subject: unknown }, i: number) => {
    if (b.namespaced) rbac.roleBindings.push(roleBinding(`b${i}`, b.ns, "ClusterRole", b.ref, [b.subject]));
    else rbac.clusterRoleBindings.push(crb(`c${i}`, b.ref, [b.subject]));
  };

  it("property: adding a binding never removes a permission", () => {
    fc.assert(
      fc.property(fc.array(bindingArb, { maxLength: 4 }), bindingArb, attrsArb, (bs, extra, attrs) => {
        const rbac = base();
        for (const [i, b] of bs.entries()) add(rbac, b, i);
        const before = rbacAuthorize(alice, attrs, rbac).allowed;
        add(rbac, extra, 99);
        if (before) expect(rbacAuthorize(alice, attrs, rbac).allowed).toBe(true);
      }),
    );
  });

  it("property: a namespaced RoleBinding never grants in another namespace or cluster-wide", () => {
    fc.assert(
      fc.property(
        fc.array(
          bindingArb.map((b) => ({ ...b, namespaced: true, ns: "dev" })),
          { minLength: 1, maxLength: 4 },
        ),
        attrsArb,
        (bs, attrs) => {
          const rbac = base();
          for (const [i, b] of bs.entries()) add(rbac, b, i);
          if (attrs.namespace !== "dev") expect(rbacAuthorize(alice, attrs, rbac).allowed).toBe(false);
        },
      ),
    );
  });
});

describe("EKS access policies", () => {
  it("lists the documented policies under their ARNs", () => {
    const names = ACCESS_POLICIES.map((p) => p.name);
    for (const n of [
      "AmazonEKSAdminPolicy",
      "AmazonEKSClusterAdminPolicy",
      "AmazonEKSEditPolicy",
      "AmazonEKSViewPolicy",
      "AmazonEKSAdminViewPolicy",
      "AmazonEKSHybridPolicy",
      "AmazonEKSAutoNodePolicy",
    ])
      expect(names).toContain(n);
    expect([...names].sort()).toEqual(names);
    expect(accessPolicy("arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy")?.name).toBe(
      "AmazonEKSViewPolicy",
    );
  });

  const arn = (n: string) => `arn:aws:eks::aws:cluster-access-policy/${n}`;
  const cluster = (n: string): AccessPolicyAssociation => ({ policyArn: arn(n), accessScope: { type: "cluster" } });
  const ns = (n: string, namespaces: string[]): AccessPolicyAssociation => ({
    policyArn: arn(n),
    accessScope: { type: "namespace", namespaces },
  });

  it.each([
    ["ClusterAdmin, cluster scope: nodes", [cluster("AmazonEKSClusterAdminPolicy")], res("delete", "nodes"), true],
    ["ClusterAdmin: non-resource URLs", [cluster("AmazonEKSClusterAdminPolicy")], nonRes("get", "/metrics"), true],
    ["View: pods", [cluster("AmazonEKSViewPolicy")], res("list", "pods", { namespace: "a" }), true],
    ["View: no secrets", [cluster("AmazonEKSViewPolicy")], res("get", "secrets", { namespace: "a" }), false],
    ["AdminView: secrets", [cluster("AmazonEKSAdminViewPolicy")], res("get", "secrets", { namespace: "a" }), true],
    [
      "Edit: deployments",
      [cluster("AmazonEKSEditPolicy")],
      res("patch", "deployments", { apiGroup: "apps", namespace: "a" }),
      true,
    ],
    [
      "Edit: no roles",
      [cluster("AmazonEKSEditPolicy")],
      res("create", "roles", { apiGroup: "rbac.authorization.k8s.io", namespace: "a" }),
      false,
    ],
    [
      "Admin: roles",
      [cluster("AmazonEKSAdminPolicy")],
      res("create", "roles", { apiGroup: "rbac.authorization.k8s.io", namespace: "a" }),
      true,
    ],
    [
      "namespace scope: inside",
      [ns("AmazonEKSEditPolicy", ["dev"])],
      res("create", "pods", { namespace: "dev" }),
      true,
    ],
    [
      "namespace scope: outside",
      [ns("AmazonEKSEditPolicy", ["dev"])],
      res("create", "pods", { namespace: "prod" }),
      false,
    ],
    [
      "namespace scope: wildcard",
      [ns("AmazonEKSEditPolicy", ["team-*"])],
      res("create", "pods", { namespace: "team-a" }),
      true,
    ],
    ["namespace scope: cluster-scoped", [ns("AmazonEKSClusterAdminPolicy", ["dev"])], res("list", "nodes"), false],
    ["namespace scope: non-resource", [ns("AmazonEKSClusterAdminPolicy", ["dev"])], nonRes("get", "/version"), false],
    [
      "unknown policy",
      [{ policyArn: arn("Nope"), accessScope: { type: "cluster" as const } }],
      res("get", "pods"),
      false,
    ],
  ])("%s", (_n, assocs, attrs, allowed) => {
    const d = accessPolicyAuthorize(attrs, assocs);
    expect(d?.allowed ?? false).toBe(allowed);
    if (!allowed) expect(d).toBeUndefined();
  });

  it("eksAuthorize: RBAC, then the access policies; denied keeps RBAC's reason", () => {
    const rbac = base();
    rbac.clusterRoleBindings.push(crb("x", "nope", [{ kind: "User", name: "alice" }]));
    expect(
      eksAuthorize(alice, res("list", "pods", { namespace: "a" }), rbac, [cluster("AmazonEKSViewPolicy")]),
    ).toMatchObject({
      allowed: true,
    });
    expect(
      eksAuthorize(alice, res("delete", "pods", { namespace: "a" }), rbac, [cluster("AmazonEKSViewPolicy")]),
    ).toEqual({
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found',
    });
    expect(eksAuthorize(alice, nonRes("get", "/version"), rbac, []).allowed).toBe(true);
  });

  it("the rules an association grants in a namespace", () => {
    expect(accessPolicyRules("dev", [ns("AmazonEKSViewPolicy", ["dev"])]).length).toBeGreaterThan(5);
    expect(accessPolicyRules("prod", [ns("AmazonEKSViewPolicy", ["dev"])])).toEqual([]);
    expect(accessPolicyRules("", [cluster("AmazonEKSClusterAdminPolicy")])).toHaveLength(2);
  });

  it("the EKS Admin/Edit/View policies grant what kube's admin/edit/view grant", () => {
    const rbac = base();
    const attrs = [
      res("get", "secrets", { namespace: "a" }),
      res("create", "pods", { subresource: "exec", namespace: "a" }),
      res("update", "deployments", { subresource: "scale", apiGroup: "apps", namespace: "a" }),
      res("create", "rolebindings", { apiGroup: "rbac.authorization.k8s.io", namespace: "a" }),
      res("list", "jobs", { apiGroup: "batch", namespace: "a" }),
      res("get", "pods", { subresource: "log", namespace: "a" }),
    ];
    for (const [policyName, roleName] of [
      ["AmazonEKSAdminPolicy", "admin"],
      ["AmazonEKSEditPolicy", "edit"],
      ["AmazonEKSViewPolicy", "view"],
    ] as const) {
      const r = {
        ...rbac,
        roleBindings: [roleBinding("x", "a", "ClusterRole", roleName, [{ kind: "User", name: "alice" }])],
      };
      for (const a of attrs)
        expect([policyName, a, accessPolicyAuthorize(a, [ns(policyName, ["a"])])?.allowed ?? false]).toEqual([
          policyName,
          a,
          rbacAuthorize(alice, a, r).allowed,
        ]);
    }
  });
});

describe("bootstrap objects", () => {
  it("are valid under the schema", async () => {
    const { loadOpenApi, validateObject, gvkOf } = await import("../../src/kube/schema.js");
    const ix = loadOpenApi();
    for (const o of bootstrapRbac())
      expect([
        o.metadata.name,
        validateObject(ix, gvkOf(o.apiVersion, o.kind), o, { fieldValidation: "Strict" }),
      ]).toEqual([o.metadata.name, { causes: [], unknownFields: [] }]);
  });
});
