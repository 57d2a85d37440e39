import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import type { GroupInstanceRecord, GroupRecord } from "../../store/schema/autoscaling.js";
import { type AutoScalingContext, causeTime, serviceContext, templateSpecOf } from "./context.js";
import { type Member, planCapacity } from "./decide.js";
import { causeOf, deleteGroup } from "./groups.js";

export const GROUP_TAG = "aws:autoscaling:groupName";
/** After a launch fails, the next try waits this long (AWS backs off too). */
const LAUNCH_RETRY_MS = 10_000;

const isLive = (i: GroupInstanceRecord) => i.LifecycleState === "Pending" || i.LifecycleState === "InService";
const GONE = new Set(["shutting-down", "terminated", "stopping", "stopped", undefined]);

/**
 * Keeps each group's instances at its desired capacity. Level-based and store-backed: every pass
 * reads the group, its instance records and EC2's instance records, so a restart of Berth picks
 * up where it stopped. Instances move Pending → InService (their EC2 instance runs) →
 * Terminating → gone; one EC2 stopped or terminated behind the group's back is replaced.
 */
export class GroupController {
  private readonly loop: Periodic;

  constructor(
    private readonly ctx: AutoScalingContext,
    private readonly d: {
      clock: Clock;
      logger: Logger;
      tickMs: number;
      onGroupDeleted?: (scope: Scope, name: string) => void;
    },
  ) {
    this.loop = periodic(() => this.reconcileAll(), {
      name: "auto scaling group reconcile",
      everyMs: d.tickMs,
      logger: d.logger,
      clock: d.clock,
    });
  }

  start() {
    void this.loop.start();
  }

  stop() {
    this.loop.stop();
  }

  /** One pass now (after an API change; tests). */
  kick(): Promise<void> {
    return this.loop.runNow();
  }

  private async reconcileAll() {
    for (const { scope, doc } of this.ctx.records.groups.listAll()) {
      try {
        await this.reconcile(scope, doc.AutoScalingGroupName);
      } catch (err) {
        this.d.logger.warn(
          { group: doc.AutoScalingGroupName, err: (err as Error).message },
          "auto scaling group reconcile failed",
        );
      }
    }
  }

  private ec2State(scope: Scope, id: string) {
    return this.ctx.ec2.records.instances.get(scope, id)?.State.Name;
  }

  private async terminate(scope: Scope, ids: string[]) {
    if (ids.length)
      await Promise.resolve()
        .then(() => this.ctx.ec2.api.TerminateInstances!({ InstanceIds: ids }, serviceContext(scope)))
        .catch((err: Error) => this.d.logger.warn({ ids, err: err.message }, "terminating group instances failed"));
  }

  private async reconcile(scope: Scope, name: string) {
    const { ctx } = this;
    const { records } = ctx;
    const now = this.d.clock.now();
    const toTerminate: string[] = [];
    this.adopt(scope, name);
    // 1. Follow each instance's EC2 state.
    ctx.store.transaction(() => {
      const g = records.groups.get(scope, name);
      if (!g) return;
      for (const i of ctx.instancesOf(scope, name)) {
        const state = this.ec2State(scope, i.InstanceId);
        if (i.LifecycleState === "Pending" && state === "running") {
          records.instances.put(scope, { ...i, LifecycleState: "InService" });
          ctx.finishActivity(scope, i.activityId, "Successful");
        } else if (isLive(i) && GONE.has(state)) {
          ctx.finishActivity(scope, i.activityId, "Failed", `The EC2 instance ${i.InstanceId} is ${state ?? "gone"}.`);
          const a = ctx.activity(scope, g, {
            Description: `Terminating EC2 instance: ${i.InstanceId}`,
            Cause: `At ${causeTime(now)} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`,
            StatusCode: "InProgress",
          });
          records.instances.put(scope, {
            ...i,
            LifecycleState: "Terminating",
            HealthStatus: "Unhealthy",
            activityId: a.ActivityId,
          });
          toTerminate.push(i.InstanceId);
        } else if (i.LifecycleState === "Terminating") {
          if (state === undefined || state === "terminated") {
            records.instances.delete(scope, i.InstanceId);
            ctx.finishActivity(scope, i.activityId, "Successful");
          } else if (state !== "shutting-down") toTerminate.push(i.InstanceId);
        }
      }
    });
    await this.terminate(
      scope,
      toTerminate.filter((id) => !["terminated", undefined].includes(this.ec2State(scope, id))),
    );

    const g = records.groups.get(scope, name);
    if (!g) return;
    const instances = ctx.instancesOf(scope, name);
    if (g.Status === "Delete in progress" && instances.length === 0) {
      deleteGroup(ctx, scope, name);
      this.d.onGroupDeleted?.(scope, name);
      return;
    }
    // 2. Launch or terminate toward the desired capacity.
    const live = instances.filter(isLive);
    const members: Member[] = live.map((i) => ({
      id: i.InstanceId,
      zone: i.AvailabilityZone,
      protected: i.ProtectedFromScaleIn && g.Status !== "Delete in progress",
      launchedAt: i.launchedAt.getTime(),
    }));
    const zones = [...new Set(g.subnets.map((s) => s.AvailabilityZone))];
    const plan = planCapacity(g.DesiredCapacity, zones, members);
    if (plan.launch.length && (g.launchRetryAt ?? 0) <= now.getTime())
      await this.launch(scope, g, plan.launch, live.length);
    if (plan.terminate.length) {
      ctx.store.transaction(() => {
        for (const [n, id] of plan.terminate.entries()) {
          const i = records.instances.get(scope, id);
          if (!i || !isLive(i)) continue;
          const a = ctx.activity(scope, g, {
            Description: `Terminating EC2 instance: ${id}`,
            Cause: `${causeOf(g)}  At ${causeTime(now)} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${live.length - n} to ${live.length - n - 1}.`,
            StatusCode: "InProgress",
          });
          records.instances.put(scope, { ...i, LifecycleState: "Terminating", activityId: a.ActivityId });
        }
        const current = records.groups.get(scope, name);
        if (current)
          records.groups.put(scope, { ...current, cooldownUntil: now.getTime() + current.DefaultCooldown * 1000 });
      });
      await this.terminate(scope, plan.terminate);
    }
  }

  /** EC2 instances tagged with the group that it does not track (Berth stopped between launch and record). */
  private adopt(scope: Scope, name: string) {
    const { records } = this.ctx;
    const g = records.groups.get(scope, name);
    if (!g) return;
    for (const e of this.ctx.ec2.records.instances.list(scope)) {
      if (!e.Tags?.some((t) => t.Key === GROUP_TAG && t.Value === name)) continue;
      if (GONE.has(e.State.Name) || records.instances.get(scope, e.InstanceId)) continue;
      records.instances.put(
        scope,
        this.memberRecord(
          g,
          e.InstanceId,
          e.Placement?.AvailabilityZone ?? "",
          e.InstanceType,
          e.ImageId,
          e.LaunchTime ?? this.d.clock.now(),
        ),
      );
    }
  }

  private memberRecord(
    g: GroupRecord,
    id: string,
    zone: string,
    type: string | undefined,
    image: string | undefined,
    at: Date,
  ): GroupInstanceRecord {
    return {
      InstanceId: id,
      group: g.AutoScalingGroupName,
      InstanceType: type,
      AvailabilityZone: zone,
      LifecycleState: "Pending",
      HealthStatus: "Healthy",
      ProtectedFromScaleIn: g.NewInstancesProtectedFromScaleIn,
      LaunchTemplate: templateSpecOf(g),
      ImageId: image,
      launchedAt: at,
    };
  }

  private async launch(scope: Scope, g: GroupRecord, zones: string[], liveCount: number) {
    const { ctx } = this;
    const spec = templateSpecOf(g)!;
    const override = g.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.find((o) => o.InstanceType)?.InstanceType;
    const tags = g.Tags.filter((t) => t.PropagateAtLaunch).map((t) => ({ Key: t.Key!, Value: t.Value ?? "" }));
    const used = new Map<string, number>();
    for (const [n, zone] of zones.entries()) {
      const inZone = g.subnets.filter((s) => s.AvailabilityZone === zone);
      const k = used.get(zone) ?? 0;
      used.set(zone, k + 1);
      const subnet = inZone[k % inZone.length];
      const now = this.d.clock.now();
      const cause = `${causeOf(g)}  At ${causeTime(now)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${liveCount + n} to ${liveCount + n + 1}.`;
      const details = JSON.stringify({ "Subnet ID": subnet.SubnetId, "Availability Zone": zone });
      try {
        const { template } = ctx.resolveTemplate(scope, spec);
        const out = await ctx.ec2.api.RunInstances!(
          {
            MinCount: 1,
            MaxCount: 1,
            LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId, Version: spec.Version ?? "$Default" },
            InstanceType: override as never,
            SubnetId: subnet.SubnetId,
            TagSpecifications: tags.length ? [{ ResourceType: "instance", Tags: tags }] : undefined,
          },
          serviceContext(scope),
        );
        const e = out.Instances![0];
        const id = e.InstanceId!;
        ctx.store.transaction(() => {
          // The reserved tag is Auto Scaling's to write; EC2's API refuses aws: keys from callers.
          const rec = ctx.ec2.records.instances.get(scope, id);
          if (rec)
            ctx.ec2.records.instances.put(scope, {
              ...rec,
              Tags: [{ Key: GROUP_TAG, Value: g.AutoScalingGroupName }, ...(rec.Tags ?? [])],
              version: rec.version + 1,
            });
          const a = ctx.activity(scope, g, {
            Description: `Launching a new EC2 instance: ${id}`,
            Cause: cause,
            StatusCode: "InProgress",
            Details: details,
          });
          ctx.records.instances.put(scope, {
            ...this.memberRecord(g, id, zone, e.InstanceType, e.ImageId, now),
            activityId: a.ActivityId,
          });
          const current = ctx.records.groups.get(scope, g.AutoScalingGroupName);
          if (current)
            ctx.records.groups.put(scope, {
              ...current,
              launchRetryAt: undefined,
              cooldownUntil: now.getTime() + current.DefaultCooldown * 1000,
            });
        });
        this.d.logger.info({ group: g.AutoScalingGroupName, instance: id, zone }, "auto scaling launched an instance");
      } catch (err) {
        const message = (err as Error).message;
        ctx.store.transaction(() => {
          ctx.activity(scope, g, {
            Description: `Launching a new EC2 instance.  Status Reason: ${message}. Launching EC2 instance failed.`,
            Cause: cause,
            StatusCode: "Failed",
            StatusMessage: `${message}. Launching EC2 instance failed.`,
            Details: details,
          });
          const current = ctx.records.groups.get(scope, g.AutoScalingGroupName);
          if (current) ctx.records.groups.put(scope, { ...current, launchRetryAt: now.getTime() + LAUNCH_RETRY_MS });
        });
        return;
      }
    }
  }
}
