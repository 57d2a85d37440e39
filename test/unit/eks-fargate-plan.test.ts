import { describe, expect, it } from "vitest";
import {
  fargateNode,
  fargateNodeName,
  planFargate,
  unsupportedOnFargate,
} from "../../src/controllers/kube/fargate/plan.js";
import type { FargateProfileView } from "../../src/controllers/kube/fargate/profiles.js";
import type { Pod } from "../../src/controllers/kube/kubelet/types.js";
import type { KubeObject } from "../../src/kube/types.js";

const profiles: FargateProfileView[] = [
  { name: "fp", status: "ACTIVE", selectors: [{ namespace: "game" }], zones: ["us-west-2b"] },
  { name: "going", status: "DELETING", selectors: [{ namespace: "old" }], zones: [] },
];

const pod = (name: string, extra: { spec?: object; metadata?: object; status?: object } = {}): Pod =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "game",
      uid: `uid-${name}`,
      annotations: { "eks.amazonaws.com/fargate-profile": "fp" },
      ...(extra.metadata ?? {}),
    },
    spec: {
      schedulerName: "fargate-scheduler",
      containers: [{ name: "c", image: "i", resources: { requests: { cpu: "500m", memory: "1Gi" } } }],
      ...(extra.spec ?? {}),
    },
    status: { phase: "Pending", ...(extra.status ?? {}) },
  }) as Pod;

const snapshot = (pods: Pod[], nodes: KubeObject[] = []) => ({
  pods,
  nodes,
  profiles,
  region: "us-west-2",
  hostId: "host-1",
  arch: "amd64" as const,
});

describe("the Fargate scheduler's plan", () => {
  it("gives a pending pod a node of its own, sized from its requests, and binds it there", () => {
    const [a] = planFargate(snapshot([pod("web")]));
    expect(a).toMatchObject({ kind: "bind", size: { cpuMilli: 500, memoryMiB: 2048 } });
    if (a.kind !== "bind") throw new Error();
    expect(a.node).toMatch(/^fargate-ip-10-0-\d+-\d+\.us-west-2\.compute\.internal$/);
    expect(a.create?.metadata).toMatchObject({
      name: a.node,
      labels: {
        "eks.amazonaws.com/compute-type": "fargate",
        "topology.kubernetes.io/zone": "us-west-2b",
        "topology.kubernetes.io/region": "us-west-2",
        "kubernetes.io/hostname": a.node.replace(/^fargate-/, ""),
      },
      annotations: { "berth.dev/hosted-by": "host-1", "berth.dev/fargate-pod-uid": "uid-web" },
    });
    expect(a.create?.spec).toMatchObject({
      taints: [{ key: "eks.amazonaws.com/compute-type", value: "fargate", effect: "NoSchedule" }],
    });
    expect(a.create?.status).toMatchObject({ capacity: { cpu: "500m", memory: "2097152Ki", pods: "1" } });
  });

  it("binds to the node it already made for the pod (a restart between the two writes)", () => {
    const first = planFargate(snapshot([pod("web")]))[0];
    if (first.kind !== "bind" || !first.create) throw new Error();
    const again = planFargate(snapshot([pod("web")], [first.create]));
    expect(again).toEqual([expect.objectContaining({ kind: "bind", node: first.node })]);
    expect(again[0]).not.toHaveProperty("create");
  });

  it("gives two pods two nodes with different names", () => {
    const acts = planFargate(snapshot([pod("a"), pod("b")]));
    const names = acts.map((a) => (a.kind === "bind" ? a.node : ""));
    expect(new Set(names).size).toBe(2);
  });

  it("keeps a too-big pod Pending with EKS's reason", () => {
    const big = pod("big", {
      spec: { containers: [{ name: "c", image: "i", resources: { requests: { cpu: "8" } } }] },
    });
    expect(planFargate(snapshot([big]))).toEqual([
      {
        kind: "unschedulable",
        pod: big,
        reason: "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE",
        message: "Your pod's cpu/memory requirements exceed the max Fargate configuration",
      },
    ]);
  });

  it("deletes pods whose profile is being deleted or gone, and leaves other schedulers' pods alone", () => {
    const old = pod("old", {
      metadata: { namespace: "old", annotations: { "eks.amazonaws.com/fargate-profile": "going" } },
    });
    const orphan = pod("orphan", { metadata: { annotations: { "eks.amazonaws.com/fargate-profile": "nope" } } });
    const other = pod("other", { spec: { schedulerName: "default-scheduler" } });
    const kinds = planFargate(snapshot([old, orphan, other])).map((a) => [
      a.kind,
      "pod" in a ? a.pod.metadata.name : "",
    ]);
    expect(kinds).toEqual([
      ["deletePod", "old"],
      ["deletePod", "orphan"],
    ]);
  });

  it("removes the node of a pod that ended or is gone, and keeps the one of a pod still terminating", () => {
    const node = (p: Pod) =>
      fargateNode({
        name: `fargate-${p.metadata.name}`,
        pod: p,
        profile: "fp",
        size: { cpuMilli: 250, memoryMiB: 512 },
        region: "us-west-2",
        zone: "us-west-2a",
        hostId: "h",
        arch: "amd64",
      });
    const done = pod("done", { spec: { nodeName: "fargate-done" }, status: { phase: "Succeeded" } });
    const gone = pod("gone");
    const leaving = pod("leaving", {
      spec: { nodeName: "fargate-leaving" },
      metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" },
    });
    const running = pod("running", { spec: { nodeName: "fargate-running" }, status: { phase: "Running" } });
    const acts = planFargate(
      snapshot([done, leaving, running], [node(done), node(gone), node(leaving), node(running)]),
    );
    expect(acts).toEqual([
      { kind: "deleteNode", node: "fargate-done" },
      { kind: "deleteNode", node: "fargate-gone" },
    ]);
  });

  it.each([
    [{ hostNetwork: true }, "Pod not supported on Fargate: fields not supported: HostNetwork"],
    [
      {
        containers: [{ name: "c", image: "i", securityContext: { privileged: true } }],
        volumes: [{ name: "data", hostPath: { path: "/x" } }],
      },
      "Pod not supported on Fargate: invalid SecurityContext fields: Privileged, volumes not supported: data is of an unsupported volume Type",
    ],
    [
      { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80, hostPort: 8080 }] }] },
      "Pod not supported on Fargate: port contains HostIP or HostPort",
    ],
    [{}, undefined],
  ])("unsupported %j → %s", (spec, want) => {
    expect(unsupportedOnFargate(pod("p", { spec }))).toBe(want);
  });

  it("names nodes as EC2 names private addresses (us-east-1: ec2.internal), skipping taken names", () => {
    const a = fargateNodeName("u", "us-east-1", new Set());
    expect(a).toMatch(/^fargate-ip-10-0-\d{1,3}-\d{1,3}\.ec2\.internal$/);
    expect(fargateNodeName("u", "us-east-1", new Set([a]))).not.toBe(a);
  });
});
