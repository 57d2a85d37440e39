/**
 * RBAC's escalation prevention (pkg/registry/rbac): a user may only create or update a Role or
 * ClusterRole whose rules they already hold (or with the `escalate` verb), and bind a role whose
 * rules they hold (or with the `bind` verb on it). PURE; the API server calls checkRbacWrite on
 * writes of the four RBAC kinds and answers the KubeError it returns.
 */
import type { RequestAttributes, UserInfo } from "./contracts.js";
import { KubeError } from "./errors.js";
import { clusterRoleRules, type PolicyRule, type RbacObjects, type RoleRef, rulesFor, SYSTEM_MASTERS } from "./rbac.js";
import type { KubeObject } from "./types.js";

const RBAC = "rbac.authorization.k8s.io";
const has = (set: readonly string[] | undefined, v: string) => !!set && (set.includes("*") || set.includes(v));

/** One verb on one group/resource/name, or one verb on one URL: the unit coverage is checked in. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length)
          for (const name of rule.resourceNames)
            out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
  for (const url of rule.nonResourceURLs ?? [])
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function resourceCovers(owner: readonly string[], resource: string): boolean {
  if (has(owner, resource)) return true;
  const slash = resource.indexOf("/");
  return slash >= 0 && owner.includes(`*/${resource.slice(slash + 1)}`);
}

const urlCovers = (owner: readonly string[], url: string) =>
  owner.some((u) => u === "*" || u === url || (u.endsWith("*") && url.startsWith(u.slice(0, -1))));

/** validation.ruleCovers for one atomic rule. */
function covers(owner: PolicyRule, r: PolicyRule): boolean {
  if (!r.verbs.every((v) => has(owner.verbs, v))) return false;
  if (r.nonResourceURLs?.length)
    return (r.nonResourceURLs ?? []).every((u) => urlCovers(owner.nonResourceURLs ?? [], u));
  if (!(r.apiGroups ?? []).every((g) => has(owner.apiGroups, g))) return false;
  if (!(r.resources ?? []).every((x) => resourceCovers(owner.resources ?? [], x))) return false;
  if (!owner.resourceNames?.length) return true;
  return !!r.resourceNames?.length && r.resourceNames.every((n) => owner.resourceNames?.includes(n));
}

/** The atomic rules of `requested` that no rule of `owner` covers. */
export function uncoveredRules(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  return requested.flatMap(breakdownRule).filter((r) => !owner.some((o) => covers(o, r)));
}

/** Go's %q of a []string. */
const goList = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;

/** rbacv1 PolicyRule.CompactString(). */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goList(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${goList(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/** ConfirmNoEscalation: undefined when the user holds every rule (in the namespace, "" = cluster-wide), else kube's message. */
export function confirmNoEscalation(
  user: UserInfo,
  namespace: string,
  rules: readonly PolicyRule[],
  rbac: RbacObjects,
  extraOwnerRules: readonly PolicyRule[] = [],
): string | undefined {
  if (user.groups.includes(SYSTEM_MASTERS)) return undefined;
  const held = rulesFor(user, namespace, rbac);
  const missing = uncoveredRules([...held.rules, ...extraOwnerRules], rules);
  if (missing.length === 0) return undefined;
  let msg = `user ${JSON.stringify(user.username)} (groups=${goList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing
    .map(compactString)
    .sort()
    .join("\n")}`;
  if (held.errors.length) msg += `; resolution errors: [${held.errors.join(" ")}]`;
  return msg;
}

const forbidden = (resource: string, name: string, message: string) =>
  new KubeError(403, "Forbidden", `${resource}.${RBAC} ${JSON.stringify(name)} is forbidden: ${message}`, {
    name,
    group: RBAC,
    kind: resource,
  });

/**
 * Whether a create/update of a Role, ClusterRole, RoleBinding or ClusterRoleBinding escalates: the
 * 403 to answer, or undefined. `authorize` answers for the user (RBAC and access policies together),
 * for the `escalate` and `bind` checks; `extraOwnerRules` are rules the user holds outside RBAC
 * (access policies) in that namespace.
 */
export function checkRbacWrite(
  user: UserInfo,
  obj: KubeObject,
  rbac: RbacObjects,
  authorize: (attrs: RequestAttributes) => boolean,
  extraOwnerRules: readonly PolicyRule[] = [],
): KubeError | undefined {
  const name = obj.metadata.name ?? "";
  const namespace = obj.metadata.namespace ?? "";
  const can = (verb: string, resource: string, resourceName: string, ns?: string) =>
    authorize({ verb, apiGroup: RBAC, resource, name: resourceName, namespace: ns, resourceRequest: true });
  switch (obj.kind) {
    case "Role":
    case "ClusterRole": {
      const resource = obj.kind === "Role" ? "roles" : "clusterroles";
      if (can("escalate", resource, name, obj.kind === "Role" ? namespace : undefined)) return undefined;
      const rules = (Array.isArray(obj.rules) ? obj.rules : []) as PolicyRule[];
      if (obj.kind === "ClusterRole" && obj.aggregationRule) {
        const all: PolicyRule[] = [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }];
        const msg = confirmNoEscalation(user, "", all, rbac, extraOwnerRules);
        if (msg) return forbidden(resource, name, `must have cluster-admin privileges to use the aggregationRule`);
        return undefined;
      }
      const msg = confirmNoEscalation(user, obj.kind === "Role" ? namespace : "", rules, rbac, extraOwnerRules);
      return msg ? forbidden(resource, name, msg) : undefined;
    }
    case "RoleBinding":
    case "ClusterRoleBinding": {
      const resource = obj.kind === "RoleBinding" ? "rolebindings" : "clusterrolebindings";
      const ref = (obj.roleRef ?? { kind: "", name: "" }) as RoleRef;
      const refResource = ref.kind === "Role" ? "roles" : "clusterroles";
      if (
        can(
          "bind",
          refResource,
          ref.name,
          ref.kind === "Role" ? namespace : obj.kind === "RoleBinding" ? namespace : undefined,
        )
      )
        return undefined;
      let rules: PolicyRule[] | undefined;
      if (ref.kind === "ClusterRole") rules = clusterRoleRules(rbac.clusterRoles)(ref.name);
      else {
        const role = rbac.roles.find((r) => r.metadata.namespace === namespace && r.metadata.name === ref.name);
        rules = role && Array.isArray(role.rules) ? (role.rules as PolicyRule[]) : undefined;
      }
      if (!rules)
        return forbidden(
          resource,
          name,
          `${ref.kind === "Role" ? "role" : "clusterrole"}.${RBAC} ${JSON.stringify(ref.name)} not found`,
        );
      const msg = confirmNoEscalation(user, obj.kind === "RoleBinding" ? namespace : "", rules, rbac, extraOwnerRules);
      return msg ? forbidden(resource, name, msg) : undefined;
    }
    default:
      return undefined;
  }
}
