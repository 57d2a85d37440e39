import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import { accessDenied } from "../../src/iam/authorizer.js";
import { ec2Protocol } from "../../src/protocol/ec2/protocol.js";
import { loadModel } from "../../src/protocol/model.js";
import { WireHandler, bodyText, clientOptions, toWire } from "../support/wire.js";

const ec2 = ec2Protocol(loadModel("ec2"));
const client = (wire: WireHandler) => new EC2Client(clientOptions(wire));
const empty = (op: string) => ({ status: 200, headers: { "content-type": "text/xml" }, body: `<${op}Response/>` });

describe("ec2 protocol: SDK request → Berth input", () => {
  it("uses queryName, capitalised locationName and Name.N lists", async () => {
    const wire = new WireHandler().reply(empty("DescribeVpcs"));
    const input = {
      VpcIds: ["vpc-1", "vpc-2"],
      Filters: [
        { Name: "tag:team", Values: ["platform", "ops*"] },
        { Name: "is-default", Values: ["true"] },
      ],
      MaxResults: 5,
    };
    await client(wire).send(new DescribeVpcsCommand(input));
    const text = bodyText(wire.last);
    expect(text).toContain("VpcId.2=vpc-2");
    expect(text).toContain("Filter.1.Value.2=ops%2A");
    expect(ec2.parse(toWire(wire.last))).toEqual({ operation: "DescribeVpcs", input });
  });

  it("parses nested lists of structures (security group permissions, tag specifications)", async () => {
    const wire = new WireHandler().reply(empty("AuthorizeSecurityGroupIngress"));
    const input = {
      GroupId: "sg-1",
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 80,
          ToPort: 443,
          IpRanges: [{ CidrIp: "10.0.0.0/8", Description: "inside & out" }],
          UserIdGroupPairs: [{ GroupId: "sg-2" }],
        },
      ],
      TagSpecifications: [{ ResourceType: "security-group-rule" as const, Tags: [{ Key: "k", Value: "v" }] }],
    };
    await client(wire).send(new AuthorizeSecurityGroupIngressCommand(input));
    expect(bodyText(wire.last)).toContain("IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8");
    expect(ec2.parse(toWire(wire.last))).toEqual({ operation: "AuthorizeSecurityGroupIngress", input });
  });

  it("reports a missing required parameter as EC2 does", () => {
    const body = Buffer.from("Action=CreateSubnet&Version=2016-11-15&CidrBlock=10.0.0.0%2F24");
    const req = { method: "POST", path: "/", query: new URLSearchParams(), headers: {}, body };
    expect(() => ec2.parse(req)).toThrow(
      expect.objectContaining({ code: "MissingParameter", message: "The request must contain the parameter VpcId" }),
    );
  });

  it("refuses an unknown action and a wrongly typed value", () => {
    const req = (q: string) => ({
      method: "POST",
      path: "/",
      query: new URLSearchParams(),
      headers: {},
      body: Buffer.from(q),
    });
    expect(() => ec2.parse(req("Action=RunBananas&Version=2016-11-15"))).toThrow(
      expect.objectContaining({ code: "InvalidAction" }),
    );
    expect(() => ec2.parse(req("Action=DescribeVpcs&Version=2016-11-15&MaxResults=ten"))).toThrow(
      expect.objectContaining({ code: "InvalidParameterValue" }),
    );
  });
});

describe("ec2 protocol: Berth output → SDK", () => {
  it("serializes a result the SDK reads back (no result wrapper, item lists, booleans, requestId)", async () => {
    const vpc = {
      VpcId: "vpc-0123456789abcdef0",
      CidrBlock: "172.31.0.0/16",
      State: "available",
      IsDefault: true,
      OwnerId: "000000000000",
      InstanceTenancy: "default",
      DhcpOptionsId: "dopt-1",
      CidrBlockAssociationSet: [
        { AssociationId: "vpc-cidr-assoc-1", CidrBlock: "172.31.0.0/16", CidrBlockState: { State: "associated" } },
      ],
      Tags: [{ Key: "Name", Value: '<default> & "more"' }],
    };
    const response = ec2.serialize("DescribeVpcs", { Vpcs: [vpc], NextToken: "abc" }, "req-1");
    expect(String(response.body)).not.toContain("DescribeVpcsResult");
    const wire = new WireHandler().reply(response);
    const out = await client(wire).send(new DescribeVpcsCommand({}));
    expect(out.Vpcs).toEqual([vpc]);
    expect(out.NextToken).toBe("abc");
    expect(out.$metadata.requestId).toBe("req-1");
  });

  it("serializes a single structure result", async () => {
    const wire = new WireHandler().reply(
      ec2.serialize("CreateVpc", { Vpc: { VpcId: "vpc-1", CidrBlock: "10.0.0.0/16", IsDefault: false } }, "r"),
    );
    const out = await client(wire).send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
    expect(out.Vpc).toEqual({ VpcId: "vpc-1", CidrBlock: "10.0.0.0/16", IsDefault: false });
  });

  it("renders errors the SDK reads as EC2 errors (code, message, request id, status)", async () => {
    const e = new ServiceError("InvalidSubnetID.NotFound", "The subnet ID 'subnet-1' does not exist");
    const response = ec2.renderError(e.code, e.message, 400, "Sender", "req-9");
    expect(response.status).toBe(400);
    const wire = new WireHandler().reply(response);
    const err = await client(wire)
      .send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-1"] }))
      .catch((x: unknown) => x);
    expect(err).toMatchObject({
      name: "InvalidSubnetID.NotFound",
      message: "The subnet ID 'subnet-1' does not exist",
      $metadata: { httpStatusCode: 400, requestId: "req-9" },
    });
  });

  it("an IAM denial is EC2's UnauthorizedOperation (403)", async () => {
    const e = accessDenied("ec2", "User: arn:aws:iam::000000000000:user/u is not authorized to perform: ec2:CreateVpc");
    expect([e.code, e.status]).toEqual(["UnauthorizedOperation", 403]);
    const wire = new WireHandler().reply(ec2.renderError(e.code, e.message, e.status, e.fault, "req-3"));
    const err = await client(wire)
      .send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))
      .catch((x: unknown) => x);
    expect(err).toMatchObject({ name: "UnauthorizedOperation", $metadata: { httpStatusCode: 403 } });
  });
});
