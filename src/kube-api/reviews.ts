/**
 * The review resources, answered (never stored) through the Authorizer and Authenticator:
 * SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview, SelfSubjectRulesReview
 * (`kubectl auth can-i --list`: the authorizer probed over the resource table) and TokenReview.
 */
import type { RequestAttributes, UserInfo } from "../kube/contracts.js";
import { kubeErrors } from "../kube/errors.js";
import { checkTypeMeta } from "./admit.js";
import type { Call } from "./context.js";
import { mediaType, parseObject, sendJson } from "./http.js";

// biome-ignore lint/suspicious/noExplicitAny: review bodies are read loosely
type Any = any;

/** A review's spec.resourceAttributes / nonResourceAttributes as authorizer attributes. */
export function attributesOf(spec: Any): RequestAttributes {
  const r = spec?.resourceAttributes;
  if (r)
    return {
      verb: r.verb ?? "",
      apiGroup: r.group ?? "",
      resource: r.resource ?? "",
      subresource: r.subresource || undefined,
      namespace: r.namespace || undefined,
      name: r.name || undefined,
      resourceRequest: true,
    };
  const n = spec?.nonResourceAttributes;
  if (n) return { verb: n.verb ?? "", path: n.path ?? "", resourceRequest: false };
  throw kubeErrors.invalid("authorization.k8s.io", "SelfSubjectAccessReview", "", [
    {
      field: "spec.resourceAttributes",
      reason: "FieldValueRequired",
      message: "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
    },
  ]);
}

const REVIEWS = new Set([
  "authorization.k8s.io/selfsubjectaccessreviews",
  "authorization.k8s.io/subjectaccessreviews",
  "authorization.k8s.io/localsubjectaccessreviews",
  "authorization.k8s.io/selfsubjectrulesreviews",
  "authentication.k8s.io/tokenreviews",
  "authentication.k8s.io/selfsubjectreviews",
]);

export const isReview = (group: string, resource: string) => REVIEWS.has(`${group}/${resource}`);

export async function handleReview(c: Call, body: Buffer): Promise<void> {
  if (c.info.verb !== "create")
    throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  const obj = checkTypeMeta(c, parseObject(body, mediaType(c.req))) as Any;
  const spec = obj.spec ?? {};
  const { authorizer } = c.deps;
  const reply = (status: unknown) => sendJson(c.res, 201, { ...obj, metadata: { creationTimestamp: null }, status });
  switch (c.type.resource) {
    case "selfsubjectaccessreviews": {
      const d = authorizer.authorize(c.cluster, c.user, attributesOf(spec));
      return reply({ allowed: d.allowed, ...(d.allowed ? {} : { denied: false }), reason: d.reason });
    }
    case "subjectaccessreviews":
    case "localsubjectaccessreviews": {
      if (!spec.user && !(spec.groups ?? []).length)
        throw kubeErrors.invalid(c.type.group, c.type.kind, "", [
          {
            field: "spec.user",
            reason: "FieldValueInvalid",
            message: 'Invalid value: "": at least one of user or group must be specified',
          },
        ]);
      const user: UserInfo = { username: spec.user ?? "", uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
      const d = authorizer.authorize(c.cluster, user, attributesOf(spec));
      return reply({ allowed: d.allowed, reason: d.reason });
    }
    case "selfsubjectrulesreviews": {
      const namespace = spec.namespace ?? "";
      const resourceRules: { verbs: string[]; apiGroups: string[]; resources: string[] }[] = [];
      for (const t of c.deps.resources ?? []) {
        const verbs = t.verbs.filter(
          (verb) =>
            authorizer.authorize(c.cluster, c.user, {
              verb,
              apiGroup: t.group,
              resource: t.resource,
              namespace: t.namespaced ? namespace || undefined : undefined,
              resourceRequest: true,
            }).allowed,
        );
        if (verbs.length) resourceRules.push({ verbs, apiGroups: [t.group], resources: [t.resource] });
      }
      const nonResourceRules = [
        "/api",
        "/api/*",
        "/apis",
        "/apis/*",
        "/healthz",
        "/livez",
        "/readyz",
        "/version",
        "/openapi",
        "/openapi/*",
      ]
        .map((path) => ({
          path,
          verbs: ["get"].filter(
            (verb) => authorizer.authorize(c.cluster, c.user, { verb, path, resourceRequest: false }).allowed,
          ),
        }))
        .filter((r) => r.verbs.length)
        .map((r) => ({ verbs: r.verbs, nonResourceURLs: [r.path] }));
      return reply({ resourceRules, nonResourceRules, incomplete: false });
    }
    case "tokenreviews": {
      let user: UserInfo | undefined;
      try {
        user = await c.deps.authenticator.authenticate(c.cluster, String(spec.token ?? ""));
      } catch {
        user = undefined;
      }
      return reply(
        user
          ? {
              authenticated: true,
              user: { username: user.username, uid: user.uid, groups: user.groups, extra: user.extra },
            }
          : { authenticated: false, error: "invalid bearer token" },
      );
    }
    case "selfsubjectreviews":
      return reply({
        userInfo: { username: c.user.username, uid: c.user.uid, groups: c.user.groups, extra: c.user.extra },
      });
  }
  throw kubeErrors.notFound(c.type.group, c.type.resource, "");
}
