import type {
  ScalableTarget,
  ScalingActivity,
  ScalingPolicy,
  ScheduledAction,
} from "../../protocol/generated/types/application-autoscaling.js";
import type { Scope } from "../../core/ids.js";

/** Cooldown bookkeeping kept on the scalable target (epoch ms). */
export interface CooldownState {
  /** A scale-out cooldown runs until then… */
  scaleOutUntil?: number;
  /** …counting from this capacity (before the scale-out that started it). */
  scaleOutBase?: number;
  /** Scale-in is blocked until then. */
  scaleInUntil?: number;
}

/** A scalable target as stored: the API shape plus tags and cooldown bookkeeping. */
export interface TargetRecord extends ScalableTarget {
  ScalableTargetARN: string;
  Tags: Record<string, string>;
  cooldown: CooldownState;
}

/** A scaling policy as stored; target tracking policies own their alarms. */
export interface PolicyRecord extends ScalingPolicy {
  ownedAlarms: { AlarmName: string; AlarmARN: string }[];
}

export interface ScheduledActionRecord extends ScheduledAction {
  ScheduledActionARN: string;
  /** Epoch ms up to which occurrences have been handled. */
  handledUntil: number;
}

export interface ActivityRecord extends ScalingActivity {
  id: string;
  target: string;
}

/** A not-scaled activity: listed only with IncludeNotScaledActivities. */
export const isNotScaled = (a: ScalingActivity) => (a.NotScaledReasons?.length ?? 0) > 0;

/** Capacity of the resources Application Auto Scaling scales (ECS services for Berth). */
export interface ScalableResources {
  /** Checks a resource id for a namespace/dimension; returns a problem text or undefined. */
  problem(scope: Scope, namespace: string, resourceId: string, dimension: string): string | undefined;
  /** Current capacity, or undefined when the resource does not exist (any more). */
  capacity(scope: Scope, namespace: string, resourceId: string, dimension: string): number | undefined;
  /** Sets the capacity; false when the resource does not exist. */
  setCapacity(scope: Scope, namespace: string, resourceId: string, dimension: string, n: number): boolean;
  /** Name of the service that fulfils changes, for activity messages ("ecs"). */
  fulfilledBy(namespace: string): string;
}

export const TARGET_KIND = "aas.scalableTarget";
export const POLICY_KIND = "aas.scalingPolicy";
export const SCHEDULED_KIND = "aas.scheduledAction";
export const ACTIVITY_KIND = "aas.activity";
export const NEWEST_ACTIVITY_KIND = "aas.newestActivity";

/** Points at a target's newest activity. */
export interface NewestActivity {
  target: string;
  activity: string;
}

/** AWS keeps scaling activities six weeks; Berth also keeps at most this many per target. */
export const ACTIVITY_RETENTION_MS = 42 * 24 * 3600 * 1000;
export const ACTIVITIES_PER_TARGET = 1000;

export const targetKey = (namespace: string, resourceId: string, dimension: string) =>
  `${namespace}|${resourceId}|${dimension}`;
