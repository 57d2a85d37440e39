import { type ScheduledActionRecord, targetKey } from "../../store/schema/application-autoscaling.js";
import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { ScalingState } from "./state.js";
import { latestDue, parseSchedule } from "./schedule.js";

/**
 * Runs scheduled actions at their time: sets the scalable target's min/max capacity and, when
 * the current capacity lies outside the new range, moves it inside (recording the activities).
 */
export class ScheduleController {
  private timer?: NodeJS.Timeout;
  private swept = 0;

  constructor(private readonly d: { aas: ScalingState; clock: Clock; logger: Logger; tickMs: number }) {}

  start() {
    this.timer = setInterval(() => this.tick(), this.d.tickMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
  }

  tick() {
    const now = this.d.clock.now().getTime();
    for (const { scope, doc } of this.d.aas.scheduled.listAll()) {
      try {
        this.consider(scope, doc, now);
      } catch (err) {
        this.d.logger.warn({ err: (err as Error).message, action: doc.ScheduledActionName }, "scheduled action failed");
      }
    }
    if (now - this.swept > 3600_000) {
      this.swept = now;
      this.d.aas.sweepActivities();
    }
  }

  private consider(scope: Scope, action: ScheduledActionRecord, now: number) {
    const due = latestDue(parseSchedule(action.Schedule), action.handledUntil, now, {
      timezone: action.Timezone,
      startTime: action.StartTime?.getTime(),
      endTime: action.EndTime?.getTime(),
      createdAt: action.CreationTime.getTime(),
    });
    if (due === undefined) return;
    const aas = this.d.aas;
    aas.store.transaction(() => {
      const key = targetKey(action.ServiceNamespace, action.ResourceId, action.ScalableDimension!);
      const current = aas.scheduled.get(scope, `${key}|${action.ScheduledActionName}`);
      if (!current || current.handledUntil !== action.handledUntil) return; // changed meanwhile
      aas.scheduled.put(scope, { ...current, handledUntil: now });
      const target = aas.targets.get(scope, key);
      if (!target || target.SuspendedState?.ScheduledScalingSuspended) return;
      const min = current.ScalableTargetAction?.MinCapacity ?? target.MinCapacity;
      const max = current.ScalableTargetAction?.MaxCapacity ?? target.MaxCapacity;
      const cause = `scheduled action name ${current.ScheduledActionName} was triggered`;
      const started = aas.clock.now();
      if (min > max) {
        aas.recordActivity(scope, target, {
          Description: `Setting min capacity to ${min} and max capacity to ${max}`,
          Cause: cause,
          StartTime: started,
          EndTime: aas.clock.now(),
          StatusCode: "Failed",
          StatusMessage: `Failed to set min capacity to ${min} and max capacity to ${max}: the minimum is larger than the maximum.`,
        });
        return;
      }
      const updated = { ...target, MinCapacity: min, MaxCapacity: max };
      aas.targets.put(scope, updated);
      aas.recordActivity(scope, target, {
        Description: `Setting min capacity to ${min} and max capacity to ${max}`,
        Cause: cause,
        StartTime: started,
        EndTime: aas.clock.now(),
        StatusCode: "Successful",
        StatusMessage: `Successfully set min capacity to ${min} and max capacity to ${max}`,
      });
      aas.clampCapacity(scope, updated);
      this.d.logger.info({ action: current.ScheduledActionName, min, max }, "scheduled action ran");
    });
  }
}
