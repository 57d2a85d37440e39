import type { Clock } from "../../core/clock.js";
import { ServiceError } from "../../core/errors.js";
import { type Scope, arn, hexId, uuid } from "../../core/ids.js";
import type { ScalingActivity } from "../../protocol/generated/types/application-autoscaling.js";
import type { Collection, DocumentStore } from "../../store/documents.js";
import {
  ACTIVITIES_PER_TARGET,
  ACTIVITY_KIND,
  ACTIVITY_RETENTION_MS,
  type ActivityRecord,
  NEWEST_ACTIVITY_KIND,
  type NewestActivity,
  POLICY_KIND,
  type PolicyRecord,
  SCHEDULED_KIND,
  type ScalableResources,
  type ScheduledActionRecord,
  TARGET_KIND,
  type TargetRecord,
  isNotScaled,
  targetKey,
} from "../../store/schema/application-autoscaling.js";
import type { AlarmWriter } from "../cloudwatch/alarms.js";

export const validation = (message: string) => new ServiceError("ValidationException", message);
export const objectNotFound = (message: string) => new ServiceError("ObjectNotFoundException", message);

export interface AasTimings {
  /** Period of target tracking alarms (s; AWS 60). */
  targetTrackingPeriodSec: number;
  targetTrackingHighPeriods: number;
  targetTrackingLowPeriods: number;
}

/** What the Application Auto Scaling operations and its controllers share. */
export class AasContext {
  readonly targets: Collection<TargetRecord>;
  readonly policies: Collection<PolicyRecord>;
  readonly scheduled: Collection<ScheduledActionRecord>;
  readonly activities: Collection<ActivityRecord>;
  /** The newest activity id per target, so repeats are found without listing all. */
  private readonly newest: Collection<NewestActivity>;

  constructor(
    readonly store: DocumentStore,
    readonly clock: Clock,
    readonly resources: ScalableResources,
    readonly alarms: AlarmWriter,
    /** CloudWatch alarms (names and ARNs) whose actions include an ARN. */
    readonly alarmsWithAction: (scope: Scope, actionArn: string) => { AlarmName: string; AlarmARN: string }[],
    readonly timings: AasTimings,
  ) {
    this.targets = store.collection<TargetRecord>(TARGET_KIND, {
      id: (t) => targetKey(t.ServiceNamespace, t.ResourceId, t.ScalableDimension),
      arn: (t) => t.ScalableTargetARN,
    });
    this.policies = store.collection<PolicyRecord>(POLICY_KIND, {
      id: (p) => `${targetKey(p.ServiceNamespace, p.ResourceId, p.ScalableDimension)}|${p.PolicyName}`,
      arn: (p) => p.PolicyARN,
      parent: (p) => targetKey(p.ServiceNamespace, p.ResourceId, p.ScalableDimension),
    });
    this.scheduled = store.collection<ScheduledActionRecord>(SCHEDULED_KIND, {
      id: (a) => `${targetKey(a.ServiceNamespace, a.ResourceId, a.ScalableDimension!)}|${a.ScheduledActionName}`,
      arn: (a) => a.ScheduledActionARN,
      parent: (a) => targetKey(a.ServiceNamespace, a.ResourceId, a.ScalableDimension!),
    });
    this.activities = store.collection<ActivityRecord>(ACTIVITY_KIND, {
      id: (a) => a.id,
      parent: (a) => a.target,
    });
    this.newest = store.collection<NewestActivity>(NEWEST_ACTIVITY_KIND, { id: (n) => n.target });
  }

  /** The registered target, or ObjectNotFoundException in AWS's words. */
  requireTarget(scope: Scope, namespace: string, resourceId: string, dimension: string): TargetRecord {
    const t = this.targets.get(scope, targetKey(namespace, resourceId, dimension));
    if (!t)
      throw objectNotFound(
        `No scalable target registered for service namespace: ${namespace}, resource ID: ${resourceId}, scalable dimension: ${dimension}`,
      );
    return t;
  }

  targetArn(scope: Scope) {
    return arn("application-autoscaling", scope, `scalable-target/${hexId(18)}`);
  }

  policyArn(scope: Scope, namespace: string, resourceId: string, name: string) {
    return arn("autoscaling", scope, `scalingPolicy:${uuid()}:resource/${namespace}/${resourceId}:policyName/${name}`);
  }

  scheduledActionArn(scope: Scope, namespace: string, resourceId: string, name: string) {
    return arn(
      "autoscaling",
      scope,
      `scheduledAction:${uuid()}:resource/${namespace}/${resourceId}:scheduledActionName/${name}`,
    );
  }

  /** Records a scaling activity (newest ids sort last) and trims the target's oldest past the cap. */
  recordActivity(
    scope: Scope,
    target: TargetRecord,
    a: Omit<ScalingActivity, "ActivityId" | "ServiceNamespace" | "ResourceId" | "ScalableDimension">,
  ) {
    const key = targetKey(target.ServiceNamespace, target.ResourceId, target.ScalableDimension);
    return this.store.transaction(() => {
      // The store's next sequence number orders activities of the same millisecond, on any replica.
      const seq = this.store.head() + 1;
      const id = `${key}|${String(a.StartTime.getTime()).padStart(15, "0")}-${String(seq).padStart(15, "0")}`;
      const record: ActivityRecord = {
        ...a,
        id,
        target: key,
        ActivityId: uuid(),
        ServiceNamespace: target.ServiceNamespace,
        ResourceId: target.ResourceId,
        ScalableDimension: target.ScalableDimension,
      };
      this.activities.put(scope, record);
      this.newest.put(scope, { target: key, activity: id });
      const all = this.activities.children(scope, key);
      for (const old of all.slice(0, Math.max(0, all.length - ACTIVITIES_PER_TARGET)))
        this.activities.delete(scope, old.id);
      return record;
    });
  }

  sweepActivities() {
    const cutoff = this.clock.now().getTime() - ACTIVITY_RETENTION_MS;
    for (const { scope, doc } of this.activities.listAll())
      if (doc.StartTime.getTime() < cutoff) this.activities.delete(scope, doc.id);
  }

  /**
   * Sets a target's capacity, recording the activity (Successful or Failed) with AWS's texts.
   * Returns whether the resource took the new capacity.
   */
  setCapacity(scope: Scope, target: TargetRecord, desired: number, cause: string, extra: Partial<TargetRecord> = {}) {
    const now = this.clock.now();
    const by = this.resources.fulfilledBy(target.ServiceNamespace);
    const ok = this.resources.setCapacity(
      scope,
      target.ServiceNamespace,
      target.ResourceId,
      target.ScalableDimension,
      desired,
    );
    const current = this.targets.get(
      scope,
      targetKey(target.ServiceNamespace, target.ResourceId, target.ScalableDimension),
    );
    if (ok && current) this.targets.put(scope, { ...current, ...extra });
    this.recordActivity(scope, target, {
      Description: `Setting desired count to ${desired}.`,
      Cause: cause,
      StartTime: now,
      EndTime: this.clock.now(),
      StatusCode: ok ? "Successful" : "Failed",
      StatusMessage: ok
        ? `Successfully set desired count to ${desired}. Change successfully fulfilled by ${by}.`
        : `Failed to set desired count to ${desired}. Reason: the ${by} resource ${target.ResourceId} does not exist.`,
    });
    return ok;
  }

  /**
   * Records that an alarm's policy changed nothing (AlreadyAtMaxCapacity…), as AWS lists with
   * IncludeNotScaledActivities. Alarms invoke their policies at every evaluation while in ALARM,
   * so a repeat of the target's latest not-scaled activity (same cause, reason and capacity) is
   * not recorded again.
   */
  recordNotScaled(
    scope: Scope,
    target: TargetRecord,
    cause: string,
    notScaled: { reason: NonNullable<ScalingActivity["NotScaledReasons"]>[number]; proposed: number },
  ) {
    const key = targetKey(target.ServiceNamespace, target.ResourceId, target.ScalableDimension);
    const known = this.newest.get(scope, key)?.activity;
    // Two point reads; the target's whole list only for data written before the pointer existed.
    const latest = known ? this.activities.get(scope, known) : this.activities.children(scope, key).at(-1);
    if (
      latest &&
      isNotScaled(latest) &&
      latest.Cause === cause &&
      JSON.stringify(latest.NotScaledReasons) === JSON.stringify([notScaled.reason])
    )
      return;
    const now = this.clock.now();
    this.recordActivity(scope, target, {
      Description: "Attempting to scale due to alarm triggered",
      Cause: cause,
      StartTime: now,
      EndTime: now,
      StatusCode: "Failed",
      StatusMessage: `Failed to set desired count to ${notScaled.proposed}`,
      NotScaledReasons: [notScaled.reason],
    });
  }

  /** Brings the resource's capacity inside [min, max] after the bounds changed. */
  clampCapacity(scope: Scope, target: TargetRecord) {
    const current = this.resources.capacity(
      scope,
      target.ServiceNamespace,
      target.ResourceId,
      target.ScalableDimension,
    );
    if (current === undefined) return;
    if (current < target.MinCapacity)
      this.setCapacity(scope, target, target.MinCapacity, `minimum capacity was set to ${target.MinCapacity}`);
    else if (current > target.MaxCapacity)
      this.setCapacity(scope, target, target.MaxCapacity, `maximum capacity was set to ${target.MaxCapacity}`);
  }
}
