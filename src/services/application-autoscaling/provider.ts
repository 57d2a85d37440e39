import type { ScalableResources } from "../../store/schema/application-autoscaling.js";
import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Operations } from "../../protocol/generated/types/application-autoscaling.js";
import type { DocumentStore } from "../../store/documents.js";
import type { AlarmWriter } from "../cloudwatch/alarms.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { AasContext, type AasTimings } from "./context.js";
import { policyOperations } from "./policies.js";
import { scheduledOperations } from "./scheduled.js";
import { targetOperations } from "./targets.js";

export interface AasDeps {
  store: DocumentStore;
  clock: Clock;
  resources: ScalableResources;
  alarms: AlarmWriter;
  alarmsWithAction: (scope: Scope, actionArn: string) => { AlarmName: string; AlarmARN: string }[];
  timings: AasTimings;
}

/** Application Auto Scaling (awsJson1_1, target prefix AnyScaleFrontendService) for ECS services. */
export function applicationAutoScalingService(deps: AasDeps) {
  const aas = new AasContext(deps.store, deps.clock, deps.resources, deps.alarms, deps.alarmsWithAction, deps.timings);
  const provider: Provider<Operations> = {
    ...targetOperations(aas),
    ...policyOperations(aas),
    ...scheduledOperations(aas),
  };
  return {
    service: defineService("application-autoscaling", provider, { validationCode: "ValidationException" }),
    aas,
    /** The typed operations, for Berth's own callers (ECS Express Mode). */
    provider,
  };
}
