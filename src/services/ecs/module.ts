import type { ImageSources } from "../../runtime/image-pull.js";
import type { HostRegistry } from "../../hosts/registry.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../../config/config.js";
import type { ServiceLoadBalancing } from "../../controllers/services/load-balancing.js";
import { ServiceController } from "../../controllers/services/controller.js";
import type { EfsVolumes } from "../../controllers/tasks/efs-volumes.js";
import type { LogsBackend } from "../../controllers/tasks/logs-backend.js";
import { TaskController } from "../../controllers/tasks/controller.js";
import type { CancelTimer, TimerClock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { Authorizer } from "../../iam/authorizer.js";
import { ecsResources } from "../../iam/resources.js";
import type { RoleSessions } from "../../iam/sessions.js";
import type { ServiceState } from "../../protocol/service.js";
import type { ContainerRuntime, RegistryAuth } from "../../runtime/runtime.js";
import type { DocumentStore } from "../../store/documents.js";
import { storeIdentity, storeSecret } from "../../store/identity.js";
import { EndpointIds } from "../../task-endpoint/endpoint-ids.js";
import { TaskEndpoint } from "../../task-endpoint/server.js";
import { type SecretValues, TaskIdentity } from "../../task-endpoint/task-identity.js";
import { serviceModule } from "../module.js";
import { ecsService } from "./provider.js";
import type { ExpressBackends } from "./express/operations.js";
import { launchTasks } from "./tasks.js";
import { AgentHosts, type LostHostFacts } from "./agent-hosts.js";
import { LOCAL_HOST_ID } from "../../hosts/local.js";
import type { TaskRecord } from "../../store/schema/ecs.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import { agentChannelRoute } from "../../edge/agent-channel.js";
import type { AgentOperationDeps } from "./agent-operations.js";

/** How long the task controller waits before trying to start again (Docker unreachable at start). */
const CONTROLLER_RETRY_MS = 5000;

export interface EcsModuleDeps {
  config: Pick<
    Config,
    "dataDir" | "publishHost" | "taskNetwork" | "resyncIntervalMs" | "ecsHealthyAfterMs" | "taskEndpoint"
  >;
  store: DocumentStore;
  clock: TimerClock;
  logger: Logger;
  runtime: ContainerRuntime;
  /** The places that run containers (the local Docker host today); ECS container instances are a view of them. */
  hosts: HostRegistry;
  identity: { authorizer: Authorizer; sessions: RoleSessions };
  logs: LogsBackend;
  loadBalancing: ServiceLoadBalancing;
  /** Container `secrets` from SSM and Secrets Manager. */
  parameters: SecretValues;
  secrets: SecretValues & { find(scope: Scope, id: string): { ARN: string } | undefined };
  /** Images in Berth's own registry (ECR): pull credentials, and the account and region they belong to. */
  images: {
    pullCredentials(image: string): RegistryAuth | undefined;
    berthImage(image: string): Scope | undefined;
    /** The mirror list: where an image named in a task definition is pulled from, in order. */
    imageSources?: ImageSources;
  };
  /** Where the task endpoint hands requests that are not for it: Berth's API (AWS_ENDPOINT_URL in tasks). */
  edge: (req: IncomingMessage, res: ServerResponse) => void;
  /** EFS volumes for tasks' `efsVolumeConfiguration` (the EFS module); without it such tasks fail to start. */
  efs?: EfsVolumes;
  /** ECS Express Mode's ELBv2 and Application Auto Scaling (bound late) and its listener port; without it Express Mode is off. */
  express?: Omit<ExpressBackends, "logs" | "logger">;
  /** Agents' endpoint and their instances' capacity providers (RegisterContainerInstance, DiscoverPollEndpoint). */
  agents?: Partial<AgentOperationDeps>;
  /** What tells a lost agent host from one that is only away (EC2 instance state, the host's processes). */
  lostHosts?: Partial<LostHostFacts>;
}

/**
 * ECS as a service module: the API, the task controller (Docker converges to the stored tasks),
 * the service scheduler, and the task credential and metadata endpoint at 169.254.170.2.
 * ECS reports "starting" until the task controller runs and "degraded" while it cannot start
 * (it retries every 5 s).
 */
export function ecsModule(deps: EcsModuleDeps) {
  const { config, store, clock, logger, runtime } = deps;
  let state: ServiceState = "starting";
  let retry: CancelTimer | undefined;
  const ecs = ecsService({
    store,
    clock,
    hosts: deps.hosts,
    state: () => state,
    loadBalancing: () => deps.loadBalancing,
    express: deps.express && { ...deps.express, logs: deps.logs, logger },
    agents: deps.agents,
  });
  const agentHosts = new AgentHosts(ecs.ecs, {
    graceMs: 10_000,
    lostAfterMs: 600_000,
    ...deps.lostHosts,
  });
  let lostSweep: Periodic | undefined;
  const storeId = storeIdentity(store);
  const ids = new EndpointIds(store, storeSecret(store, "task-endpoint-ids"));
  const identity = new TaskIdentity({
    authorizer: deps.identity.authorizer,
    sessions: deps.identity.sessions,
    parameters: deps.parameters,
    secrets: deps.secrets,
    ids,
    endpoint: () => endpoint.info(),
    berthImage: deps.images.berthImage,
  });
  // The runtime of the host a task runs on: its agent host's, or the local Docker Engine's.
  const runtimeOf = (task: TaskRecord) => deps.hosts.get(agentHosts.hostOf(task) ?? LOCAL_HOST_ID)?.runtime ?? runtime;
  const endpoint = new TaskEndpoint({
    config: config.taskEndpoint,
    ids,
    tasks: ecs.ecs.tasks,
    runtime,
    runtimeOf,
    identity,
    clock,
    logger,
    storeId,
    fallback: deps.edge,
  });
  const tasks = new TaskController({
    store,
    tasks: ecs.ecs.tasks,
    runtime,
    logs: deps.logs,
    clock,
    logger,
    storeId,
    dataDir: config.dataDir,
    publishHost: config.publishHost,
    network: config.taskNetwork,
    resyncIntervalMs: config.resyncIntervalMs,
    registryAuth: deps.images.pullCredentials,
    imageSources: deps.images.imageSources,
    identity,
    efs: deps.efs,
    hosts: deps.hosts,
    hostOf: (task) => agentHosts.hostOf(task),
  });
  const scheduler = new ServiceController({
    ecs: ecs.ecs,
    launchTasks: (...args) => launchTasks(ecs.ecs, ...args),
    clock,
    logger,
    loadBalancing: () => deps.loadBalancing,
    healthyAfterMs: config.ecsHealthyAfterMs,
    // Services with work in flight are rechecked every second; the rest wait for a change or this.
    resyncIntervalMs: config.resyncIntervalMs,
  });

  const startTasks = async (): Promise<void> => {
    try {
      await tasks.start();
      state = "running";
    } catch (err) {
      state = "degraded";
      logger.error(
        { err: (err as Error).message },
        "task controller cannot start; ECS tasks will not run until it can",
      );
      retry = clock.after(CONTROLLER_RETRY_MS, () => void startTasks());
    }
  };

  return serviceModule({
    name: "ecs",
    definitions: [ecs.service],
    iam: { prefixes: { ecs: "ecs" }, resources: { ecs: ecsResources } },
    /** ECS's collections and name resolution, for Application Auto Scaling and the ECS metrics. */
    ecs: ecs.ecs,
    /** The runtime a task's containers run on (for the ECS metrics). */
    runtimeOf,
    /** What /_berth/health reports about the task endpoint. */
    taskEndpointHealth: () => endpoint.health(),
    /** The WebSocket route agents open their channel on (src/edge/agent-channel.ts). */
    agentChannel: agentChannelRoute({
      registry: deps.hosts,
      logger,
      instance: (scope, cluster, arn) => agentHosts.instance(scope, cluster, arn),
      connected: (scope, cluster, arn, up) => agentHosts.connected(scope, cluster, arn, up),
    }),
    async start() {
      await endpoint.start();
      await startTasks();
      scheduler.start();
      ecs.express.start();
      lostSweep = periodic(() => agentHosts.sweepLost(), {
        name: "lost agent hosts",
        everyMs: 5000,
        logger,
        clock,
      });
      void lostSweep.start();
    },
    async stop() {
      retry?.();
      lostSweep?.stop();
      ecs.express.stop();
      await endpoint.stop();
      scheduler.stop();
      await tasks.stop();
    },
  });
}
