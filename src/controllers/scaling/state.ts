import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { ScalingActivity } from "../../protocol/generated/types/application-autoscaling.js";
import type { Collection, DocumentStore } from "../../store/documents.js";
import type {
  ActivityRecord,
  PolicyRecord,
  ScalableResources,
  ScheduledActionRecord,
  TargetRecord,
} from "../../store/schema/application-autoscaling.js";
import type { NotScaledReason } from "./decide.js";

/**
 * What the scaling controllers (policy executor, scheduled actions) need of Application Auto
 * Scaling; its context (services/application-autoscaling/context.ts) provides it, so the
 * controllers do not depend on the service.
 */
export interface ScalingState {
  readonly store: DocumentStore;
  readonly clock: Clock;
  readonly resources: ScalableResources;
  readonly targets: Collection<TargetRecord>;
  readonly policies: Collection<PolicyRecord>;
  readonly scheduled: Collection<ScheduledActionRecord>;
  recordActivity(
    scope: Scope,
    target: TargetRecord,
    a: Omit<ScalingActivity, "ActivityId" | "ServiceNamespace" | "ResourceId" | "ScalableDimension">,
  ): ActivityRecord;
  sweepActivities(): void;
  /** Sets the capacity and records the activity; whether the resource took it. */
  setCapacity(
    scope: Scope,
    target: TargetRecord,
    desired: number,
    cause: string,
    extra?: Partial<TargetRecord>,
  ): boolean;
  recordNotScaled(
    scope: Scope,
    target: TargetRecord,
    cause: string,
    notScaled: { reason: NotScaledReason; proposed: number },
  ): void;
  /** Brings the resource's capacity inside [min, max] after the bounds changed. */
  clampCapacity(scope: Scope, target: TargetRecord): void;
}
