import type { Operations, Subnet } from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { SubnetRecord } from "../../store/schema/ec2.js";
import { contains, overlaps, parseCidr, usableAddresses } from "./cidr.js";
import { type Ec2Context, newId, pageOf, requireAll, tagsFor } from "./context.js";
import { ec2Errors } from "./errors.js";
import { type FilterSpec, applyFilters } from "./filters.js";
import { blockOf } from "./vpcs.js";
import { zonesOf } from "./zones.js";

export const subnetView = (s: SubnetRecord, region: string): Subnet => ({
  SubnetId: s.SubnetId,
  SubnetArn: `arn:aws:ec2:${region}:${s.OwnerId}:subnet/${s.SubnetId}`,
  VpcId: s.VpcId,
  OwnerId: s.OwnerId,
  CidrBlock: s.CidrBlock,
  State: "available",
  AvailabilityZone: s.AvailabilityZone,
  AvailabilityZoneId: s.AvailabilityZoneId,
  AvailableIpAddressCount: usableAddresses(parseCidr(s.CidrBlock)!),
  DefaultForAz: s.DefaultForAz,
  MapPublicIpOnLaunch: s.MapPublicIpOnLaunch,
  AssignIpv6AddressOnCreation: false,
  Ipv6CidrBlockAssociationSet: [],
  Tags: s.Tags,
});

const SUBNET_FILTERS: FilterSpec<SubnetRecord> = {
  names: {
    "subnet-id": (s) => [s.SubnetId],
    "vpc-id": (s) => [s.VpcId],
    "cidr-block": (s) => [s.CidrBlock],
    cidr: (s) => [s.CidrBlock],
    cidrBlock: (s) => [s.CidrBlock],
    "availability-zone": (s) => [s.AvailabilityZone],
    availabilityZone: (s) => [s.AvailabilityZone],
    "availability-zone-id": (s) => [s.AvailabilityZoneId],
    "default-for-az": (s) => [String(s.DefaultForAz)],
    defaultForAz: (s) => [String(s.DefaultForAz)],
    "map-public-ip-on-launch": (s) => [String(s.MapPublicIpOnLaunch)],
    "owner-id": (s) => [s.OwnerId],
    state: () => ["available"],
  },
  tags: (s) => s.Tags,
};

export function subnetOperations(ec2: Ec2Context): Provider<Operations> {
  return {
    DescribeSubnets: (input, ctx) => {
      const found = requireAll(
        ec2.records.subnets.list(ctx),
        input.SubnetIds,
        (s) => s.SubnetId,
        (id) => ec2Errors.InvalidSubnetIdNotFound(`The subnet ID '${id}' does not exist`),
      );
      const { page, nextToken } = pageOf(applyFilters(found, input.Filters, SUBNET_FILTERS), (s) => s.SubnetId, input);
      return { Subnets: page.map((s) => subnetView(s, ctx.region)), NextToken: nextToken };
    },

    CreateSubnet: (input, ctx) => {
      if (input.CidrBlock === undefined)
        throw ec2Errors.MissingParameter("The request must contain the parameter cidrBlock");
      if (input.Ipv6CidrBlock || input.Ipv6Native || input.Ipv4IpamPoolId)
        throw ec2Errors.InvalidParameterValue(
          "Berth's subnets have one IPv4 CIDR block: IPv6 and IPAM pools are not supported.",
        );
      const block = blockOf(input.CidrBlock, ec2Errors.InvalidSubnetRange);
      const zones = zonesOf(ctx.region);
      const zone =
        input.AvailabilityZone !== undefined || input.AvailabilityZoneId !== undefined
          ? zones.find((z) => z.ZoneName === input.AvailabilityZone || z.ZoneId === input.AvailabilityZoneId)
          : undefined;
      if ((input.AvailabilityZone !== undefined || input.AvailabilityZoneId !== undefined) && !zone)
        throw ec2Errors.InvalidParameterValue(
          `Value (${input.AvailabilityZone ?? input.AvailabilityZoneId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.map((z) => z.ZoneName).join(", ")}.`,
        );
      const tags = tagsFor(input.TagSpecifications, "subnet");
      const subnet = ec2.store.transaction(() => {
        const vpc = ec2.vpc(ctx, input.VpcId);
        const siblings = ec2.records.subnets.children(ctx, vpc.VpcId);
        if (!contains(parseCidr(vpc.CidrBlock)!, block))
          throw ec2Errors.InvalidSubnetRange(`The CIDR '${input.CidrBlock}' is invalid.`);
        if (siblings.some((s) => overlaps(parseCidr(s.CidrBlock)!, block)))
          throw ec2Errors.InvalidSubnetConflict(`The CIDR '${input.CidrBlock}' conflicts with another subnet`);
        // Without a zone, EC2 picks one; Berth spreads new subnets over the zones in order.
        const chosen = zone ?? zones[siblings.length % zones.length];
        const record: SubnetRecord = {
          SubnetId: newId("subnet"),
          VpcId: vpc.VpcId,
          OwnerId: ctx.account,
          CidrBlock: input.CidrBlock!,
          AvailabilityZone: chosen.ZoneName!,
          AvailabilityZoneId: chosen.ZoneId!,
          DefaultForAz: false,
          MapPublicIpOnLaunch: false,
          Tags: tags,
        };
        return ec2.records.subnets.put(ctx, record, { expect: 0 });
      });
      return { Subnet: { ...subnetView(subnet, ctx.region), State: "pending" } };
    },

    DeleteSubnet: (input, ctx) => {
      ec2.store.transaction(() => {
        ec2.subnet(ctx, input.SubnetId);
        ec2.records.subnets.delete(ctx, input.SubnetId);
      });
      return {};
    },

    ModifySubnetAttribute: (input, ctx) => {
      ec2.store.transaction(() => {
        const current = ec2.records.subnets.getVersioned(ctx, input.SubnetId);
        if (!current) throw ec2Errors.InvalidSubnetIdNotFound(`The subnet ID '${input.SubnetId}' does not exist`);
        const next = { ...current.doc };
        if (input.MapPublicIpOnLaunch?.Value !== undefined) next.MapPublicIpOnLaunch = input.MapPublicIpOnLaunch.Value;
        ec2.records.subnets.put(ctx, next, { expect: current.rev });
      });
      return {};
    },
  };
}
