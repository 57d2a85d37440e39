import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import type { Scope } from "../../core/ids.js";
import type { Operations, RegisterContainerInstanceRequest } from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import type { ContainerInstanceRecord } from "../../store/schema/ecs.js";
import { hostInstance, instanceView } from "./container-instances.js";
import type { EcsContext } from "./context.js";

const invalid = (message: string) => ecsErrors.InvalidParameterException(message);

/** The EC2 instance identity document an agent reads from IMDS and registers with. */
export interface IdentityDocument {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  region: string;
  accountId: string;
  architecture?: string;
  privateIp?: string;
  imageId?: string;
}

/** The document's fields, or why it cannot be read (InvalidParameterException's message). */
export function readIdentityDocument(text: string | undefined): IdentityDocument | string {
  if (!text) return "instanceIdentityDocument is required: pass the EC2 instance identity document of the instance.";
  let doc: Partial<IdentityDocument>;
  try {
    doc = JSON.parse(text) as Partial<IdentityDocument>;
  } catch {
    return "instanceIdentityDocument is not valid JSON: pass the document IMDS serves at /latest/dynamic/instance-identity/document.";
  }
  for (const key of ["instanceId", "instanceType", "availabilityZone", "region", "accountId"] as const)
    if (typeof doc[key] !== "string" || doc[key] === "")
      return `instanceIdentityDocument has no ${key}: pass the document IMDS serves at /latest/dynamic/instance-identity/document.`;
  if (!/^i-[0-9a-f]{8,17}$/.test(doc.instanceId!))
    return `instanceIdentityDocument names an invalid instanceId '${doc.instanceId}'.`;
  return doc as IdentityDocument;
}

/** A resource the agent reported (CPU units, MEMORY MiB, PORTS). */
const reported = (input: RegisterContainerInstanceRequest, name: string) =>
  input.totalResources?.find((r) => r.name === name);

export interface AgentOperationDeps {
  /** Where agents open their channel (DiscoverPollEndpoint's endpoint). */
  pollEndpoint: () => string;
  /** The capacity provider an EC2 instance belongs to (through its Auto Scaling group), if any. */
  capacityProviderOf?: (scope: Scope, clusterArn: string, ec2InstanceId: string) => string | undefined;
}

/**
 * The ECS agent's own calls: RegisterContainerInstance (an instance host joins a cluster with its
 * resources, attributes and version) and DiscoverPollEndpoint (where its channel goes). The
 * container instance's id derives from the cluster and the EC2 instance, so an agent that
 * registers again (restarted, reconnected) keeps its instance, as the ECS agent keeps its ARN.
 */
export function agentOperations(ecs: EcsContext, deps: AgentOperationDeps): Provider<Operations> {
  return {
    RegisterContainerInstance: (input, ctx) => {
      const cluster = ecs.activeCluster(ctx, input.cluster);
      const doc = readIdentityDocument(input.instanceIdentityDocument);
      if (typeof doc === "string") throw invalid(doc);
      if (doc.accountId !== ctx.account || doc.region !== ctx.region)
        throw invalid(
          `The instance identity document is for account ${doc.accountId} in ${doc.region}; this call is for ${ctx.account} in ${ctx.region}.`,
        );
      const cpu = reported(input, "CPU")?.integerValue;
      const memory = reported(input, "MEMORY")?.integerValue;
      if (!cpu || cpu <= 0 || !memory || memory <= 0)
        throw invalid(
          "totalResources must report CPU (units, 1024 per vCPU) and MEMORY (MiB) as positive INTEGER values.",
        );
      const now = ecs.clock.now();
      const fresh = hostInstance(
        ctx,
        cluster,
        {
          id: doc.instanceId,
          resources: { cpuUnits: cpu, memoryMiB: memory },
          reservedPorts: {
            tcp: reported(input, "PORTS")?.stringSetValue ?? [],
            udp: reported(input, "PORTS_UDP")?.stringSetValue ?? [],
          },
          platform: {
            os: "linux",
            arch: doc.architecture === "arm64" || doc.architecture === "aarch64" ? "arm64" : "x86_64",
            instanceType: doc.instanceType,
          },
          attributes: (input.attributes ?? [])
            .filter((a) => a.name && !a.name.startsWith("ecs."))
            .map((a) => ({ name: a.name, value: a.value })),
        },
        now,
        { ec2InstanceId: doc.instanceId, availabilityZone: doc.availabilityZone },
      );
      if (input.containerInstanceArn && input.containerInstanceArn !== fresh.containerInstanceArn)
        throw invalid(
          `containerInstanceArn ${input.containerInstanceArn} is not the container instance of ${doc.instanceId} in cluster ${cluster.clusterName}.`,
        );
      const existing = ecs.containerInstance(ctx, cluster, fresh.id);
      const record: ContainerInstanceRecord = {
        ...fresh,
        // Re-registration keeps what the cluster knows of it (state, tags, custom attributes put since).
        ...(existing && existing.status !== "INACTIVE"
          ? { status: existing.status, tags: existing.tags, registeredAt: existing.registeredAt }
          : { tags: input.tags ?? [] }),
        version: (existing?.version ?? 0) + 1,
        versionInfo: input.versionInfo ?? fresh.versionInfo,
        capacityProviderName: deps.capacityProviderOf?.(ctx, cluster.clusterArn, doc.instanceId),
        // Connected once its channel is open (edge/agent-channel.ts).
        agentConnected: existing?.status !== "INACTIVE" && existing?.agentConnected === true,
      };
      ecs.containerInstances.put(ctx, record);
      return { containerInstance: instanceView(record, ecs.tasks.children(ctx, cluster.clusterArn)) };
    },

    DiscoverPollEndpoint: (input, ctx) => {
      if (input.cluster) ecs.activeCluster(ctx, input.cluster);
      const endpoint = deps.pollEndpoint();
      return { endpoint, telemetryEndpoint: endpoint, serviceConnectEndpoint: endpoint };
    },
  };
}
