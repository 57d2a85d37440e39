#!/usr/bin/env node
import { join } from "node:path";
import { EndpointIds } from "./task-endpoint/endpoint-ids.js";
import { TaskEndpoint } from "./task-endpoint/server.js";
import { TaskIdentity } from "./task-endpoint/task-identity.js";
import { loadConfig } from "./config/config.js";
import { ServiceController } from "./controllers/services/controller.js";
import { TaskController } from "./controllers/tasks/controller.js";
import { systemClock } from "./core/clock.js";
import { createLogger } from "./core/logger.js";
import { createEdgeServer } from "./edge/server.js";
import { createIdentity } from "./iam/index.js";
import { localDockerHost } from "./hosts/local.js";
import { HostRegistry } from "./hosts/registry.js";
import { DataPlane } from "./lb/plane.js";
import { composeMonitoring } from "./metrics/compose.js";
import { createRegistry, createRegistryRoute } from "./registry/index.js";
import { DockerRuntime } from "./runtime/docker/docker-runtime.js";
import { ecrServices, pullCredentials } from "./services/ecr/provider.js";
import { ecsService } from "./services/ecs/provider.js";
import { launchTasks } from "./services/ecs/tasks.js";
import type { LoadBalancing } from "./services/elbv2/index.js";
import { elbv2Service } from "./services/elbv2/provider.js";
import { iamService } from "./services/iam/provider.js";
import { logsService } from "./services/logs/provider.js";
import { secretsManagerService } from "./services/secretsmanager/provider.js";
import type { ServiceState } from "./protocol/service.js";
import { ssmService } from "./services/ssm/provider.js";
import { stsService } from "./services/sts/provider.js";
import { openDb } from "./store/db.js";
import { DocumentStore } from "./store/documents.js";
import { storeIdentity, storeSecret } from "./store/identity.js";

/** Composition root: builds config, store, clock, runtime, services and controllers; no logic. */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = openDb(join(config.dataDir, "berth.db"));
  const store = new DocumentStore(db);
  const clock = systemClock;
  const runtime = new DockerRuntime();
  const identity = createIdentity({ store, dataDir: config.dataDir, clock });
  const ssm = ssmService({ store, box: identity.box, clock });
  const secrets = secretsManagerService({ store, box: identity.box, clock, authorizer: identity.authorizer });

  const registry = createRegistry({ db, dataDir: config.dataDir, clock, logger });
  const stopRegistryGc = registry.startCollector(60 * 60 * 1000);
  let listeningPort = config.port;
  const ecr = ecrServices({
    store,
    clock,
    registry,
    registryHost: () => `localhost:${listeningPort}`,
    defaultAccount: config.defaultAccount,
    defaultRegion: config.defaultRegion,
    tokenSecret: storeSecret(store, "ecr-registry-token"),
    logger,
    lifecycleIntervalMs: config.ecrLifecycleIntervalMs,
  });

  let ecsState: ServiceState = "starting";
  const logs = logsService({ db, store, clock, logger });
  // Load balancing for ECS services; set once ELBv2 is built below.
  let loadBalancing: LoadBalancing | undefined;
  const hosts = new HostRegistry([localDockerHost(runtime)]);
  const ecs = ecsService({ store, clock, hosts, state: () => ecsState, loadBalancing: () => loadBalancing });
  // Task and execution roles; the credential and metadata endpoint at 169.254.170.2 (src/task-endpoint).
  identity.authorizer.resourcePoliciesFrom(
    "ecr",
    (arn) => ecr.context.repositories.byArn(arn)?.doc.repositoryPolicyText,
  );
  const endpointIds = new EndpointIds(store, storeSecret(store, "task-endpoint-ids"));
  let server: ReturnType<typeof createEdgeServer> | undefined;
  const taskIdentity = new TaskIdentity({
    authorizer: identity.authorizer,
    sessions: identity.sessions,
    parameters: ssm.parameters,
    secrets: secrets.secrets,
    ids: endpointIds,
    endpoint: () => taskEndpoint.info(),
    berthImage: (image) => {
      const auth = pullCredentials(ecr.context, ecr.policy, image);
      return auth ? ecr.policy.scopeForHost(auth.serveraddress) : undefined;
    },
  });
  const taskEndpoint = new TaskEndpoint({
    config: config.taskEndpoint,
    ids: endpointIds,
    tasks: ecs.ecs.tasks,
    runtime,
    identity: taskIdentity,
    clock,
    logger,
    storeId: storeIdentity(store),
    fallback: (req, res) => server?.emit("request", req, res),
  });
  await taskEndpoint.start();
  const tasks = new TaskController({
    store,
    tasks: ecs.ecs.tasks,
    runtime,
    logs: logs.backend,
    clock,
    logger,
    storeId: storeIdentity(store),
    dataDir: config.dataDir,
    publishHost: config.publishHost,
    network: config.taskNetwork,
    resyncIntervalMs: config.resyncIntervalMs,
    registryAuth: (image) => pullCredentials(ecr.context, ecr.policy, image),
    identity: taskIdentity,
  });
  const startController = async (): Promise<void> => {
    try {
      await tasks.start();
      ecsState = "running";
    } catch (err) {
      ecsState = "degraded";
      logger.error(
        { err: (err as Error).message },
        "task controller cannot start; ECS tasks will not run until it can",
      );
      setTimeout(() => void startController(), 5000).unref();
    }
  };
  await startController();
  const serviceScheduler = new ServiceController({
    ecs: ecs.ecs,
    launchTasks: (...args) => launchTasks(ecs.ecs, ...args),
    clock,
    logger,
    loadBalancing: () => loadBalancing,
    healthyAfterMs: config.ecsHealthyAfterMs,
    resyncIntervalMs: 1000,
  });
  serviceScheduler.start();

  const monitoring = composeMonitoring({ config: config.monitoring, db, store, clock, logger, ecs: ecs.ecs, runtime });
  monitoring.start();

  // ELBv2 and its data plane: each load balancer listens on its own loopback address (src/lb).
  let lbPlane: DataPlane | undefined;
  const elbv2 = elbv2Service({
    store,
    clock,
    probePort: async (address, port) => lbPlane?.probe(address, port),
    settle: async () => lbPlane?.reconcile(),
    resolveInstance: () => config.publishHost,
  });
  loadBalancing = elbv2.loadBalancing;
  lbPlane = new DataPlane({ source: elbv2.planeSource, logger, clock });
  await lbPlane.start();
  monitoring.addLoadBalancers(lbPlane);

  const services = [
    ecs.service,
    logs.service,
    stsService(identity),
    iamService({ ...identity, clock }),
    ssm.service,
    secrets.service,
    ecr.ecr,
    ecr.ecrPublic,
    ...monitoring.services,
    elbv2.service,
  ];
  const registryRoute = createRegistryRoute({ registry, policy: ecr.policy, logger });
  server = createEdgeServer({
    config,
    services,
    logger,
    registry: registryRoute,
    identity: identity.edge,
    components: () => ({ taskEndpoint: taskEndpoint.health() }),
  });
  server.listen(config.port, config.host, () => {
    const addr = server?.address();
    const port = typeof addr === "object" && addr ? addr.port : config.port;
    listeningPort = port;
    logger.info({ port, host: config.host, dataDir: config.dataDir }, "berth ready");
    // A line tests and scripts can wait for, on stdout.
    process.stdout.write(`berth listening on http://${config.host}:${port}\n`);
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down; task containers keep running and are adopted at the next start");
    server?.close();
    server?.closeAllConnections();
    await taskEndpoint.stop();
    serviceScheduler.stop();
    await lbPlane.stop();
    monitoring.stop();
    stopRegistryGc();
    ecr.stop();
    await tasks.stop();
    logs.close();
    db.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`berth failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
