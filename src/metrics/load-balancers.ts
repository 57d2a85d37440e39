import type { Scope } from "../core/ids.js";
import { parseArn } from "../core/ids.js";
import type {
  LoadBalancerMetrics,
  LoadBalancerMetricsSource,
  MetricsSnapshot,
  TargetGroupMetrics,
} from "../lb/metrics.js";
import type { MetricSource } from "./collector.js";
import type { Sample } from "./statistics.js";
import type { MetricKey, MetricStore } from "./store.js";

/** One datapoint to store. */
export interface Publication {
  scope: Scope;
  key: MetricKey;
  sample: Sample;
}

/** `arn:…:loadbalancer/app/web/50dc6c495c0c9188` → `app/web/50dc6c495c0c9188` (the LoadBalancer dimension). */
export const loadBalancerDimension = (arn: string) => parseArn(arn)?.resource.replace(/^loadbalancer\//, "") ?? arn;
/** `arn:…:targetgroup/web/6d0ecf831eec9f09` → `targetgroup/web/6d0ecf831eec9f09` (the TargetGroup dimension). */
export const targetGroupDimension = (arn: string) => parseArn(arn)?.resource ?? arn;

const scopeOf = (arn: string): Scope => {
  const p = parseArn(arn);
  return { account: p?.account ?? "000000000000", region: p?.region ?? "us-east-1" };
};

/** A counter's increase between two snapshots (a counter that went down was reset: all of it is new). */
const delta = (prev: number | undefined, next: number) => (prev === undefined || next < prev ? next : next - prev);

const value = (timestamp: number, v: number, unit: string): Sample => ({
  timestamp,
  unit,
  count: 1,
  sum: v,
  min: v,
  max: v,
  values: [[v, 1]],
});

/**
 * The CloudWatch datapoints for what happened between two data-plane snapshots, pure.
 * ALB (AWS/ApplicationELB): RequestCount, HTTPCode_ELB_3XX/4XX/5XX_Count, NewConnectionCount,
 * ActiveConnectionCount, ProcessedBytes per LoadBalancer; RequestCount, HTTPCode_Target_2XX…5XX_Count,
 * TargetResponseTime, TargetConnectionErrorCount, HealthyHostCount, UnHealthyHostCount per
 * LoadBalancer+TargetGroup; RequestCountPerTarget per TargetGroup (and with LoadBalancer).
 * NLB (AWS/NetworkELB): NewFlowCount, ActiveFlowCount, ProcessedBytes per LoadBalancer,
 * HealthyHostCount and UnHealthyHostCount per LoadBalancer+TargetGroup.
 * Request counts are published every interval, zero included; HTTP code and error counts only
 * when nonzero, as AWS reports them.
 */
export function loadBalancerPublications(prev: MetricsSnapshot | undefined, next: MetricsSnapshot): Publication[] {
  const now = next.at.getTime();
  const out: Publication[] = [];
  const lbPrev = new Map((prev?.loadBalancers ?? []).map((l) => [l.loadBalancerArn, l]));
  const tgPrev = new Map((prev?.targetGroups ?? []).map((t) => [`${t.loadBalancerArn} ${t.targetGroupArn}`, t]));
  const put = (scope: Scope, namespace: string, name: string, dims: [string, string][], sample: Sample) =>
    out.push({ scope, key: { namespace, name, dimensions: dims.map(([Name, Value]) => ({ Name, Value })) }, sample });

  for (const lb of next.loadBalancers) {
    const p: Partial<LoadBalancerMetrics> = lbPrev.get(lb.loadBalancerArn) ?? {};
    const scope = scopeOf(lb.loadBalancerArn);
    const dim = loadBalancerDimension(lb.loadBalancerArn);
    const dims: [string, string][] = [["LoadBalancer", dim]];
    if (dim.startsWith("net/")) {
      put(
        scope,
        "AWS/NetworkELB",
        "NewFlowCount",
        dims,
        value(now, delta(p.newConnectionCount, lb.newConnectionCount), "Count"),
      );
      put(scope, "AWS/NetworkELB", "ActiveFlowCount", dims, value(now, lb.activeConnectionCount, "Count"));
      put(
        scope,
        "AWS/NetworkELB",
        "ProcessedBytes",
        dims,
        value(now, delta(p.processedBytes, lb.processedBytes), "Bytes"),
      );
      continue;
    }
    const ns = "AWS/ApplicationELB";
    put(scope, ns, "RequestCount", dims, value(now, delta(p.requestCount, lb.requestCount), "Count"));
    for (const [name, field] of [
      ["HTTPCode_ELB_3XX_Count", "httpCodeElb3xx"],
      ["HTTPCode_ELB_4XX_Count", "httpCodeElb4xx"],
      ["HTTPCode_ELB_5XX_Count", "httpCodeElb5xx"],
    ] as const) {
      const d = delta(p[field], lb[field]);
      if (d > 0) put(scope, ns, name, dims, value(now, d, "Count"));
    }
    put(scope, ns, "NewConnectionCount", dims, value(now, delta(p.newConnectionCount, lb.newConnectionCount), "Count"));
    put(scope, ns, "ActiveConnectionCount", dims, value(now, lb.activeConnectionCount, "Count"));
    put(scope, ns, "ProcessedBytes", dims, value(now, delta(p.processedBytes, lb.processedBytes), "Bytes"));
  }

  for (const tg of next.targetGroups) {
    const p: Partial<TargetGroupMetrics> = tgPrev.get(`${tg.loadBalancerArn} ${tg.targetGroupArn}`) ?? {};
    const scope = scopeOf(tg.targetGroupArn);
    const lbDim = loadBalancerDimension(tg.loadBalancerArn);
    const tgDim = targetGroupDimension(tg.targetGroupArn);
    const both: [string, string][] = [
      ["LoadBalancer", lbDim],
      ["TargetGroup", tgDim],
    ];
    const ns = lbDim.startsWith("net/") ? "AWS/NetworkELB" : "AWS/ApplicationELB";
    put(scope, ns, "HealthyHostCount", both, value(now, tg.healthyHostCount, "Count"));
    put(scope, ns, "UnHealthyHostCount", both, value(now, tg.unHealthyHostCount, "Count"));
    if (ns === "AWS/NetworkELB") continue;
    const requests = delta(p.requestCount, tg.requestCount);
    put(scope, ns, "RequestCount", both, value(now, requests, "Count"));
    const perTarget = requests / Math.max(1, tg.healthyHostCount);
    put(scope, ns, "RequestCountPerTarget", [["TargetGroup", tgDim]], value(now, perTarget, "Count"));
    put(scope, ns, "RequestCountPerTarget", both, value(now, perTarget, "Count"));
    for (const [name, field] of [
      ["HTTPCode_Target_2XX_Count", "httpCodeTarget2xx"],
      ["HTTPCode_Target_3XX_Count", "httpCodeTarget3xx"],
      ["HTTPCode_Target_4XX_Count", "httpCodeTarget4xx"],
      ["HTTPCode_Target_5XX_Count", "httpCodeTarget5xx"],
      ["TargetConnectionErrorCount", "targetConnectionErrorCount"],
    ] as const) {
      const d = delta(p[field], tg[field]);
      if (d > 0) put(scope, ns, name, both, value(now, d, "Count"));
    }
    const count = delta(p.targetResponseTimeCount, tg.targetResponseTimeCount);
    if (count > 0) {
      const sum = delta(p.targetResponseTimeSum, tg.targetResponseTimeSum);
      const avg = sum / count;
      // The plane keeps the maximum since it started: it is this interval's only when it grew.
      const grew = p.targetResponseTimeMax === undefined || tg.targetResponseTimeMax > p.targetResponseTimeMax;
      const max = grew ? Math.max(avg, tg.targetResponseTimeMax) : avg;
      put(scope, ns, "TargetResponseTime", both, { timestamp: now, unit: "Seconds", count, sum, min: avg, max });
    }
  }
  return out;
}

/** Metrics read from the load balancer datapoints just published (App Runner's from its target groups'). */
export type DerivedMetrics = (published: readonly Publication[]) => Publication[];

/** Publishes the load balancer data plane's counters as CloudWatch metrics every collection tick. */
export class LoadBalancerMetricsPublisher implements MetricSource {
  private previous?: MetricsSnapshot;
  private readonly derived: DerivedMetrics[] = [];

  constructor(
    private readonly source: LoadBalancerMetricsSource,
    private readonly metrics: MetricStore,
  ) {}

  /** Also publishes what `derive` reads from each tick's load balancer datapoints. */
  addDerived(derive: DerivedMetrics) {
    this.derived.push(derive);
  }

  collect() {
    const next = this.source.snapshot();
    const pubs = loadBalancerPublications(this.previous, next);
    this.previous = next;
    for (const derive of this.derived) pubs.push(...derive(pubs));
    for (const p of pubs) this.metrics.put(p.scope, p.key, [p.sample], true);
  }
}
