import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type NodeView,
  type PlacedPod,
  type PodSchedulingSpec,
  filterNode,
  matchesNodeAffinity,
  nodeUsage,
  schedulePod,
  tolerates,
} from "../../src/scheduler/pods.js";
import { amountsOf, parseQuantity, podRequests, qosClass } from "../../src/scheduler/pods-resources.js";

const node = (name: string, extra: Partial<NodeView> = {}): NodeView => ({
  name,
  labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...extra.labels },
  allocatable: { cpu: "2", memory: "4Gi", pods: "110", ...extra.allocatable },
  ...extra,
});
const pod = (requests: Record<string, string> = {}, extra: Partial<PodSchedulingSpec> = {}): PodSchedulingSpec => ({
  containers: [{ name: "c", resources: { requests } }],
  ...extra,
});

describe("quantities", () => {
  it.each([
    ["100m", 0.1],
    ["2", 2],
    ["1.5", 1.5],
    ["128Mi", 128 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["512Ki", 512 * 1024],
    ["1e3", 1000],
    ["abc", Number.NaN],
  ])("%s", (q, n) => {
    expect(parseQuantity(q)).toBe(n);
  });

  it("pod requests: max(sum of containers, largest init), limits when only limits are set", () => {
    expect(
      podRequests({
        containers: [
          { name: "a", resources: { requests: { cpu: "100m", memory: "64Mi" } } },
          { name: "b", resources: { limits: { cpu: "200m" } } },
        ],
        initContainers: [{ name: "i", resources: { requests: { cpu: "500m" } } }],
      }),
    ).toEqual({ cpu: 500, memory: 64 * 2 ** 20 });
  });

  it("QoS classes", () => {
    expect(qosClass({ containers: [{ name: "a" }] })).toBe("BestEffort");
    expect(qosClass({ containers: [{ name: "a", resources: { requests: { cpu: "1" } } }] })).toBe("Burstable");
    expect(qosClass({ containers: [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }] })).toBe(
      "Guaranteed",
    );
  });
});

describe("pod scheduler filters", () => {
  const n = node("n1");
  it.each<[string, PodSchedulingSpec, NodeView, PlacedPod[], string[]]>([
    ["fits", pod({ cpu: "1" }), n, [], []],
    ["insufficient cpu", pod({ cpu: "3" }), n, [], ["Insufficient cpu"]],
    [
      "insufficient cpu and memory",
      pod({ cpu: "3", memory: "5Gi" }),
      n,
      [],
      ["Insufficient cpu", "Insufficient memory"],
    ],
    [
      "counted against other pods",
      pod({ cpu: "1500m" }),
      n,
      [{ nodeName: "n1", spec: pod({ cpu: "1" }) }],
      ["Insufficient cpu"],
    ],
    ["other nodes' pods do not count", pod({ cpu: "1500m" }), n, [{ nodeName: "n2", spec: pod({ cpu: "1" }) }], []],
    [
      "too many pods",
      pod(),
      node("n1", { allocatable: { pods: "1" } }),
      [{ nodeName: "n1", spec: pod() }],
      ["Too many pods"],
    ],
    [
      "nodeSelector",
      pod({}, { nodeSelector: { disk: "ssd" } }),
      n,
      [],
      ["node(s) didn't match Pod's node affinity/selector"],
    ],
    [
      "nodeSelector matches",
      pod({}, { nodeSelector: { disk: "ssd" } }),
      node("n1", { labels: { disk: "ssd" } }),
      [],
      [],
    ],
    ["nodeName", pod({}, { nodeName: "other" }), n, [], ["node(s) didn't match the requested node name"]],
    ["unschedulable", pod(), node("n1", { unschedulable: true }), [], ["node(s) were unschedulable"]],
    [
      "unschedulable tolerated",
      pod({}, { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists" }] }),
      node("n1", { unschedulable: true }),
      [],
      [],
    ],
    [
      "taint",
      pod(),
      node("n1", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }),
      [],
      ["node(s) had untolerated taint {dedicated: gpu}"],
    ],
    [
      "NoExecute taint tolerated",
      pod({}, { tolerations: [{ key: "dedicated", value: "gpu", effect: "NoExecute" }] }),
      node("n1", { taints: [{ key: "dedicated", value: "gpu", effect: "NoExecute" }] }),
      [],
      [],
    ],
    [
      "PreferNoSchedule does not filter",
      pod(),
      node("n1", { taints: [{ key: "x", effect: "PreferNoSchedule" }] }),
      [],
      [],
    ],
    [
      "host port in use",
      pod({}, { containers: [{ name: "c", ports: [{ containerPort: 80, hostPort: 8080 }] }] }),
      n,
      [
        {
          nodeName: "n1",
          spec: pod({}, { containers: [{ name: "d", ports: [{ containerPort: 81, hostPort: 8080 }] }] }),
        },
      ],
      ["node(s) didn't have free ports for the requested pod ports"],
    ],
    [
      "same host port, other protocol",
      pod({}, { containers: [{ name: "c", ports: [{ containerPort: 80, hostPort: 8080, protocol: "UDP" }] }] }),
      n,
      [
        {
          nodeName: "n1",
          spec: pod({}, { containers: [{ name: "d", ports: [{ containerPort: 81, hostPort: 8080 }] }] }),
        },
      ],
      [],
    ],
  ])("%s", (_name, spec, nd, placed, reasons) => {
    expect(filterNode(spec, nd, placed)).toEqual(reasons);
  });

  it("required node affinity: In/NotIn/Exists/DoesNotExist/Gt/Lt and matchFields metadata.name", () => {
    const nd = node("n1", { labels: { zone: "a", cores: "8" } });
    const req = (term: object) => ({
      containers: [],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } } },
    });
    const cases: [object, boolean][] = [
      [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, true],
      [{ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, false],
      [{ matchExpressions: [{ key: "zone", operator: "Exists" }] }, true],
      [{ matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }, true],
      [{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["4"] }] }, true],
      [{ matchExpressions: [{ key: "cores", operator: "Lt", values: ["4"] }] }, false],
      [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }, true],
      [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n2"] }] }, false],
      [{}, false],
    ];
    for (const [term, ok] of cases)
      expect(matchesNodeAffinity(req(term) as PodSchedulingSpec, nd), JSON.stringify(term)).toBe(ok);
  });

  it("tolerations: Exists with no key tolerates everything; effect must match when given", () => {
    expect(tolerates({ operator: "Exists" }, { key: "a", effect: "NoSchedule" })).toBe(true);
    expect(tolerates({ key: "a", operator: "Exists", effect: "NoExecute" }, { key: "a", effect: "NoSchedule" })).toBe(
      false,
    );
    expect(tolerates({ key: "a", value: "1" }, { key: "a", value: "1", effect: "NoSchedule" })).toBe(true);
    expect(tolerates({ key: "a", value: "2" }, { key: "a", value: "1", effect: "NoSchedule" })).toBe(false);
  });
});

describe("schedulePod", () => {
  it("kube-scheduler's message when nothing fits", () => {
    expect(schedulePod(pod({ cpu: "3" }), [node("n1")], [])).toMatchObject({
      message: "0/1 nodes are available: 1 Insufficient cpu.",
    });
    const r = schedulePod(
      pod({ cpu: "3" }, { nodeSelector: { a: "b" } }),
      [node("n1"), node("n2", { labels: { a: "b" } })],
      [],
    );
    expect(r).toMatchObject({
      message: "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
    });
    expect(schedulePod(pod(), [], [])).toMatchObject({ message: "no nodes available to schedule pods" });
  });

  it("least allocated: the emptier node wins; preferred affinity tips the balance", () => {
    const placed = [{ nodeName: "n1", spec: pod({ cpu: "1", memory: "2Gi" }) }];
    expect(schedulePod(pod({ cpu: "100m" }), [node("n1"), node("n2")], placed)).toEqual({ node: "n2" });
    const prefer = pod(
      {},
      {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                preference: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] },
              },
            ],
          },
        },
      },
    );
    expect(schedulePod(prefer, [node("n1"), node("n2")], placed)).toEqual({ node: "n1" });
  });

  it("property: a placed pod always fits its node (requests within allocatable minus what is placed)", () => {
    const cpu = fc.integer({ min: 0, max: 4000 }).map((m) => `${m}m`);
    const mem = fc.integer({ min: 0, max: 8192 }).map((m) => `${m}Mi`);
    const spec = fc.record({ cpu, memory: mem }).map((r) => pod(r));
    const nodeArb = fc
      .record({
        cpu: fc.integer({ min: 1, max: 8 }),
        mem: fc.integer({ min: 1, max: 16 }),
        zone: fc.constantFrom("a", "b"),
      })
      .map((x) => ({
        allocatable: { cpu: String(x.cpu), memory: `${x.mem}Gi`, pods: "110" },
        labels: { zone: x.zone },
      }));
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 0, maxLength: 4 }),
        fc.array(spec, { maxLength: 12 }),
        fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
        (nodeDefs, specs, zone) => {
          const nodes = nodeDefs.map((d, i) => node(`n${i}`, d));
          const placed: PlacedPod[] = [];
          for (const s0 of specs) {
            const s = zone ? { ...s0, nodeSelector: { zone } } : s0;
            const r = schedulePod(s, nodes, placed);
            if (!r.node) {
              expect(r.message).toMatch(nodes.length ? /^0\/\d+ nodes are available: / : /no nodes/);
              continue;
            }
            const nd = nodes.find((x) => x.name === r.node)!;
            const { requested } = nodeUsage(nd.name, placed);
            const alloc = amountsOf(nd.allocatable);
            const want = podRequests(s);
            expect(want.cpu).toBeLessThanOrEqual(alloc.cpu - (requested.cpu ?? 0));
            expect(want.memory).toBeLessThanOrEqual(alloc.memory - (requested.memory ?? 0));
            if (zone) expect(nd.labels.zone).toBe(zone);
            placed.push({ nodeName: nd.name, spec: s });
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
