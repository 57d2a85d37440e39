import {
  CreateRuleCommand,
  type CreateRuleCommandInput,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  LoadBalancerNotFoundException,
  SetSecurityGroupsCommand,
  TargetGroupNotFoundException,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import { errorStatus, loadModel } from "../../src/protocol/model.js";
import { awsQueryProtocol } from "../../src/protocol/query/protocol.js";
import { WireHandler, bodyText, clientOptions, toWire } from "../support/wire.js";

const stsModel = loadModel("sts");
const elbModel = loadModel("elbv2");
const sts = awsQueryProtocol(stsModel, "ValidationError");
const elb = awsQueryProtocol(elbModel, "ValidationError");

const elbClient = (wire: WireHandler) => new ElasticLoadBalancingV2Client(clientOptions(wire));
/** The SDK wants some XML back even when a test only looks at the request. */
const emptyResult = (op: string) => ({
  status: 200,
  headers: { "content-type": "text/xml" },
  body: `<${op}Response><${op}Result/></${op}Response>`,
});

describe("awsQuery: SDK request → Berth input", () => {
  it("parses STS AssumeRole with member lists of structures and scalars", async () => {
    const wire = new WireHandler().reply(emptyResult("AssumeRole"));
    const input = {
      RoleArn: "arn:aws:iam::000000000000:role/deployer",
      RoleSessionName: "ci-session",
      DurationSeconds: 900,
      Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}',
      PolicyArns: [
        { arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" },
        { arn: "arn:aws:iam::aws:policy/AmazonECS_FullAccess" },
      ],
      Tags: [
        { Key: "team", Value: "platform ops" },
        { Key: "empty", Value: "" },
      ],
      TransitiveTagKeys: ["team"],
      ExternalId: "ext+id=1",
    };
    await new STSClient(clientOptions(wire)).send(new AssumeRoleCommand(input));
    const text = bodyText(wire.last);
    expect(text).toContain("PolicyArns.member.2.arn=");
    expect(text).toContain("Tags.member.1.Key=team");
    expect(sts.parse(toWire(wire.last))).toEqual({ operation: "AssumeRole", input });
  });

  it("parses an input-less action", async () => {
    const wire = new WireHandler().reply(emptyResult("GetCallerIdentity"));
    await new STSClient(clientOptions(wire)).send(new GetCallerIdentityCommand({}));
    expect(sts.parse(toWire(wire.last))).toEqual({ operation: "GetCallerIdentity", input: {} });
  });

  it("parses ELBv2 CreateRule with nested lists inside conditions and actions", async () => {
    const wire = new WireHandler().reply(emptyResult("CreateRule"));
    const input: CreateRuleCommandInput = {
      ListenerArn:
        "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2",
      Priority: 10,
      Conditions: [
        { Field: "path-pattern", PathPatternConfig: { Values: ["/api/*", "/v2/*"] } },
        { Field: "host-header", HostHeaderConfig: { Values: ["example.com"] } },
        { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["a", "b c"] } },
        { Field: "query-string", QueryStringConfig: { Values: [{ Key: "v", Value: "1" }, { Value: "bare" }] } },
        { Field: "source-ip", SourceIpConfig: { Values: ["10.0.0.0/8"] } },
      ],
      Actions: [
        {
          Type: "forward",
          Order: 1,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/a/1", Weight: 80 },
              { TargetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/b/2", Weight: 20 },
            ],
            TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
          },
        },
        {
          Type: "fixed-response",
          Order: 2,
          FixedResponseConfig: { StatusCode: "503", ContentType: "text/plain", MessageBody: "down <for> maintenance" },
        },
      ],
      Tags: [{ Key: "k", Value: "v" }],
    };
    await elbClient(wire).send(new CreateRuleCommand(input));
    const text = decodeURIComponent(bodyText(wire.last));
    expect(text).toContain("Conditions.member.1.PathPatternConfig.Values.member.1=/api/*");
    expect(text).toContain("Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight=20");
    expect(elb.parse(toWire(wire.last))).toEqual({ operation: "CreateRule", input });
  });

  it("parses an empty list the way the SDK sends it (`Name=`)", async () => {
    const wire = new WireHandler().reply(emptyResult("SetSecurityGroups"));
    await elbClient(wire).send(new SetSecurityGroupsCommand({ LoadBalancerArn: "arn:lb", SecurityGroups: [] }));
    expect(elb.parse(toWire(wire.last)).input).toEqual({ LoadBalancerArn: "arn:lb", SecurityGroups: [] });
  });

  it("reads the form from the query string of a GET", () => {
    const parsed = sts.parse({
      method: "GET",
      path: "/",
      query: new URLSearchParams("Action=GetCallerIdentity&Version=2011-06-15"),
      headers: {},
      body: Buffer.alloc(0),
    });
    expect(parsed.operation).toBe("GetCallerIdentity");
  });
});

describe("awsQuery: Berth output XML → SDK", () => {
  it("DescribeLoadBalancers: nested lists, structures and ISO timestamps", async () => {
    const output = {
      LoadBalancers: [
        {
          LoadBalancerArn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/50dc6c495c0c9188",
          DNSName: "web-1234567890.us-east-1.elb.localhost",
          CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
          CreatedTime: new Date("2026-03-04T05:06:07.089Z"),
          LoadBalancerName: "web",
          Scheme: "internet-facing",
          VpcId: "vpc-1",
          State: { Code: "active" },
          Type: "application",
          AvailabilityZones: [
            { ZoneName: "us-east-1a", SubnetId: "subnet-1", LoadBalancerAddresses: [] },
            { ZoneName: "us-east-1b", SubnetId: "subnet-2", LoadBalancerAddresses: [{ IpAddress: "10.0.0.1" }] },
          ],
          SecurityGroups: ["sg-1", "sg-2"],
          IpAddressType: "ipv4",
        },
        {
          LoadBalancerArn: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/tcp/1",
          LoadBalancerName: "tcp & <more>",
          State: { Code: "provisioning", Reason: "quotes \" and ' apostrophes" },
          Type: "network",
        },
      ],
      NextMarker: "marker==",
    };
    const response = elb.serialize("DescribeLoadBalancers", output, "req-9");
    expect(String(response.body)).toContain(
      '<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">',
    );
    expect(String(response.body)).toContain("<CreatedTime>2026-03-04T05:06:07.089Z</CreatedTime>");
    const got = await elbClient(new WireHandler().reply(response)).send(new DescribeLoadBalancersCommand({}));
    const { $metadata, ...data } = got;
    expect($metadata.requestId).toBe("req-9");
    expect(data).toEqual(output);
  });

  it("DescribeTargetHealth: list of structures with nested structures and integers", async () => {
    const output = {
      TargetHealthDescriptions: [
        {
          Target: { Id: "10.0.0.5", Port: 32768, AvailabilityZone: "us-east-1a" },
          HealthCheckPort: "32768",
          TargetHealth: { State: "healthy" },
        },
        {
          Target: { Id: "i-0abc", Port: 80 },
          HealthCheckPort: "traffic-port",
          TargetHealth: {
            State: "unhealthy",
            Reason: "Target.ResponseCodeMismatch",
            Description: "Health checks failed with these codes: [502]",
          },
        },
      ],
    };
    const response = elb.serialize("DescribeTargetHealth", output, "req-2");
    const got = await elbClient(new WireHandler().reply(response)).send(
      new DescribeTargetHealthCommand({ TargetGroupArn: "arn:tg" }),
    );
    const { $metadata, ...data } = got;
    expect(data).toEqual(output);
  });

  it("serializes maps as entry/key/value", () => {
    // IAM's GetAccountSummary returns SummaryMap (a non-flattened map) in the same protocol.
    const iam = awsQueryProtocol(loadModel("iam"), "ValidationError");
    const body = String(iam.serialize("GetAccountSummary", { SummaryMap: { Users: 3, Roles: 7 } }, "r").body);
    expect(body).toContain(
      "<SummaryMap><entry><key>Users</key><value>3</value></entry><entry><key>Roles</key><value>7</value></entry></SummaryMap>",
    );
  });
});

describe("awsQuery: Berth errors → SDK exceptions", () => {
  const fail = async (response: ReturnType<typeof elb.renderError>) => {
    const err = await elbClient(new WireHandler().reply(response))
      .send(new DescribeLoadBalancersCommand({}))
      .catch((e: unknown) => e);
    return err as Error & { $metadata: { httpStatusCode?: number; requestId?: string }; Code?: string };
  };

  it("an ErrorResponse with the model's wire code becomes the modelled exception", async () => {
    const code = "LoadBalancerNotFound";
    const e = await fail(elb.renderError(code, "One or more load balancers not found", 400, "Sender", "req-3"));
    expect(e).toBeInstanceOf(LoadBalancerNotFoundException);
    expect(e.message).toBe("One or more load balancers not found");
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.$metadata.requestId).toBe("req-3");
  });

  it("a provider may throw the shape name; the wire carries the model's query code", async () => {
    const code = "TargetGroupNotFoundException";
    const response = elb.renderError(code, "Target groups 'x' not found", 400, "Sender", "req-4");
    expect(String(response.body)).toContain("<Code>TargetGroupNotFound</Code>");
    const e = await fail(response);
    expect(e).toBeInstanceOf(TargetGroupNotFoundException);
    expect(e.Code).toBe("TargetGroupNotFound");
  });

  it("the model's status applies to the wire code as well as the shape name", () => {
    expect(errorStatus(elbModel, "HealthUnavailableException", 400)).toBe(500);
    expect(errorStatus(elbModel, "HealthUnavailable", 400)).toBe(500);
    expect(errorStatus(elbModel, "toString", 400)).toBe(400);
  });

  it("an unmodelled code (e.g. ValidationError) reaches the SDK by name with an escaped message", async () => {
    const message = "1 validation error detected: Value '<x>' & more";
    const e = await fail(elb.renderError("ValidationError", message, 400, "Sender", "req-5"));
    expect(e.name).toBe("ValidationError");
    expect(e.message).toBe(message);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it("a parser validation error renders as an ErrorResponse the SDK understands", async () => {
    let err: unknown;
    try {
      sts.parse({
        method: "POST",
        path: "/",
        query: new URLSearchParams(),
        headers: {},
        body: Buffer.from("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"),
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ServiceError);
    const se = err as ServiceError;
    expect(se.code).toBe("ValidationError");
    expect(se.message).toContain("Value null at 'roleSessionName' failed to satisfy constraint");
    const response = sts.renderError(se.code, se.message, se.status, se.fault, "req-6");
    const e = (await new STSClient(clientOptions(new WireHandler().reply(response)))
      .send(new GetCallerIdentityCommand({}))
      .catch((x: unknown) => x)) as Error & { $metadata: { httpStatusCode?: number } };
    expect(e.name).toBe("ValidationError");
    expect(e.message).toBe(se.message);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });
});
