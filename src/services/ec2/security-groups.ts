import type { Scope } from "../../core/ids.js";
import type {
  IpPermission,
  Operations,
  SecurityGroup,
  SecurityGroupRule,
  TagSpecification,
} from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from "../../store/schema/ec2.js";
import { type Ec2Context, newId, pageOf, requireAll, tagsFor } from "./context.js";
import { ec2Errors } from "./errors.js";
import { type FilterSpec, applyFilters } from "./filters.js";
import { describeRule, expandPermissions, groupRules, ruleKey } from "./permissions.js";

export const securityGroupView = (g: SecurityGroupRecord, region: string): SecurityGroup => ({
  GroupId: g.GroupId,
  GroupName: g.GroupName,
  Description: g.Description,
  VpcId: g.VpcId,
  OwnerId: g.OwnerId,
  SecurityGroupArn: `arn:aws:ec2:${region}:${g.OwnerId}:security-group/${g.GroupId}`,
  IpPermissions: groupRules(
    g.Rules.filter((r) => !r.IsEgress),
    g.OwnerId,
  ),
  IpPermissionsEgress: groupRules(
    g.Rules.filter((r) => r.IsEgress),
    g.OwnerId,
  ),
  Tags: g.Tags,
});

const ruleView = (g: SecurityGroupRecord, r: SecurityGroupRuleRecord): SecurityGroupRule => ({
  SecurityGroupRuleId: r.SecurityGroupRuleId,
  GroupId: g.GroupId,
  GroupOwnerId: g.OwnerId,
  IsEgress: r.IsEgress,
  IpProtocol: r.IpProtocol,
  FromPort: r.FromPort ?? -1,
  ToPort: r.ToPort ?? -1,
  CidrIpv4: r.CidrIpv4,
  CidrIpv6: r.CidrIpv6,
  PrefixListId: r.PrefixListId,
  ReferencedGroupInfo: r.ReferencedGroupId ? { GroupId: r.ReferencedGroupId, UserId: g.OwnerId } : undefined,
  Description: r.Description,
  Tags: [],
});

const peers = (g: SecurityGroupRecord, egress: boolean) =>
  g.Rules.filter((r) => r.IsEgress === egress).flatMap((r) => [
    r.CidrIpv4,
    r.CidrIpv6,
    r.ReferencedGroupId,
    r.PrefixListId,
  ]);

const GROUP_FILTERS: FilterSpec<SecurityGroupRecord> = {
  names: {
    "group-id": (g) => [g.GroupId],
    "group-name": (g) => [g.GroupName],
    description: (g) => [g.Description],
    "vpc-id": (g) => [g.VpcId],
    "owner-id": (g) => [g.OwnerId],
    "ip-permission.protocol": (g) => g.Rules.filter((r) => !r.IsEgress).map((r) => r.IpProtocol),
    "ip-permission.from-port": (g) => g.Rules.filter((r) => !r.IsEgress).map((r) => String(r.FromPort ?? "")),
    "ip-permission.to-port": (g) => g.Rules.filter((r) => !r.IsEgress).map((r) => String(r.ToPort ?? "")),
    "ip-permission.cidr": (g) => g.Rules.filter((r) => !r.IsEgress).map((r) => r.CidrIpv4),
    "ip-permission.group-id": (g) => g.Rules.filter((r) => !r.IsEgress).map((r) => r.ReferencedGroupId),
    "egress.ip-permission.cidr": (g) => g.Rules.filter((r) => r.IsEgress).map((r) => r.CidrIpv4),
    "egress.ip-permission.protocol": (g) => g.Rules.filter((r) => r.IsEgress).map((r) => r.IpProtocol),
  },
  tags: (g) => g.Tags,
};

/** Rule changes name the group by id, or by name in the default VPC. */
interface GroupTarget {
  GroupId?: string;
  GroupName?: string;
}

/** The top-level CidrIp/IpProtocol/FromPort/ToPort form, as one permission. */
interface LegacyRule {
  CidrIp?: string;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpPermissions?: IpPermission[];
}

function permissionsOf(input: LegacyRule): IpPermission[] {
  const legacy = input.CidrIp !== undefined || input.IpProtocol !== undefined;
  if (legacy && input.IpPermissions?.length)
    throw ec2Errors.InvalidParameterCombination(
      "The parameter 'ipPermissions' may not be used in combination with 'cidrIp', 'ipProtocol', 'fromPort' or 'toPort'",
    );
  if (legacy)
    return [
      {
        IpProtocol: input.IpProtocol,
        FromPort: input.FromPort,
        ToPort: input.ToPort,
        IpRanges: input.CidrIp ? [{ CidrIp: input.CidrIp }] : [],
      },
    ];
  return input.IpPermissions ?? [];
}

export function securityGroupOperations(ec2: Ec2Context): Provider<Operations> {
  const target = (scope: Scope, t: GroupTarget) => {
    if (t.GroupId) return ec2.securityGroup(scope, t.GroupId);
    if (!t.GroupName) throw ec2Errors.MissingParameter("The request must contain the parameter groupName or groupId");
    const vpcId = ec2.defaultVpcId(scope);
    const group = vpcId && ec2.records.securityGroups.children(scope, vpcId).find((g) => g.GroupName === t.GroupName);
    if (!group)
      throw ec2Errors.InvalidGroupNotFound(
        `The security group '${t.GroupName}' does not exist in default VPC '${vpcId ?? "none"}'`,
      );
    return group;
  };

  const authorize = (
    scope: Scope,
    input: GroupTarget & LegacyRule & { TagSpecifications?: TagSpecification[] },
    isEgress: boolean,
  ) => {
    const specs = expandPermissions(permissionsOf(input), isEgress);
    if (specs.length === 0) throw ec2Errors.MissingParameter("The request must contain the parameter ipPermissions");
    tagsFor(input.TagSpecifications, "security-group-rule");
    return ec2.store.transaction(() => {
      const current = ec2.records.securityGroups.getVersioned(scope, target(scope, input).GroupId)!;
      const group = current.doc;
      for (const spec of specs)
        if (spec.ReferencedGroupId && spec.ReferencedGroupId !== group.GroupId)
          ec2.securityGroup(scope, spec.ReferencedGroupId);
      const have = new Set(group.Rules.map(ruleKey));
      const added: SecurityGroupRuleRecord[] = [];
      for (const spec of specs) {
        const key = ruleKey(spec);
        if (have.has(key))
          throw ec2Errors.InvalidPermissionDuplicate(`the specified rule "${describeRule(spec)}" already exists`);
        have.add(key);
        added.push({ SecurityGroupRuleId: newId("sgr"), ...spec });
      }
      const next = { ...group, Rules: [...group.Rules, ...added] };
      ec2.records.securityGroups.put(scope, next, { expect: current.rev });
      return { Return: true, SecurityGroupRules: added.map((r) => ruleView(next, r)) };
    });
  };

  const revoke = (
    scope: Scope,
    input: GroupTarget & LegacyRule & { SecurityGroupRuleIds?: string[] },
    isEgress: boolean,
  ) =>
    ec2.store.transaction(() => {
      const current = ec2.records.securityGroups.getVersioned(scope, target(scope, input).GroupId)!;
      const group = current.doc;
      const removed = new Set<string>();
      const unknown: IpPermission[] = [];
      if (input.SecurityGroupRuleIds?.length) {
        for (const id of input.SecurityGroupRuleIds) {
          const rule = group.Rules.find((r) => r.SecurityGroupRuleId === id && r.IsEgress === isEgress);
          if (!rule)
            throw ec2Errors.InvalidSecurityGroupRuleIdNotFound(
              `The security group rule ID '${id}' does not exist in security group '${group.GroupId}'`,
            );
          removed.add(id);
        }
      } else {
        const permissions = permissionsOf(input);
        if (permissions.length === 0)
          throw ec2Errors.MissingParameter("The request must contain the parameter ipPermissions");
        for (const permission of permissions)
          for (const spec of expandPermissions([permission], isEgress)) {
            const rule = group.Rules.find((r) => ruleKey(r) === ruleKey(spec));
            if (rule) removed.add(rule.SecurityGroupRuleId);
            else unknown.push(permission);
          }
        if (removed.size === 0)
          throw ec2Errors.InvalidPermissionNotFound("The specified rule does not exist in this security group.");
      }
      const next = { ...group, Rules: group.Rules.filter((r) => !removed.has(r.SecurityGroupRuleId)) };
      ec2.records.securityGroups.put(scope, next, { expect: current.rev });
      return {
        Return: true,
        ...(unknown.length ? { UnknownIpPermissions: unknown } : {}),
        RevokedSecurityGroupRules: group.Rules.filter((r) => removed.has(r.SecurityGroupRuleId)).map((r) => ({
          SecurityGroupRuleId: r.SecurityGroupRuleId,
          GroupId: group.GroupId,
          IsEgress: r.IsEgress,
          IpProtocol: r.IpProtocol,
          FromPort: r.FromPort,
          ToPort: r.ToPort,
          CidrIpv4: r.CidrIpv4,
          CidrIpv6: r.CidrIpv6,
          PrefixListId: r.PrefixListId,
          ReferencedGroupId: r.ReferencedGroupId,
          Description: r.Description,
        })),
      };
    });

  return {
    DescribeSecurityGroups: (input, ctx) => {
      let groups = requireAll(
        ec2.records.securityGroups.list(ctx),
        input.GroupIds,
        (g) => g.GroupId,
        (id) => ec2Errors.InvalidGroupNotFound(`The security group '${id}' does not exist`),
      );
      if (input.GroupNames?.length) {
        const vpcId = ec2.defaultVpcId(ctx);
        const inDefault = groups.filter((g) => g.VpcId === vpcId);
        groups = input.GroupNames.map((name) => {
          const g = inDefault.find((x) => x.GroupName === name);
          if (!g)
            throw ec2Errors.InvalidGroupNotFound(
              `The security group '${name}' does not exist in default VPC '${vpcId ?? "none"}'`,
            );
          return g;
        });
      }
      const { page, nextToken } = pageOf(applyFilters(groups, input.Filters, GROUP_FILTERS), (g) => g.GroupId, input);
      return { SecurityGroups: page.map((g) => securityGroupView(g, ctx.region)), NextToken: nextToken };
    },

    CreateSecurityGroup: (input, ctx) => {
      const name = input.GroupName;
      if (name.length > 255 || input.Description.length > 255)
        throw ec2Errors.InvalidParameterValue("Group names and descriptions may be at most 255 characters.");
      if (name.toLowerCase().startsWith("sg-"))
        throw ec2Errors.InvalidParameterValue(
          `Value (${name}) for parameter GroupName is invalid. Group names may not be in the format sg-*.`,
        );
      if (name === "default") throw ec2Errors.InvalidGroupReserved("The security group 'default' is reserved");
      const tags = tagsFor(input.TagSpecifications, "security-group");
      const group = ec2.store.transaction(() => {
        const vpcId = input.VpcId ?? ec2.defaultVpcId(ctx);
        if (!vpcId)
          throw ec2Errors.VPCIdNotSpecified(
            "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.",
          );
        ec2.vpc(ctx, vpcId);
        if (ec2.records.securityGroups.children(ctx, vpcId).some((g) => g.GroupName === name))
          throw ec2Errors.InvalidGroupDuplicate(`The security group '${name}' already exists for VPC '${vpcId}'`);
        const record: SecurityGroupRecord = {
          GroupId: newId("sg"),
          GroupName: name,
          Description: input.Description,
          VpcId: vpcId,
          OwnerId: ctx.account,
          Rules: [{ SecurityGroupRuleId: newId("sgr"), IsEgress: true, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" }],
          Tags: tags,
        };
        return ec2.records.securityGroups.put(ctx, record, { expect: 0 });
      });
      return {
        GroupId: group.GroupId,
        SecurityGroupArn: securityGroupView(group, ctx.region).SecurityGroupArn,
        Tags: group.Tags.length ? group.Tags : undefined,
      };
    },

    DeleteSecurityGroup: (input, ctx) => {
      const groupId = ec2.store.transaction(() => {
        const group = target(ctx, input);
        if (group.GroupName === "default")
          throw ec2Errors.CannotDelete(
            `the specified group: "${group.GroupId}" name: "default" cannot be deleted by a user`,
          );
        const dependent = ec2.records.securityGroups
          .list(ctx)
          .some(
            (g) =>
              g.GroupId !== group.GroupId &&
              (peers(g, false).includes(group.GroupId) || peers(g, true).includes(group.GroupId)),
          );
        if (dependent) throw ec2Errors.DependencyViolation(`resource ${group.GroupId} has a dependent object`);
        ec2.records.securityGroups.delete(ctx, group.GroupId);
        return group.GroupId;
      });
      return { Return: true, GroupId: groupId };
    },

    AuthorizeSecurityGroupIngress: (input, ctx) => authorize(ctx, input, false),
    AuthorizeSecurityGroupEgress: (input, ctx) => {
      if (!input.GroupId) throw ec2Errors.MissingParameter("The request must contain the parameter groupId");
      return authorize(
        ctx,
        {
          GroupId: input.GroupId,
          IpPermissions: input.IpPermissions,
          CidrIp: input.CidrIp,
          IpProtocol: input.IpProtocol,
          FromPort: input.FromPort,
          ToPort: input.ToPort,
          TagSpecifications: input.TagSpecifications,
        },
        true,
      );
    },
    RevokeSecurityGroupIngress: (input, ctx) => revoke(ctx, input, false),
    RevokeSecurityGroupEgress: (input, ctx) => revoke(ctx, input, true),
  };
}
