import { describe, expect, it } from "vitest";
import { appRunnerPublications } from "../../src/metrics/apprunner.js";
import { type Publication, loadBalancerPublications } from "../../src/metrics/load-balancers.js";
import type { LoadBalancerMetrics, MetricsSnapshot, TargetGroupMetrics } from "../../src/lb/metrics.js";

const scope = { account: "000000000000", region: "us-east-1" };
const lbArn = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/berth-apprunner/50dc6c495c0c9188";
const tgArn = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/apprunner-web/6d0ecf831eec9f09";
const otherTg = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/other/1111111111111111";
const target = {
  scope,
  serviceName: "web",
  serviceId: "8fe1e10304f84fd2b0df550fe98a71fa",
  targetGroup: "targetgroup/apprunner-web/6d0ecf831eec9f09",
};

const lb = (requests: number): LoadBalancerMetrics =>
  ({
    loadBalancerArn: lbArn,
    requestCount: requests,
    httpCodeElb3xx: 0,
    httpCodeElb4xx: 0,
    httpCodeElb5xx: 0,
    newConnectionCount: 0,
    activeConnectionCount: 0,
    processedBytes: 0,
  }) as LoadBalancerMetrics;
const tg = (arn: string, n: number, healthy: number): TargetGroupMetrics =>
  ({
    loadBalancerArn: lbArn,
    targetGroupArn: arn,
    requestCount: n,
    httpCodeTarget2xx: n - 2 * (n / 10),
    httpCodeTarget3xx: 0,
    httpCodeTarget4xx: n / 10,
    httpCodeTarget5xx: n / 10,
    targetConnectionErrorCount: 0,
    targetResponseTimeSum: n * 0.02,
    targetResponseTimeCount: n,
    targetResponseTimeMax: 0.05,
    healthyHostCount: healthy,
    unHealthyHostCount: 0,
  }) as TargetGroupMetrics;
const snapshot = (at: number, n: number): MetricsSnapshot =>
  ({ at: new Date(at), loadBalancers: [lb(n)], targetGroups: [tg(tgArn, n, 2), tg(otherTg, n, 1)] }) as MetricsSnapshot;

describe("appRunnerPublications", () => {
  const published = loadBalancerPublications(snapshot(0, 10), snapshot(5000, 30));
  const out = appRunnerPublications(published, [target]);
  const byName = new Map(out.map((p) => [p.key.name, p]));

  it("reads App Runner's metrics from its target group only, with ServiceID and ServiceName", () => {
    expect([...byName.keys()].sort()).toEqual([
      "2xxStatusResponses",
      "4xxStatusResponses",
      "5xxStatusResponses",
      "ActiveInstances",
      "RequestLatency",
      "Requests",
    ]);
    for (const p of out) {
      expect(p.key.namespace).toBe("AWS/AppRunner");
      expect(p.key.dimensions).toEqual([
        { Name: "ServiceID", Value: target.serviceId },
        { Name: "ServiceName", Value: "web" },
      ]);
    }
  });

  it.each<[string, number, string]>([
    ["Requests", 20, "Count"],
    ["2xxStatusResponses", 16, "Count"], // 24 - 8: the counter's increase
    ["5xxStatusResponses", 2, "Count"],
    ["ActiveInstances", 2, "Count"],
  ])("%s = %s %s", (name, sum, unit) => {
    expect(byName.get(name)!.sample).toMatchObject({ sum, unit });
  });

  it("gives RequestLatency in milliseconds", () => {
    const s = byName.get("RequestLatency")!.sample;
    expect(s.unit).toBe("Milliseconds");
    expect(s.sum).toBeCloseTo(20 * 0.02 * 1000);
    expect(s.count).toBe(20);
  });

  it("publishes nothing for target groups no service runs behind, or other namespaces", () => {
    expect(appRunnerPublications(published, [])).toEqual([]);
    const foreign: Publication[] = published.map((p) => ({ ...p, key: { ...p.key, namespace: "AWS/NetworkELB" } }));
    expect(appRunnerPublications(foreign, [target])).toEqual([]);
  });
});
