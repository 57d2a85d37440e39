import { describe, expect, it } from "vitest";
import { aggregatedDiscovery, apiGroupList, apiResourceList, wantsAggregated } from "../../src/kube-api/discovery.js";
import { filterEvent } from "../../src/kube-api/watch.js";
import { parseLabelSelector } from "../../src/kube-api/selectors.js";
import { BUILTIN_RESOURCES } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/types.js";

describe("discovery documents from the resource table", () => {
  it("/api/v1 lists resources and subresources as kube-apiserver does", () => {
    const l = apiResourceList(BUILTIN_RESOURCES, "", "v1")!;
    const pods = l.resources.find((r) => r.name === "pods");
    expect(pods).toMatchObject({
      singularName: "pod",
      namespaced: true,
      kind: "Pod",
      shortNames: ["po"],
      categories: ["all"],
    });
    expect(l.resources.find((r) => r.name === "pods/log")).toMatchObject({ kind: "Pod", verbs: ["get"] });
    expect(l.resources.find((r) => r.name === "pods/status")).toMatchObject({ verbs: ["get", "patch", "update"] });
    const scale = apiResourceList(BUILTIN_RESOURCES, "apps", "v1")!.resources.find(
      (r) => r.name === "deployments/scale",
    );
    expect(scale).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale" });
    expect(apiResourceList(BUILTIN_RESOURCES, "apps", "v9")).toBeUndefined();
  });

  it("/apis and the aggregated v2 document", () => {
    expect(apiGroupList(BUILTIN_RESOURCES).groups.map((g) => g.name)).toContain("apps");
    const agg = aggregatedDiscovery(BUILTIN_RESOURCES, false);
    const apps = agg.items.find((i) => i.metadata.name === "apps")!;
    const dep = apps.versions[0].resources.find((r) => r.resource === "deployments")!;
    expect(dep).toMatchObject({
      scope: "Namespaced",
      singularResource: "deployment",
      responseKind: { group: "apps", version: "v1", kind: "Deployment" },
    });
    expect(dep.subresources?.map((s) => s.subresource)).toEqual(["status", "scale"]);
    expect(aggregatedDiscovery(BUILTIN_RESOURCES, true).items.map((i) => i.metadata.name)).toEqual([""]);
  });

  it("reads kubectl's Accept header", () => {
    expect(
      wantsAggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
      ),
    ).toBe("v2");
    expect(wantsAggregated("application/json, */*")).toBeUndefined();
  });
});

describe("filtered watch events", () => {
  const o = (labels: Record<string, string>) =>
    ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "n", labels } }) as KubeObject;
  it("an object entering the selection is ADDED, leaving it DELETED", () => {
    const filter = { labels: parseLabelSelector("app=web"), fields: [] };
    const seen = new Map<string, boolean>();
    expect(filterEvent(filter, seen, "ADDED", o({ app: "db" }))).toBeUndefined();
    expect(filterEvent(filter, seen, "MODIFIED", o({ app: "web" }))).toBe("ADDED");
    expect(filterEvent(filter, seen, "MODIFIED", o({ app: "web", x: "1" }))).toBe("MODIFIED");
    expect(filterEvent(filter, seen, "MODIFIED", o({ app: "db" }))).toBe("DELETED");
    expect(filterEvent(filter, seen, "DELETED", o({ app: "db" }))).toBeUndefined();
    // unknown before (the watch started from a resourceVersion): a matching change is passed on as it is
    expect(filterEvent(filter, new Map(), "MODIFIED", o({ app: "web" }))).toBe("MODIFIED");
  });
});
