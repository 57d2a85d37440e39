import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NodeView, type PlacedPod, type PodSchedulingSpec, schedulePod } from "../../src/scheduler/pods.js";
import { SPREAD_REASON, selectorMatches } from "../../src/scheduler/pods-affinity.js";

const node = (name: string, zone = "z1"): NodeView => ({
  name,
  labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone },
  allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
});
const container = { name: "c", image: "x" };
const web = { app: "web" };
const spreadSpec = (
  key = "kubernetes.io/hostname",
  when: "DoNotSchedule" | "ScheduleAnyway" = "DoNotSchedule",
): PodSchedulingSpec => ({
  containers: [container],
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: key, whenUnsatisfiable: when, labelSelector: { matchLabels: web } },
  ],
});
const antiSpec: PodSchedulingSpec = {
  containers: [container],
  affinity: {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: web } },
      ],
    },
  },
};
const placedOn = (
  nodeName: string,
  spec: PodSchedulingSpec = { containers: [container] },
  extra: Partial<PlacedPod> = {},
): PlacedPod => ({
  nodeName,
  spec,
  namespace: "default",
  labels: web,
  ...extra,
});
const meta = { namespace: "default", labels: web };

describe("topology spread constraints", () => {
  it("DoNotSchedule puts the next replica on the emptier node, even against the resource score", () => {
    const nodes = [node("a"), node("b")];
    expect(schedulePod(spreadSpec(), nodes, [placedOn("a")], meta).node).toBe("b");
    expect(schedulePod(spreadSpec(), nodes, [placedOn("b")], meta).node).toBe("a");
  });

  it("refuses a skew above maxSkew with kube's reason", () => {
    const nodes = [node("a"), node("b")];
    const placed = [placedOn("a"), placedOn("b"), placedOn("b")];
    // a cordoned is still a domain (with 0): b would be skewed by 3.
    const r = schedulePod(spreadSpec(), [{ ...nodes[0], unschedulable: true }, nodes[1]], placed, meta);
    expect(r.message).toBe(`0/2 nodes are available: 1 ${SPREAD_REASON.skew}, 1 node(s) were unschedulable.`);
    // b alone: its domain has 2, the min over eligible domains (only b) is 2: skew 1, allowed.
    expect(schedulePod(spreadSpec(), [nodes[1]], placed, meta).node).toBe("b");
    const unlabeled = { ...node("c"), labels: {} };
    const miss = schedulePod(spreadSpec(), [unlabeled], [], meta);
    expect(miss.message).toContain(SPREAD_REASON.missingLabel);
  });

  it("counts only pods its selector matches, in its namespace, not terminating", () => {
    const nodes = [node("a"), node("b")];
    const others = [placedOn("a", undefined, { labels: { app: "db" } }), placedOn("a", undefined, { namespace: "x" })];
    expect(schedulePod(spreadSpec(), nodes, [...others, placedOn("b")], meta).node).toBe("a");
    const gone = [placedOn("a", undefined, { terminating: true }), placedOn("b")];
    expect(schedulePod(spreadSpec(), nodes, gone, meta).node).toBe("a");
  });

  it("zone spread: replicas balance over zones", () => {
    const nodes = [node("a1", "z1"), node("a2", "z1"), node("b1", "z2")];
    const placed = [placedOn("a1"), placedOn("a2")];
    expect(schedulePod(spreadSpec("topology.kubernetes.io/zone"), nodes, placed, meta).node).toBe("b1");
  });

  it("placing replicas one by one never leaves a skew above 1 (DoNotSchedule on hostname)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 12 }), (n, replicas) => {
        const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`));
        const placed: PlacedPod[] = [];
        for (let i = 0; i < replicas; i++) {
          const r = schedulePod(spreadSpec(), nodes, placed, meta);
          expect(r.node).toBeDefined();
          placed.push(placedOn(r.node!, spreadSpec()));
        }
        const counts = nodes.map((x) => placed.filter((p) => p.nodeName === x.name).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("pod anti-affinity", () => {
  it("required anti-affinity on hostname keeps replicas apart, and says so when it cannot", () => {
    const nodes = [node("a"), node("b")];
    expect(schedulePod(antiSpec, nodes, [placedOn("a", antiSpec)], meta).node).toBe("b");
    const full = schedulePod(antiSpec, nodes, [placedOn("a", antiSpec), placedOn("b", antiSpec)], meta);
    expect(full.message).toBe(`0/2 nodes are available: 2 ${SPREAD_REASON.antiAffinity}.`);
  });

  it("a placed pod's anti-affinity keeps a matching newcomer away", () => {
    const nodes = [node("a"), node("b")];
    const r = schedulePod({ containers: [container] }, [nodes[0]], [placedOn("a", antiSpec)], meta);
    expect(r.message).toContain(SPREAD_REASON.existingAntiAffinity);
  });

  it("required pod affinity: the first pod of its group goes anywhere, later ones follow it", () => {
    const spec: PodSchedulingSpec = {
      containers: [container],
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: web } },
          ],
        },
      },
    };
    const nodes = [node("a"), node("b")];
    expect(schedulePod(spec, nodes, [], meta).node).toBeDefined();
    expect(schedulePod(spec, nodes, [placedOn("b")], meta).node).toBe("b");
  });
});

describe("selectorMatches", () => {
  it.each([
    [{ matchLabels: { a: "1" } }, { a: "1" }, true],
    [{ matchExpressions: [{ key: "a", operator: "In" as const, values: ["1", "2"] }] }, { a: "2" }, true],
    [{ matchExpressions: [{ key: "a", operator: "NotIn" as const, values: ["1"] }] }, { a: "1" }, false],
    [{ matchExpressions: [{ key: "a", operator: "DoesNotExist" as const }] }, {}, true],
    [undefined, { a: "1" }, false],
  ])("%j on %j → %s", (sel, labels, want) => expect(selectorMatches(sel, labels)).toBe(want));
});
