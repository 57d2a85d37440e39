/**
 * Discovery documents from the resource table: /api, /api/v1, /apis, /apis/<group>,
 * /apis/<group>/<version> (APIVersions, APIGroupList, APIGroup, APIResourceList) and the aggregated
 * discovery of kubectl 1.26+ (apidiscovery.k8s.io/v2 APIGroupDiscoveryList). PURE.
 */
import { apiVersionOf, type ResourceType } from "../kube/types.js";

/** What each subresource answers with and which verbs it has (kube-apiserver's discovery of them). */
const SUBRESOURCES: Record<string, { kind: string; verbs: string[]; group?: string; version?: string }> = {
  status: { kind: "", verbs: ["get", "patch", "update"] },
  scale: { kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] },
  log: { kind: "Pod", verbs: ["get"] },
  exec: { kind: "PodExecOptions", verbs: ["create", "get"] },
  attach: { kind: "PodAttachOptions", verbs: ["create", "get"] },
  portforward: { kind: "PodPortForwardOptions", verbs: ["create", "get"] },
  binding: { kind: "Binding", verbs: ["create"] },
  eviction: { kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] },
  proxy: { kind: "", verbs: ["create", "delete", "get", "patch", "update"] },
  token: { kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: ["create"] },
  finalize: { kind: "", verbs: ["update"] },
};

export const subresourceInfo = (type: ResourceType, sub: string) => {
  const s = SUBRESOURCES[sub];
  if (!s) return undefined;
  return { ...s, kind: s.kind || (sub === "proxy" ? `${type.kind}ProxyOptions` : type.kind) };
};

/** The subresources a resource serves: status when it has one, then the table's. */
export function subresourcesOf(type: ResourceType): string[] {
  return [...(type.status ? ["status"] : []), ...(type.subresources ?? [])].filter((s) => SUBRESOURCES[s]);
}

export interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceType[];
}

/** Groups in kube-apiserver's order: core first, then as the table lists them. */
export function groupsOf(types: readonly ResourceType[]): GroupVersion[] {
  const out: GroupVersion[] = [];
  for (const t of types) {
    let g = out.find((x) => x.group === t.group && x.version === t.version);
    if (!g) {
      g = { group: t.group, version: t.version, resources: [] };
      out.push(g);
    }
    g.resources.push(t);
  }
  return out;
}

export const apiVersions = (serverAddress: string) => ({
  kind: "APIVersions",
  versions: ["v1"],
  serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
});

const groupEntry = (gvs: GroupVersion[]) => {
  const versions = gvs.map((g) => ({ groupVersion: apiVersionOf(g), version: g.version }));
  return { name: gvs[0].group, versions, preferredVersion: versions[0] };
};

export function apiGroupList(types: readonly ResourceType[]) {
  const named = groupsOf(types).filter((g) => g.group !== "");
  const names = [...new Set(named.map((g) => g.group))];
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: names.map((n) => groupEntry(named.filter((g) => g.group === n))),
  };
}

export function apiGroup(types: readonly ResourceType[], group: string) {
  const gvs = groupsOf(types).filter((g) => g.group === group);
  if (!gvs.length || group === "") return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(gvs) };
}

export function apiResourceList(types: readonly ResourceType[], group: string, version: string) {
  const gv = groupsOf(types).find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of gv.resources) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories?.length ? { categories: t.categories } : {}),
    });
    for (const sub of subresourcesOf(t)) {
      const s = subresourceInfo(t, sub)!;
      resources.push({
        name: `${t.resource}/${sub}`,
        singularName: "",
        namespaced: t.namespaced,
        ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: apiVersionOf(gv), resources };
}

/** The aggregated discovery content type (and its v2beta1 predecessor, same shape). */
export const AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
export const AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/** The aggregated discovery document of /api (core: `core` true) or /apis. */
export function aggregatedDiscovery(types: readonly ResourceType[], core: boolean, version: "v2" | "v2beta1" = "v2") {
  const gvs = groupsOf(types).filter((g) => (g.group === "") === core);
  const names = [...new Set(gvs.map((g) => g.group))];
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: names.map((n) => ({
      metadata: { name: n, creationTimestamp: null },
      versions: gvs
        .filter((g) => g.group === n)
        .map((g) => ({
          version: g.version,
          resources: g.resources.map((t) => ({
            resource: t.resource,
            responseKind: { group: t.group, version: t.version, kind: t.kind },
            scope: t.namespaced ? "Namespaced" : "Cluster",
            singularResource: t.singular,
            verbs: t.verbs,
            ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
            ...(t.categories?.length ? { categories: t.categories } : {}),
            ...(subresourcesOf(t).length
              ? {
                  subresources: subresourcesOf(t).map((sub) => {
                    const s = subresourceInfo(t, sub)!;
                    return {
                      subresource: sub,
                      responseKind: { group: s.group ?? t.group, version: s.version ?? t.version, kind: s.kind },
                      verbs: s.verbs,
                    };
                  }),
                }
              : {}),
          })),
          freshness: "Current",
        })),
    })),
  };
}

/** Which aggregated discovery version the Accept header asks for first (undefined: the plain documents). */
export function wantsAggregated(accept: string | undefined): "v2" | "v2beta1" | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(",")) {
    const p = part.replace(/\s+/g, "");
    if (!p.includes("as=APIGroupDiscoveryList") || !p.includes("g=apidiscovery.k8s.io")) {
      if (/^application\/json(;|$)/.test(p) && !p.includes("as=")) return undefined;
      continue;
    }
    if (p.includes("v=v2beta1")) return "v2beta1";
    if (p.includes("v=v2;") || p.endsWith("v=v2")) return "v2";
  }
  return undefined;
}
