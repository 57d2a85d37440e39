import { describe, expect, it } from "vitest";
import { newLoadBalancerCounters, newTargetGroupCounters } from "../../src/lb/metrics.js";
import type { MetricsSnapshot } from "../../src/lb/metrics.js";
import { loadBalancerPublications } from "../../src/metrics/load-balancers.js";

const LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
const NLB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/tcp/73e2d6bc24d8a067";
const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/6d0ecf831eec9f09";

const snapshot = (at: number, requests: number, over: Record<string, number> = {}): MetricsSnapshot => ({
  at: new Date(at),
  loadBalancers: [
    { loadBalancerArn: LB, ...newLoadBalancerCounters(), requestCount: requests, httpCodeElb5xx: over.elb5xx ?? 0 },
    { loadBalancerArn: NLB, ...newLoadBalancerCounters(), newConnectionCount: 4, activeConnectionCount: 1 },
  ],
  targetGroups: [
    {
      targetGroupArn: TG,
      loadBalancerArn: LB,
      ...newTargetGroupCounters(),
      requestCount: requests,
      httpCodeTarget2xx: requests,
      targetResponseTimeSum: requests * 0.01,
      targetResponseTimeCount: requests,
      targetResponseTimeMax: over.max ?? 0.05,
      healthyHostCount: 2,
      unHealthyHostCount: 1,
      requestCountPerTarget: requests / 2,
      targetResponseTimeAverage: 0.01,
    },
  ],
});

const find = (pubs: ReturnType<typeof loadBalancerPublications>, ns: string, name: string, dims: string[]) =>
  pubs.find(
    (p) =>
      p.key.namespace === ns &&
      p.key.name === name &&
      JSON.stringify(p.key.dimensions.map((d) => d.Name)) === JSON.stringify(dims),
  );

describe("load balancer metrics from data-plane counters", () => {
  it("publishes the increase since the previous snapshot, with AWS's names and dimensions", () => {
    const pubs = loadBalancerPublications(snapshot(0, 100), snapshot(10_000, 160, { elb5xx: 2 }));
    expect(pubs.every((p) => p.scope.account === "123456789012" && p.scope.region === "us-east-1")).toBe(true);
    expect(find(pubs, "AWS/ApplicationELB", "RequestCount", ["LoadBalancer"])).toMatchObject({
      key: { dimensions: [{ Name: "LoadBalancer", Value: "app/web/50dc6c495c0c9188" }] },
      sample: { sum: 60, unit: "Count", timestamp: 10_000 },
    });
    expect(find(pubs, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ["LoadBalancer"])?.sample.sum).toBe(2);
    expect(find(pubs, "AWS/ApplicationELB", "HTTPCode_ELB_4XX_Count", ["LoadBalancer"])).toBeUndefined();
    expect(find(pubs, "AWS/ApplicationELB", "RequestCountPerTarget", ["TargetGroup"])).toMatchObject({
      key: { dimensions: [{ Name: "TargetGroup", Value: "targetgroup/web/6d0ecf831eec9f09" }] },
      sample: { sum: 30 },
    });
    expect(
      find(pubs, "AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", ["LoadBalancer", "TargetGroup"])?.sample.sum,
    ).toBe(60);
    expect(find(pubs, "AWS/ApplicationELB", "HealthyHostCount", ["LoadBalancer", "TargetGroup"])?.sample.sum).toBe(2);
    expect(find(pubs, "AWS/ApplicationELB", "UnHealthyHostCount", ["LoadBalancer", "TargetGroup"])?.sample.sum).toBe(1);
    const rt = find(pubs, "AWS/ApplicationELB", "TargetResponseTime", ["LoadBalancer", "TargetGroup"])!.sample;
    expect(rt.count).toBe(60);
    expect(rt.sum / rt.count).toBeCloseTo(0.01);
    expect(find(pubs, "AWS/NetworkELB", "NewFlowCount", ["LoadBalancer"])).toMatchObject({
      key: { dimensions: [{ Name: "LoadBalancer", Value: "net/tcp/73e2d6bc24d8a067" }] },
    });
    expect(find(pubs, "AWS/NetworkELB", "ActiveFlowCount", ["LoadBalancer"])?.sample.sum).toBe(1);
  });

  it("publishes zero requests when idle, and treats a counter that went down as reset", () => {
    const idle = loadBalancerPublications(snapshot(0, 100), snapshot(10_000, 100));
    expect(find(idle, "AWS/ApplicationELB", "RequestCount", ["LoadBalancer"])?.sample.sum).toBe(0);
    expect(find(idle, "AWS/ApplicationELB", "TargetResponseTime", ["LoadBalancer", "TargetGroup"])).toBeUndefined();
    const reset = loadBalancerPublications(snapshot(0, 100), snapshot(10_000, 7));
    expect(find(reset, "AWS/ApplicationELB", "RequestCount", ["LoadBalancer"])?.sample.sum).toBe(7);
  });
});
