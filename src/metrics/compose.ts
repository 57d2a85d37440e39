import type { MonitoringConfig } from "../config/config.js";
import { type AlarmActionHandler, AlarmController } from "../controllers/alarms/controller.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { cloudwatchService } from "../services/cloudwatch/provider.js";
import type { ServiceDefinition } from "../services/service.js";
import type { Db } from "../store/db.js";
import type { DocumentStore } from "../store/documents.js";
import { MetricStore } from "./store.js";

export interface MonitoringDeps {
  config: MonitoringConfig;
  db: Db;
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
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
  const actionHandlers: AlarmActionHandler[] = [];
  const alarms = new AlarmController({
    cw: cloudwatch.state,
    clock,
    logger,
    actions: () => actionHandlers,
    tickMs: config.alarmTickMs,
    delayMs: config.alarmDelayMs,
  });
  cloudwatch.setOnStateSet((scope, alarm) => void alarms.runActions(scope, alarm, true, []));

  let sweeper: NodeJS.Timeout | undefined;
  const services: ServiceDefinition[] = [cloudwatch.service];
  return {
    services,
    metrics,
    cloudwatch,
    start() {
      alarms.start();
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
      if (sweeper) clearInterval(sweeper);
    },
  };
}
