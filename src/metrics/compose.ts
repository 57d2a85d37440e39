import type { MonitoringConfig } from "../config/config.js";
import { type AlarmActionHandler, AlarmController } from "../controllers/alarms/controller.js";
import { policyActionHandler } from "../controllers/scaling/executor.js";
import { ScheduleController } from "../controllers/scaling/scheduler.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { LoadBalancerMetricsSource } from "../lb/metrics.js";
import type { ContainerRuntime } from "../runtime/runtime.js";
import { ecsScalableResources } from "../services/application-autoscaling/ecs-resources.js";
import { applicationAutoScalingService } from "../services/application-autoscaling/provider.js";
import { cloudwatchService } from "../services/cloudwatch/provider.js";
import type { EcsContext } from "../services/ecs/context.js";
import type { ServiceDefinition } from "../protocol/service.js";
import type { Db } from "../store/db.js";
import type { DocumentStore } from "../store/documents.js";
import { EcsMetricsCollector, MetricCollection, type MetricSource } from "./collector.js";
import { LoadBalancerMetricsPublisher } from "./load-balancers.js";
import { MetricStore } from "./store.js";

export interface MonitoringDeps {
  config: MonitoringConfig;
  db: Db;
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  ecs: EcsContext;
  runtime: ContainerRuntime;
}

/**
 * CloudWatch metrics and alarms, Application Auto Scaling and the loops behind them (metric
 * collection, alarm evaluation, scheduled actions), composed from their parts for main.ts.
 */
export function composeMonitoring(deps: MonitoringDeps) {
  const { config, db, store, clock, logger } = deps;
  const metrics = new MetricStore(db, {
    retentionMs: config.metricRetentionMs,
    highResolutionMs: config.metricHighResolutionMs,
  });
  const cloudwatch = cloudwatchService({ store, metrics, clock });
  const autoscaling = applicationAutoScalingService({
    store,
    clock,
    resources: ecsScalableResources(deps.ecs),
    alarms: cloudwatch.alarms,
    alarmsWithAction: (scope, arn) =>
      cloudwatch.state.alarms
        .list(scope)
        .filter((a) => [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].includes(arn))
        .map((a) => ({ AlarmName: a.AlarmName, AlarmARN: a.AlarmArn })),
    timings: config,
  });
  const actionHandlers: AlarmActionHandler[] = [policyActionHandler(autoscaling.aas, logger)];
  const alarms = new AlarmController({
    cw: cloudwatch.state,
    metrics,
    clock,
    logger,
    actions: () => actionHandlers,
    tickMs: config.alarmTickMs,
    delayMs: config.alarmDelayMs,
  });
  cloudwatch.setOnStateSet((scope, alarm) => void alarms.runActions(scope, alarm, true, []));
  const schedules = new ScheduleController({ aas: autoscaling.aas, clock, logger, tickMs: config.scheduleTickMs });
  const sources: MetricSource[] = [
    new EcsMetricsCollector({ ecs: deps.ecs, runtime: deps.runtime, metrics, clock, logger }),
  ];
  const collection = new MetricCollection(() => sources, clock, logger, config.metricsIntervalMs);

  let sweeper: NodeJS.Timeout | undefined;
  const services: ServiceDefinition[] = [cloudwatch.service, autoscaling.service];
  return {
    services,
    metrics,
    /** Publishes the load balancer data plane's counters as AWS/ApplicationELB and AWS/NetworkELB metrics. */
    addLoadBalancers(source: LoadBalancerMetricsSource) {
      sources.push(new LoadBalancerMetricsPublisher(source, metrics));
    },
    start() {
      alarms.start();
      schedules.start();
      collection.start();
      sweeper = setInterval(() => {
        try {
          metrics.sweep(clock.now().getTime());
        } catch (err) {
          logger.warn({ err: (err as Error).message }, "metric retention sweep failed");
        }
      }, 60_000);
      sweeper.unref();
    },
    stop() {
      alarms.stop();
      schedules.stop();
      collection.stop();
      if (sweeper) clearInterval(sweeper);
    },
  };
}
