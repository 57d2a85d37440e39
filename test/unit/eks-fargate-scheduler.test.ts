import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/logger.js";
import { admitFargatePod } from "../../src/controllers/kube/fargate/admission.js";
import type { FargateProfileView } from "../../src/controllers/kube/fargate/profiles.js";
import { type FargateScheduler, startFargateScheduler } from "../../src/controllers/kube/fargate/scheduler.js";
import type { Host } from "../../src/hosts/host.js";
import { HostRegistry } from "../../src/hosts/registry.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject } from "../../src/kube/types.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const cluster: ClusterRef = { scope: { account: "000000000000", region: "eu-west-1" }, name: "dev" };

describe("fargate-scheduler over the object store", () => {
  let db: Db;
  let objects: ObjectStore;
  let profiles: FargateProfileView[];
  let sched: FargateScheduler;
  const host = { id: "host-a", platform: { os: "linux", arch: "x86_64", instanceType: "berth" } } as unknown as Host;

  const until = async <T>(fn: () => T | undefined, what: string): Promise<T> => {
    for (let i = 0; i < 1000; i++) {
      const v = fn();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const createPod = (name: string, ns = "game", cpu = "250m") =>
    objects.create(
      cluster,
      R.pods,
      admitFargatePod(
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, namespace: ns },
          spec: { containers: [{ name: "c", image: "i", resources: { requests: { cpu, memory: "256Mi" } } }] },
          status: { phase: "Pending" },
        },
        profiles,
      ),
    );
  const getPod = (name: string, ns = "game") =>
    objects.get(cluster, R.pods, ns, name) as
      | (KubeObject & {
          spec: { nodeName?: string };
          status?: { conditions?: { type: string; status: string; reason?: string }[] };
        })
      | undefined;

  beforeEach(() => {
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
    profiles = [{ name: "fp", status: "ACTIVE", selectors: [{ namespace: "game" }], zones: ["eu-west-1c"] }];
    sched = startFargateScheduler({
      objects,
      clusters: () => [cluster],
      profiles: { profiles: () => profiles },
      hosts: new HostRegistry([host]),
      clock: { now: () => new Date() },
      logger: createLogger("silent"),
      resyncMs: 20,
    });
  });
  afterEach(async () => {
    await sched.stop();
    db.close();
  });

  it("binds a Fargate pod to a node of its own, and removes the node once the pod is gone", async () => {
    createPod("web");
    const pod = await until(() => (getPod("web")?.spec.nodeName ? getPod("web") : undefined), "the binding");
    const node = objects.get(cluster, R.nodes, undefined, pod.spec.nodeName!)!;
    expect(node.metadata.name).toMatch(/^fargate-ip-10-0-\d+-\d+\.eu-west-1\.compute\.internal$/);
    expect(node.metadata.annotations).toMatchObject({ "berth.dev/hosted-by": "host-a" });
    expect(node.metadata.labels).toMatchObject({ "topology.kubernetes.io/zone": "eu-west-1c" });
    expect(pod.metadata.annotations).toMatchObject({
      CapacityProvisioned: "0.25vCPU 0.5GB",
      "eks.amazonaws.com/fargate-profile": "fp",
    });
    await until(
      () => getPod("web")?.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "True"),
      "PodScheduled",
    );
    const events = objects.list(cluster, R.events, "game").items;
    expect(
      events.map((e) => [e.reason, e.message, (e as { source?: { component?: string } }).source?.component]),
    ).toContainEqual(["Scheduled", `Successfully assigned game/web to ${pod.spec.nodeName}`, "fargate-scheduler"]);
    objects.delete(cluster, R.pods, "game", "web", { gracePeriodSeconds: 0 });
    await until(() => !objects.get(cluster, R.nodes, undefined, pod.spec.nodeName!), "the node's removal");
  });

  it("keeps a too-big pod Pending with fargate-scheduler's reason and one event", async () => {
    createPod("big", "game", "16");
    const cond = await until(
      () => getPod("big")?.status?.conditions?.find((c) => c.type === "PodScheduled"),
      "the PodScheduled condition",
    );
    expect(cond).toMatchObject({ status: "False", reason: "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE" });
    await new Promise((r) => setTimeout(r, 100));
    const failed = objects.list(cluster, R.events, "game").items.filter((e) => e.reason === "FailedScheduling");
    expect(failed).toHaveLength(1);
    expect(objects.list(cluster, R.nodes).items).toEqual([]);
  });

  it("deletes the pods of a profile being deleted", async () => {
    createPod("web");
    await until(() => getPod("web")?.spec.nodeName, "the binding");
    profiles = [{ ...profiles[0], status: "DELETING" }];
    await until(() => {
      const p = getPod("web");
      return !p || p.metadata.deletionTimestamp ? true : undefined;
    }, "the pod's deletion");
  });

  it("removes the node of a pod that goes after its profile is gone", async () => {
    createPod("web");
    const node = await until(() => getPod("web")?.spec.nodeName, "the binding");
    profiles = [];
    await until(() => !getPod("web") || getPod("web")?.metadata.deletionTimestamp, "the pod's deletion");
    objects.delete(cluster, R.pods, "game", "web", { gracePeriodSeconds: 0 });
    await until(() => !objects.get(cluster, R.nodes, undefined, node), "the node's removal");
  });

  it("leaves pods of other namespaces to the default scheduler", async () => {
    createPod("api", "other");
    await new Promise((r) => setTimeout(r, 100));
    expect(getPod("api", "other")?.spec).not.toHaveProperty("schedulerName");
    expect(getPod("api", "other")?.spec.nodeName).toBeUndefined();
  });
});
