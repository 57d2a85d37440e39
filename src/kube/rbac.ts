/**
 * RBAC as kube-apiserver evaluates it: Roles, ClusterRoles (with aggregation), RoleBindings,
 * ClusterRoleBindings → allowed or the RBAC reason. PURE. The bootstrap policy is kube's
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) for the roles and resources Berth serves.
 */
import type { AuthorizationDecision, RequestAttributes, UserInfo } from "./contracts.js";
import { KubeError, qualified } from "./errors.js";
import { type LabelSelector, matchesSelector } from "./labels.js";
import type { KubeObject } from "./types.js";

export interface RbacObjects {
  roles: KubeObject[];
  clusterRoles: KubeObject[];
  roleBindings: KubeObject[];
  clusterRoleBindings: KubeObject[];
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: "User" | "Group" | "ServiceAccount" | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: "Role" | "ClusterRole" | string;
  name: string;
}

export const RBAC_GROUP = "rbac.authorization.k8s.io";
export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";
/** The group kube-apiserver's privileged-group authorizer allows everything (before RBAC). */
export const SYSTEM_MASTERS = "system:masters";

const has = (list: readonly string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

/** rbac/v1 helpers RuleAllows: one rule against a request's attributes. */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (!attrs.resourceRequest) {
    const path = attrs.path ?? "";
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === "*" || u === path || (u.endsWith("*") && path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, attrs.apiGroup ?? "")) return false;
  const resource = attrs.resource ?? "";
  const subresource = attrs.subresource ?? "";
  const combined = subresource ? `${resource}/${subresource}` : resource;
  const resourceOk = (rule.resources ?? []).some(
    (r) => r === "*" || r === combined || (subresource !== "" && r.startsWith("*/") && r.slice(2) === subresource),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attrs.name ?? "");
}

/** The username of a service account. */
export const serviceAccountUsername = (namespace: string, name: string) =>
  `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;

/** The groups kube's service account authenticator gives a service account. */
export const serviceAccountGroups = (namespace: string) => [
  "system:serviceaccounts",
  `system:serviceaccounts:${namespace}`,
  "system:authenticated",
];

/** Whether a binding subject is the user (rbac appliesToUser). */
export function subjectMatches(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case "User":
      return user.username === s.name;
    case "Group":
      return user.groups.includes(s.name);
    case "ServiceAccount": {
      const ns = s.namespace || bindingNamespace;
      return ns !== "" && user.username === serviceAccountUsername(ns, s.name);
    }
    default:
      return false;
  }
}

const subjectsOf = (b: KubeObject) => (Array.isArray(b.subjects) ? (b.subjects as Subject[]) : []);
const rulesOf = (r: KubeObject | undefined) => (Array.isArray(r?.rules) ? (r.rules as PolicyRule[]) : []);
const roleRefOf = (b: KubeObject) => (b.roleRef ?? { kind: "", name: "" }) as RoleRef;

function describeSubject(s: Subject, bindingNamespace: string) {
  if (s.kind === "ServiceAccount") return `${s.kind} "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

type Resolver = (name: string) => PolicyRule[] | undefined;
const resolvers = new WeakMap<readonly KubeObject[], { signature: string; resolver: Resolver }>();

/** What the cache of a list is valid for: the very role objects it holds (objects are not changed in place). */
const ids = new WeakMap<KubeObject, number>();
let nextId = 0;
const signatureOf = (roles: readonly KubeObject[]) =>
  roles
    .map((r) => {
      let id = ids.get(r);
      if (id === undefined) {
        id = nextId++;
        ids.set(r, id);
      }
      return id;
    })
    .join(",");

/**
 * A ClusterRole's rules with its aggregationRule resolved (undefined: no such role): the union of
 * the rules of the ClusterRoles whose labels match any of its selectors (transitively, as the
 * aggregation controller converges to). Lazy and cached per list, so a request only resolves the
 * roles its bindings name.
 */
export function clusterRoleRules(clusterRoles: readonly KubeObject[]): Resolver {
  const signature = signatureOf(clusterRoles);
  const cached = resolvers.get(clusterRoles);
  if (cached?.signature === signature) return cached.resolver;
  const byName = new Map(clusterRoles.map((r) => [r.metadata.name ?? "", r]));
  const sorted = [...byName.keys()].sort();
  const memo = new Map<string, PolicyRule[]>();
  const resolve = (name: string, seen: Set<string>): PolicyRule[] => {
    const hit = memo.get(name);
    if (hit) return hit;
    const role = byName.get(name);
    const agg = role?.aggregationRule as { clusterRoleSelectors?: LabelSelector[] } | undefined;
    if (!role || !agg) return rulesOf(role);
    seen.add(name);
    const out: PolicyRule[] = [];
    const keys = new Set<string>();
    for (const n of sorted) {
      if (n === name || seen.has(n)) continue;
      const other = byName.get(n) as KubeObject;
      if (!(agg.clusterRoleSelectors ?? []).some((sel) => matchesSelector(sel, other.metadata.labels ?? {}))) continue;
      for (const r of resolve(n, seen)) {
        const k = JSON.stringify(r);
        if (!keys.has(k)) {
          keys.add(k);
          out.push(r);
        }
      }
    }
    seen.delete(name);
    memo.set(name, out);
    return out;
  };
  const resolver: Resolver = (name) => (byName.has(name) ? resolve(name, new Set()) : undefined);
  resolvers.set(clusterRoles, { signature, resolver });
  return resolver;
}

/** Every ClusterRole's rules, aggregation resolved (what the clusterrole-aggregation controller writes back into `rules`). */
export function aggregatedRules(clusterRoles: readonly KubeObject[]): Map<string, PolicyRule[]> {
  const resolve = clusterRoleRules(clusterRoles);
  return new Map(clusterRoles.map((r) => [r.metadata.name ?? "", resolve(r.metadata.name ?? "") ?? []]));
}

/** ClusterRoles with `rules` filled from their aggregationRule (what the aggregation controller stores). */
export function aggregateClusterRoles(clusterRoles: readonly KubeObject[]): KubeObject[] {
  const rules = aggregatedRules(clusterRoles);
  return clusterRoles.map((r) => (r.aggregationRule ? { ...r, rules: rules.get(r.metadata.name ?? "") ?? [] } : r));
}

/** Every rule that applies to the user in a namespace (kube's VisitRulesFor), with the errors met on the way. */
export function rulesFor(
  user: UserInfo,
  namespace: string,
  rbac: RbacObjects,
  visit: (source: string, rule: PolicyRule) => boolean = () => false,
): { rules: PolicyRule[]; errors: string[]; stoppedAt?: string } {
  const clusterRole = clusterRoleRules(rbac.clusterRoles);
  const errors: string[] = [];
  const rules: PolicyRule[] = [];
  for (const b of rbac.clusterRoleBindings) {
    const subject = subjectsOf(b).find((s) => subjectMatches(user, s, ""));
    if (!subject) continue;
    const ref = roleRefOf(b);
    const rs = ref.kind === "ClusterRole" ? clusterRole(ref.name) : undefined;
    if (!rs) {
      errors.push(`clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`);
      continue;
    }
    const source = `ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${ref.name}" to ${describeSubject(subject, "")}`;
    for (const r of rs) {
      rules.push(r);
      if (visit(source, r)) return { rules, errors, stoppedAt: source };
    }
  }
  if (namespace) {
    for (const b of rbac.roleBindings) {
      if (b.metadata.namespace !== namespace) continue;
      const subject = subjectsOf(b).find((s) => subjectMatches(user, s, namespace));
      if (!subject) continue;
      const ref = roleRefOf(b);
      let rs: PolicyRule[] | undefined;
      if (ref.kind === "ClusterRole") {
        rs = clusterRole(ref.name);
        if (!rs) errors.push(`clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`);
      } else if (ref.kind === "Role") {
        const role = rbac.roles.find((r) => r.metadata.namespace === namespace && r.metadata.name === ref.name);
        rs = role ? rulesOf(role) : undefined;
        if (!rs) errors.push(`role.rbac.authorization.k8s.io "${ref.name}" not found`);
      } else errors.push(`unsupported role reference kind: "${ref.kind}"`);
      if (!rs) continue;
      const source = `RoleBinding "${b.metadata.name}/${namespace}" of ${ref.kind} "${ref.name}" to ${describeSubject(subject, namespace)}`;
      for (const r of rs) {
        rules.push(r);
        if (visit(source, r)) return { rules, errors, stoppedAt: source };
      }
    }
  }
  return { rules, errors };
}

/** What a SelfSubjectRulesReview answers (`kubectl auth can-i --list`): the rules that apply in a namespace. */
export interface SubjectRulesReviewStatus {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

export function rbacRulesReview(user: UserInfo, namespace: string, rbac: RbacObjects): SubjectRulesReviewStatus {
  const { rules, errors } = rulesFor(user, namespace, rbac);
  const status: SubjectRulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: errors.length > 0 };
  if (user.groups.includes(SYSTEM_MASTERS)) {
    status.resourceRules.push({ verbs: ["*"], apiGroups: ["*"], resources: ["*"] });
    status.nonResourceRules.push({ verbs: ["*"], nonResourceURLs: ["*"] });
  }
  for (const r of rules) {
    if (r.nonResourceURLs?.length)
      status.nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs] });
    if (r.resources?.length)
      status.resourceRules.push({
        verbs: [...r.verbs],
        apiGroups: [...(r.apiGroups ?? [])],
        resources: [...r.resources],
        ...(r.resourceNames?.length ? { resourceNames: [...r.resourceNames] } : {}),
      });
  }
  if (errors.length) status.evaluationError = aggregateErrors(errors);
  return status;
}

/** kube's utilerrors.NewAggregate(...).Error(). */
function aggregateErrors(errors: string[]): string {
  return errors.length === 1 ? (errors[0] as string) : `[${errors.join(", ")}]`;
}

export function rbacAuthorize(user: UserInfo, attrs: RequestAttributes, rbac: RbacObjects): AuthorizationDecision {
  if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: "" };
  const { stoppedAt, errors } = rulesFor(user, attrs.namespace ?? "", rbac, (_source, rule) => ruleAllows(attrs, rule));
  if (stoppedAt) return { allowed: true, reason: `RBAC: allowed by ${stoppedAt}` };
  return { allowed: false, reason: errors.length ? `RBAC: ${aggregateErrors(errors)}` : "" };
}

/**
 * The 403 kube-apiserver answers a denied request with (responsewriters.Forbidden): who cannot do
 * what, where, then the authorizer's reason when it has one.
 */
export function forbiddenError(user: UserInfo, attrs: RequestAttributes, reason: string): KubeError {
  let msg: string;
  if (!attrs.resourceRequest)
    msg = `User ${JSON.stringify(user.username)} cannot ${attrs.verb} path ${JSON.stringify(attrs.path ?? "")}`;
  else {
    const resource = attrs.subresource ? `${attrs.resource ?? ""}/${attrs.subresource}` : (attrs.resource ?? "");
    const where = attrs.namespace ? `in the namespace ${JSON.stringify(attrs.namespace)}` : "at the cluster scope";
    msg = `User ${JSON.stringify(user.username)} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup ?? "")} ${where}`;
  }
  const err = reason ? `${msg}: ${reason}` : msg;
  const group = attrs.resourceRequest ? (attrs.apiGroup ?? "") : "";
  const res = attrs.resourceRequest ? (attrs.resource ?? "") : "";
  const gr = res ? qualified(group, res) : "";
  const name = attrs.resourceRequest ? (attrs.name ?? "") : "";
  const message = !gr
    ? `forbidden: ${err}`
    : name
      ? `${gr} ${JSON.stringify(name)} is forbidden: ${err}`
      : `${gr} is forbidden: ${err}`;
  return new KubeError(403, "Forbidden", message, {
    ...(group ? { group } : {}),
    ...(res ? { kind: res } : {}),
    ...(name ? { name } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Bootstrap policy

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
});
const url = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

/** system:aggregate-to-view (rolled into view, edit, admin). */
export const VIEW_RULES: readonly PolicyRule[] = [
  rule(
    [""],
    [
      "configmaps",
      "endpoints",
      "persistentvolumeclaims",
      "persistentvolumeclaims/status",
      "pods",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "serviceaccounts",
      "services",
      "services/status",
    ],
    READ,
  ),
  rule(
    [""],
    [
      "bindings",
      "events",
      "limitranges",
      "namespaces/status",
      "pods/log",
      "pods/status",
      "replicationcontrollers/status",
      "resourcequotas",
      "resourcequotas/status",
    ],
    READ,
  ),
  rule([""], ["namespaces"], READ),
  rule(["discovery.k8s.io"], ["endpointslices"], READ),
  rule(
    ["apps"],
    [
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ],
    READ,
  ),
  rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
  rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
  rule(
    ["extensions"],
    [
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "ingresses",
      "ingresses/status",
      "networkpolicies",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "replicationcontrollers/scale",
    ],
    READ,
  ),
  rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
  rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], READ),
];

/** system:aggregate-to-edit (rolled into edit, admin). */
export const EDIT_RULES: readonly PolicyRule[] = [
  rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
  rule([""], ["serviceaccounts"], ["impersonate"]),
  rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
  rule([""], ["pods/eviction"], ["create"]),
  rule(
    [""],
    [
      "configmaps",
      "events",
      "persistentvolumeclaims",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "secrets",
      "serviceaccounts",
      "services",
      "services/proxy",
    ],
    WRITE,
  ),
  rule([""], ["serviceaccounts/token"], ["create"]),
  rule(
    ["apps"],
    [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "replicasets",
      "replicasets/scale",
      "statefulsets",
      "statefulsets/scale",
    ],
    WRITE,
  ),
  rule(["autoscaling"], ["horizontalpodautoscalers"], WRITE),
  rule(["batch"], ["cronjobs", "jobs"], WRITE),
  rule(
    ["extensions"],
    [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "ingresses",
      "networkpolicies",
      "replicasets",
      "replicasets/scale",
      "replicationcontrollers/scale",
    ],
    WRITE,
  ),
  rule(["policy"], ["poddisruptionbudgets"], WRITE),
  rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], WRITE),
];

/** system:aggregate-to-admin (rolled into admin). */
export const ADMIN_RULES: readonly PolicyRule[] = [
  rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
  rule([RBAC_GROUP], ["rolebindings", "roles"], [...WRITE, ...READ].sort()),
];

export const CLUSTER_ADMIN_RULES: readonly PolicyRule[] = [rule(["*"], ["*"], ["*"]), url(["*"], ["*"])];

const BOOTSTRAP_LABELS = { "kubernetes.io/bootstrapping": "rbac-defaults" };
const AUTOUPDATE = { "rbac.authorization.kubernetes.io/autoupdate": "true" };

const clusterRole = (
  name: string,
  rules: readonly PolicyRule[],
  extra: { labels?: Record<string, string>; aggregateFrom?: string } = {},
): KubeObject => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: "ClusterRole",
  metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...extra.labels }, annotations: { ...AUTOUPDATE } },
  ...(extra.aggregateFrom
    ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: "true" } }] } }
    : {}),
  rules: rules.map((r) => structuredClone(r)),
});

const binding = (name: string, role: string, subjects: Subject[]): KubeObject => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: "ClusterRoleBinding",
  metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } },
  roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: role },
  subjects: subjects
    .map((s) => ({ apiGroup: s.kind === "ServiceAccount" ? undefined : RBAC_GROUP, ...s }))
    .map((s) => JSON.parse(JSON.stringify(s)) as Subject),
});
const group = (name: string): Subject => ({ kind: "Group", name });
const user = (name: string): Subject => ({ kind: "User", name });

const AGG = (r: string) => `rbac.authorization.k8s.io/aggregate-to-${r}`;

/** The ClusterRoles and ClusterRoleBindings a new cluster starts with (cluster-admin, admin, edit, view, system:*). */
export function bootstrapRbac(): KubeObject[] {
  const roles = [
    clusterRole("cluster-admin", CLUSTER_ADMIN_RULES),
    clusterRole("admin", [], { aggregateFrom: AGG("admin") }),
    clusterRole("edit", [], { aggregateFrom: AGG("edit"), labels: { [AGG("admin")]: "true" } }),
    clusterRole("view", [], { aggregateFrom: AGG("view"), labels: { [AGG("edit")]: "true" } }),
    clusterRole("system:aggregate-to-admin", ADMIN_RULES, { labels: { [AGG("admin")]: "true" } }),
    clusterRole("system:aggregate-to-edit", EDIT_RULES, { labels: { [AGG("edit")]: "true" } }),
    clusterRole("system:aggregate-to-view", VIEW_RULES, { labels: { [AGG("view")]: "true" } }),
    clusterRole("system:basic-user", [
      rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
      rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
    ]),
    clusterRole("system:discovery", [
      url(
        [
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
          "/healthz",
          "/livez",
          "/openapi",
          "/openapi/*",
          "/readyz",
          "/version",
          "/version/",
        ],
        ["get"],
      ),
    ]),
    clusterRole("system:public-info-viewer", [
      url(["/healthz", "/livez", "/readyz", "/version", "/version/"], ["get"]),
    ]),
    clusterRole("system:service-account-issuer-discovery", [
      url(
        [
          "/.well-known/openid-configuration",
          "/.well-known/openid-configuration/",
          "/openid/v1/jwks",
          "/openid/v1/jwks/",
        ],
        ["get"],
      ),
    ]),
    clusterRole("system:monitoring", [
      url(
        ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"],
        ["get"],
      ),
    ]),
    clusterRole("system:node", [
      rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
      rule(["authorization.k8s.io"], ["localsubjectaccessreviews", "subjectaccessreviews"], ["create"]),
      rule([""], ["services"], READ),
      rule([""], ["nodes"], ["create", "get", "list", "watch"]),
      rule([""], ["nodes/status"], ["patch", "update"]),
      rule([""], ["nodes"], ["patch", "update"]),
      rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
      rule([""], ["pods"], READ),
      rule([""], ["pods"], ["create", "delete"]),
      rule([""], ["pods/status"], ["patch", "update"]),
      rule([""], ["pods/eviction"], ["create"]),
      rule([""], ["configmaps", "secrets"], ["get", "list", "watch"]),
      rule([""], ["persistentvolumeclaims", "persistentvolumes"], ["get"]),
      rule([""], ["endpoints"], ["get"]),
      rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["create", "get", "list", "watch"]),
      rule(["coordination.k8s.io"], ["leases"], ["create", "delete", "get", "patch", "update"]),
      rule(["storage.k8s.io"], ["volumeattachments", "csidrivers", "csinodes"], ["get", "list", "watch"]),
      rule([""], ["serviceaccounts/token"], ["create"]),
      rule(["node.k8s.io"], ["runtimeclasses"], READ),
      rule(["discovery.k8s.io"], ["endpointslices"], READ),
    ]),
    clusterRole("system:kube-scheduler", [
      rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
      rule(["coordination.k8s.io"], ["leases"], ["create"]),
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["kube-scheduler"],
        verbs: ["get", "update"],
      },
      rule([""], ["endpoints"], ["create"]),
      { apiGroups: [""], resources: ["endpoints"], resourceNames: ["kube-scheduler"], verbs: ["get", "update"] },
      rule([""], ["nodes"], READ),
      rule([""], ["pods"], ["delete", "get", "list", "watch"]),
      rule([""], ["bindings", "pods/binding"], ["create"]),
      rule([""], ["pods/status"], ["patch", "update"]),
      rule(["", "apps", "extensions"], ["replicationcontrollers", "services", "replicasets", "statefulsets"], READ),
      rule(["policy"], ["poddisruptionbudgets"], READ),
      rule([""], ["persistentvolumeclaims", "persistentvolumes"], READ),
      rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
      rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
      rule(["storage.k8s.io"], ["csinodes", "csidrivers", "csistoragecapacities"], READ),
      rule([""], ["namespaces"], READ),
    ]),
  ];
  const bindings = [
    binding("cluster-admin", "cluster-admin", [group(SYSTEM_MASTERS)]),
    binding("system:basic-user", "system:basic-user", [group("system:authenticated")]),
    binding("system:discovery", "system:discovery", [group("system:authenticated")]),
    binding("system:public-info-viewer", "system:public-info-viewer", [
      group("system:authenticated"),
      group("system:unauthenticated"),
    ]),
    binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery", [
      group("system:serviceaccounts"),
    ]),
    binding("system:monitoring", "system:monitoring", [group("system:monitoring")]),
    // kube leaves system:node's binding without subjects (the Node authorizer decides); Berth has no
    // Node authorizer, so the nodes group gets the role (as EKS's node access entries grant it).
    binding("system:node", "system:node", [group("system:nodes")]),
    binding("system:kube-scheduler", "system:kube-scheduler", [user("system:kube-scheduler")]),
  ];
  return aggregateClusterRoles(roles).concat(bindings);
}
