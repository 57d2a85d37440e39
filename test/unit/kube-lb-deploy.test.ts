import { beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import type { Elbv2Api } from "../../src/controllers/kube/loadbalancers/api.js";
import { deleteStack, deployStack, readInventory } from "../../src/controllers/kube/loadbalancers/deploy.js";
import { buildIngressStack } from "../../src/controllers/kube/loadbalancers/ingress-model.js";
import { buildServiceStack } from "../../src/controllers/kube/loadbalancers/service-model.js";
import type { DesiredStack } from "../../src/controllers/kube/loadbalancers/stack.js";
import type { KubeObject } from "../../src/kube/types.js";
import { elbv2ApiOf } from "../../src/services/elbv2/kube.js";
import { elbv2Service } from "../../src/services/elbv2/provider.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const scope = { account: "111122223333", region: "us-east-1" };

const service = (annotations: Record<string, string>, ports: Record<string, unknown>[]): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default", uid: "uid-web", annotations },
  spec: { type: "LoadBalancer", selector: { app: "web" }, ports },
});
const slice = (ips: string[]) =>
  ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  }) as unknown as KubeObject;

const IP = { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" };
const http = { name: "http", port: 80, targetPort: 8080, protocol: "TCP" };

function stackOf(annotations: Record<string, string>, ports: Record<string, unknown>[], ips: string[]): DesiredStack {
  const r = buildServiceStack({
    clusterName: "c",
    service: service(annotations, ports),
    slices: [slice(ips)],
    nodes: [],
  });
  if ("error" in r) throw new Error(r.error);
  return r.stack;
}

/** The real ELBv2 provider (in-memory store, no data plane), counting the calls that change something. */
function harness() {
  const { service: svc } = elbv2Service({ store: new DocumentStore(openDb(":memory:")), clock: systemClock });
  const real = elbv2ApiOf(svc);
  const writes: string[] = [];
  const api: Elbv2Api = {
    send(s, op, input) {
      if (!op.startsWith("Describe")) writes.push(op);
      return real.send(s, op, input);
    },
  };
  return { api, writes };
}

describe("the stack deployer on ELBv2", () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  const health = async (arn: string) =>
    ((await h.api.send(scope, "DescribeTargetHealth", { TargetGroupArn: arn })).TargetHealthDescriptions ?? [])
      .filter((d) => d.TargetHealth?.State !== "draining")
      .map((d) => `${d.Target?.Id}:${d.Target?.Port}`);

  it("creates the stack once, then changes nothing", async () => {
    const stack = stackOf(IP, [http], ["10.200.1.2", "10.200.1.3"]);
    let changes = 0;
    const first = await deployStack(h.api, scope, stack, () => changes++);
    expect(changes).toBe(1);
    expect(h.writes).toEqual(["CreateTargetGroup", "CreateLoadBalancer", "CreateListener", "RegisterTargets"]);
    expect(first.dnsName).toMatch(/^127\./);
    const inv = await readInventory(h.api, scope, "c");
    expect(inv.loadBalancers.map((l) => l.resource.LoadBalancerName)).toEqual([stack.loadBalancer.name]);
    const tg = inv.targetGroups[0]?.resource;
    expect(tg).toMatchObject({ Protocol: "TCP", Port: 8080, TargetType: "ip", HealthCheckTimeoutSeconds: 10 });
    expect(await health(tg?.TargetGroupArn ?? "")).toEqual(["10.200.1.2:8080", "10.200.1.3:8080"]);

    h.writes.length = 0;
    const again = await deployStack(h.api, scope, stack, () => changes++);
    expect(changes).toBe(1);
    expect(h.writes).toEqual([]);
    expect(again).toEqual(first);
  });

  it("follows endpoints, ports and health check changes, dropping what is no longer wanted", async () => {
    await deployStack(h.api, scope, stackOf(IP, [http], ["10.200.1.2", "10.200.1.3"]));
    let changes = 0;
    const { dnsName } = await deployStack(
      h.api,
      scope,
      stackOf(IP, [http], ["10.200.1.3", "10.200.1.4"]),
      () => changes++,
    );
    expect(changes).toBe(0); // targets follow the pods without an "Ensuring" event
    const tgArn = (await readInventory(h.api, scope)).targetGroups[0]?.resource.TargetGroupArn ?? "";
    expect(h.writes.slice(-2)).toEqual(["DeregisterTargets", "RegisterTargets"]);
    expect(await health(tgArn)).toEqual(["10.200.1.3:8080", "10.200.1.4:8080"]);

    // A second port and a new interval (part of the target group's name): new groups, the old one goes.
    h.writes.length = 0;
    const annotations = { ...IP, "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "20" };
    const admin = { name: "admin", port: 9000, targetPort: 8080, protocol: "TCP" };
    const next = await deployStack(h.api, scope, stackOf(annotations, [http, admin], ["10.200.1.3"]));
    expect(next.dnsName).toBe(dnsName);
    expect(h.writes).toEqual([
      "CreateTargetGroup",
      "CreateTargetGroup",
      "ModifyListener",
      "CreateListener",
      "DeleteTargetGroup",
      "RegisterTargets", // the slice has no "admin" port: that group stays empty
    ]);
    const lbArn = (await readInventory(h.api, scope)).loadBalancers[0]?.resource.LoadBalancerArn ?? "";
    const listeners = (await h.api.send(scope, "DescribeListeners", { LoadBalancerArn: lbArn })).Listeners ?? [];
    expect(listeners.map((l) => l.Port).sort()).toEqual([80, 9000]);

    // A timeout change is modified in place.
    h.writes.length = 0;
    const timeout = { ...annotations, "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout": "5" };
    await deployStack(h.api, scope, stackOf(timeout, [http, admin], ["10.200.1.3"]));
    expect(h.writes).toEqual(["ModifyTargetGroup", "ModifyTargetGroup"]);

    // Back to one port: its listener and group go.
    h.writes.length = 0;
    await deployStack(h.api, scope, stackOf(timeout, [http], ["10.200.1.3"]));
    expect(h.writes).toEqual(["DeleteListener", "DeleteTargetGroup"]);
  });

  it("replaces the load balancer when its scheme changes", async () => {
    const first = await deployStack(h.api, scope, stackOf(IP, [http], ["10.200.1.2"]));
    const internal = { ...IP, "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" };
    const second = await deployStack(h.api, scope, stackOf(internal, [http], ["10.200.1.2"]));
    expect(second.loadBalancerArn).not.toBe(first.loadBalancerArn);
    const inv = await readInventory(h.api, scope);
    expect(inv.loadBalancers.map((l) => l.resource.Scheme)).toEqual(["internal"]);
    expect(inv.targetGroups).toHaveLength(1);
  });

  it("deletes only its own stack's load balancer and target groups", async () => {
    const stack = stackOf(IP, [http], ["10.200.1.2"]);
    await deployStack(h.api, scope, stack);
    const other = await h.api.send(scope, "CreateTargetGroup", { Name: "mine", Protocol: "TCP", Port: 80 });
    expect(await deleteStack(h.api, scope, stack.identity)).toBe(true);
    expect(await deleteStack(h.api, scope, stack.identity)).toBe(false);
    const left = (await h.api.send(scope, "DescribeTargetGroups", {})).TargetGroups ?? [];
    expect(left.map((t) => t.TargetGroupArn)).toEqual([other.TargetGroups?.[0]?.TargetGroupArn]);
    expect((await h.api.send(scope, "DescribeLoadBalancers", {})).LoadBalancers).toEqual([]);
  });

  it("keeps an ALB's rules in step with the Ingress paths", async () => {
    const backendSvc = (name: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: "default", uid: `uid-${name}` },
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const ingress = (paths: string[]): KubeObject => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        name: "shop",
        namespace: "default",
        uid: "uid-shop",
        annotations: { "alb.ingress.kubernetes.io/target-type": "ip" },
      },
      spec: {
        ingressClassName: "alb",
        rules: [
          {
            http: {
              paths: paths.map((p) => ({
                path: `/${p}`,
                pathType: "Prefix",
                backend: { service: { name: p, port: { number: 80 } } },
              })),
            },
          },
        ],
      },
    });
    const build = (paths: string[]) => {
      const r = buildIngressStack({
        clusterName: "c",
        groupId: "default/shop",
        members: [ingress(paths)],
        services: [backendSvc("a"), backendSvc("b"), backendSvc("c")],
        slices: [],
        nodes: [],
      });
      if ("error" in r) throw new Error(r.error);
      return r.stack;
    };
    const { loadBalancerArn } = await deployStack(h.api, scope, build(["a", "b"]));
    const rulesNow = async () => {
      const [l] = (await h.api.send(scope, "DescribeListeners", { LoadBalancerArn: loadBalancerArn })).Listeners ?? [];
      const rules = (await h.api.send(scope, "DescribeRules", { ListenerArn: l?.ListenerArn ?? "" })).Rules ?? [];
      return rules.map((r) => `${r.Priority}:${r.Conditions?.[0]?.PathPatternConfig?.Values?.[0] ?? "-"}`);
    };
    expect(await rulesNow()).toEqual(["1:/a", "2:/b", "default:-"]);
    h.writes.length = 0;
    await deployStack(h.api, scope, build(["c", "a"]));
    expect(await rulesNow()).toEqual(["1:/c", "2:/a", "default:-"]);
    expect(h.writes).toEqual(["CreateTargetGroup", "ModifyRule", "ModifyRule", "DeleteTargetGroup"]);
  });
});
