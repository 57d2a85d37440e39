import { KubeError } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import { clusterDnsIP, DEFAULT_SERVICE_CIDR, kubernetesServiceIP } from "../../../kube/service-ips.js";
import type { ClusterRef, KubeObject } from "../../../kube/types.js";
import { canonical } from "./canonical.js";
import { SERVICE_NAME_LABEL } from "./endpoints.js";

/** The Service and Endpoints of the API server (default/kubernetes) and of the cluster DNS (kube-system/kube-dns). */
export function bootstrapObjects(
  apiServer: { host: string; port: number },
  serviceCidr = DEFAULT_SERVICE_CIDR,
): { services: KubeObject[]; endpoints: KubeObject[]; slices: KubeObject[] } {
  const apiIP = kubernetesServiceIP(serviceCidr);
  const dnsIP = clusterDnsIP(serviceCidr);
  const single = { ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack", internalTrafficPolicy: "Cluster" };
  const kubernetes: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
    spec: {
      type: "ClusterIP",
      clusterIP: apiIP,
      clusterIPs: [apiIP],
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: apiServer.port }],
      sessionAffinity: "None",
      ...single,
    },
  };
  const kubeDns: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kube-dns",
      namespace: "kube-system",
      labels: {
        "eks.amazonaws.com/component": "kube-dns",
        "k8s-app": "kube-dns",
        "kubernetes.io/cluster-service": "true",
        "kubernetes.io/name": "CoreDNS",
      },
    },
    spec: {
      type: "ClusterIP",
      clusterIP: dnsIP,
      clusterIPs: [dnsIP],
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
      ],
      sessionAffinity: "None",
      ...single,
    },
  };
  const apiEndpoints: KubeObject = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
    },
    subsets: [
      { addresses: [{ ip: apiServer.host }], ports: [{ name: "https", port: apiServer.port, protocol: "TCP" }] },
    ],
  };
  const apiSlice: KubeObject = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "kubernetes", namespace: "default", labels: { [SERVICE_NAME_LABEL]: "kubernetes" } },
    addressType: "IPv4",
    endpoints: [{ addresses: [apiServer.host], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: "https", port: apiServer.port, protocol: "TCP" }],
  };
  return { services: [kubernetes, kubeDns], endpoints: [apiEndpoints], slices: [apiSlice] };
}

/**
 * Creates (or brings up to date) the `kubernetes` Service in default — 10.100.0.1:443 → the API
 * server at `apiServer` (an address pods reach: the bridge gateway, where Berth listens too) — and
 * the `kube-dns` Service in kube-system (10.100.0.10, 53/UDP and 53/TCP; its Endpoints are kept by
 * the service networking controller, pointing at the bridge gateway where the cluster DNS answers).
 * Idempotent: run it at every start of a cluster's API.
 */
export function bootstrapServices(
  objects: ObjectStore,
  cluster: ClusterRef,
  apiServer: { host: string; port: number },
  opts: { serviceCidr?: string } = {},
): void {
  const { services, endpoints, slices } = bootstrapObjects(apiServer, opts.serviceCidr);
  const upsert = (type: typeof R.services, obj: KubeObject, same: (a: KubeObject, b: KubeObject) => boolean) => {
    const current = objects.get(cluster, type, obj.metadata.namespace, obj.metadata.name ?? "");
    if (!current) {
      try {
        objects.create(cluster, type, obj);
      } catch (e) {
        if (!(e instanceof KubeError && e.reason === "AlreadyExists")) throw e;
      }
      return;
    }
    if (same(current, obj)) return;
    objects.mutate(cluster, type, obj.metadata.namespace, obj.metadata.name ?? "", (c) => {
      const { metadata: _m, apiVersion: _a, kind: _k, ...body } = obj;
      return { ...c, ...body, metadata: { ...c.metadata, labels: obj.metadata.labels } };
    });
  };
  const sameSpec = (a: KubeObject, b: KubeObject) => canonical(a.spec) === canonical(b.spec);
  for (const s of services) upsert(R.services, s, sameSpec);
  for (const e of endpoints) upsert(R.endpoints, e, (a, b) => canonical(a.subsets) === canonical(b.subsets));
  for (const s of slices)
    upsert(R.endpointslices, s, (a, b) => canonical([a.endpoints, a.ports]) === canonical([b.endpoints, b.ports]));
}
