import { describe, expect, it } from "vitest";
import { MathError } from "../../src/metrics/math.js";
import { parseSearch, searchLabel, searchMatches } from "../../src/metrics/search.js";
import type { MetricKey } from "../../src/metrics/store.js";

const key = (namespace: string, name: string, dims: Record<string, string> = {}): MetricKey => ({
  namespace,
  name,
  dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
});
const cpuWeb = key("AWS/ECS", "CPUUtilization", { ClusterName: "prod", ServiceName: "web" });
const cpuCluster = key("AWS/ECS", "CPUUtilization", { ClusterName: "prod" });
const memWeb = key("AWS/ECS", "MemoryUtilization", { ClusterName: "prod", ServiceName: "web" });
const custom = key("Shop/Orders", "Latency", { Stage: "beta" });
const all = [cpuWeb, cpuCluster, memWeb, custom];
const find = (expr: string) => all.filter((k) => searchMatches(parseSearch(expr), k));

describe("SEARCH expressions", () => {
  it.each<[string, MetricKey[]]>([
    ['{AWS/ECS,ClusterName,ServiceName} MetricName="CPUUtilization"', [cpuWeb]],
    ["{AWS/ECS,ClusterName}", [cpuCluster]],
    ['{"AWS/ECS",ServiceName,ClusterName}', [cpuWeb, memWeb]],
    ['MetricName="CPUUtilization"', [cpuWeb, cpuCluster]],
    ["MetricName=utilization", [cpuWeb, cpuCluster, memWeb]],
    ['MetricName="utilization"', []],
    ["Latency", [custom]],
    ["web", [cpuWeb, memWeb]],
    ['"web"', [cpuWeb, memWeb]],
    ['"we"', []],
    ["prod Memory", [memWeb]],
    ["prod AND Memory", [memWeb]],
    ["Latency OR Memory", [memWeb, custom]],
    ["AWS/ECS NOT ServiceName=web", [cpuCluster]],
    ['NOT (MetricName="CPUUtilization" OR Stage=beta)', [memWeb]],
    ['ServiceName="web" Namespace="AWS/ECS"', [cpuWeb, memWeb]],
  ])("%s", (expr, expected) => expect(find(expr)).toEqual(expected));

  it.each([
    ["", /empty/],
    ["MetricName=", /needs a value/],
    ["(web", /expected "\)"/],
    ["{a} {b}", /at most one schema/],
  ])("%s fails: %s", (expr, message) => {
    expect(() => parseSearch(expr)).toThrow(MathError);
    expect(() => parseSearch(expr)).toThrow(message);
  });

  it("labels a result with its metric name and dimension values", () => {
    expect(searchLabel(cpuWeb)).toBe("CPUUtilization prod web");
  });
});
