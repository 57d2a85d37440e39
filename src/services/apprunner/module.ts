import type { TimerClock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { Operations } from "../../protocol/generated/types/apprunner.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import type { AppRunnerMetricTarget } from "../../metrics/apprunner.js";
import { targetGroupDimension } from "../../metrics/load-balancers.js";
import { appRunnerCollections } from "../../store/schema/apprunner.js";
import { defineService } from "../define.js";
import { serviceModule } from "../module.js";
import { autoScalingConfigurations } from "./autoscaling.js";
import { type AppRunnerControllerOptions, appRunnerController } from "./controller.js";
import { type AppRunnerBackends, platform } from "./platform.js";
import { recordedOperations } from "./recorded.js";
import { type SourceBuilder, serviceOperations } from "./services.js";

/**
 * App Runner (awsJson1_0) as a service module: services run as ECS services behind a shared
 * ALB listener (host-header rule per ServiceUrl), scaled on requests in flight; auto scaling
 * configurations; connections and VPC connectors recorded. The controller settles operations.
 */
export function appRunnerModule(deps: {
  store: DocumentStore;
  clock: TimerClock;
  logger: Logger;
  backends: AppRunnerBackends;
  builder?: SourceBuilder;
  options?: AppRunnerControllerOptions;
}) {
  const collections = appRunnerCollections(deps.store);
  const p = platform(deps.backends, deps.logger);
  const autoScaling = autoScalingConfigurations({
    collections,
    clock: deps.clock,
    inUse: (scope) =>
      new Set(
        collections.services
          .list(scope)
          .filter((s) => s.Status !== "DELETED")
          .map((s) => s.AutoScalingConfigurationArn),
      ),
  });
  const services = serviceOperations({
    collections,
    clock: deps.clock,
    platform: p,
    autoScaling,
    builder: deps.builder,
  });
  const controller = appRunnerController({
    collections,
    platform: p,
    work: services.work,
    clock: deps.clock,
    logger: deps.logger,
    options: deps.options,
    sourceRevision: deps.builder?.revision,
  });
  const provider: Provider<Operations> = {
    ...recordedOperations(collections, deps.clock),
    ...autoScaling.operations,
    ...services.operations,
  };
  return serviceModule({
    name: "apprunner",
    definitions: [defineService("apprunner", provider, { validationCode: "InvalidRequestException" })],
    iam: { prefixes: { apprunner: "apprunner" } },
    start: () => controller.start(),
    stop: () => controller.stop(),
    /** The services whose metrics CloudWatch reads from their target groups (AWS/AppRunner). */
    metricTargets: (): AppRunnerMetricTarget[] =>
      collections.services.listAll().flatMap(({ scope, doc }) =>
        doc.Status !== "DELETED" && doc.resources.targetGroupArn
          ? [
              {
                scope,
                serviceName: doc.ServiceName,
                serviceId: doc.ServiceId,
                targetGroup: targetGroupDimension(doc.resources.targetGroupArn),
              },
            ]
          : [],
      ),
  });
}
