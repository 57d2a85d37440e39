import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootstrapServices } from "../../src/controllers/kube/networking/bootstrap.js";
import type { ClusterNetwork } from "../../src/controllers/kube/networking/pod-networking.js";
import { pickSubnet } from "../../src/controllers/kube/networking/pod-networking.js";
import { syncEndpoints } from "../../src/controllers/kube/networking/service-networking.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef, KubeObject } from "../../src/kube/types.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "dev" };
const net: ClusterNetwork = {
  cluster,
  dockerNetwork: "n",
  bridge: "bk-x",
  subnet: "10.200.7.0/24",
  gateway: "10.200.7.1",
  serviceCidr: "10.100.0.0/16",
  dnsIP: "10.100.0.10",
};
const pod = (name: string, ip: string, ready = true): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", labels: { app: "web" } },
  spec: { containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }] },
  status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});

describe("pod network subnets", () => {
  it("a /24 of the pool clear of every existing subnet, the same one for a cluster while it is free", () => {
    const first = pickSubnet(cluster, []);
    expect(first).toMatch(/^10\.200\.[0-9]+\.0\/24$/);
    expect(pickSubnet(cluster, [])).toBe(first);
    const next = pickSubnet(cluster, [first as string, "172.17.0.0/16"]);
    expect(next).not.toBe(first);
    expect(pickSubnet(cluster, ["10.200.0.0/16"])).toBeUndefined();
    expect(pickSubnet(cluster, ["10.0.0.0/8"])).toBeUndefined();
  });
});

describe("endpoints controller on the object store", () => {
  let db: Db;
  let objects: ObjectStore;
  beforeEach(() => {
    db = openDb(":memory:");
    objects = new ObjectStore(new DocumentStore(db));
  });
  afterEach(() => db.close());

  it("writes Endpoints and a slice, updates them as pods change, removes them with the service; no write when nothing changed", () => {
    bootstrapServices(objects, cluster, { host: net.gateway, port: 6443 });
    const svc = objects.create(cluster, R.services, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: {
        clusterIP: "10.100.9.9",
        selector: { app: "web" },
        ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
      },
    });
    objects.create(cluster, R.pods, pod("a", "10.200.7.2"));
    syncEndpoints(objects, cluster, net);
    const ep = objects.get(cluster, R.endpoints, "default", "web");
    expect(ep?.subsets).toEqual([
      {
        addresses: [{ ip: "10.200.7.2", targetRef: expect.objectContaining({ name: "a" }) }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);
    const slices = () =>
      objects
        .list(cluster, R.endpointslices, "default")
        .items.filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === "web");
    expect(slices()).toHaveLength(1);
    expect(slices()[0]?.metadata.name).toMatch(/^web-/);
    expect(slices()[0]?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "Service",
      uid: svc.metadata.uid,
      controller: true,
    });
    expect(objects.get(cluster, R.endpoints, "kube-system", "kube-dns")?.subsets).toEqual([
      expect.objectContaining({ addresses: [{ ip: "10.200.7.1" }] }),
    ]);
    expect(objects.get(cluster, R.endpoints, "default", "kubernetes")?.subsets).toEqual([
      { addresses: [{ ip: "10.200.7.1" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] },
    ]);

    const head = objects.head();
    syncEndpoints(objects, cluster, net);
    expect(objects.head()).toBe(head);

    objects.create(cluster, R.pods, pod("b", "10.200.7.3", false));
    syncEndpoints(objects, cluster, net);
    expect(objects.get(cluster, R.endpoints, "default", "web")?.subsets).toEqual([
      expect.objectContaining({ notReadyAddresses: [expect.objectContaining({ ip: "10.200.7.3" })] }),
    ]);
    expect(slices()[0]?.endpoints).toHaveLength(2);

    objects.delete(cluster, R.services, "default", "web");
    syncEndpoints(objects, cluster, net);
    expect(objects.get(cluster, R.endpoints, "default", "web")).toBeUndefined();
    expect(slices()).toHaveLength(0);
    // The API server's own Endpoints (no selector on its Service) are left alone.
    expect(objects.get(cluster, R.endpoints, "default", "kubernetes")).toBeDefined();
  });

  it("bootstrap is idempotent and follows the API server's port", () => {
    bootstrapServices(objects, cluster, { host: "10.200.7.1", port: 6443 });
    const head = objects.head();
    bootstrapServices(objects, cluster, { host: "10.200.7.1", port: 6443 });
    expect(objects.head()).toBe(head);
    bootstrapServices(objects, cluster, { host: "10.200.7.1", port: 7443 });
    expect(objects.get(cluster, R.services, "default", "kubernetes")?.spec).toMatchObject({
      clusterIP: "10.100.0.1",
      ports: [{ name: "https", port: 443, targetPort: 7443 }],
    });
    expect(objects.get(cluster, R.services, "kube-system", "kube-dns")?.spec).toMatchObject({
      clusterIP: "10.100.0.10",
    });
  });
});
