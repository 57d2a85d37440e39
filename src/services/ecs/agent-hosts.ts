import type { Scope } from "../../core/ids.js";
import { parseArn } from "../../core/ids.js";
import type { AgentInstance } from "../../edge/agent-channel.js";
import { LOCAL_HOST_ID } from "../../hosts/local.js";
import { RevisionConflict } from "../../store/documents.js";
import type { ContainerInstanceRecord, TaskRecord } from "../../store/schema/ecs.js";
import type { EcsContext } from "./context.js";
import { lostVerdict, stoppedWithHost } from "./lost-hosts.js";

export interface LostHostFacts {
  /** The EC2 instance's state, when Berth knows the instance. */
  instanceState?: (scope: Scope, ec2InstanceId: string) => string | undefined;
  /** Whether the instance's host still runs, when this Berth made it. */
  hostAlive?: (ec2InstanceId: string) => Promise<boolean | undefined>;
  graceMs: number;
  lostAfterMs: number;
}

/** `arn:…:container-instance/<cluster>/<id>` → the collection key `<cluster>/<id>`. */
const instanceKey = (arn: string) => parseArn(arn)?.resource.replace(/^container-instance\//, "");

/**
 * ECS's side of agent hosts: which container instance a connecting agent is, its connection
 * state (agentConnected), and which host runs a task (its container instance's).
 */
export class AgentHosts {
  /** When each absent agent was last seen (since this Berth started, for agents not back yet). */
  private readonly absentSince = new Map<string, number>();
  private readonly started: number;

  constructor(
    private readonly ecs: EcsContext,
    private readonly facts: LostHostFacts = { graceMs: 10_000, lostAfterMs: 600_000 },
  ) {
    this.started = ecs.clock.now().getTime();
  }

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
    if (connected) this.absentSince.delete(arn);
    else this.absentSince.set(arn, this.ecs.clock.now().getTime());
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

  /**
   * Stops the tasks of agent hosts that are gone (lost-hosts.ts decides), so services replace
   * them elsewhere; terminated instances leave their clusters.
   */
  async sweepLost(): Promise<void> {
    const now = this.ecs.clock.now();
    for (const { scope, doc: instance } of this.ecs.containerInstances.listAll()) {
      if (instance.status === "INACTIVE" || instance.agentConnected !== false) continue;
      if (!instance.hostId || instance.hostId === LOCAL_HOST_ID || !instance.ec2InstanceId) continue;
      const since = this.absentSince.get(instance.containerInstanceArn) ?? this.started;
      const verdict = lostVerdict(
        {
          ec2InstanceId: instance.ec2InstanceId,
          instanceState: this.facts.instanceState?.(scope, instance.ec2InstanceId),
          hostAlive: await this.facts.hostAlive?.(instance.ec2InstanceId),
          absentMs: now.getTime() - since,
        },
        this.facts,
      );
      if (!verdict) continue;
      for (const task of this.ecs.tasks.children(scope, instance.clusterArn)) {
        if (task.containerInstanceArn !== instance.containerInstanceArn || task.lastStatus === "STOPPED") continue;
        this.ecs.tasks.put(scope, stoppedWithHost(task, now, verdict.reason));
      }
      if (verdict.deregister) this.ecs.containerInstances.put(scope, { ...instance, status: "INACTIVE" });
    }
  }
}
