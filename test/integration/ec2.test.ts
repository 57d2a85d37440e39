import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { describe, expect, inject, it } from "vitest";
import { awsCli, clientOptions, newAccount, rootOf } from "../support/identity.js";

/** Each test has its own account, so it sees only its own default VPC and resources. */
const account = () => {
  const creds = rootOf(newAccount());
  return { creds, ec2: new EC2Client(clientOptions(inject("endpoint"), creds)) };
};

const fails = (promise: Promise<unknown>, name: string, message?: RegExp) =>
  expect(promise).rejects.toMatchObject({
    name,
    $metadata: { httpStatusCode: 400 },
    ...(message ? { message: expect.stringMatching(message) } : {}),
  });

describe("EC2 networking API", () => {
  it("every account and region starts with a default VPC, a default subnet per zone and a default security group", async () => {
    const { ec2 } = account();
    const zones = (await ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones!;
    expect(zones.map((z) => z.ZoneName)).toEqual(["a", "b", "c", "d", "e", "f"].map((l) => `us-east-1${l}`));
    const vpcs = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] })))
      .Vpcs!;
    expect(vpcs).toHaveLength(1);
    expect(vpcs[0]).toMatchObject({ CidrBlock: "172.31.0.0/16", IsDefault: true, State: "available" });
    const subnets = (
      await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcs[0].VpcId!] }] }))
    ).Subnets!;
    expect(subnets.map((s) => [s.AvailabilityZone, s.CidrBlock, s.DefaultForAz]).sort()).toEqual(
      zones.map((z, i) => [z.ZoneName, `172.31.${i * 16}.0/20`, true]),
    );
    const groups = (
      await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["default"] }] }))
    ).SecurityGroups!;
    expect(groups).toMatchObject([{ VpcId: vpcs[0].VpcId, GroupName: "default" }]);
  });

  it("creates a VPC with subnets and a security group, filters them, and deletes them in order", async () => {
    const { ec2 } = account();
    const vpc = (
      await ec2.send(
        new CreateVpcCommand({
          CidrBlock: "10.0.0.0/16",
          TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "app" }] }],
        }),
      )
    ).Vpc!;
    const vpcId = vpc.VpcId!;
    expect(vpc).toMatchObject({ CidrBlock: "10.0.0.0/16", IsDefault: false, Tags: [{ Key: "Name", Value: "app" }] });
    const a = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1b" }),
      )
    ).Subnet!;
    expect(a).toMatchObject({ AvailabilityZone: "us-east-1b", AvailableIpAddressCount: 251 });
    await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.2.0/24" }));

    await fails(
      ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.128/25" })),
      "InvalidSubnet.Conflict",
      /conflicts with another subnet/,
    );
    await fails(ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.0.0/24" })), "InvalidSubnet.Range");
    await fails(
      ec2.send(new CreateSubnetCommand({ VpcId: "vpc-0000000000000000f", CidrBlock: "10.0.3.0/24" })),
      "InvalidVpcID.NotFound",
    );
    await fails(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/8" })), "InvalidVpc.Range");
    await fails(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.1/16" })), "InvalidParameterValue");

    const inVpc = (
      await ec2.send(
        new DescribeSubnetsCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "cidr-block", Values: ["10.0.*"] },
          ],
        }),
      )
    ).Subnets!;
    expect(inVpc.map((s) => s.CidrBlock).sort()).toEqual(["10.0.1.0/24", "10.0.2.0/24"]);
    const byTag = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:Name", Values: ["ap*"] }] }))).Vpcs!;
    expect(byTag.map((v) => v.VpcId)).toEqual([vpcId]);
    await fails(
      ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "colour", Values: ["red"] }] })),
      "InvalidParameterValue",
      /filter 'colour'/,
    );

    const groupId = (
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web", VpcId: vpcId }))
    ).GroupId!;
    await fails(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "again", VpcId: vpcId })),
      "InvalidGroup.Duplicate",
    );
    const http = { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
    const added = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [http] }));
    expect(added.Return).toBe(true);
    expect(added.SecurityGroupRules).toMatchObject([
      { GroupId: groupId, IpProtocol: "tcp", FromPort: 80, CidrIpv4: "0.0.0.0/0" },
    ]);
    await fails(
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [http] })),
      "InvalidPermission.Duplicate",
    );
    const [group] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups!;
    expect(group.IpPermissions).toMatchObject([
      { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
    ]);
    expect(group.IpPermissionsEgress).toMatchObject([{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }]);

    await fails(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })), "DependencyViolation");
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [http] }));
    const [after] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups!;
    expect(after.IpPermissions).toEqual([]);
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
    for (const s of inVpc) await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
    await fails(ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })), "InvalidVpcID.NotFound");
    await fails(ec2.send(new DeleteSubnetCommand({ SubnetId: inVpc[0].SubnetId })), "InvalidSubnetID.NotFound");
    await fails(ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })), "InvalidGroup.NotFound");
  });

  it("tags resources, describes tags by filter and deletes them; a bad resource id changes nothing", async () => {
    const { ec2 } = account();
    const [vpc] = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
    const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!;
    await ec2.send(
      new CreateTagsCommand({ Resources: [vpc.VpcId!, subnets[0].SubnetId!], Tags: [{ Key: "env", Value: "dev" }] }),
    );
    await fails(
      ec2.send(
        new CreateTagsCommand({
          Resources: [vpc.VpcId!, "subnet-0000000000000000f"],
          Tags: [{ Key: "x", Value: "1" }],
        }),
      ),
      "InvalidSubnetID.NotFound",
    );
    const tags = (await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "key", Values: ["env", "x"] }] }))).Tags!;
    expect(tags.map((t) => [t.ResourceType, t.Key, t.Value]).sort()).toEqual([
      ["subnet", "env", "dev"],
      ["vpc", "env", "dev"],
    ]);
    await ec2.send(new DeleteTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: "env", Value: "other" }] }));
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs![0].Tags).toEqual([
      { Key: "env", Value: "dev" },
    ]);
    await ec2.send(new DeleteTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: "env" }] }));
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs![0].Tags).toEqual([]);
  });

  it("pages Describe calls with MaxResults and NextToken", async () => {
    const { ec2 } = account();
    const first = await ec2.send(new DescribeSubnetsCommand({ MaxResults: 5 }));
    expect(first.Subnets).toHaveLength(5);
    const second = await ec2.send(new DescribeSubnetsCommand({ MaxResults: 5, NextToken: first.NextToken }));
    expect(second.Subnets).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    await fails(
      ec2.send(new DescribeSubnetsCommand({ MaxResults: 2 })),
      "InvalidParameterValue",
      /greater than or equal to 5|between 5 and 1000/,
    );
  });

  it("stores launch templates for later Auto Scaling groups: create, describe, versions, delete", async () => {
    const { ec2 } = account();
    const userData = Buffer.from("#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n").toString("base64");
    const data = {
      ImageId: "ami-0123456789abcdef0",
      InstanceType: "t3.medium" as const,
      UserData: userData,
      IamInstanceProfile: { Name: "ecsInstanceRole" },
      SecurityGroupIds: ["sg-0123456789abcdef0"],
    };
    const made = (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: "ecs-hosts",
          VersionDescription: "first",
          LaunchTemplateData: data,
          TagSpecifications: [{ ResourceType: "launch-template", Tags: [{ Key: "team", Value: "infra" }] }],
        }),
      )
    ).LaunchTemplate!;
    expect(made).toMatchObject({ LaunchTemplateName: "ecs-hosts", DefaultVersionNumber: 1, LatestVersionNumber: 1 });
    expect(made.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{17}$/);
    await fails(
      ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: "ecs-hosts", LaunchTemplateData: data })),
      "InvalidLaunchTemplateName.AlreadyExistsException",
    );
    await fails(
      ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: "bad name!", LaunchTemplateData: data })),
      "InvalidLaunchTemplateName.MalformedException",
    );
    const listed = (
      await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: "tag:team", Values: ["infra"] }] }))
    ).LaunchTemplates!;
    expect(listed.map((t) => t.LaunchTemplateId)).toEqual([made.LaunchTemplateId]);
    const versions = (
      await ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: "ecs-hosts", Versions: ["$Latest"] }),
      )
    ).LaunchTemplateVersions!;
    expect(versions).toMatchObject([
      { VersionNumber: 1, DefaultVersion: true, VersionDescription: "first", LaunchTemplateData: data },
    ]);
    await fails(
      ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: made.LaunchTemplateId, Versions: ["7"] })),
      "InvalidLaunchTemplateId.VersionNotFound",
    );
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: made.LaunchTemplateId }));
    await fails(
      ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ["ecs-hosts"] })),
      "InvalidLaunchTemplateName.NotFoundException",
    );
  });

  it("works with the AWS CLI v2: describe, create, filter, DryRun and errors that change nothing", async () => {
    const { creds, ec2 } = account();
    const cli = async (...args: string[]) => {
      const out = await awsCli(inject("endpoint"), creds, args);
      if (!out.ok) throw new Error(out.stderr);
      return out.json as Record<string, never>;
    };
    const cliError = async (...args: string[]) => {
      const out = await awsCli(inject("endpoint"), creds, args);
      if (out.ok) throw new Error(`aws ${args.join(" ")} succeeded`);
      return out.stderr;
    };
    const defaults = await cli("ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true");
    expect((defaults.Vpcs as { CidrBlock: string }[]).map((v) => v.CidrBlock)).toEqual(["172.31.0.0/16"]);
    const vpc = (
      await cli(
        "ec2",
        "create-vpc",
        "--cidr-block",
        "10.20.0.0/16",
        "--tag-specifications",
        "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]",
      )
    ).Vpc as { VpcId: string };
    const subnet = (
      await cli(
        "ec2",
        "create-subnet",
        "--vpc-id",
        vpc.VpcId,
        "--cidr-block",
        "10.20.0.0/20",
        "--availability-zone",
        "us-east-1a",
      )
    ).Subnet as { SubnetId: string; AvailabilityZone: string };
    expect(subnet.AvailabilityZone).toBe("us-east-1a");
    const sg = await cli(
      "ec2",
      "create-security-group",
      "--group-name",
      "cli-web",
      "--description",
      "from the CLI",
      "--vpc-id",
      vpc.VpcId,
    );
    await cli(
      "ec2",
      "authorize-security-group-ingress",
      "--group-id",
      sg.GroupId,
      "--protocol",
      "tcp",
      "--port",
      "443",
      "--cidr",
      "10.0.0.0/8",
    );
    const found = await cli(
      "ec2",
      "describe-security-groups",
      "--filters",
      `Name=vpc-id,Values=${vpc.VpcId}`,
      "Name=group-name,Values=cli-*",
    );
    expect(found.SecurityGroups).toMatchObject([
      { GroupName: "cli-web", IpPermissions: [{ FromPort: 443, ToPort: 443 }] },
    ]);

    const before = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId] }] })))
      .Subnets;
    expect(await cliError("ec2", "create-subnet", "--vpc-id", vpc.VpcId, "--cidr-block", "10.20.8.0/24")).toMatch(
      /InvalidSubnet\.Conflict/,
    );
    expect(
      await cliError(
        "ec2",
        "create-subnet",
        "--vpc-id",
        vpc.VpcId,
        "--cidr-block",
        "10.20.16.0/24",
        "--availability-zone",
        "us-east-1z",
      ),
    ).toMatch(/InvalidParameterValue/);
    expect(
      await cliError("ec2", "create-subnet", "--vpc-id", vpc.VpcId, "--cidr-block", "10.20.32.0/24", "--dry-run"),
    ).toMatch(/DryRunOperation/);
    expect(await cliError("ec2", "delete-vpc", "--vpc-id", vpc.VpcId)).toMatch(/DependencyViolation/);
    expect(await cliError("ec2", "describe-subnets", "--subnet-ids", "subnet-0000000000000000f")).toMatch(
      /InvalidSubnetID\.NotFound/,
    );
    const after = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId] }] })))
      .Subnets;
    expect(after).toEqual(before);
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId] }))).Vpcs).toHaveLength(1);

    await cli("ec2", "delete-security-group", "--group-id", sg.GroupId);
    await cli("ec2", "delete-subnet", "--subnet-id", subnet.SubnetId);
    await cli("ec2", "delete-vpc", "--vpc-id", vpc.VpcId);
    const regions = await cli("ec2", "describe-regions", "--region-names", "us-east-1", "eu-west-1");
    expect((regions.Regions as { RegionName: string }[]).map((r) => r.RegionName)).toEqual(["us-east-1", "eu-west-1"]);
  });
});
