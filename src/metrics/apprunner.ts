import type { Scope } from "../core/ids.js";
import type { Publication } from "./load-balancers.js";
import type { Sample } from "./statistics.js";

/** An App Runner service and the target group its requests reach (`targetgroup/…`, the TargetGroup dimension). */
export interface AppRunnerMetricTarget {
  scope: Scope;
  serviceName: string;
  serviceId: string;
  targetGroup: string;
}

/** The ALB target group metrics App Runner's metrics are read from, and how each maps. */
const MAPPED: Record<string, { name: string; toMs?: boolean }> = {
  RequestCount: { name: "Requests" },
  HTTPCode_Target_2XX_Count: { name: "2xxStatusResponses" },
  HTTPCode_Target_4XX_Count: { name: "4xxStatusResponses" },
  HTTPCode_Target_5XX_Count: { name: "5xxStatusResponses" },
  TargetResponseTime: { name: "RequestLatency", toMs: true },
  HealthyHostCount: { name: "ActiveInstances" },
};

const inMilliseconds = (s: Sample): Sample => ({
  ...s,
  unit: "Milliseconds",
  sum: s.sum * 1000,
  min: s.min * 1000,
  max: s.max * 1000,
  ...(s.values ? { values: s.values.map(([v, n]) => [v * 1000, n] as [number, number]) } : {}),
});

/**
 * AWS/AppRunner datapoints (Requests, 2xx/4xx/5xxStatusResponses, RequestLatency in ms,
 * ActiveInstances — dimensions ServiceName and ServiceID) from the datapoints just published for
 * the ALB target groups the services run behind. Pure.
 */
export function appRunnerPublications(
  published: readonly Publication[],
  targets: readonly AppRunnerMetricTarget[],
): Publication[] {
  const byGroup = new Map(targets.map((t) => [`${t.scope.account}|${t.scope.region}|${t.targetGroup}`, t]));
  const out: Publication[] = [];
  for (const p of published) {
    if (p.key.namespace !== "AWS/ApplicationELB") continue;
    const mapped = MAPPED[p.key.name];
    const dims = p.key.dimensions;
    // The per-load-balancer-and-target-group series: the one every mapped metric has.
    if (!mapped || dims.length !== 2 || !dims.some((d) => d.Name === "LoadBalancer")) continue;
    const group = dims.find((d) => d.Name === "TargetGroup")?.Value;
    const target = group && byGroup.get(`${p.scope.account}|${p.scope.region}|${group}`);
    if (!target) continue;
    out.push({
      scope: p.scope,
      key: {
        namespace: "AWS/AppRunner",
        name: mapped.name,
        dimensions: [
          { Name: "ServiceID", Value: target.serviceId },
          { Name: "ServiceName", Value: target.serviceName },
        ],
      },
      sample: mapped.toMs ? inMilliseconds(p.sample) : p.sample,
    });
  }
  return out;
}
