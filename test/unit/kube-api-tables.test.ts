import { describe, expect, it } from "vitest";
import { columnsOf, humanDuration, podStatus, toTable } from "../../src/kube-api/tables.js";
import { R } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/types.js";

const now = Date.parse("2025-01-01T12:00:00Z");
const created = "2025-01-01T11:55:00Z";

describe("tables (what kubectl get prints)", () => {
  it("human durations as kube's", () => {
    expect(
      [45e3, 150e3, 330e3, 3 * 3600e3, 5.5 * 3600e3, 30 * 3600e3, 3 * 86400e3, 400 * 86400e3].map(humanDuration),
    ).toEqual(["45s", "2m30s", "5m30s", "3h", "5h30m", "30h", "3d", "400d"]);
  });

  it("pods: Name Ready Status Restarts Age (+ IP Node … with -o wide)", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", creationTimestamp: created },
      spec: { nodeName: "n1", containers: [{ name: "a" }, { name: "b" }] },
      status: {
        phase: "Running",
        podIP: "10.0.0.2",
        containerStatuses: [
          {
            name: "a",
            ready: true,
            restartCount: 2,
            state: { running: {} },
            lastState: { terminated: { finishedAt: "2025-01-01T11:59:00Z" } },
          },
          { name: "b", ready: false, restartCount: 0, state: { waiting: { reason: "CrashLoopBackOff" } } },
        ],
      },
    } as KubeObject;
    const t = toTable(R.pods, [pod], { now });
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual([
      "Name",
      "Ready",
      "Status",
      "Restarts",
      "Age",
    ]);
    expect(t.rows[0].cells.slice(0, 7)).toEqual([
      "web-1",
      "1/2",
      "CrashLoopBackOff",
      "2 (60s ago)",
      "5m",
      "10.0.0.2",
      "n1",
    ]);
    expect(t.rows[0].object).toMatchObject({ kind: "PartialObjectMetadata", metadata: { name: "web-1" } });
  });

  it.each([
    [{ phase: "Pending" }, {}, "Pending"],
    [
      { phase: "Running", containerStatuses: [{ state: { terminated: { exitCode: 1, reason: "Error" } } }] },
      {},
      "Error",
    ],
    [{ phase: "Pending", initContainerStatuses: [{ state: { waiting: {} } }] }, { initContainers: [{}] }, "Init:0/1"],
    [
      { phase: "Succeeded", containerStatuses: [{ state: { terminated: { exitCode: 0, reason: "Completed" } } }] },
      {},
      "Completed",
    ],
  ])("pod status %j → %s", (status, spec, want) => {
    expect(podStatus({ apiVersion: "v1", kind: "Pod", metadata: {}, spec, status } as KubeObject)).toBe(want);
  });

  it("a pod being deleted is Terminating", () => {
    expect(
      podStatus({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { deletionTimestamp: created },
        status: { phase: "Running" },
      } as KubeObject),
    ).toBe("Terminating");
  });

  it("deployments, services, namespaces; other kinds get Name and Age", () => {
    const dep = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", creationTimestamp: created },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { spec: { containers: [{ name: "c", image: "busybox" }] } },
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    } as KubeObject;
    expect(toTable(R.deployments, [dep], { now }).rows[0].cells).toEqual([
      "web",
      "2/3",
      3,
      2,
      "5m",
      "c",
      "busybox",
      "app=web",
    ]);
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s", creationTimestamp: created },
      spec: {
        type: "NodePort",
        clusterIP: "10.100.0.1",
        ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }],
        selector: { app: "web" },
      },
    } as KubeObject;
    expect(toTable(R.services, [svc], { now }).rows[0].cells).toEqual([
      "s",
      "NodePort",
      "10.100.0.1",
      "<none>",
      "80:30080/TCP",
      "5m",
      "app=web",
    ]);
    expect(columnsOf(R.namespaces).map((c) => c.name)).toEqual(["Name", "Status", "Age"]);
    expect(columnsOf(R.controllerrevisions).map((c) => c.name)).toEqual(["Name", "Age"]);
    expect(toTable(R.configmaps, [], { includeObject: "None" }).rows).toEqual([]);
  });
});
