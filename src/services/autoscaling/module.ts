import type { MonitoringConfig } from "../../config/config.js";
import type { AlarmActionHandler } from "../../controllers/alarms/controller.js";
import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { AutoScalingGroup, Operations } from "../../protocol/generated/types/autoscaling.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import type { CloudWatchState } from "../../store/schema/cloudwatch.js";
import type { AlarmWriter } from "../cloudwatch/alarms.js";
import { defineService } from "../define.js";
import { serviceModule } from "../module.js";
import { AutoScalingContext, type Ec2Access, groupView } from "./context.js";
import { GroupController } from "./controller.js";
import { groupOperations } from "./groups.js";
import { groupInstanceOperations } from "./instances.js";
import { groupPolicyActionHandler, policyOperations } from "./policies.js";

export interface Ec2AutoScalingModuleDeps {
  config: MonitoringConfig & { autoScalingTickMs?: number };
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  ec2: Ec2Access;
  cloudwatch: { state: CloudWatchState; alarms: AlarmWriter; addAlarmActions(handler: AlarmActionHandler): void };
}

/** What other parts of Berth (ECS capacity providers) use of Auto Scaling groups, in process. */
export interface AutoScalingGroups {
  /** The group as DescribeAutoScalingGroups shows it, or undefined. */
  describe(account: string, region: string, name: string): AutoScalingGroup | undefined;
  /** Sets desired capacity (clamped to nothing: out of range throws AWS's ValidationError); false when no such group. */
  setDesired(account: string, region: string, name: string, n: number, why?: string): boolean;
}

/**
 * Amazon EC2 Auto Scaling (awsQuery): groups of EC2 instances kept at a desired capacity by
 * the group controller, scaling policies that CloudWatch alarms invoke, and activities.
 */
export function ec2AutoScalingModule(deps: Ec2AutoScalingModuleDeps) {
  const { store, clock, logger, cloudwatch } = deps;
  const ctx = new AutoScalingContext(store, clock, deps.ec2);
  let controller: GroupController | undefined;
  const kick = () => void controller?.kick();
  const policies = policyOperations(
    ctx,
    {
      alarms: cloudwatch.alarms,
      timings: deps.config,
      alarmsWithAction: (scope, arn) =>
        cloudwatch.state.alarms
          .list(scope)
          .filter((a) => [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].includes(arn))
          .map((a) => ({ AlarmName: a.AlarmName, AlarmARN: a.AlarmArn })),
    },
    kick,
  );
  controller = new GroupController(ctx, {
    clock,
    logger,
    tickMs: deps.config.autoScalingTickMs ?? 2000,
    onGroupDeleted: (scope, name) => policies.deleteAlarmsOf(scope, name),
  });
  const { run, deleteAlarmsOf: _d, ...policyOps } = policies;
  const provider: Provider<Operations> = {
    ...groupOperations(ctx, kick),
    ...groupInstanceOperations(ctx, kick),
    ...policyOps,
  };
  cloudwatch.addAlarmActions(groupPolicyActionHandler(ctx, run));
  const groups: AutoScalingGroups = {
    describe(account, region, name) {
      const scope: Scope = { account, region };
      const g = ctx.records.groups.get(scope, name);
      return g && groupView(g, ctx.instancesOf(scope, name));
    },
    setDesired(account, region, name, n, why = "a user request explicitly set group desired capacity") {
      const scope: Scope = { account, region };
      const ok = store.transaction(() => {
        const g = ctx.records.groups.get(scope, name);
        if (!g) return false;
        if (n < g.MinSize || n > g.MaxSize)
          throw new Error(`Desired capacity ${n} is outside ${g.MinSize}..${g.MaxSize}.`);
        ctx.setDesired(scope, g, n, why);
        return true;
      });
      if (ok) kick();
      return ok;
    },
  };
  return serviceModule({
    name: "autoscaling",
    definitions: [defineService("autoscaling", provider, { validationCode: "ValidationError" })],
    iam: { prefixes: { autoscaling: "autoscaling" } },
    api: provider,
    groups,
    start: () => controller.start(),
    stop: () => controller.stop(),
  });
}
