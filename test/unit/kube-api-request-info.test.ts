import { describe, expect, it } from "vitest";
import { requestInfo } from "../../src/kube-api/request-info.js";
import { forbiddenError } from "../../src/kube-api/server.js";

const info = (method: string, url: string) => {
  const u = new URL(url, "https://x");
  const { parts: _p, apiPrefix: _a, ...rest } = requestInfo(method, u.pathname, u.searchParams);
  return rest;
};

describe("kube-api request info (kube-apiserver's RequestInfoFactory)", () => {
  it.each([
    ["GET", "/api/v1/namespaces/default/pods", { verb: "list", resource: "pods", namespace: "default", apiGroup: "" }],
    [
      "GET",
      "/api/v1/namespaces/default/pods/web",
      { verb: "get", resource: "pods", name: "web", namespace: "default" },
    ],
    ["GET", "/api/v1/pods?watch=true", { verb: "watch", resource: "pods" }],
    ["GET", "/api/v1/pods?watch=1", { verb: "watch", resource: "pods" }],
    ["GET", "/api/v1/pods?watch=false", { verb: "list", resource: "pods" }],
    ["GET", "/api/v1/watch/namespaces/a/pods/b", { verb: "watch", resource: "pods", name: "b", namespace: "a" }],
    ["GET", "/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dx", { verb: "list", name: "x", namespace: "a" }],
    [
      "POST",
      "/apis/apps/v1/namespaces/a/deployments",
      { verb: "create", apiGroup: "apps", apiVersion: "v1", resource: "deployments" },
    ],
    ["PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale", { verb: "update", subresource: "scale", name: "d" }],
    ["PATCH", "/api/v1/namespaces/a/pods/p/status", { verb: "patch", subresource: "status", name: "p" }],
    ["DELETE", "/api/v1/namespaces/a/configmaps/c", { verb: "delete", resource: "configmaps", name: "c" }],
    ["DELETE", "/api/v1/namespaces/a/configmaps", { verb: "deletecollection", resource: "configmaps" }],
    ["GET", "/api/v1/namespaces/a/pods/p/log", { verb: "get", subresource: "log" }],
    ["POST", "/api/v1/namespaces/a/pods/p/exec?command=ls", { verb: "create", subresource: "exec" }],
    // namespaces address themselves: the name is the namespace too
    [
      "GET",
      "/api/v1/namespaces/kube-system",
      { verb: "get", resource: "namespaces", name: "kube-system", namespace: "kube-system" },
    ],
    [
      "PUT",
      "/api/v1/namespaces/x/finalize",
      { verb: "update", resource: "namespaces", name: "x", subresource: "finalize" },
    ],
    ["GET", "/api/v1/namespaces", { verb: "list", resource: "namespaces" }],
    [
      "GET",
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
      { verb: "get", resource: "clusterroles", name: "admin" },
    ],
  ])("%s %s", (method, url, want) => {
    expect(info(method, url)).toMatchObject({ resourceRequest: true, ...want });
  });

  it.each([
    ["GET", "/version"],
    ["GET", "/healthz"],
    ["GET", "/api"],
    ["GET", "/api/v1"],
    ["GET", "/apis"],
    ["GET", "/apis/apps"],
    ["GET", "/apis/apps/v1"],
    ["GET", "/openapi/v2"],
  ])("%s %s is a non-resource request", (method, url) => {
    expect(info(method, url)).toMatchObject({ resourceRequest: false, verb: "get", path: url });
  });

  it("403 messages as kube-apiserver words them", () => {
    const u = { username: "alice", groups: [] };
    expect(
      forbiddenError(
        u,
        { verb: "list", resource: "pods", apiGroup: "", namespace: "default", resourceRequest: true },
        "",
      ).message,
    ).toBe('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    const e = forbiddenError(
      u,
      {
        verb: "get",
        resource: "deployments",
        subresource: "scale",
        apiGroup: "apps",
        name: "web",
        resourceRequest: true,
      },
      'RBAC: clusterrole.rbac.authorization.k8s.io "x" not found',
    );
    expect(e.message).toBe(
      'deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments/scale" in API group "apps" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found',
    );
    expect(e.toStatus()).toMatchObject({
      code: 403,
      reason: "Forbidden",
      details: { name: "web", group: "apps", kind: "deployments" },
    });
    expect(forbiddenError(u, { verb: "get", path: "/metrics", resourceRequest: false }, "").message).toBe(
      'forbidden: User "alice" cannot get path "/metrics"',
    );
  });
});
