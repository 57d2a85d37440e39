import { periodic } from "../../core/periodic.js";
import type { MonitoringConfig } from "../../config/config.js";
import { type AlarmActionHandler, AlarmController } from "../../controllers/alarms/controller.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { LoadBalancerMetricsSource } from "../../lb/metrics.js";
import { EcsMetricsCollector, MetricCollection, type MetricSource } from "../../metrics/collector.js";
import { type DerivedMetrics, LoadBalancerMetricsPublisher } from "../../metrics/load-balancers.js";
import { MetricStore } from "../../metrics/store.js";
import type { ContainerRuntime } from "../../runtime/runtime.js";
import type { Db } from "../../store/db.js";
import type { DocumentStore } from "../../store/documents.js";
import type { EcsCollections, TaskRecord } from "../../store/schema/ecs.js";
import { serviceModule } from "../module.js";
import { cloudwatchService } from "./provider.js";

export interface CloudWatchModuleDeps {
  config: MonitoringConfig;
  db: Db;
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  /** ECS tasks, whose containers' stats become AWS/ECS metrics. */
  ecs: EcsCollections;
  runtime: ContainerRuntime;
  /** The runtime of the host a task runs on (ECS's agent hosts). */
  runtimeOf?: (task: TaskRecord) => ContainerRuntime;
  /** The load balancer data plane's counters, published as AWS/ApplicationELB and AWS/NetworkELB metrics. */
  loadBalancers: LoadBalancerMetricsSource;
}

/**
 * CloudWatch as a service module: metrics and alarms, the metric store (bounded retention), the
 * collectors that turn container stats and load balancer counters into AWS metrics, and the
 * alarm controller. Other modules add what alarm actions can invoke (Auto Scaling policies).
 */
export function cloudwatchModule(deps: CloudWatchModuleDeps) {
  const { config, db, store, clock, logger } = deps;
  const metrics = new MetricStore(db, {
    retentionMs: config.metricRetentionMs,
    highResolutionMs: config.metricHighResolutionMs,
  });
  const cloudwatch = cloudwatchService({ store, metrics, clock });
  const actionHandlers: AlarmActionHandler[] = [];
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
  const loadBalancerMetrics = new LoadBalancerMetricsPublisher(deps.loadBalancers, metrics);
  const sources: MetricSource[] = [
    new EcsMetricsCollector({
      ecs: deps.ecs,
      runtime: deps.runtime,
      runtimeOf: deps.runtimeOf,
      metrics,
      clock,
      logger,
    }),
    loadBalancerMetrics,
  ];
  const collection = new MetricCollection(() => sources, clock, logger, config.metricsIntervalMs);

  const sweeper = periodic(() => metrics.sweep(clock.now().getTime()), {
    name: "metric retention sweep",
    everyMs: 60_000,
    logger,
    clock,
  });
  return serviceModule({
    name: "cloudwatch",
    definitions: [cloudwatch.service],
    iam: { prefixes: { cloudwatch: "cloudwatch" } },
    /** The alarm records, and the writer other services create their alarms with. */
    state: cloudwatch.state,
    alarms: cloudwatch.alarms,
    metrics,
    /** Lets alarm actions invoke another module's resources (Application Auto Scaling policies by ARN). */
    addAlarmActions(handler: AlarmActionHandler) {
      actionHandlers.push(handler);
    },
    /** Lets a module publish metrics read from the load balancer metrics (App Runner's). */
    addLoadBalancerDerivedMetrics(derive: DerivedMetrics) {
      loadBalancerMetrics.addDerived(derive);
    },
    start() {
      alarms.start();
      collection.start();
      void sweeper.start();
    },
    stop() {
      alarms.stop();
      collection.stop();
      sweeper.stop();
    },
  });
}
