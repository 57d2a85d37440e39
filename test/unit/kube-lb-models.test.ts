import { describe, expect, it } from "vitest";
import {
  buildIngressStack,
  finalizerOf,
  groupIdOf,
  groupsHeldBy,
  isAlbIngress,
  orderMembers,
  pathPatterns,
  sortPaths,
} from "../../src/controllers/kube/loadbalancers/ingress-model.js";
import { buildServiceStack, isManagedService } from "../../src/controllers/kube/loadbalancers/service-model.js";
import {
  type DesiredStack,
  groupResourceName,
  instanceIdOf,
  resourceName,
} from "../../src/controllers/kube/loadbalancers/stack.js";
import { eligibleNodes, podTargets } from "../../src/controllers/kube/loadbalancers/targets.js";
import type { KubeObject } from "../../src/kube/types.js";

const svc = (o: {
  name?: string;
  ns?: string;
  annotations?: Record<string, string>;
  type?: string;
  ports?: Record<string, unknown>[];
  lbClass?: string;
}): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: o.name ?? "web",
    namespace: o.ns ?? "default",
    uid: `uid-${o.name ?? "web"}`,
    ...(o.annotations ? { annotations: o.annotations } : {}),
  },
  spec: {
    type: o.type ?? "LoadBalancer",
    selector: { app: "web" },
    ports: o.ports ?? [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP", nodePort: 30080 }],
    ...(o.lbClass ? { loadBalancerClass: o.lbClass } : {}),
  },
});

const slice = (service: string, ports: { name?: string; port: number }[], endpoints: [string, boolean][]) =>
  ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${service}-x`, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    ports: ports.map((p) => ({ ...p, protocol: "TCP" })),
    endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
  }) as unknown as KubeObject;

const node = (name: string, ready = true, extra: Partial<KubeObject["metadata"]> = {}, providerID?: string) =>
  ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, ...extra },
    spec: providerID ? { providerID } : {},
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  }) as KubeObject;

const stackOf = (r: ReturnType<typeof buildServiceStack>): DesiredStack => {
  if ("error" in r) throw new Error(r.error);
  return r.stack;
};

describe("resource names", () => {
  it("follows k8s-<ns:8>-<name:8>-<hash:10> with non-alphanumerics dropped", () => {
    expect(resourceName("default", "web", "c", "uid", "internal")).toMatch(/^k8s-default-web-[0-9a-f]{10}$/);
    expect(resourceName("my-namespace-long", "a.b_c-service", "x")).toMatch(/^k8s-mynamesp-abcservi-[0-9a-f]{10}$/);
    expect(groupResourceName("shared-group-name-very-long", "x")).toMatch(/^k8s-sharedgroupnameve-[0-9a-f]{10}$/);
    // Every input of the hash counts; the same inputs give the same name.
    expect(resourceName("a", "b", "c", "1")).toBe(resourceName("a", "b", "c", "1"));
    expect(resourceName("a", "b", "c", "1")).not.toBe(resourceName("a", "b", "c", "2"));
    for (const n of [resourceName("n".repeat(40), "m".repeat(40), "h"), groupResourceName("g".repeat(60), "h")])
      expect(n.length).toBeLessThanOrEqual(32);
  });

  it("takes a node's instance id from its providerID, else derives a stable one", () => {
    expect(instanceIdOf(node("n1", true, {}, "aws:///us-east-1a/i-0123456789abcdef0"))).toBe("i-0123456789abcdef0");
    const derived = instanceIdOf(node("berth-local", true, {}, "berth:///us-east-1a/local"));
    expect(derived).toMatch(/^i-[0-9a-f]{17}$/);
    expect(instanceIdOf(node("berth-local"))).toBe(derived);
    expect(instanceIdOf(node("other"))).not.toBe(derived);
  });
});

describe("targets", () => {
  it("takes the ready endpoints of the service port's name, not the terminating or unready", () => {
    const s = slice(
      "web",
      [{ name: "http", port: 8080 }],
      [
        ["10.0.0.2", true],
        ["10.0.0.1", true],
        ["10.0.0.3", false],
      ],
    );
    expect(podTargets([s], { name: "http", protocol: "TCP" })).toEqual([
      { id: "10.0.0.1", port: 8080 },
      { id: "10.0.0.2", port: 8080 },
    ]);
    expect(podTargets([s], { name: "other", protocol: "TCP" })).toEqual([]);
  });

  it("keeps Ready nodes that are not excluded, being deleted or Fargate", () => {
    const nodes = [
      node("a"),
      node("b", false),
      node("c", true, { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } }),
      node("d", true, { deletionTimestamp: "2026-01-01T00:00:00Z" }),
      node("fargate-ip-1", true, { labels: { "eks.amazonaws.com/compute-type": "fargate" } }),
    ];
    expect(eligibleNodes(nodes).map((n) => n.metadata.name)).toEqual(["a"]);
  });
});

describe("Service → NLB stack", () => {
  const base = { clusterName: "prod", slices: [slice("web", [{ name: "http", port: 8080 }], [["10.0.0.5", true]])] };

  it.each([
    [{ type: "LoadBalancer" }, true],
    [{ type: "LoadBalancer", lbClass: "service.k8s.aws/nlb" }, true],
    [{ type: "LoadBalancer", lbClass: "example.com/other" }, false],
    [{ type: "NodePort" }, false],
    [{ type: "ClusterIP" }, false],
  ])("manages %j: %s", (o, managed) => {
    expect(isManagedService(svc(o))).toBe(managed);
  });

  it.each([
    // annotations, target type, scheme
    [{}, "instance", "internet-facing"],
    [{ "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" }, "instance", "internet-facing"],
    [
      {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      },
      "ip",
      "internet-facing",
    ],
    [{ "service.beta.kubernetes.io/aws-load-balancer-type": "external" }, "instance", "internal"],
    [
      {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
      },
      "ip",
      "internet-facing",
    ],
    [{ "service.beta.kubernetes.io/aws-load-balancer-type": "nlb-ip" }, "ip", "internal"],
    [{ "service.beta.kubernetes.io/aws-load-balancer-internal": "true" }, "instance", "internal"],
  ])("annotations %j → %s targets, %s", (annotations, targetType, scheme) => {
    const stack = stackOf(buildServiceStack({ ...base, service: svc({ annotations }), nodes: [node("n")] }));
    expect(stack.loadBalancer.type).toBe("network");
    expect(stack.loadBalancer.scheme).toBe(scheme);
    expect(stack.targetGroups[0]?.targetType).toBe(targetType);
  });

  it("makes one TCP listener and target group per port, with the controller's defaults, names and tags", () => {
    const service = svc({
      annotations: { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" },
      ports: [
        { name: "http", port: 80, targetPort: 8080, protocol: "TCP", nodePort: 30080 },
        { name: "admin", port: 9000, targetPort: "admin", protocol: "TCP", nodePort: 30090 },
        { name: "dns", port: 53, targetPort: 53, protocol: "UDP", nodePort: 30053 },
      ],
    });
    const stack = stackOf(buildServiceStack({ ...base, service, nodes: [] }));
    expect(stack.loadBalancer.name).toBe(resourceName("default", "web", "prod", "uid-web", "internet-facing"));
    expect(stack.loadBalancer.tags).toEqual({
      "elbv2.k8s.aws/cluster": "prod",
      "service.k8s.aws/stack": "default/web",
      "service.k8s.aws/resource": "LoadBalancer",
    });
    expect(stack.listeners.map((l) => [l.port, l.protocol, l.defaultAction])).toEqual([
      [80, "TCP", { type: "forward", targetGroup: "default/web:80" }],
      [9000, "TCP", { type: "forward", targetGroup: "default/web:9000" }],
    ]);
    const [http, admin] = stack.targetGroups;
    expect(http).toMatchObject({
      resource: "default/web:80",
      protocol: "TCP",
      port: 8080,
      targetType: "ip",
      healthCheck: {
        protocol: "TCP",
        port: "traffic-port",
        intervalSeconds: 10,
        timeoutSeconds: 10,
        healthyThresholdCount: 3,
        unhealthyThresholdCount: 3,
      },
      targets: [{ id: "10.0.0.5", port: 8080 }],
    });
    expect(http?.name).toMatch(/^k8s-default-web-[0-9a-f]{10}$/);
    expect(http?.tags["service.k8s.aws/resource"]).toBe("default/web:80");
    // A named target port: the group's port is 1 (targets carry their own ports).
    expect(admin?.port).toBe(1);
    expect(admin?.name).not.toBe(http?.name);
  });

  it("registers every eligible node at the node port for instance targets", () => {
    const stack = stackOf(
      buildServiceStack({
        ...base,
        service: svc({}),
        nodes: [node("a", true, {}, "aws:///z/i-0000000000000000a"), node("b", false)],
      }),
    );
    expect(stack.targetGroups[0]).toMatchObject({ port: 30080, targets: [{ id: "i-0000000000000000a", port: 30080 }] });
  });

  it("honours the health check, name and tag annotations", () => {
    const p = "service.beta.kubernetes.io/aws-load-balancer-";
    const stack = stackOf(
      buildServiceStack({
        ...base,
        nodes: [],
        service: svc({
          annotations: {
            [`${p}healthcheck-protocol`]: "http",
            [`${p}healthcheck-path`]: "/healthz",
            [`${p}healthcheck-port`]: "http",
            [`${p}healthcheck-interval`]: "5",
            [`${p}healthcheck-timeout`]: "2",
            [`${p}healthcheck-healthy-threshold`]: "2",
            [`${p}healthcheck-unhealthy-threshold`]: "4",
            [`${p}healthcheck-success-codes`]: "200-299",
            [`${p}name`]: "my-nlb",
            [`${p}additional-resource-tags`]: "team=web, env=prod",
          },
        }),
      }),
    );
    expect(stack.loadBalancer.name).toBe("my-nlb");
    expect(stack.loadBalancer.tags).toMatchObject({ team: "web", env: "prod" });
    expect(stack.targetGroups[0]?.healthCheck).toEqual({
      protocol: "HTTP",
      port: "30080",
      path: "/healthz",
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 4,
      matcher: "200-299",
    });
  });

  it.each([
    [{ "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "alb" }, /unsupported target type/],
    [{ "service.beta.kubernetes.io/aws-load-balancer-scheme": "public" }, /unknown scheme/],
    [{ "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "ten" }, /failed to parse int32/],
    [{ "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTPS" }, /not supported by Berth/],
    [{ "service.beta.kubernetes.io/aws-load-balancer-name": "x".repeat(33) }, /longer than 32/],
    [{ "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": "novalue" }, /stringMap/],
  ])("refuses %j", (annotations, message) => {
    const r = buildServiceStack({ ...base, service: svc({ annotations }), nodes: [] });
    expect("error" in r && r.error).toMatch(message);
  });

  it("needs a node port for instance targets", () => {
    const r = buildServiceStack({ ...base, nodes: [], service: svc({ ports: [{ port: 80, targetPort: 80 }] }) });
    expect("error" in r && r.error).toMatch(/no nodePort/);
  });
});

const ing = (
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
  extra: Partial<KubeObject["metadata"]> = {},
): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name, namespace: "default", uid: `uid-${name}`, annotations, ...extra },
  spec: { ingressClassName: "alb", ...spec },
});
const albClass: KubeObject = {
  apiVersion: "networking.k8s.io/v1",
  kind: "IngressClass",
  metadata: { name: "alb" },
  spec: { controller: "ingress.k8s.aws/alb" },
};
const backend = (name: string, port: number | string = 80) => ({
  service: { name, port: typeof port === "number" ? { number: port } : { name: port } },
});
const path = (p: string, pathType: string, svcName: string) => ({ path: p, pathType, backend: backend(svcName) });

describe("Ingress classes and groups", () => {
  const nginx: KubeObject = { ...albClass, metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } };
  it.each([
    [{ ingressClassName: "alb" }, {}, [albClass], true],
    [{ ingressClassName: "nginx" }, {}, [albClass, nginx], false],
    [{ ingressClassName: "missing" }, {}, [albClass], false],
    [{ ingressClassName: undefined }, { "kubernetes.io/ingress.class": "alb" }, [], true],
    [{ ingressClassName: undefined }, { "kubernetes.io/ingress.class": "nginx" }, [albClass], false],
    [
      { ingressClassName: undefined },
      {},
      [
        {
          ...albClass,
          metadata: { name: "alb", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
        },
      ],
      true,
    ],
    [{ ingressClassName: undefined }, {}, [albClass], false],
  ])("%j %j with classes %# is ours", (spec, annotations, classes, ours) => {
    expect(isAlbIngress(ing("i", spec, annotations), classes as KubeObject[])).toBe(ours);
  });

  it("groups by group.name, else the Ingress alone, and knows the groups its finalizers hold", () => {
    const implicit = ing("a", {});
    const explicit = ing("b", {}, { "alb.ingress.kubernetes.io/group.name": "shared" });
    expect(groupIdOf(implicit)).toBe("default/a");
    expect(groupIdOf(explicit)).toBe("shared");
    expect(finalizerOf("default/a")).toBe("ingress.k8s.aws/resources");
    expect(finalizerOf("shared")).toBe("group.ingress.k8s.aws/shared");
    const holder = ing("c", {}, {}, { finalizers: ["ingress.k8s.aws/resources", "group.ingress.k8s.aws/old"] });
    expect(groupsHeldBy(holder)).toEqual(["default/c", "old"]);
  });

  it("orders members by group.order, then namespace/name", () => {
    const o = (name: string, order?: string) =>
      ing(name, {}, order ? { "alb.ingress.kubernetes.io/group.order": order } : {});
    expect(orderMembers([o("z"), o("b", "2"), o("a"), o("c", "-1")]).map((i) => i.metadata.name)).toEqual([
      "c",
      "a",
      "z",
      "b",
    ]);
  });
});

describe("Ingress paths", () => {
  it.each([
    ["/", "Prefix", ["/*"]],
    ["/foo", "Prefix", ["/foo", "/foo/*"]],
    ["/foo/", "Prefix", ["/foo", "/foo/*"]],
    ["/foo", "Exact", ["/foo"]],
    ["/foo*", "ImplementationSpecific", ["/foo*"]],
    ["/foo", undefined, ["/foo"]],
  ])("%s %s → %j", (p, type, want) => {
    expect(pathPatterns(p, type)).toEqual(want);
  });

  it("refuses wildcards in Exact and Prefix paths", () => {
    expect(() => pathPatterns("/a*", "Exact")).toThrow(/wildcards/);
    expect(() => pathPatterns("/a?", "Prefix")).toThrow(/wildcards/);
  });

  it("puts Exact first, then Prefix longest first, then the rest in order", () => {
    const paths = [
      { path: "/x", pathType: "ImplementationSpecific" },
      { path: "/a", pathType: "Prefix" },
      { path: "/abc", pathType: "Prefix" },
      { path: "/e", pathType: "Exact" },
      { path: "/y" },
    ];
    expect(sortPaths(paths).map((p) => p.path)).toEqual(["/e", "/abc", "/a", "/x", "/y"]);
  });
});

describe("Ingress group → ALB stack", () => {
  const services = [
    svc({ name: "a", type: "ClusterIP", ports: [{ name: "http", port: 80, targetPort: 8080 }] }),
    svc({ name: "b", type: "NodePort", ports: [{ name: "web", port: 80, targetPort: 8080, nodePort: 31000 }] }),
  ];
  const slices = [slice("a", [{ name: "http", port: 8080 }], [["10.0.0.7", true]])];
  const build = (members: KubeObject[], groupId = groupIdOf(members[0] as KubeObject)) =>
    buildIngressStack({ clusterName: "prod", groupId, members, services, slices, nodes: [node("n")] });
  const ipAnno = { "alb.ingress.kubernetes.io/target-type": "ip" };

  it("makes an HTTP:80 listener, rules by priority and a 404 default, target groups per backend", () => {
    const r = build([
      ing(
        "web",
        {
          rules: [
            { host: "shop.example.com", http: { paths: [path("/a", "Prefix", "a"), path("/b", "Exact", "a")] } },
            { http: { paths: [{ pathType: "Prefix", path: "/", backend: backend("a") }] } },
          ],
        },
        ipAnno,
      ),
    ]);
    if ("error" in r) throw new Error(r.error);
    const { stack } = r;
    expect(stack.loadBalancer).toMatchObject({ type: "application", scheme: "internal" });
    expect(stack.loadBalancer.name).toBe(resourceName("default", "web", "prod", "default/web", "internal"));
    expect(stack.identity).toEqual({ "elbv2.k8s.aws/cluster": "prod", "ingress.k8s.aws/stack": "default/web" });
    const [l] = stack.listeners;
    expect(l?.port).toBe(80);
    expect(l?.defaultAction).toEqual({ type: "fixed-response", statusCode: "404", contentType: "text/plain" });
    expect(l?.rules.map((x) => [x.priority, x.conditions])).toEqual([
      [
        1,
        [
          { field: "host-header", values: ["shop.example.com"] },
          { field: "path-pattern", values: ["/b"] },
        ],
      ],
      [
        2,
        [
          { field: "host-header", values: ["shop.example.com"] },
          { field: "path-pattern", values: ["/a", "/a/*"] },
        ],
      ],
      [3, [{ field: "path-pattern", values: ["/*"] }]],
    ]);
    expect(stack.targetGroups).toHaveLength(1);
    expect(stack.targetGroups[0]).toMatchObject({
      resource: "default/web-a:80",
      protocol: "HTTP",
      port: 8080,
      targetType: "ip",
      healthCheck: {
        protocol: "HTTP",
        port: "traffic-port",
        path: "/",
        intervalSeconds: 15,
        timeoutSeconds: 5,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        matcher: "200",
      },
      targets: [{ id: "10.0.0.7", port: 8080 }],
    });
  });

  it("uses node ports for instance targets (the default) and needs a NodePort Service for them", () => {
    const ok = build([ing("web", { defaultBackend: backend("b", "web") })]);
    if ("error" in ok) throw new Error(ok.error);
    expect(ok.stack.listeners[0]?.defaultAction).toEqual({ type: "forward", targetGroup: "default/web-b:web" });
    expect(ok.stack.targetGroups[0]).toMatchObject({ port: 31000, targetType: "instance" });
    expect(ok.stack.targetGroups[0]?.targets).toEqual([{ id: instanceIdOf(node("n")), port: 31000 }]);
    const bad = build([ing("web", { defaultBackend: backend("a") })]);
    expect("error" in bad && bad.error).toMatch(/not of type NodePort or LoadBalancer/);
  });

  it("merges an explicit group's members in order onto their listen ports", () => {
    const g = { "alb.ingress.kubernetes.io/group.name": "shared", ...ipAnno };
    const first = ing(
      "one",
      { rules: [{ http: { paths: [path("/one", "Prefix", "a")] } }] },
      {
        ...g,
        "alb.ingress.kubernetes.io/group.order": "1",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTP": 8080}]',
      },
    );
    const second = ing("two", { rules: [{ http: { paths: [path("/two", "Exact", "a")] } }] }, g);
    const r = build([first, second], "shared");
    if ("error" in r) throw new Error(r.error);
    expect(r.stack.loadBalancer.name).toBe(groupResourceName("shared", "prod", "shared", "internal"));
    expect(r.stack.listeners.map((l) => [l.port, l.rules.map((x) => x.conditions[0]?.values)])).toEqual([
      [80, [["/two"], ["/one", "/one/*"]]],
      [8080, [["/one", "/one/*"]]],
    ]);
    expect(r.stack.targetGroups.map((t) => t.resource)).toEqual(["default/two-a:80", "default/one-a:80"]);
  });

  it.each([
    [{ "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]' }, /HTTPS listeners are not supported/],
    [{ "alb.ingress.kubernetes.io/listen-ports": "80" }, /empty listen-ports|failed to parse/],
    [{ "alb.ingress.kubernetes.io/scheme": "public" }, /unknown scheme/],
    [{ "alb.ingress.kubernetes.io/target-type": "lambda" }, /unknown targetType/],
    [{ "alb.ingress.kubernetes.io/backend-protocol": "HTTPS", ...ipAnno }, /not supported by Berth/],
  ])("refuses %j", (annotations, message) => {
    const r = build([ing("web", { defaultBackend: backend("a") }, annotations)]);
    expect("error" in r && r.error).toMatch(message);
  });

  it("names a missing Service or port as the controller does", () => {
    const missing = build([ing("web", { defaultBackend: backend("nope") }, ipAnno)]);
    expect("error" in missing && missing.error).toBe('ingress: default/web: Service "nope" not found');
    const port = build([ing("web", { defaultBackend: backend("a", 81) }, ipAnno)]);
    expect("error" in port && port.error).toMatch(/unable to find port 81 on service default\/a/);
  });

  it("refuses conflicting schemes across a group", () => {
    const g = { "alb.ingress.kubernetes.io/group.name": "g", ...ipAnno };
    const r = build(
      [
        ing("x", { defaultBackend: backend("a") }, { ...g, "alb.ingress.kubernetes.io/scheme": "internal" }),
        ing("y", {}, { ...g, "alb.ingress.kubernetes.io/scheme": "internet-facing" }),
      ],
      "g",
    );
    expect("error" in r && r.error).toMatch(/conflicting scheme/);
  });
});
