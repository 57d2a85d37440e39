import type { Scope } from "../../core/ids.js";
import type { Operations, Vpc } from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { VpcRecord } from "../../store/schema/ec2.js";
import { allowedPrefix, parseCidr } from "./cidr.js";
import { type Ec2Context, pageOf, requireAll, tagsFor } from "./context.js";
import { ec2Errors } from "./errors.js";
import { type FilterSpec, applyFilters } from "./filters.js";

export const vpcView = (v: VpcRecord): Vpc => ({
  VpcId: v.VpcId,
  OwnerId: v.OwnerId,
  CidrBlock: v.CidrBlock,
  State: "available",
  IsDefault: v.IsDefault,
  InstanceTenancy: v.InstanceTenancy as Vpc["InstanceTenancy"],
  DhcpOptionsId: v.DhcpOptionsId,
  CidrBlockAssociationSet: [
    { AssociationId: v.CidrAssociationId, CidrBlock: v.CidrBlock, CidrBlockState: { State: "associated" } },
  ],
  Tags: v.Tags,
});

const VPC_FILTERS: FilterSpec<VpcRecord> = {
  names: {
    "vpc-id": (v) => [v.VpcId],
    cidr: (v) => [v.CidrBlock],
    "cidr-block-association.cidr-block": (v) => [v.CidrBlock],
    "cidr-block-association.association-id": (v) => [v.CidrAssociationId],
    "cidr-block-association.state": () => ["associated"],
    "dhcp-options-id": (v) => [v.DhcpOptionsId],
    "is-default": (v) => [String(v.IsDefault)],
    isDefault: (v) => [String(v.IsDefault)],
    "owner-id": (v) => [v.OwnerId],
    state: () => ["available"],
  },
  tags: (v) => v.Tags,
};

/** A CIDR block EC2 accepts for a VPC or subnet, or its error. */
export function blockOf(cidr: string, rangeError: (m: string) => Error) {
  const block = parseCidr(cidr);
  if (!block)
    throw ec2Errors.InvalidParameterValue(
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (!allowedPrefix(block)) throw rangeError(`The CIDR '${cidr}' is invalid.`);
  return block;
}

export function vpcOperations(ec2: Ec2Context): Provider<Operations> {
  const describe = (
    scope: Scope,
    input: { VpcIds?: string[]; Filters?: Operations["DescribeVpcs"]["input"]["Filters"] },
  ) =>
    applyFilters(
      requireAll(
        ec2.records.vpcs.list(scope),
        input.VpcIds,
        (v) => v.VpcId,
        (id) => ec2Errors.InvalidVpcIdNotFound(`The vpc ID '${id}' does not exist`),
      ),
      input.Filters,
      VPC_FILTERS,
    );
  return {
    DescribeVpcs: (input, ctx) => {
      const { page, nextToken } = pageOf(describe(ctx, input), (v) => v.VpcId, input);
      return { Vpcs: page.map(vpcView), NextToken: nextToken };
    },

    CreateVpc: (input, ctx) => {
      if (input.CidrBlock === undefined)
        throw ec2Errors.MissingParameter("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.");
      if (input.Ipv4IpamPoolId || input.AmazonProvidedIpv6CidrBlock || input.Ipv6CidrBlock)
        throw ec2Errors.InvalidParameterValue(
          "Berth's VPCs have one IPv4 CIDR block: IPAM pools and IPv6 are not supported.",
        );
      blockOf(input.CidrBlock, ec2Errors.InvalidVpcRange);
      const tags = tagsFor(input.TagSpecifications, "vpc");
      const vpc = ec2.store.transaction(() =>
        ec2.createVpc(ctx, input.CidrBlock!, { isDefault: false, tags, tenancy: input.InstanceTenancy }),
      );
      return { Vpc: { ...vpcView(vpc), State: "pending" } };
    },

    CreateDefaultVpc: (_input, ctx) => {
      const vpc = ec2.store.transaction(() => {
        if (ec2.defaultVpcId(ctx))
          throw ec2Errors.DefaultVpcAlreadyExists("A Default VPC already exists for this account in this region.");
        const made = ec2.createDefaultVpc(ctx);
        ec2.records.defaults.put(ctx, { id: "defaults", defaultVpcId: made.VpcId });
        return made;
      });
      return { Vpc: { ...vpcView(vpc), State: "pending" } };
    },

    DeleteVpc: (input, ctx) => {
      ec2.store.transaction(() => {
        const vpc = ec2.vpc(ctx, input.VpcId);
        const groups = ec2.records.securityGroups.children(ctx, vpc.VpcId);
        if (ec2.records.subnets.children(ctx, vpc.VpcId).length > 0 || groups.some((g) => g.GroupName !== "default"))
          throw ec2Errors.DependencyViolation(`The vpc '${vpc.VpcId}' has dependencies and cannot be deleted.`);
        for (const g of groups) ec2.records.securityGroups.delete(ctx, g.GroupId);
        ec2.records.vpcs.delete(ctx, vpc.VpcId);
      });
      return {};
    },

    DescribeVpcAttribute: (input, ctx) => {
      const vpc = ec2.vpc(ctx, input.VpcId);
      switch (input.Attribute) {
        case "enableDnsSupport":
          return { VpcId: vpc.VpcId, EnableDnsSupport: { Value: vpc.EnableDnsSupport } };
        case "enableDnsHostnames":
          return { VpcId: vpc.VpcId, EnableDnsHostnames: { Value: vpc.EnableDnsHostnames } };
        case "enableNetworkAddressUsageMetrics":
          return { VpcId: vpc.VpcId, EnableNetworkAddressUsageMetrics: { Value: false } };
        default:
          throw ec2Errors.InvalidParameterValue(`Value (${input.Attribute}) for parameter attribute is invalid.`);
      }
    },

    ModifyVpcAttribute: (input, ctx) => {
      const set = [input.EnableDnsSupport, input.EnableDnsHostnames, input.EnableNetworkAddressUsageMetrics].filter(
        (a) => a !== undefined,
      );
      if (set.length !== 1)
        throw ec2Errors.InvalidParameterCombination("Exactly one attribute must be specified per request.");
      ec2.store.transaction(() => {
        const current = ec2.records.vpcs.getVersioned(ctx, input.VpcId);
        if (!current) throw ec2Errors.InvalidVpcIdNotFound(`The vpc ID '${input.VpcId}' does not exist`);
        const next = { ...current.doc };
        if (input.EnableDnsSupport?.Value !== undefined) next.EnableDnsSupport = input.EnableDnsSupport.Value;
        if (input.EnableDnsHostnames?.Value !== undefined) next.EnableDnsHostnames = input.EnableDnsHostnames.Value;
        if (next.EnableDnsHostnames && !next.EnableDnsSupport)
          throw ec2Errors.InvalidParameterValue("DNS hostnames need DNS support: enable enableDnsSupport first.");
        ec2.records.vpcs.put(ctx, next, { expect: current.rev });
      });
      return {};
    },
  };
}
