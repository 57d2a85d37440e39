import type { MonitoringConfig } from "../../config/config.js";
import type { AlarmActionHandler } from "../../controllers/alarms/controller.js";
import { policyActionHandler } from "../../controllers/scaling/executor.js";
import { ScheduleController } from "../../controllers/scaling/scheduler.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { DocumentStore } from "../../store/documents.js";
import type { CloudWatchState } from "../../store/schema/cloudwatch.js";
import type { AlarmWriter } from "../cloudwatch/alarms.js";
import type { EcsContext } from "../ecs/context.js";
import { serviceModule } from "../module.js";
import { ecsScalableResources } from "./ecs-resources.js";
import { applicationAutoScalingService } from "./provider.js";

export interface AutoScalingModuleDeps {
  config: MonitoringConfig;
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  /** The ECS services it scales. */
  ecs: EcsContext;
  /** CloudWatch: target tracking policies own alarms there, and alarms invoke policies. */
  cloudwatch: {
    state: CloudWatchState;
    alarms: AlarmWriter;
    addAlarmActions(handler: AlarmActionHandler): void;
  };
}

/**
 * Application Auto Scaling as a service module: the API for ECS services' desired count, the
 * policies CloudWatch alarms invoke, and the scheduled-action controller.
 */
export function applicationAutoScalingModule(deps: AutoScalingModuleDeps) {
  const { config, store, clock, logger, cloudwatch } = deps;
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
  cloudwatch.addAlarmActions(policyActionHandler(autoscaling.aas, logger));
  const schedules = new ScheduleController({ aas: autoscaling.aas, clock, logger, tickMs: config.scheduleTickMs });
  return serviceModule({
    name: "application-autoscaling",
    definitions: [autoscaling.service],
    iam: { prefixes: { "application-autoscaling": "application-autoscaling" } },
    /** The typed operations (ECS Express Mode registers its scalable targets and policies through them). */
    api: autoscaling.provider,
    start: () => schedules.start(),
    stop: () => schedules.stop(),
  });
}
