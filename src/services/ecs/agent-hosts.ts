import type { Scope } from "../../core/ids.js";
import { parseArn } from "../../core/ids.js";
import type { AgentInstance } from "../../edge/agent-channel.js";
import { LOCAL_HOST_ID } from "../../hosts/local.js";
import { RevisionConflict } from "../../store/documents.js";
import type { ContainerInstanceRecord, TaskRecord } from "../../store/schema/ecs.js";
import type { EcsContext } from "./context.js";

/** `arn:…:container-instance/<cluster>/<id>` → the collection key `<cluster>/<id>`. */
const instanceKey = (arn: string) => parseArn(arn)?.resource.replace(/^container-instance\//, "");

/**
 * ECS's side of agent hosts: which container instance a connecting agent is, its connection
 * state (agentConnected), and which host runs a task (its container instance's).
 */
export class AgentHosts {
  constructor(private readonly ecs: EcsContext) {}

  private record(scope: Scope, arn: string): ContainerInstanceRecord | undefined {
    const key = instanceKey(arn);
    return key ? this.ecs.containerInstances.get(scope, key) : undefined;
  }

  instance(scope: Scope, cluster: string, arn: string): AgentInstance | string {
    const found = this.record(scope, arn);
    if (!found?.clusterArn.endsWith(`:cluster/${this.ecs.clusterName(cluster)}`))
      return `The referenced container instance was not found: '${arn}'. Register it with RegisterContainerInstance first.`;
    if (found.status === "INACTIVE")
      return `Container instance ${arn} is INACTIVE (deregistered); register the instance again.`;
    if (!found.hostId || found.hostId === LOCAL_HOST_ID) return `Container instance ${arn} is not an agent host.`;
    const reg = (name: string) => found.registeredResources?.find((r) => r.name === name);
    const attr = (name: string) => found.attributes?.find((a) => a.name === name)?.value;
    return {
      hostId: found.hostId,
      cpuUnits: reg("CPU")?.integerValue ?? 0,
      memoryMiB: reg("MEMORY")?.integerValue ?? 0,
      reservedPorts: { tcp: reg("PORTS")?.stringSetValue ?? [], udp: reg("PORTS_UDP")?.stringSetValue ?? [] },
      arch: attr("ecs.cpu-architecture") === "arm64" ? "arm64" : "x86_64",
      instanceType: attr("ecs.instance-type") ?? "unknown",
    };
  }

  /** Writes agentConnected (compare-and-put, retried: the scheduler may be writing the same record). */
  connected(scope: Scope, _cluster: string, arn: string, connected: boolean) {
    const key = instanceKey(arn);
    if (!key) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const read = this.ecs.containerInstances.getVersioned(scope, key);
      if (!read || read.doc.agentConnected === connected) return;
      try {
        this.ecs.containerInstances.put(scope, { ...read.doc, agentConnected: connected }, { expect: read.rev });
        return;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
      }
    }
  }

  /** The host a task runs on: its container instance's (the local host for Fargate and the local instance). */
  hostOf(task: TaskRecord): string | undefined {
    if (!task.containerInstanceArn) return undefined;
    const scope = parseArn(task.taskArn);
    if (!scope) return undefined;
    const found = this.record({ account: scope.account, region: scope.region }, task.containerInstanceArn);
    return found?.hostId && found.hostId !== LOCAL_HOST_ID ? found.hostId : undefined;
  }
}
