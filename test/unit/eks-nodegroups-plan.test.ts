import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  instanceType,
  nodeResourcesOf,
  reservedCpuMillis,
} from "../../src/controllers/kube/nodegroups/instance-types.js";
import {
  chooseNodesToRemove,
  chooseZone,
  DRAINING_ANNOTATION,
  type NodegroupAction,
  planNodegroups,
  type RemovalCandidate,
} from "../../src/controllers/kube/nodegroups/plan.js";
import type { NodegroupView } from "../../src/controllers/kube/nodegroups/source.js";
import type { KubeObject } from "../../src/kube/types.js";

const group = (over: Partial<NodegroupView> = {}): NodegroupView => ({
  name: "ng1",
  arn: "arn:aws:eks:us-west-2:111122223333:nodegroup/dev/ng1/abc",
  status: "ACTIVE",
  desiredSize: 2,
  instanceTypes: ["t3.medium"],
  capacityType: "ON_DEMAND",
  amiType: "AL2023_x86_64_STANDARD",
  version: "1.33",
  releaseVersion: "1.33.4-20251120",
  labels: { team: "web" },
  taints: [],
  zones: ["us-west-2a", "us-west-2b"],
  maxUnavailable: 1,
  ...over,
});
const snapshot = (groups: NodegroupView[], nodes: KubeObject[] = [], pods: KubeObject[] = []) => ({
  groups,
  nodes,
  pods,
  region: "us-west-2",
  hostId: "local",
});
const created = (actions: NodegroupAction[]) =>
  actions
    .filter((a): a is Extract<NodegroupAction, { kind: "createNode" }> => a.kind === "createNode")
    .map((a) => a.node);
const kinds = (actions: NodegroupAction[]) => actions.map((a) => a.kind);
const pod = (name: string, node: string, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: `uid-${name}`, ...extra },
  spec: { nodeName: node },
  status: { phase: "Running" },
});

describe("instance types", () => {
  it("t3.medium is what EKS reports: 2 CPUs (1930m allocatable), 17 pods, 3388384Ki allocatable", () => {
    const r = nodeResourcesOf(instanceType("t3.medium")!);
    expect(r.capacity).toMatchObject({ cpu: "2", pods: "17" });
    expect(r.allocatable.cpu).toBe("1930m");
    expect(Number.parseInt(r.allocatable.memory, 10)).toBeGreaterThan(3_380_000);
    expect(Number.parseInt(r.allocatable.memory, 10)).toBeLessThan(3_400_000);
    expect(instanceType("m5.large")!.maxPods).toBe(29);
    expect(instanceType("t4g.large")!.arch).toBe("arm64");
  });
  it.each([
    [1, 60],
    [2, 70],
    [4, 80],
    [8, 90],
    [64, 230],
  ])("%d vCPUs reserve %dm", (v, m) => expect(reservedCpuMillis(v)).toBe(m));
});

describe("planNodegroups", () => {
  it("registers desired nodes with EKS's labels, spread over the zones", () => {
    const nodes = created(
      planNodegroups(snapshot([group({ taints: [{ key: "k", value: "v", effect: "NoSchedule" }] })])),
    );
    expect(nodes).toHaveLength(2);
    for (const n of nodes) {
      expect(n.metadata.name).toMatch(/^ip-10-0-\d+-\d+\.us-west-2\.compute\.internal$/);
      expect(n.metadata.labels).toMatchObject({
        "eks.amazonaws.com/nodegroup": "ng1",
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "node.kubernetes.io/instance-type": "t3.medium",
        "topology.kubernetes.io/region": "us-west-2",
        "kubernetes.io/hostname": n.metadata.name,
        team: "web",
      });
      expect(n.metadata.labels?.["eks.amazonaws.com/nodegroup-image"]).toMatch(/^ami-[0-9a-f]{17}$/);
      expect(n.metadata.annotations?.["berth.dev/hosted-by"]).toBe("local");
      expect(n.spec).toMatchObject({ taints: [{ key: "k", value: "v", effect: "NoSchedule" }] });
      expect((n.status as { allocatable: Record<string, string> }).allocatable).toMatchObject({
        cpu: "1930m",
        pods: "17",
      });
    }
    expect(new Set(nodes.map((n) => n.metadata.labels?.["topology.kubernetes.io/zone"]))).toEqual(
      new Set(["us-west-2a", "us-west-2b"]),
    );
  });

  it("is at rest when the node group has its nodes", () => {
    const g = group();
    const nodes = created(planNodegroups(snapshot([g])));
    expect(planNodegroups(snapshot([g], nodes))).toEqual([]);
  });

  it("a smaller desired size drains a node: cordon, evict its pods, then remove it", () => {
    const g = group();
    const nodes = created(planNodegroups(snapshot([g])));
    const pods = [
      pod("a", nodes[0].metadata.name!),
      pod("b", nodes[1].metadata.name!),
      pod("c", nodes[1].metadata.name!),
    ];
    const first = planNodegroups(snapshot([{ ...g, desiredSize: 1 }], nodes, pods));
    expect(first).toEqual([{ kind: "drainNode", group: "ng1", node: nodes[0].metadata.name }]);
    const draining = nodes.map((n, i) =>
      i === 0
        ? { ...n, metadata: { ...n.metadata, annotations: { ...n.metadata.annotations, [DRAINING_ANNOTATION]: "x" } } }
        : n,
    );
    expect(planNodegroups(snapshot([{ ...g, desiredSize: 1 }], draining, pods))).toEqual([
      { kind: "evictPod", group: "ng1", node: nodes[0].metadata.name, namespace: "default", pod: "a", uid: "uid-a" },
    ]);
    const ds = pod("ds", nodes[0].metadata.name!, {
      ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "d", uid: "d", controller: true }],
    });
    expect(kinds(planNodegroups(snapshot([{ ...g, desiredSize: 1 }], draining, [ds, ...pods.slice(1)])))).toEqual([
      "deleteNode",
    ]);
  });

  it("a deleted node group drains all its nodes and then finishes", () => {
    const g = group();
    const nodes = created(planNodegroups(snapshot([g])));
    expect(kinds(planNodegroups(snapshot([{ ...g, status: "DELETING" }], nodes)))).toEqual(["drainNode", "drainNode"]);
    expect(kinds(planNodegroups(snapshot([{ ...g, status: "DELETING" }], [])))).toEqual(["finishDelete"]);
    expect(kinds(planNodegroups(snapshot([], nodes)))).toEqual(["drainNode", "drainNode"]);
  });

  it("a version update surges a new node, then drains an outdated one", () => {
    const g = group();
    const nodes = created(planNodegroups(snapshot([g])));
    const next = { ...g, version: "1.33", releaseVersion: "1.33.5-20251201" };
    const surge = planNodegroups(snapshot([next], nodes));
    expect(kinds(surge)).toEqual(["createNode"]);
    const after = [...nodes, ...created(surge)];
    const drain = planNodegroups(snapshot([next], after));
    expect(drain).toHaveLength(1);
    expect(drain[0]).toMatchObject({ kind: "drainNode" });
    expect(nodes.map((n) => n.metadata.name)).toContain((drain[0] as { node: string }).node);
  });

  it("label changes follow the node group, dropping the keys it no longer sets", () => {
    const g = group();
    const nodes = created(planNodegroups(snapshot([g])));
    const sync = planNodegroups(snapshot([{ ...g, labels: { tier: "a" } }], nodes));
    expect(sync).toHaveLength(2);
    expect(sync[0]).toMatchObject({ kind: "syncNode", labels: { tier: "a" }, removeLabels: ["team"] });
  });
});

describe("chooseNodesToRemove", () => {
  const cand = (name: string, zone: string, outdated = false, pods = 0): RemovalCandidate => ({
    name,
    zone,
    outdated,
    pods,
  });
  it.each([
    [[cand("a", "z1"), cand("b", "z1"), cand("c", "z2")], 1, ["a"]],
    [[cand("a", "z1"), cand("b", "z2", true)], 1, ["b"]],
    [[cand("a", "z1", false, 3), cand("b", "z1", false, 1)], 1, ["b"]],
    [[cand("a", "z1"), cand("b", "z2")], 5, ["a", "b"]],
  ] as const)("%j, %d → %j", (nodes, n, want) => expect(chooseNodesToRemove([...nodes], n)).toEqual(want));

  const arb = fc.array(fc.record({ zone: fc.constantFrom("a", "b", "c"), outdated: fc.boolean(), pods: fc.nat(5) }), {
    maxLength: 12,
  });
  it("takes distinct nodes, outdated first, and keeps zones balanced", () => {
    fc.assert(
      fc.property(arb, fc.nat(12), (raw, k) => {
        const nodes = raw.map((r, i) => ({ ...r, name: `n${i}` }));
        const out = chooseNodesToRemove(nodes, k);
        expect(out.length).toBe(Math.min(k, nodes.length));
        expect(new Set(out).size).toBe(out.length);
        const outdated = nodes.filter((n) => n.outdated).map((n) => n.name);
        if (k <= outdated.length) expect(out.every((n) => outdated.includes(n))).toBe(true);
        if (outdated.length === 0) {
          const spread = (names: string[]) => {
            const c = ["a", "b", "c"].map((z) => nodes.filter((n) => n.zone === z && names.includes(n.name)).length);
            return (
              Math.max(...c) -
              Math.min(...c.filter((_, i) => nodes.some((n) => n.zone === ["a", "b", "c"][i])), Infinity)
            );
          };
          const left = nodes.filter((n) => !out.includes(n.name)).map((n) => n.name);
          const before = spread(nodes.map((n) => n.name));
          if (Number.isFinite(before)) expect(spread(left)).toBeLessThanOrEqual(Math.max(before, 1));
        }
      }),
    );
  });
});

describe("chooseZone", () => {
  it("fills the emptiest zone first", () => {
    expect(chooseZone(["a", "b"], ["a"])).toBe("b");
    expect(chooseZone(["a", "b"], [])).toBe("a");
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 20 }), (existing) => {
        const z = chooseZone(["a", "b", "c"], existing);
        const count = (x: string) => existing.filter((e) => e === x).length;
        expect(count(z)).toBe(Math.min(count("a"), count("b"), count("c")));
      }),
    );
  });
});
