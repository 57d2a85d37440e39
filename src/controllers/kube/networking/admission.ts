import type { Admission } from "../../../kube/contracts.js";
import { kubeErrors, type StatusCause } from "../../../kube/errors.js";
import type { ObjectStore } from "../../../kube/objects.js";
import { R } from "../../../kube/resources.js";
import { allocateNodePort, allocateServiceIP, DEFAULT_SERVICE_CIDR, goStrings } from "../../../kube/service-ips.js";
import type { ClusterRef, KubeObject, ResourceType } from "../../../kube/types.js";
import { clusterIPsOf, type ServicePort, type ServiceSpec, specOf } from "./model.js";

export interface ServiceAdmissionDeps {
  objects: ObjectStore;
  /** The cluster's service range (EKS kubernetesNetworkConfig.serviceIpv4Cidr); 10.100.0.0/16 by default. */
  serviceCidr?: (cluster: ClusterRef) => string;
  random?: () => number;
}

/** What a Service needs of the cluster's allocations besides itself. */
export interface Taken {
  ips: Set<string>;
  nodePorts: Set<number>;
}

/**
 * Service admission, as kube-apiserver's Service REST storage: on create, spec.clusterIP(s) from
 * the service range (a requested one must be in range and free; `None` = headless) and node ports
 * for NodePort/LoadBalancer services (30000–32767, no duplicates); on update the allocated values
 * are kept and may not change. Other kinds pass through.
 */
export function serviceAdmission(deps: ServiceAdmissionDeps): Admission {
  const random = deps.random ?? Math.random;
  return {
    admit(cluster, op, type, obj, old) {
      if (!isServices(type)) return obj;
      const name = obj.metadata.name ?? "";
      const namespace = obj.metadata.namespace ?? "default";
      const taken = takenBy(deps.objects.list(cluster, R.services).items, namespace, name);
      const cidr = deps.serviceCidr?.(cluster) ?? DEFAULT_SERVICE_CIDR;
      return admitService({ obj, old: op === "update" ? old : undefined, taken, cidr, random });
    },
  };
}

const isServices = (t: ResourceType) => t.group === "" && t.resource === "services";

/** Addresses and node ports held by every Service but namespace/name. */
export function takenBy(services: KubeObject[], namespace: string, name: string): Taken {
  const ips = new Set<string>();
  const nodePorts = new Set<number>();
  for (const s of services) {
    if ((s.metadata.namespace ?? "default") === namespace && s.metadata.name === name) continue;
    const spec = specOf(s);
    for (const ip of clusterIPsOf(spec)) ips.add(ip);
    for (const p of spec.ports ?? []) if (p.nodePort) nodePorts.add(p.nodePort);
  }
  return { ips, nodePorts };
}

const needsNodePorts = (spec: ServiceSpec) => spec.type === "NodePort" || spec.type === "LoadBalancer";

/** PURE: the Service as stored, or a KubeError (422 Invalid with kube-apiserver's messages). */
export function admitService(args: {
  obj: KubeObject;
  old?: KubeObject;
  taken: Taken;
  cidr: string;
  random: () => number;
}): KubeObject {
  const { obj, old, taken, cidr, random } = args;
  const name = obj.metadata.name ?? "";
  const spec: ServiceSpec = structuredClone(specOf(obj));
  const oldSpec = old ? specOf(old) : undefined;
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  spec.ports = (spec.ports ?? []).map((p) => ({
    ...p,
    protocol: p.protocol ?? "TCP",
    targetPort: p.targetPort ?? p.port,
  }));
  const invalid = (causes: StatusCause[]) => kubeErrors.invalid("", "Service", name, causes);

  if (spec.type === "ExternalName") {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    for (const p of spec.ports) delete p.nodePort;
    return { ...obj, spec };
  }
  spec.internalTrafficPolicy ??= "Cluster";

  // Cluster IPs: kept from the stored object on update, allocated on create.
  const oldIPs =
    oldSpec && oldSpec.type !== "ExternalName"
      ? (oldSpec.clusterIPs ?? (oldSpec.clusterIP ? [oldSpec.clusterIP] : []))
      : [];
  let requested = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (spec.clusterIP && spec.clusterIPs?.length && spec.clusterIP !== spec.clusterIPs[0])
    throw invalid([
      {
        reason: "FieldValueInvalid",
        field: "spec.clusterIPs",
        message: `Invalid value: ${goStrings(spec.clusterIPs)}: must be consistent with spec.clusterIP`,
      },
    ]);
  if (oldIPs.length) {
    if (!requested.length) requested = oldIPs;
    else if (requested[0] !== oldIPs[0])
      throw invalid([
        {
          reason: "FieldValueInvalid",
          field: "spec.clusterIPs[0]",
          message: `Invalid value: ${goStrings(requested)}: may not change once set`,
        },
      ]);
  }
  let ips: string[];
  if (requested[0] === "None") ips = ["None"];
  else if (oldIPs.length && requested[0] === oldIPs[0]) ips = [oldIPs[0] as string];
  else {
    const want = requested[0] || undefined;
    const got = allocateServiceIP(cidr, taken.ips, want, random);
    if (!got.ok) {
      if (want === undefined) throw kubeErrors.internal(`failed to allocate a serviceIP: ${got.detail}`);
      throw invalid([
        {
          reason: "FieldValueInvalid",
          field: "spec.clusterIPs",
          message: `Invalid value: ${goStrings(requested)}: failed to allocate IP ${want}: ${got.detail}`,
        },
      ]);
    }
    ips = [got.value];
  }
  spec.clusterIP = ips[0];
  spec.clusterIPs = ips;
  spec.ipFamilies ??= ["IPv4"];
  spec.ipFamilyPolicy ??= "SingleStack";

  // Node ports.
  if (!needsNodePorts(spec)) {
    for (const p of spec.ports) delete p.nodePort;
    delete spec.externalTrafficPolicy;
  } else {
    spec.externalTrafficPolicy ??= "Cluster";
    const used = new Set(taken.nodePorts);
    const mine = new Map<number, Set<string>>();
    const causes: StatusCause[] = [];
    spec.ports.forEach((p: ServicePort, i) => {
      let want = p.nodePort || undefined;
      if (want === undefined && oldSpec && needsNodePorts(oldSpec)) want = keptNodePort(oldSpec.ports ?? [], p);
      const own = want !== undefined ? mine.get(want) : undefined;
      if (want !== undefined && own && !own.has(p.protocol ?? "TCP")) {
        own.add(p.protocol ?? "TCP"); // one node port for TCP and UDP of one service is allowed
        p.nodePort = want;
        return;
      }
      const got = allocateNodePort(used, want, random);
      if (!got.ok) {
        causes.push({
          reason: "FieldValueInvalid",
          field: `spec.ports[${i}].nodePort`,
          message: `Invalid value: ${want}: ${got.detail}`,
        });
        return;
      }
      used.add(got.value);
      mine.set(got.value, new Set([p.protocol ?? "TCP"]));
      p.nodePort = got.value;
    });
    if (causes.length) throw invalid(causes);
  }
  return { ...obj, spec };
}

/** The node port a port had before an update (matched by port and protocol, then by name). */
function keptNodePort(oldPorts: ServicePort[], p: ServicePort): number | undefined {
  const same =
    oldPorts.find((o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP")) ??
    (p.name ? oldPorts.find((o) => o.name === p.name) : undefined);
  return same?.nodePort || undefined;
}
