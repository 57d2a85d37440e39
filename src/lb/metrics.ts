/**
 * The counters CloudWatch publishes for load balancers, kept in memory by the data plane.
 * Counters are cumulative since Berth started (a publisher takes differences between two
 * snapshots); host counts are current values. The proxy increments plain fields on objects it
 * holds directly, so counting costs no lookups on the request path.
 */

export interface LoadBalancerCounters {
  /** Requests (ALB) that reached a listener and got a response, from a target or from the load balancer. */
  requestCount: number;
  httpCodeElb3xx: number;
  httpCodeElb4xx: number;
  httpCodeElb5xx: number;
  /** Client connections (ALB) or flows (NLB) opened. */
  newConnectionCount: number;
  activeConnectionCount: number;
  processedBytes: number;
}

export interface TargetGroupCounters {
  requestCount: number;
  httpCodeTarget2xx: number;
  httpCodeTarget3xx: number;
  httpCodeTarget4xx: number;
  httpCodeTarget5xx: number;
  /** Sum and count of TargetResponseTime samples (seconds): request sent → response head received. */
  targetResponseTimeSum: number;
  targetResponseTimeCount: number;
  targetResponseTimeMax: number;
  /** Connections to targets that failed (TargetConnectionErrorCount). */
  targetConnectionErrorCount: number;
}

export interface LoadBalancerMetrics extends LoadBalancerCounters {
  loadBalancerArn: string;
}

export interface TargetGroupMetrics extends TargetGroupCounters {
  targetGroupArn: string;
  /** The CloudWatch LoadBalancer dimension: target group metrics are per (load balancer, target group). */
  loadBalancerArn: string;
  healthyHostCount: number;
  unHealthyHostCount: number;
  /** requestCount ÷ healthy hosts (at least 1), as RequestCountPerTarget is defined. */
  requestCountPerTarget: number;
  /** targetResponseTimeSum ÷ targetResponseTimeCount, or 0. */
  targetResponseTimeAverage: number;
}

export interface MetricsSnapshot {
  at: Date;
  loadBalancers: LoadBalancerMetrics[];
  targetGroups: TargetGroupMetrics[];
}

/** What a CloudWatch publisher reads. */
export interface LoadBalancerMetricsSource {
  snapshot(): MetricsSnapshot;
}

export const newLoadBalancerCounters = (): LoadBalancerCounters => ({
  requestCount: 0,
  httpCodeElb3xx: 0,
  httpCodeElb4xx: 0,
  httpCodeElb5xx: 0,
  newConnectionCount: 0,
  activeConnectionCount: 0,
  processedBytes: 0,
});

export const newTargetGroupCounters = (): TargetGroupCounters => ({
  requestCount: 0,
  httpCodeTarget2xx: 0,
  httpCodeTarget3xx: 0,
  httpCodeTarget4xx: 0,
  httpCodeTarget5xx: 0,
  targetResponseTimeSum: 0,
  targetResponseTimeCount: 0,
  targetResponseTimeMax: 0,
  targetConnectionErrorCount: 0,
});

/** Counts an HTTP status a target returned. */
export function countTargetStatus(c: TargetGroupCounters, status: number) {
  if (status < 300) c.httpCodeTarget2xx++;
  else if (status < 400) c.httpCodeTarget3xx++;
  else if (status < 500) c.httpCodeTarget4xx++;
  else c.httpCodeTarget5xx++;
}

/** Counts a response the load balancer generated itself. */
export function countElbStatus(c: LoadBalancerCounters, status: number) {
  if (status >= 500) c.httpCodeElb5xx++;
  else if (status >= 400) c.httpCodeElb4xx++;
  else if (status >= 300) c.httpCodeElb3xx++;
}

export function recordResponseTime(c: TargetGroupCounters, seconds: number) {
  c.targetResponseTimeSum += seconds;
  c.targetResponseTimeCount++;
  if (seconds > c.targetResponseTimeMax) c.targetResponseTimeMax = seconds;
}

/**
 * The registry of counters: one per load balancer and one per (load balancer, target group).
 * Counters survive reconfiguration (they live as long as their resources exist in the plane).
 */
export class MetricsRegistry implements LoadBalancerMetricsSource {
  private readonly lbs = new Map<string, LoadBalancerCounters>();
  private readonly tgs = new Map<string, { lb: string; tg: string; counters: TargetGroupCounters }>();

  constructor(
    private readonly hostCounts: (targetGroupArn: string) => { healthy: number; unhealthy: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  loadBalancer(arn: string): LoadBalancerCounters {
    let c = this.lbs.get(arn);
    if (!c) {
      c = newLoadBalancerCounters();
      this.lbs.set(arn, c);
    }
    return c;
  }

  targetGroup(loadBalancerArn: string, targetGroupArn: string): TargetGroupCounters {
    const key = `${loadBalancerArn} ${targetGroupArn}`;
    let e = this.tgs.get(key);
    if (!e) {
      e = { lb: loadBalancerArn, tg: targetGroupArn, counters: newTargetGroupCounters() };
      this.tgs.set(key, e);
    }
    return e.counters;
  }

  /** Drops counters of resources that no longer exist. */
  retain(loadBalancerArns: Set<string>, targetGroupArns: Set<string>) {
    for (const arn of this.lbs.keys()) if (!loadBalancerArns.has(arn)) this.lbs.delete(arn);
    for (const [key, e] of this.tgs)
      if (!loadBalancerArns.has(e.lb) || !targetGroupArns.has(e.tg)) this.tgs.delete(key);
  }

  snapshot(): MetricsSnapshot {
    return {
      at: this.now(),
      loadBalancers: [...this.lbs].map(([loadBalancerArn, c]) => ({ loadBalancerArn, ...c })),
      targetGroups: [...this.tgs.values()].map((e) => {
        const hosts = this.hostCounts(e.tg);
        return {
          targetGroupArn: e.tg,
          loadBalancerArn: e.lb,
          ...e.counters,
          healthyHostCount: hosts.healthy,
          unHealthyHostCount: hosts.unhealthy,
          requestCountPerTarget: e.counters.requestCount / Math.max(1, hosts.healthy),
          targetResponseTimeAverage: e.counters.targetResponseTimeCount
            ? e.counters.targetResponseTimeSum / e.counters.targetResponseTimeCount
            : 0,
        };
      }),
    };
  }
}
