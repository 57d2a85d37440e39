/**
 * The service environment variables a pod's containers get (kubelet's envvars.FromServices), PURE:
 * `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT>]` and the Docker-link style `<NAME>_PORT…`
 * for every Service with a ClusterIP in the pod's namespace (with `enableServiceLinks`, the default)
 * and, always, the `kubernetes` Service of `default`.
 */
import type { KubeObject } from "../../../kube/types.js";
import { clusterIPsOf, specOf } from "./model.js";

const envName = (s: string) => s.toUpperCase().replaceAll("-", "_");

export function serviceEnv(
  services: KubeObject[],
  namespace: string,
  enableServiceLinks = true,
): { name: string; value: string }[] {
  // As the kubelet: default/kubernetes unless the pod's namespace has a Service of that name.
  const byName = new Map<string, KubeObject>();
  for (const s of services) {
    if (!clusterIPsOf(specOf(s)).length) continue;
    const ns = s.metadata.namespace ?? "default";
    const name = s.metadata.name ?? "";
    if (ns === "default" && name === "kubernetes") {
      if (!byName.has(name)) byName.set(name, s);
    } else if (ns === namespace && enableServiceLinks) byName.set(name, s);
  }
  const chosen = [...byName.values()].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  const env: { name: string; value: string }[] = [];
  for (const s of chosen) {
    const spec = specOf(s);
    const ip = clusterIPsOf(spec)[0];
    const ports = spec.ports ?? [];
    if (!ip || !ports.length) continue;
    const name = envName(s.metadata.name ?? "");
    const first = ports[0];
    if (!first) continue;
    env.push({ name: `${name}_SERVICE_HOST`, value: ip });
    env.push({ name: `${name}_SERVICE_PORT`, value: String(first.port) });
    for (const p of ports)
      if (p.name) env.push({ name: `${name}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    const proto = (first.protocol ?? "TCP").toLowerCase();
    env.push({ name: `${name}_PORT`, value: `${proto}://${ip}:${first.port}` });
    for (const p of ports) {
      const pr = (p.protocol ?? "TCP").toLowerCase();
      const prefix = `${name}_PORT_${p.port}_${pr.toUpperCase()}`;
      env.push({ name: prefix, value: `${pr}://${ip}:${p.port}` });
      env.push({ name: `${prefix}_PROTO`, value: pr });
      env.push({ name: `${prefix}_PORT`, value: String(p.port) });
      env.push({ name: `${prefix}_ADDR`, value: ip });
    }
  }
  return env;
}
