import type { Instance, RequestLaunchTemplateData, Tag } from "../../protocol/generated/types/ec2.js";
import type { Collection, DocumentStore } from "../documents.js";

export const VPC_KIND = "ec2.vpc";
export const SUBNET_KIND = "ec2.subnet";
export const SECURITY_GROUP_KIND = "ec2.securityGroup";
export const EC2_DEFAULTS_KIND = "ec2.defaults";
export const LAUNCH_TEMPLATE_KIND = "ec2.launchTemplate";
export const INSTANCE_KIND = "ec2.instance";

/** A VPC as stored (recorded only: Berth's containers do not live in it yet). */
export interface VpcRecord {
  VpcId: string;
  OwnerId: string;
  CidrBlock: string;
  CidrAssociationId: string;
  IsDefault: boolean;
  InstanceTenancy: string;
  DhcpOptionsId: string;
  EnableDnsSupport: boolean;
  EnableDnsHostnames: boolean;
  Tags: Tag[];
}

export interface SubnetRecord {
  SubnetId: string;
  VpcId: string;
  OwnerId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  AvailabilityZoneId: string;
  DefaultForAz: boolean;
  MapPublicIpOnLaunch: boolean;
  Tags: Tag[];
}

/** One rule of a security group: one protocol and port range from (or to) one peer. */
export interface SecurityGroupRuleRecord {
  SecurityGroupRuleId: string;
  IsEgress: boolean;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all) or a protocol number. */
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupId?: string;
  Description?: string;
}

export interface SecurityGroupRecord {
  GroupId: string;
  GroupName: string;
  Description: string;
  VpcId: string;
  OwnerId: string;
  Rules: SecurityGroupRuleRecord[];
  Tags: Tag[];
}

/** A launch template and its versions (stored for Auto Scaling groups; nothing is launched yet). */
export interface LaunchTemplateRecord {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  CreateTime: Date;
  CreatedBy: string;
  DefaultVersionNumber: number;
  Versions: { VersionNumber: number; VersionDescription?: string; CreateTime: Date; Data: RequestLaunchTemplateData }[];
  Tags: Tag[];
}

/**
 * Per account and region: that the default VPC was made (so a deleted default VPC stays
 * deleted, as on AWS) and which VPC it is now.
 */
export interface Ec2DefaultsRecord {
  id: "defaults";
  defaultVpcId?: string;
}

/** The EC2 collections the API (and later ECS container instances, Auto Scaling) share. */
/**
 * An EC2 instance as stored: what DescribeInstances shows, plus what its host needs (the role of
 * its instance profile, its user data) and when it reached its last state (pruning, lost hosts).
 */
export interface InstanceRecord extends Instance {
  InstanceId: string;
  ReservationId: string;
  OwnerId: string;
  State: { Code: number; Name: "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped" };
  /** The instance profile's role (hosts get its credentials from IMDS). */
  roleArn?: string;
  /** Base64, as RunInstances took it. */
  userData?: string;
  stateChangedAt: Date;
  version: number;
}

export class Ec2Records {
  readonly vpcs: Collection<VpcRecord>;
  readonly subnets: Collection<SubnetRecord>;
  readonly securityGroups: Collection<SecurityGroupRecord>;
  readonly defaults: Collection<Ec2DefaultsRecord>;
  readonly launchTemplates: Collection<LaunchTemplateRecord>;
  readonly instances: Collection<InstanceRecord>;

  constructor(readonly store: DocumentStore) {
    this.vpcs = store.collection<VpcRecord>(VPC_KIND, { id: (v) => v.VpcId });
    this.subnets = store.collection<SubnetRecord>(SUBNET_KIND, { id: (s) => s.SubnetId, parent: (s) => s.VpcId });
    this.securityGroups = store.collection<SecurityGroupRecord>(SECURITY_GROUP_KIND, {
      id: (g) => g.GroupId,
      parent: (g) => g.VpcId,
    });
    this.defaults = store.collection<Ec2DefaultsRecord>(EC2_DEFAULTS_KIND, { id: (d) => d.id });
    this.launchTemplates = store.collection<LaunchTemplateRecord>(LAUNCH_TEMPLATE_KIND, {
      id: (t) => t.LaunchTemplateId,
    });
    this.instances = store.collection<InstanceRecord>(INSTANCE_KIND, { id: (i) => i.InstanceId });
  }
}
