#!/usr/bin/env node
import { join } from "node:path";
import { loadConfig } from "./config/config.js";
import { systemClock } from "./core/clock.js";
import { createLogger } from "./core/logger.js";
import { EdgeLink } from "./edge/link.js";
import { createEdgeServer } from "./edge/server.js";
import { createIdentity } from "./iam/index.js";
import { localDockerHost } from "./hosts/local.js";
import { HostRegistry } from "./hosts/registry.js";
import { AGENT_CHANNEL_PATH } from "./edge/agent-channel.js";
import { IMDS_ADDRESS, InstanceHosts } from "./hosts/instance-hosts.js";
import { InstanceMetadataService } from "./hosts/imds.js";
import { createRegistry } from "./registry/index.js";
import { DockerRuntime } from "./runtime/docker/docker-runtime.js";
import { dockerImageBuilder } from "./runtime/docker/image-builder.js";
import { appRunnerPublications } from "./metrics/apprunner.js";
import { appRunnerModule } from "./services/apprunner/module.js";
import { sourceBuilder } from "./services/apprunner/source.js";
import { applicationAutoScalingModule } from "./services/application-autoscaling/module.js";
import { ec2AutoScalingModule } from "./services/autoscaling/module.js";
import { cloudwatchModule } from "./services/cloudwatch/module.js";
import { ec2Module } from "./services/ec2/module.js";
import { ecrModule } from "./services/ecr/module.js";
import { ecsModule } from "./services/ecs/module.js";
import { efsModule } from "./services/efs/module.js";
import { eksModule } from "./services/eks/module.js";
import { kubernetesModule } from "./services/eks/kubernetes.js";
import { elbv2Module } from "./services/elbv2/module.js";
import { iamModule } from "./services/iam/module.js";
import { logsModule } from "./services/logs/module.js";
import { type ServiceModule, registerIam, startModules, stopModules } from "./services/module.js";
import { secretsManagerModule } from "./services/secretsmanager/module.js";
import { ssmModule } from "./services/ssm/module.js";
import { stsModule } from "./services/sts/module.js";
import { openDb } from "./store/db.js";
import { DocumentStore } from "./store/documents.js";
import { storeSecret } from "./store/identity.js";

/**
 * Composition root: builds config, store, clock, runtime and identity, then the service modules
 * in dependency order (each gets what it needs from those before it), starts them in that order
 * and stops them in reverse; no logic.
 */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = openDb(join(config.dataDir, "berth.db"));
  const store = new DocumentStore(db);
  const clock = systemClock;
  const runtime = new DockerRuntime();
  const identity = createIdentity({ store, dataDir: config.dataDir, clock });
  const edge = new EdgeLink(config.port);

  const iam = iamModule({ ...identity, clock });
  const sts = stsModule(identity);
  const ssm = ssmModule({ store, box: identity.box, clock });
  const secrets = secretsManagerModule({ store, box: identity.box, clock });
  const ecr = ecrModule({
    store,
    clock,
    registry: createRegistry({ db, dataDir: config.dataDir, clock, logger }),
    registryHost: () => `localhost:${edge.port()}`,
    defaultAccount: config.defaultAccount,
    defaultRegion: config.defaultRegion,
    tokenSecret: storeSecret(store, "ecr-registry-token"),
    logger,
    lifecycleIntervalMs: config.ecrLifecycleIntervalMs,
    secrets: secrets.secrets,
    pullThroughRecheckMs: config.ecrPullThroughRecheckMs,
    imageMirrors: config.imageMirrors,
    registryMirrorRule: config.registryMirrorRule,
  });
  const logs = logsModule({
    db,
    store,
    clock,
    logger,
    dataDir: config.dataDir,
    exportDelayMs: config.logsExportDelayMs,
  });
  const efs = efsModule({ store, clock, dataDir: config.dataDir, authorizer: identity.authorizer, iam: identity.iam });
  // EC2 instances are hosts on this machine: a network namespace with its own Docker Engine and `berth agent`.
  const instanceHosts = new InstanceHosts({
    dataDir: config.dataDir,
    logger,
    port: () => edge.port(),
    prepare: async () => {
      instanceHostsReady ??= readyInstanceHosts();
      await instanceHostsReady;
      const url = imds.url();
      if (!url) throw new Error("the instance metadata service is not listening (Berth must run as root)");
      return { imdsEndpoint: url };
    },
  });
  let instanceHostsReady: Promise<void> | undefined;
  const imds = new InstanceMetadataService({
    logger,
    instanceAt: (address) => instanceHosts.byAddress(address),
    roleCredentials: (instance, durationSec) => {
      if (!instance.roleArn) return "the instance has no instance profile";
      const out = identity.sessions.assume(
        { kind: "service", service: "ec2.amazonaws.com", account: instance.scope.account },
        { roleArn: instance.roleArn, sessionName: instance.instanceId, durationSec, region: instance.scope.region },
      );
      return out.ok ? out.credentials : out.message;
    },
  });
  const ec2 = ec2Module({
    store,
    clock,
    logger,
    provisioner: instanceHosts,
    instanceProfile: (account, ref) => {
      const name = ref.startsWith("arn:") ? ref.split("/").pop()! : ref;
      const p = identity.iam.instanceProfile(account, name);
      if (!p || (ref.startsWith("arn:") && p.Arn !== ref)) return undefined;
      return {
        Arn: p.Arn,
        Id: p.InstanceProfileId,
        roleArn: p.roles[0] && identity.iam.role(account, p.roles[0])?.Arn,
      };
    },
  });
  const elbv2 = elbv2Module({
    store,
    clock,
    logger,
    publishHost: config.publishHost,
    instanceAddress: (id) => instanceHosts.addressOf(id),
  });
  const hosts = new HostRegistry([localDockerHost(runtime)]);
  const ecs = ecsModule({
    config,
    hosts,
    store,
    clock,
    logger,
    runtime,
    identity,
    logs: logs.backend,
    loadBalancing: elbv2.loadBalancing,
    parameters: ssm.parameters,
    secrets: secrets.secrets,
    images: ecr,
    edge: (req, res) => edge.handle(req, res),
    efs: efs.volumes,
    lostHosts: {
      instanceState: (scope, id) => ec2.instanceState(scope, id),
      hostAlive: async (id) => (await instanceHosts.state(id))?.running,
      lostAfterMs: config.agentLostAfterMs,
    },
    // Application Auto Scaling is built after ECS; Express Mode reaches it once requests arrive.
    express: { elbv2: () => elbv2.api, scaling: () => autoscaling.api, listenerPort: config.expressListenerPort },
  });
  const cloudwatch = cloudwatchModule({
    config: config.monitoring,
    db,
    store,
    clock,
    logger,
    ecs: ecs.ecs,
    runtime,
    runtimeOf: ecs.runtimeOf,
    loadBalancers: elbv2.plane,
  });
  const autoscaling = applicationAutoScalingModule({
    config: config.monitoring,
    store,
    clock,
    logger,
    ecs: ecs.ecs,
    cloudwatch,
  });
  const ec2AutoScaling = ec2AutoScalingModule({
    config: config.monitoring,
    store,
    clock,
    logger,
    ec2: { records: ec2.records, api: ec2.api },
    cloudwatch,
  });
  const eks = eksModule({
    store,
    clock,
    logger,
    config: config.eks,
    keys: config,
    lookup: identity.edge.lookup,
    ownHosts: () => [`127.0.0.1:${edge.port()}`, `localhost:${edge.port()}`, `${config.host}:${edge.port()}`],
  });
  const kubernetes = kubernetesModule({
    store,
    clock,
    logger,
    runtime,
    hosts,
    dataDir: config.dataDir,
    eks,
    registryAuth: ecr.pullCredentials,
    imageSources: ecr.imageSources,
    elbv2: elbv2.kubeApi,
    efs: efs.kubeApi,
  });
  const apprunner = appRunnerModule({
    store,
    clock,
    logger,
    backends: {
      ecs: () => ecs.definitions[0].provider,
      ecsService: (scope, cluster, name) => ecs.ecs.services.get(scope, `${cluster}/${name}`),
      liveTasks: (scope, cluster, name) =>
        ecs.ecs.tasks
          .list(scope)
          .filter((t) => t.group === `service:${name}` && t.clusterArn.endsWith(`:cluster/${cluster}`))
          .filter((t) => t.lastStatus !== "STOPPED").length,
      elbv2: () => elbv2.api,
      iam: () => iam.definitions[0].provider,
      ecr: () => ecr.definitions[0].provider,
      berthImage: ecr.berthImage,
      logs: logs.backend,
      inFlight: (tg) => elbv2.plane.inFlight(tg),
      listenerPort: config.apprunnerListenerPort,
    },
    builder: sourceBuilder(dockerImageBuilder()),
  });
  cloudwatch.addLoadBalancerDerivedMetrics((published) => appRunnerPublications(published, apprunner.metricTargets()));
  const modules: ServiceModule[] = [
    iam,
    sts,
    ssm,
    secrets,
    ecr,
    logs,
    ec2,
    efs,
    elbv2,
    ecs,
    cloudwatch,
    autoscaling,
    ec2AutoScaling,
    eks,
    kubernetes,
    apprunner,
  ];

  registerIam(identity.authorizer, modules);
  const server = createEdgeServer({
    config,
    clock,
    services: modules.flatMap((m) => m.definitions),
    logger,
    registry: ecr.registryRoute,
    identity: identity.edge,
    components: () => ({ taskEndpoint: ecs.taskEndpointHealth() }),
    upgrades: { [AGENT_CHANNEL_PATH]: ecs.agentChannel },
  });
  edge.attach(server);
  await startModules(modules);
  server.listen(config.port, config.host, () => {
    const port = edge.port();
    logger.info({ port, host: config.host, dataDir: config.dataDir }, "berth ready");
    // A line tests and scripts can wait for, on stdout.
    process.stdout.write(`berth listening on http://${config.host}:${port}\n`);
    if (process.getuid?.() === 0) instanceHostsReady ??= readyInstanceHosts();
  });
  /** As root: the instance hosts' bridge, IMDS on it, and the edge on its gateway (agents call there). */
  async function readyInstanceHosts() {
    try {
      await InstanceHosts.sweepOrphans(logger);
      await instanceHosts.ensureNetwork();
      await imds.listen(IMDS_ADDRESS, 80).catch(() => imds.listen(IMDS_ADDRESS, 0));
      await edge.listenAlso(instanceHosts.gateway);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "EC2 instance hosts unavailable");
    }
  }
  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down; task containers keep running and are adopted at the next start");
    server.close();
    server.closeAllConnections();
    await stopModules(modules).catch((err) => logger.warn({ err: (err as Error).message }, "stopping failed"));
    db.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** `berth agent`: the ECS agent of an instance host (src/agent). */
async function agent() {
  const { BerthAgent, agentConfigFromEnv } = await import("./agent/agent.js");
  const logger = createLogger((process.env.BERTH_LOG_LEVEL ?? "info") as Parameters<typeof createLogger>[0]);
  const running = new BerthAgent(agentConfigFromEnv(process.env), logger);
  const stop = () => {
    running.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  await running.run();
}

(process.argv[2] === "agent" ? agent() : main()).catch((err) => {
  process.stderr.write(`berth failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
