import type {
  Activity,
  LaunchTemplateSpecification,
  LifecycleState,
  MixedInstancesPolicy,
  ScalingPolicy,
  TagDescription,
} from "../../protocol/generated/types/autoscaling.js";
import type { Collection, DocumentStore } from "../documents.js";

export const GROUP_KIND = "autoscaling.group";
export const GROUP_INSTANCE_KIND = "autoscaling.instance";
export const GROUP_ACTIVITY_KIND = "autoscaling.activity";
export const GROUP_POLICY_KIND = "autoscaling.policy";

/** Where a group launches: one subnet in one Availability Zone. */
export interface GroupSubnet {
  SubnetId: string;
  AvailabilityZone: string;
}

/** An Auto Scaling group as stored: the API's members plus the controller's bookkeeping. */
export interface GroupRecord {
  AutoScalingGroupName: string;
  AutoScalingGroupARN: string;
  LaunchTemplate?: LaunchTemplateSpecification;
  MixedInstancesPolicy?: MixedInstancesPolicy;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
  DefaultCooldown: number;
  AvailabilityZones: string[];
  VPCZoneIdentifier?: string;
  subnets: GroupSubnet[];
  HealthCheckType: string;
  HealthCheckGracePeriod: number;
  CreatedTime: Date;
  Tags: TagDescription[];
  TerminationPolicies: string[];
  NewInstancesProtectedFromScaleIn: boolean;
  ServiceLinkedRoleARN: string;
  /** "Delete in progress" after DeleteAutoScalingGroup with ForceDelete. */
  Status?: string;
  /** The last change of desired capacity, for activity causes: "At <time> <what>". */
  lastChange: { at: Date; text: string };
  /** Epoch ms until which the default cooldown blocks SetDesiredCapacity with HonorCooldown. */
  cooldownUntil?: number;
  /** Epoch ms before which no launch is tried again after one failed. */
  launchRetryAt?: number;
}

/** An instance of a group, as Auto Scaling tracks it (the EC2 instance is EC2's record). */
export interface GroupInstanceRecord {
  InstanceId: string;
  group: string;
  InstanceType?: string;
  AvailabilityZone: string;
  LifecycleState: LifecycleState;
  HealthStatus: "Healthy" | "Unhealthy";
  ProtectedFromScaleIn: boolean;
  LaunchTemplate?: LaunchTemplateSpecification;
  ImageId?: string;
  launchedAt: Date;
  /** The activity that launches or terminates it (completed when the instance gets there). */
  activityId?: string;
}

export interface GroupActivityRecord extends Activity {
  ActivityId: string;
  AutoScalingGroupName: string;
}

/** A scaling policy; target tracking policies own their CloudWatch alarms. */
export interface GroupPolicyRecord extends ScalingPolicy {
  PolicyARN: string;
  PolicyName: string;
  AutoScalingGroupName: string;
  ownedAlarms: { AlarmName: string; AlarmARN: string }[];
}

export class AutoScalingRecords {
  readonly groups: Collection<GroupRecord>;
  readonly instances: Collection<GroupInstanceRecord>;
  readonly activities: Collection<GroupActivityRecord>;
  readonly policies: Collection<GroupPolicyRecord>;

  constructor(readonly store: DocumentStore) {
    this.groups = store.collection<GroupRecord>(GROUP_KIND, {
      id: (g) => g.AutoScalingGroupName,
      arn: (g) => g.AutoScalingGroupARN,
    });
    this.instances = store.collection<GroupInstanceRecord>(GROUP_INSTANCE_KIND, {
      id: (i) => i.InstanceId,
      parent: (i) => i.group,
    });
    this.activities = store.collection<GroupActivityRecord>(GROUP_ACTIVITY_KIND, {
      id: (a) => a.ActivityId,
      parent: (a) => a.AutoScalingGroupName,
    });
    this.policies = store.collection<GroupPolicyRecord>(GROUP_POLICY_KIND, {
      id: (p) => `${p.AutoScalingGroupName}/${p.PolicyName}`,
      arn: (p) => p.PolicyARN,
      parent: (p) => p.AutoScalingGroupName,
    });
  }
}
