import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveTagsCommand,
  SetRulePrioritiesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, describe, expect, inject, it } from "vitest";
import { cleanup, elbClient, startBackend, uniqueName, waitFor } from "../support/elbv2.js";

const run = promisify(execFile);

describe("ELBv2 API over awsQuery", () => {
  const endpoint = inject("endpoint");
  const elb = elbClient(endpoint);
  const lbs: string[] = [];
  const tgs: string[] = [];
  afterAll(() => cleanup(elb, lbs, tgs));

  const fails = (promise: Promise<unknown>, name: string, message?: RegExp) =>
    expect(promise).rejects.toMatchObject({
      name,
      $metadata: { httpStatusCode: 400 },
      ...(message ? { message: expect.stringMatching(message) } : {}),
    });

  const newLb = async (
    label: string,
    extra: Partial<ConstructorParameters<typeof CreateLoadBalancerCommand>[0]> = {},
  ) => {
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: uniqueName(label), ...extra }))).LoadBalancers![0];
    lbs.push(lb.LoadBalancerArn!);
    return lb;
  };
  const newTg = async (
    label: string,
    extra: Partial<ConstructorParameters<typeof CreateTargetGroupCommand>[0]> = {},
  ) => {
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: uniqueName(label),
          Protocol: "HTTP",
          Port: 80,
          TargetType: "ip",
          ...extra,
        }),
      )
    ).TargetGroups![0];
    tgs.push(tg.TargetGroupArn!);
    return tg;
  };
  const newListener = async (lbArn: string, tgArn: string, port = 8080) =>
    (
      await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: "HTTP",
          Port: port,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
        }),
      )
    ).Listeners![0];

  describe("load balancers", () => {
    it("creates an application load balancer with AWS's fields, on its own loopback address", async () => {
      const name = uniqueName("alb");
      const lb = await newLb(name.slice(0, 3), { Name: name, Subnets: ["subnet-aaaa1111", "subnet-bbbb2222"] });
      expect(lb.LoadBalancerArn).toMatch(
        new RegExp(`^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/${name}/[0-9a-f]{16}$`),
      );
      expect(lb).toMatchObject({
        LoadBalancerName: name,
        Scheme: "internet-facing",
        Type: "application",
        IpAddressType: "ipv4",
        CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
        VpcId: expect.stringMatching(/^vpc-[0-9a-f]+$/),
        AvailabilityZones: [
          { ZoneName: "us-east-1a", SubnetId: "subnet-aaaa1111", LoadBalancerAddresses: [] },
          { ZoneName: "us-east-1b", SubnetId: "subnet-bbbb2222", LoadBalancerAddresses: [] },
        ],
        SecurityGroups: [expect.stringMatching(/^sg-/)],
        CreatedTime: expect.any(Date),
      });
      expect(lb.DNSName).toMatch(/^127\.\d+\.\d+\.\d+$/);
      expect(lb.DNSName).not.toMatch(/^127\.0\./);
      expect(["provisioning", "active"]).toContain(lb.State?.Code);
      const active = await waitFor(
        "active",
        async () => (await elb.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers![0],
        (l) => l.State?.Code === "active",
      );
      expect(active.DNSName).toBe(lb.DNSName);
    });

    it("creates network load balancers, with no security groups by default", async () => {
      const lb = await newLb("nlb", { Type: "network", Scheme: "internal" });
      expect(lb.LoadBalancerArn).toMatch(/:loadbalancer\/net\//);
      expect(lb).toMatchObject({ Type: "network", Scheme: "internal", CanonicalHostedZoneId: "Z26RNL4JYFTOTI" });
      expect(lb.SecurityGroups).toBeUndefined();
    });

    it("gives every load balancer a different address", async () => {
      const a = await newLb("addr-a");
      const b = await newLb("addr-b");
      expect(a.DNSName).not.toBe(b.DNSName);
    });

    it("is idempotent for the same settings and refuses a name taken with others", async () => {
      const lb = await newLb("dup");
      const again = await elb.send(new CreateLoadBalancerCommand({ Name: lb.LoadBalancerName }));
      expect(again.LoadBalancers![0].LoadBalancerArn).toBe(lb.LoadBalancerArn);
      await fails(
        elb.send(new CreateLoadBalancerCommand({ Name: lb.LoadBalancerName, Type: "network" })),
        "DuplicateLoadBalancerNameException",
      );
    });

    it.each([
      ["a name over 32 characters", { Name: "x".repeat(33) }, "ValidationError"],
      ["a name ending with a hyphen", { Name: "bad-" }, "ValidationError"],
      ["a name starting with internal-", { Name: "internal-x" }, "ValidationError"],
      ["an ALB in one subnet", { Name: "one-subnet", Subnets: ["subnet-1"] }, "ValidationError"],
      [
        "subnets and subnet mappings",
        { Name: "both", Subnets: ["subnet-1", "subnet-2"], SubnetMappings: [{ SubnetId: "subnet-3" }] },
        "ValidationError",
      ],
      ["a gateway load balancer", { Name: "gwlb", Type: "gateway" as const }, "InvalidConfigurationRequestException"],
    ])("refuses %s", async (_, input, code) => {
      await fails(elb.send(new CreateLoadBalancerCommand(input)), code);
    });

    it("describes by name or ARN and reports missing ones as LoadBalancerNotFound", async () => {
      const lb = await newLb("desc");
      const byArn = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.LoadBalancerArn!] }));
      expect(byArn.LoadBalancers!.map((l) => l.LoadBalancerName)).toEqual([lb.LoadBalancerName]);
      await fails(
        elb.send(new DescribeLoadBalancersCommand({ Names: ["no-such-lb"] })),
        "LoadBalancerNotFoundException",
      );
      await fails(
        elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [`${lb.LoadBalancerArn!.slice(0, -4)}0000`] })),
        "LoadBalancerNotFoundException",
      );
    });

    it("pages with PageSize and Marker", async () => {
      await newLb("page");
      await newLb("page");
      const first = await elb.send(new DescribeLoadBalancersCommand({ PageSize: 1 }));
      expect(first.LoadBalancers).toHaveLength(1);
      expect(first.NextMarker).toBeDefined();
      const second = await elb.send(new DescribeLoadBalancersCommand({ PageSize: 1, Marker: first.NextMarker }));
      expect(second.LoadBalancers![0].LoadBalancerArn).not.toBe(first.LoadBalancers![0].LoadBalancerArn);
      await fails(elb.send(new DescribeLoadBalancersCommand({ Marker: "garbage" })), "ValidationError");
    });

    it("has attributes with AWS's defaults; deletion protection blocks deletion", async () => {
      const lb = await newLb("attrs");
      const attrs = await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      const map = Object.fromEntries(attrs.Attributes!.map((a) => [a.Key, a.Value]));
      expect(map).toMatchObject({ "idle_timeout.timeout_seconds": "60", "deletion_protection.enabled": "false" });
      const modified = await elb.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Attributes: [
            { Key: "deletion_protection.enabled", Value: "true" },
            { Key: "idle_timeout.timeout_seconds", Value: "120" },
          ],
        }),
      );
      expect(modified.Attributes).toEqual([
        { Key: "deletion_protection.enabled", Value: "true" },
        { Key: "idle_timeout.timeout_seconds", Value: "120" },
      ]);
      await fails(
        elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn })),
        "OperationNotPermittedException",
        /deletion protection/,
      );
      await fails(
        elb.send(
          new ModifyLoadBalancerAttributesCommand({
            LoadBalancerArn: lb.LoadBalancerArn,
            Attributes: [{ Key: "idle_timeout.timeout_seconds", Value: "0" }],
          }),
        ),
        "ValidationError",
      );
      await fails(
        elb.send(
          new ModifyLoadBalancerAttributesCommand({
            LoadBalancerArn: lb.LoadBalancerArn,
            Attributes: [{ Key: "nope", Value: "1" }],
          }),
        ),
        "ValidationError",
      );
      // Nothing changed by the failed calls.
      const after = await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      expect(after.Attributes!.find((a) => a.Key === "idle_timeout.timeout_seconds")?.Value).toBe("120");
      await elb.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Attributes: [{ Key: "deletion_protection.enabled", Value: "false" }],
        }),
      );
      await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      await fails(
        elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.LoadBalancerArn!] })),
        "LoadBalancerNotFoundException",
      );
      // Deleting again succeeds, as in AWS.
      await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    });
  });

  describe("target groups", () => {
    it("creates with AWS's health check defaults", async () => {
      const tg = await newTg("defaults");
      expect(tg.TargetGroupArn).toMatch(
        /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/[^/]+\/[0-9a-f]{16}$/,
      );
      expect(tg).toMatchObject({
        Protocol: "HTTP",
        Port: 80,
        ProtocolVersion: "HTTP1",
        TargetType: "ip",
        HealthCheckProtocol: "HTTP",
        HealthCheckPort: "traffic-port",
        HealthCheckEnabled: true,
        HealthCheckPath: "/",
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 6,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: "200" },
        LoadBalancerArns: [],
        IpAddressType: "ipv4",
      });
      const tcp = await newTg("tcp", { Protocol: "TCP" });
      expect(tcp).toMatchObject({ HealthCheckProtocol: "TCP", HealthCheckTimeoutSeconds: 10 });
      expect(tcp.HealthCheckPath).toBeUndefined();
      const instance = await newTg("inst", { TargetType: undefined });
      expect(instance.TargetType).toBe("instance");
    });

    it("modifies health checks and attributes", async () => {
      const tg = await newTg("modify");
      const out = await elb.send(
        new ModifyTargetGroupCommand({
          TargetGroupArn: tg.TargetGroupArn,
          HealthCheckPath: "/healthz",
          HealthCheckIntervalSeconds: 10,
          Matcher: { HttpCode: "200-299" },
        }),
      );
      expect(out.TargetGroups![0]).toMatchObject({
        HealthCheckPath: "/healthz",
        HealthCheckIntervalSeconds: 10,
        Matcher: { HttpCode: "200-299" },
      });
      const attrs = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }));
      const map = Object.fromEntries(attrs.Attributes!.map((a) => [a.Key, a.Value]));
      expect(map).toMatchObject({
        "deregistration_delay.timeout_seconds": "300",
        "stickiness.enabled": "false",
        "stickiness.type": "lb_cookie",
        "stickiness.lb_cookie.duration_seconds": "86400",
        "slow_start.duration_seconds": "0",
        "load_balancing.algorithm.type": "round_robin",
      });
      await elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: tg.TargetGroupArn,
          Attributes: [
            { Key: "deregistration_delay.timeout_seconds", Value: "10" },
            { Key: "load_balancing.algorithm.type", Value: "least_outstanding_requests" },
          ],
        }),
      );
      await fails(
        elb.send(
          new ModifyTargetGroupAttributesCommand({
            TargetGroupArn: tg.TargetGroupArn,
            Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "4000" }],
          }),
        ),
        "ValidationError",
      );
      await fails(
        elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn, HealthCheckTimeoutSeconds: 20 })),
        "ValidationError",
        /smaller than the interval/,
      );
      const after = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }));
      expect(after.Attributes!.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value).toBe("10");
    });

    it("is idempotent for the same settings and refuses a taken name with others", async () => {
      const tg = await newTg("dup");
      const again = await elb.send(
        new CreateTargetGroupCommand({ Name: tg.TargetGroupName, Protocol: "HTTP", Port: 80, TargetType: "ip" }),
      );
      expect(again.TargetGroups![0].TargetGroupArn).toBe(tg.TargetGroupArn);
      await fails(
        elb.send(
          new CreateTargetGroupCommand({ Name: tg.TargetGroupName, Protocol: "HTTP", Port: 81, TargetType: "ip" }),
        ),
        "DuplicateTargetGroupNameException",
      );
    });

    it.each([
      ["no protocol", { Port: 80 }, "ValidationError"],
      ["no port", { Protocol: "HTTP" as const }, "ValidationError"],
      ["a bad name", { Name: "bad_name", Protocol: "HTTP" as const, Port: 80 }, "ValidationError"],
      ["interval below 5 s", { Protocol: "HTTP" as const, Port: 80, HealthCheckIntervalSeconds: 4 }, "ValidationError"],
      [
        "a lambda target type",
        { Protocol: "HTTP" as const, Port: 80, TargetType: "lambda" as const },
        "InvalidConfigurationRequestException",
      ],
      ["an HTTPS target group", { Protocol: "HTTPS" as const, Port: 443 }, "InvalidConfigurationRequestException"],
    ])("refuses %s", async (_, input, code) => {
      await fails(elb.send(new CreateTargetGroupCommand({ Name: uniqueName("bad"), ...input })), code);
    });

    it("describes by names, ARNs or load balancer; unknown ones are TargetGroupNotFound", async () => {
      const tg = await newTg("find");
      const byName = await elb.send(new DescribeTargetGroupsCommand({ Names: [tg.TargetGroupName!] }));
      expect(byName.TargetGroups![0].TargetGroupArn).toBe(tg.TargetGroupArn);
      await fails(elb.send(new DescribeTargetGroupsCommand({ Names: ["no-such-tg"] })), "TargetGroupNotFoundException");
      await fails(
        elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [`${tg.TargetGroupArn!.slice(0, -4)}0000`] })),
        "TargetGroupNotFoundException",
      );
      const lb = await newLb("tg-by-lb");
      await newListener(lb.LoadBalancerArn!, tg.TargetGroupArn!);
      const byLb = await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      expect(byLb.TargetGroups!.map((t) => t.TargetGroupArn)).toEqual([tg.TargetGroupArn]);
      expect(byLb.TargetGroups![0].LoadBalancerArns).toEqual([lb.LoadBalancerArn]);
    });

    it("cannot be deleted while a listener uses it (ResourceInUse); deleting a missing one succeeds", async () => {
      const tg = await newTg("inuse");
      const lb = await newLb("inuse");
      const listener = await newListener(lb.LoadBalancerArn!, tg.TargetGroupArn!);
      await fails(
        elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })),
        "ResourceInUseException",
      );
      await elb.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
      await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
      await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
      await fails(
        elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn!] })),
        "TargetGroupNotFoundException",
      );
    });
  });

  describe("listeners", () => {
    it("creates, describes, modifies and deletes", async () => {
      const tg = await newTg("l1");
      const tg2 = await newTg("l2");
      const lb = await newLb("listen");
      const listener = await newListener(lb.LoadBalancerArn!, tg.TargetGroupArn!, 8081);
      expect(listener.ListenerArn).toMatch(
        new RegExp(`^${lb.LoadBalancerArn!.replace(":loadbalancer/", ":listener/")}/[0-9a-f]{16}$`),
      );
      expect(listener).toMatchObject({
        Port: 8081,
        Protocol: "HTTP",
        DefaultActions: [
          {
            Type: "forward",
            TargetGroupArn: tg.TargetGroupArn,
            ForwardConfig: {
              TargetGroups: [{ TargetGroupArn: tg.TargetGroupArn, Weight: 1 }],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      });
      const described = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      expect(described.Listeners!.map((l) => l.ListenerArn)).toEqual([listener.ListenerArn]);
      const modified = await elb.send(
        new ModifyListenerCommand({
          ListenerArn: listener.ListenerArn,
          Port: 8082,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg2.TargetGroupArn }],
        }),
      );
      expect(modified.Listeners![0]).toMatchObject({
        Port: 8082,
        DefaultActions: [{ TargetGroupArn: tg2.TargetGroupArn }],
      });
      await elb.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
      await fails(
        elb.send(new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] })),
        "ListenerNotFoundException",
      );
      await fails(
        elb.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn })),
        "ListenerNotFoundException",
      );
    });

    it("refuses bad listeners with AWS's errors and changes nothing", async () => {
      const tg = await newTg("lbad");
      const tcpTg = await newTg("lbad-tcp", { Protocol: "TCP" });
      const lb = await newLb("lbad");
      const nlb = await newLb("lbad-n", { Type: "network" });
      await newListener(lb.LoadBalancerArn!, tg.TargetGroupArn!, 8083);
      const forward = [{ Type: "forward" as const, TargetGroupArn: tg.TargetGroupArn }];
      const cases: [ConstructorParameters<typeof CreateListenerCommand>[0], string][] = [
        [
          {
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "HTTP",
            Port: 8083,
            DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "200" } }],
          },
          "DuplicateListenerException",
        ],
        [
          {
            LoadBalancerArn: `${lb.LoadBalancerArn!.slice(0, -4)}0000`,
            Protocol: "HTTP",
            Port: 8084,
            DefaultActions: forward,
          },
          "LoadBalancerNotFoundException",
        ],
        [
          {
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "HTTP",
            Port: 8084,
            DefaultActions: [{ Type: "forward", TargetGroupArn: `${tg.TargetGroupArn!.slice(0, -4)}0000` }],
          },
          "TargetGroupNotFoundException",
        ],
        [
          {
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "HTTP",
            Port: 8084,
            DefaultActions: [{ Type: "forward", TargetGroupArn: tcpTg.TargetGroupArn }],
          },
          "IncompatibleProtocolsException",
        ],
        [
          { LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP", Port: 8084, DefaultActions: forward },
          "UnsupportedProtocolException",
        ],
        [
          {
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "HTTPS",
            Port: 8443,
            DefaultActions: forward,
            Certificates: [{ CertificateArn: "arn:aws:acm:us-east-1:000000000000:certificate/x" }],
          },
          "UnsupportedProtocolException",
        ],
        [
          { LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "HTTP", Port: 8084, DefaultActions: forward },
          "UnsupportedProtocolException",
        ],
        [
          { LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: 0, DefaultActions: forward },
          "ValidationError",
        ],
        [
          {
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "HTTP",
            Port: 8084,
            DefaultActions: [{ Type: "redirect", RedirectConfig: { StatusCode: "HTTP_301" } }],
          },
          "InvalidLoadBalancerActionException",
        ],
        [
          {
            LoadBalancerArn: lb.LoadBalancerArn,
            Protocol: "HTTP",
            Port: 8084,
            DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "301" } }],
          },
          "ValidationError",
        ],
      ];
      for (const [input, code] of cases) await fails(elb.send(new CreateListenerCommand(input)), code);
      const after = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      expect(after.Listeners!.map((l) => l.Port)).toEqual([8083]);
    });

    it("refuses a port another process holds on the load balancer's address", async () => {
      const tg = await newTg("busy");
      const lb = await newLb("busy");
      const { createServer } = await import("node:net");
      const squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen(8085, lb.DNSName, () => resolve()));
      try {
        await fails(
          elb.send(
            new CreateListenerCommand({
              LoadBalancerArn: lb.LoadBalancerArn,
              Protocol: "HTTP",
              Port: 8085,
              DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
            }),
          ),
          "InvalidConfigurationRequestException",
          /in use/,
        );
      } finally {
        squatter.close();
      }
    });

    it("keeps a target group to one load balancer (TargetGroupAssociationLimit)", async () => {
      const tg = await newTg("assoc");
      const a = await newLb("assoc-a");
      const b = await newLb("assoc-b");
      await newListener(a.LoadBalancerArn!, tg.TargetGroupArn!);
      await fails(
        elb.send(
          new CreateListenerCommand({
            LoadBalancerArn: b.LoadBalancerArn,
            Protocol: "HTTP",
            Port: 8080,
            DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
          }),
        ),
        "TargetGroupAssociationLimitException",
      );
    });
  });

  describe("rules", () => {
    const setup = async () => {
      const tg = await newTg("rules");
      const lb = await newLb("rules");
      const listener = await newListener(lb.LoadBalancerArn!, tg.TargetGroupArn!);
      return { tg, lb, listener };
    };

    it("creates rules with every condition, lists them by priority with the default rule last", async () => {
      const { tg, listener } = await setup();
      const fixed = [
        {
          Type: "fixed-response" as const,
          FixedResponseConfig: { StatusCode: "200", ContentType: "text/plain", MessageBody: "hi" },
        },
      ];
      const r10 = await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 10,
          Conditions: [
            { Field: "path-pattern", Values: ["/api/*"] },
            { Field: "http-request-method", HttpRequestMethodConfig: { Values: ["GET", "POST"] } },
          ],
          Actions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
        }),
      );
      expect(r10.Rules![0]).toMatchObject({
        Priority: "10",
        IsDefault: false,
        Conditions: [
          { Field: "path-pattern", Values: ["/api/*"], PathPatternConfig: { Values: ["/api/*"] } },
          { Field: "http-request-method", HttpRequestMethodConfig: { Values: ["GET", "POST"] } },
        ],
      });
      expect(r10.Rules![0].RuleArn).toMatch(/:listener-rule\/app\/[^/]+\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 5,
          Conditions: [
            { Field: "host-header", HostHeaderConfig: { Values: ["*.example.com"] } },
            { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["prod"] } },
            { Field: "query-string", QueryStringConfig: { Values: [{ Key: "v", Value: "1" }] } },
          ],
          Actions: fixed,
        }),
      );
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 7,
          Conditions: [{ Field: "source-ip", SourceIpConfig: { Values: ["10.0.0.0/8"] } }],
          Actions: [{ Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } }],
        }),
      );
      const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
      expect(rules.map((r) => r.Priority)).toEqual(["5", "7", "10", "default"]);
      expect(rules[3]).toMatchObject({ IsDefault: true, Conditions: [], Actions: listener.DefaultActions });
      expect(rules[1].Actions![0].RedirectConfig).toEqual({
        Protocol: "HTTPS",
        Port: "443",
        Host: "#{host}",
        Path: "/#{path}",
        Query: "#{query}",
        StatusCode: "HTTP_301",
      });
      const byArn = await elb.send(new DescribeRulesCommand({ RuleArns: [rules[3].RuleArn!, rules[0].RuleArn!] }));
      expect(byArn.Rules!.map((r) => r.Priority)).toEqual(["default", "5"]);
    });

    it("refuses duplicate priorities (PriorityInUse) and invalid rules, and changes nothing", async () => {
      const { tg, listener } = await setup();
      const forward = [{ Type: "forward" as const, TargetGroupArn: tg.TargetGroupArn }];
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 1,
          Conditions: [{ Field: "path-pattern", Values: ["/a"] }],
          Actions: forward,
        }),
      );
      const bad: [ConstructorParameters<typeof CreateRuleCommand>[0], string][] = [
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 1,
            Conditions: [{ Field: "path-pattern", Values: ["/b"] }],
            Actions: forward,
          },
          "PriorityInUseException",
        ],
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 0,
            Conditions: [{ Field: "path-pattern", Values: ["/b"] }],
            Actions: forward,
          },
          "ValidationError",
        ],
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 50001,
            Conditions: [{ Field: "path-pattern", Values: ["/b"] }],
            Actions: forward,
          },
          "ValidationError",
        ],
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 2,
            Conditions: [{ Field: "cookie", Values: ["x"] }],
            Actions: forward,
          },
          "ValidationError",
        ],
        [{ ListenerArn: listener.ListenerArn, Priority: 2, Conditions: [], Actions: forward }, "ValidationError"],
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 2,
            Conditions: [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "Host", Values: ["x"] } }],
            Actions: forward,
          },
          "ValidationError",
        ],
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 2,
            Conditions: [{ Field: "source-ip", SourceIpConfig: { Values: ["nope"] } }],
            Actions: forward,
          },
          "ValidationError",
        ],
        [
          {
            ListenerArn: listener.ListenerArn,
            Priority: 2,
            Conditions: [{ Field: "path-pattern", Values: ["/b"] }],
            Actions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "999" } }],
          },
          "ValidationError",
        ],
        [
          {
            ListenerArn: `${listener.ListenerArn!.slice(0, -4)}0000`,
            Priority: 2,
            Conditions: [{ Field: "path-pattern", Values: ["/b"] }],
            Actions: forward,
          },
          "ListenerNotFoundException",
        ],
      ];
      for (const [input, code] of bad) await fails(elb.send(new CreateRuleCommand(input)), code);
      const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
      expect(rules.map((r) => r.Priority)).toEqual(["1", "default"]);
    });

    it("modifies rules, reorders them with SetRulePriorities, and deletes them", async () => {
      const { tg, listener } = await setup();
      const forward = [{ Type: "forward" as const, TargetGroupArn: tg.TargetGroupArn }];
      const mk = async (priority: number, path: string) =>
        (
          await elb.send(
            new CreateRuleCommand({
              ListenerArn: listener.ListenerArn,
              Priority: priority,
              Conditions: [{ Field: "path-pattern", Values: [path] }],
              Actions: forward,
            }),
          )
        ).Rules![0].RuleArn!;
      const a = await mk(1, "/a");
      const b = await mk(2, "/b");
      const modified = await elb.send(
        new ModifyRuleCommand({ RuleArn: a, Conditions: [{ Field: "path-pattern", Values: ["/aa"] }] }),
      );
      expect(modified.Rules![0].Conditions![0].Values).toEqual(["/aa"]);
      await fails(
        elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: a, Priority: 2 }] })),
        "PriorityInUseException",
      );
      const swapped = await elb.send(
        new SetRulePrioritiesCommand({
          RulePriorities: [
            { RuleArn: a, Priority: 2 },
            { RuleArn: b, Priority: 1 },
          ],
        }),
      );
      expect(swapped.Rules!.map((r) => [r.RuleArn, r.Priority])).toEqual([
        [a, "2"],
        [b, "1"],
      ]);
      const all = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
      const defaultRule = all.find((r) => r.IsDefault)!.RuleArn!;
      await fails(elb.send(new DeleteRuleCommand({ RuleArn: defaultRule })), "OperationNotPermittedException");
      await fails(
        elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: defaultRule, Priority: 9 }] })),
        "OperationNotPermittedException",
      );
      const fixed = await elb.send(
        new ModifyRuleCommand({
          RuleArn: defaultRule,
          Actions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404" } }],
        }),
      );
      expect(fixed.Rules![0]).toMatchObject({ IsDefault: true, Actions: [{ Type: "fixed-response" }] });
      const listeners = await elb.send(new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] }));
      expect(listeners.Listeners![0].DefaultActions![0].Type).toBe("fixed-response");
      await elb.send(new DeleteRuleCommand({ RuleArn: a }));
      await fails(elb.send(new DeleteRuleCommand({ RuleArn: a })), "RuleNotFoundException");
      await fails(elb.send(new ModifyRuleCommand({ RuleArn: a, Actions: forward })), "RuleNotFoundException");
      await fails(elb.send(new DescribeRulesCommand({ RuleArns: [a] })), "RuleNotFoundException");
    });
  });

  describe("targets", () => {
    it("reports AWS's states: unused while no load balancer uses the group, initial then healthy once used", async () => {
      const backend = await startBackend("t");
      try {
        const tg = await newTg("health", {
          HealthCheckPath: "/health",
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: 2,
        });
        const arn = tg.TargetGroupArn!;
        await elb.send(
          new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: "127.0.0.1", Port: backend.port }] }),
        );
        const unused = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
        expect(unused.TargetHealthDescriptions).toEqual([
          {
            Target: { Id: "127.0.0.1", Port: backend.port },
            HealthCheckPort: String(backend.port),
            TargetHealth: {
              State: "unused",
              Reason: "Target.NotInUse",
              Description: "Target group is not configured to receive traffic from the load balancer",
            },
          },
        ]);
        const lb = await newLb("health");
        await newListener(lb.LoadBalancerArn!, arn);
        const first = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
        // initial until the first check passes, which may already have happened (one pass suffices)
        const h = first.TargetHealthDescriptions![0].TargetHealth!;
        if (h.State !== "healthy")
          expect(h).toMatchObject({
            State: "initial",
            Reason: expect.stringMatching(/^Elb\.(RegistrationInProgress|InitialHealthChecking)$/),
          });
        const healthy = await waitFor(
          "healthy",
          async () =>
            (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions!,
          (d) => d[0]?.TargetHealth?.State === "healthy",
        );
        expect(healthy[0].TargetHealth).toEqual({ State: "healthy" });
        const notRegistered = await elb.send(
          new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: "10.9.9.9", Port: 80 }] }),
        );
        expect(notRegistered.TargetHealthDescriptions![0].TargetHealth).toEqual({
          State: "unused",
          Reason: "Target.NotRegistered",
          Description: "Target is not registered to the target group",
        });
      } finally {
        await backend.close();
      }
    });

    it("refuses bad targets", async () => {
      const tg = await newTg("badtargets");
      const inst = await newTg("badinst", { TargetType: "instance" });
      await fails(
        elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: "not-an-ip" }] })),
        "ValidationError",
      );
      await fails(
        elb.send(new RegisterTargetsCommand({ TargetGroupArn: inst.TargetGroupArn, Targets: [{ Id: "10.0.0.1" }] })),
        "ValidationError",
      );
      await fails(
        elb.send(
          new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: "10.0.0.1", Port: 80 }] }),
        ),
        "InvalidTargetException",
      );
      await fails(
        elb.send(
          new RegisterTargetsCommand({
            TargetGroupArn: `${tg.TargetGroupArn!.slice(0, -4)}0000`,
            Targets: [{ Id: "10.0.0.1" }],
          }),
        ),
        "TargetGroupNotFoundException",
      );
      const none = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      expect(none.TargetHealthDescriptions).toEqual([]);
    });

    it("deregisters at once from a group no load balancer uses; registering twice is a no-op", async () => {
      const tg = await newTg("dereg");
      const arn = tg.TargetGroupArn!;
      await elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: [{ Id: "10.0.0.1" }, { Id: "10.0.0.1", Port: 81 }],
        }),
      );
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: "10.0.0.1" }] }));
      const two = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      expect(two.TargetHealthDescriptions!.map((d) => d.Target?.Port).sort()).toEqual([80, 81]);
      await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: "10.0.0.1", Port: 81 }] }));
      const one = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      expect(one.TargetHealthDescriptions!.map((d) => d.Target?.Port)).toEqual([80]);
    });
  });

  describe("tags", () => {
    it("adds, describes and removes tags on every resource kind", async () => {
      const tg = await newTg("tags", { Tags: [{ Key: "team", Value: "a" }] });
      const lb = await newLb("tags", { Tags: [{ Key: "env", Value: "dev" }] });
      const listener = await newListener(lb.LoadBalancerArn!, tg.TargetGroupArn!);
      const rule = (
        await elb.send(
          new CreateRuleCommand({
            ListenerArn: listener.ListenerArn,
            Priority: 1,
            Conditions: [{ Field: "path-pattern", Values: ["/x"] }],
            Actions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
          }),
        )
      ).Rules![0];
      const arns = [lb.LoadBalancerArn!, tg.TargetGroupArn!, listener.ListenerArn!, rule.RuleArn!];
      await elb.send(new AddTagsCommand({ ResourceArns: arns, Tags: [{ Key: "owner", Value: "berth" }] }));
      const described = await elb.send(new DescribeTagsCommand({ ResourceArns: arns }));
      expect(described.TagDescriptions).toEqual([
        {
          ResourceArn: arns[0],
          Tags: [
            { Key: "env", Value: "dev" },
            { Key: "owner", Value: "berth" },
          ],
        },
        {
          ResourceArn: arns[1],
          Tags: [
            { Key: "team", Value: "a" },
            { Key: "owner", Value: "berth" },
          ],
        },
        { ResourceArn: arns[2], Tags: [{ Key: "owner", Value: "berth" }] },
        { ResourceArn: arns[3], Tags: [{ Key: "owner", Value: "berth" }] },
      ]);
      await elb.send(new RemoveTagsCommand({ ResourceArns: arns, TagKeys: ["owner"] }));
      const after = await elb.send(new DescribeTagsCommand({ ResourceArns: [arns[2]] }));
      expect(after.TagDescriptions![0].Tags).toEqual([]);
      await fails(
        elb.send(new AddTagsCommand({ ResourceArns: [arns[0]], Tags: [{ Key: "k" }, { Key: "k" }] })),
        "DuplicateTagKeysException",
      );
      await fails(
        elb.send(
          new AddTagsCommand({
            ResourceArns: [arns[0]],
            Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}` })),
          }),
        ),
        "TooManyTagsException",
      );
      await fails(
        elb.send(new DescribeTagsCommand({ ResourceArns: [`${arns[0].slice(0, -4)}0000`] })),
        "LoadBalancerNotFoundException",
      );
      await fails(
        elb.send(new DescribeTagsCommand({ ResourceArns: [`${arns[1].slice(0, -4)}0000`] })),
        "TargetGroupNotFoundException",
      );
    });
  });

  describe("the AWS CLI v2", () => {
    const aws = (...args: string[]) =>
      run("/usr/bin/aws", ["--endpoint-url", endpoint, "--output", "json", ...args], {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
        timeout: 60_000,
      }).then((r) => (r.stdout.trim() ? JSON.parse(r.stdout) : {}));

    it("runs the docs/elbv2.md walkthrough: target group, ALB, listener, rule, targets, curl", async () => {
      const backend = await startBackend("cli");
      try {
        const tg = await aws(
          "elbv2",
          "create-target-group",
          "--name",
          uniqueName("cli"),
          "--protocol",
          "HTTP",
          "--port",
          String(backend.port),
          "--target-type",
          "ip",
          "--health-check-path",
          "/health",
          "--health-check-interval-seconds",
          "5",
          "--health-check-timeout-seconds",
          "2",
          "--healthy-threshold-count",
          "2",
        );
        const tgArn = tg.TargetGroups[0].TargetGroupArn;
        tgs.push(tgArn);
        const lb = await aws("elbv2", "create-load-balancer", "--name", uniqueName("cli"));
        const lbArn = lb.LoadBalancers[0].LoadBalancerArn;
        lbs.push(lbArn);
        await aws("elbv2", "wait", "load-balancer-available", "--load-balancer-arns", lbArn);
        const listener = await aws(
          "elbv2",
          "create-listener",
          "--load-balancer-arn",
          lbArn,
          "--protocol",
          "HTTP",
          "--port",
          "8080",
          "--default-actions",
          `Type=forward,TargetGroupArn=${tgArn}`,
        );
        await aws(
          "elbv2",
          "create-rule",
          "--listener-arn",
          listener.Listeners[0].ListenerArn,
          "--priority",
          "10",
          "--conditions",
          "Field=path-pattern,Values=/hello",
          "--actions",
          "Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=hello}",
        );
        await aws(
          "elbv2",
          "register-targets",
          "--target-group-arn",
          tgArn,
          "--targets",
          `Id=127.0.0.1,Port=${backend.port}`,
        );
        await aws(
          "elbv2",
          "wait",
          "target-in-service",
          "--target-group-arn",
          tgArn,
          "--targets",
          `Id=127.0.0.1,Port=${backend.port}`,
        );
        const dns = (await aws("elbv2", "describe-load-balancers", "--load-balancer-arns", lbArn)).LoadBalancers[0]
          .DNSName;
        const { stdout: app } = await run("curl", ["-sS", "--max-time", "5", `http://${dns}:8080/app`]);
        expect(app).toBe(`cli GET /app\n`);
        const { stdout: hello } = await run("curl", ["-sS", "--max-time", "5", `http://${dns}:8080/hello`]);
        expect(hello).toBe("hello");
        const health = await aws("elbv2", "describe-target-health", "--target-group-arn", tgArn);
        expect(health.TargetHealthDescriptions[0].TargetHealth).toEqual({ State: "healthy" });
      } finally {
        await backend.close();
      }
    });

    it("prints AWS's error codes", async () => {
      await expect(aws("elbv2", "describe-load-balancers", "--names", "no-such-lb")).rejects.toMatchObject({
        stderr: expect.stringContaining("(LoadBalancerNotFound)"),
      });
    });
  });
});
