import { describe, expect, it } from "vitest";
import { ServiceError } from "../../src/core/errors.js";
import type { Action, RuleCondition } from "../../src/protocol/generated/types/elbv2.js";
import { checkResourceArn } from "../../src/services/elbv2/validate.js";
import {
  loadBalancerAttributeDefaults,
  modifyLoadBalancerAttributes,
  modifyTargetGroupAttributes,
  targetGroupAttributeDefaults,
} from "../../src/services/elbv2/attributes.js";
import { mergeTags } from "../../src/services/elbv2/tags.js";
import {
  type ActionContext,
  checkLoadBalancerName,
  checkTargetGroupName,
  checkVpcId,
  defaultHealthCheck,
  forwardedTargetGroups,
  healthCheckSettings,
  normalizeActions,
  normalizeConditions,
  parseHttpCodeMatcher,
} from "../../src/services/elbv2/validate.js";

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof ServiceError) return e.code;
    throw e;
  }
};

describe("names", () => {
  it.each(["a", "my-alb", "A1-b2", "x".repeat(32)])("accepts %s", (name) => {
    expect(code(() => checkLoadBalancerName(name))).toBeUndefined();
    expect(code(() => checkTargetGroupName(name))).toBeUndefined();
  });
  it.each(["-a", "a-", "a_b", "x".repeat(33), "", "a.b"])("rejects %j", (name) => {
    expect(code(() => checkLoadBalancerName(name))).toBe("ValidationError");
    expect(code(() => checkTargetGroupName(name))).toBe("ValidationError");
  });
  it("reserves the internal- prefix for load balancers and target groups", () => {
    expect(code(() => checkLoadBalancerName("internal-x"))).toBe("ValidationError");
    expect(code(() => checkTargetGroupName("internal-x"))).toBe("ValidationError");
  });
  it("takes VPC ids in EC2's form only, quoting a long one by a prefix", () => {
    expect(code(() => checkVpcId("vpc-0123456789abcdef0"))).toBeUndefined();
    expect(code(() => checkVpcId("vpc-12345678"))).toBeUndefined();
    for (const bad of ["vpc-xyz", "", "subnet-12345678", "v".repeat(1_000_000)])
      expect(code(() => checkVpcId(bad))).toBe("ValidationError");
    expect(() => checkVpcId("v".repeat(1_000_000))).toThrow(/^.{0,200}$/);
  });
});

describe("rule conditions", () => {
  it("echoes host-header and path-pattern with both Values and the config, as AWS does", () => {
    expect(normalizeConditions([{ Field: "path-pattern", Values: ["/a/*"] }])).toEqual([
      { Field: "path-pattern", Values: ["/a/*"], PathPatternConfig: { Values: ["/a/*"] } },
    ]);
    expect(normalizeConditions([{ Field: "host-header", HostHeaderConfig: { Values: ["*.example.com"] } }])).toEqual([
      { Field: "host-header", Values: ["*.example.com"], HostHeaderConfig: { Values: ["*.example.com"] } },
    ]);
  });

  it.each<[string, RuleCondition[]]>([
    ["no conditions", []],
    ["no field", [{ Values: ["/a"] }]],
    ["an unknown field", [{ Field: "cookie", Values: ["x"] }]],
    [
      "two path-pattern conditions",
      [
        { Field: "path-pattern", Values: ["/a"] },
        { Field: "path-pattern", Values: ["/b"] },
      ],
    ],
    ["Values and a config", [{ Field: "path-pattern", Values: ["/a"], PathPatternConfig: { Values: ["/b"] } }]],
    ["Values on a header condition", [{ Field: "http-header", Values: ["x"] }]],
    ["a config of another field", [{ Field: "path-pattern", HostHeaderConfig: { Values: ["a.b"] } }]],
    ["an empty condition", [{ Field: "path-pattern", PathPatternConfig: { Values: [] } }]],
    ["more than three values", [{ Field: "path-pattern", Values: ["/a", "/b", "/c", "/d"] }]],
    [
      "more than five values in a rule",
      [
        { Field: "path-pattern", Values: ["/a", "/b", "/c"] },
        { Field: "host-header", Values: ["a.example.com", "b.example.com", "c.example.com"] },
      ],
    ],
    ["a path over 128 characters", [{ Field: "path-pattern", Values: [`/${"a".repeat(128)}`] }]],
    ["bad path characters", [{ Field: "path-pattern", Values: ["/a b"] }]],
    ["bad host characters", [{ Field: "host-header", Values: ["a_b.com"] }]],
    ["a header condition without a name", [{ Field: "http-header", HttpHeaderConfig: { Values: ["x"] } }]],
    [
      "a Host header condition",
      [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "Host", Values: ["x"] } }],
    ],
    [
      "a header name over 40 characters",
      [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "x".repeat(41), Values: ["x"] } }],
    ],
    ["a lowercase method", [{ Field: "http-request-method", HttpRequestMethodConfig: { Values: ["get"] } }]],
    ["a query value missing", [{ Field: "query-string", QueryStringConfig: { Values: [{ Key: "a" }] } }]],
    ["a bad CIDR", [{ Field: "source-ip", SourceIpConfig: { Values: ["10.0.0.1"] } }]],
    ["a bad regex", [{ Field: "path-pattern", PathPatternConfig: { RegexValues: ["("] } }]],
  ])("rejects %s with ValidationError", (_, conditions) => {
    expect(code(() => normalizeConditions(conditions))).toBe("ValidationError");
  });

  it("accepts every condition type", () => {
    const all: RuleCondition[] = [
      { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["prod"] } },
      { Field: "http-request-method", HttpRequestMethodConfig: { Values: ["GET"] } },
      { Field: "query-string", QueryStringConfig: { Values: [{ Key: "v", Value: "1" }] } },
      { Field: "source-ip", SourceIpConfig: { Values: ["10.0.0.0/8"] } },
      { Field: "path-pattern", Values: ["/a"] },
    ];
    expect(normalizeConditions(all)).toHaveLength(5);
  });
});

describe("actions", () => {
  const groups: Record<string, { protocol: string; loadBalancerArns: string[] }> = {
    tg1: { protocol: "HTTP", loadBalancerArns: [] },
    tg2: { protocol: "HTTP", loadBalancerArns: ["lb"] },
    tcp: { protocol: "TCP", loadBalancerArns: [] },
    other: { protocol: "HTTP", loadBalancerArns: ["other-lb"] },
  };
  const ctx: ActionContext = {
    loadBalancerArn: "lb",
    loadBalancerType: "application",
    listenerProtocol: "HTTP",
    targetGroup: (arn) => groups[arn],
  };
  const nlb: ActionContext = { ...ctx, loadBalancerType: "network", listenerProtocol: "TCP" };

  it("normalizes a single-group forward with its ForwardConfig", () => {
    expect(normalizeActions([{ Type: "forward", TargetGroupArn: "tg1" }], ctx)).toEqual([
      {
        Type: "forward",
        TargetGroupArn: "tg1",
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: "tg1", Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
  });

  it("keeps weighted forwards without TargetGroupArn", () => {
    const [a] = normalizeActions(
      [
        {
          Type: "forward",
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: "tg1", Weight: 80 },
              { TargetGroupArn: "tg2", Weight: 20 },
            ],
            TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 },
          },
        },
      ],
      ctx,
    );
    expect(a.TargetGroupArn).toBeUndefined();
    expect(a.ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 60 });
    expect(forwardedTargetGroups([a])).toEqual(["tg1", "tg2"]);
  });

  it("fills redirect defaults", () => {
    expect(
      normalizeActions(
        [{ Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } }],
        ctx,
      ),
    ).toEqual([
      {
        Type: "redirect",
        RedirectConfig: {
          Protocol: "HTTPS",
          Port: "443",
          Host: "#{host}",
          Path: "/#{path}",
          Query: "#{query}",
          StatusCode: "HTTP_301",
        },
      },
    ]);
  });

  it.each<[string, Action[], ActionContext, string]>([
    ["no actions", [], ctx, "ValidationError"],
    ["an authenticate action (needs HTTPS)", [{ Type: "authenticate-oidc" }], ctx, "InvalidLoadBalancerAction"],
    [
      "two terminal actions",
      [
        { Type: "forward", TargetGroupArn: "tg1", Order: 1 },
        { Type: "fixed-response", FixedResponseConfig: { StatusCode: "200" }, Order: 2 },
      ],
      ctx,
      "TooManyActions",
    ],
    [
      "several actions without orders",
      [
        { Type: "forward", TargetGroupArn: "tg1" },
        { Type: "forward", TargetGroupArn: "tg2" },
      ],
      ctx,
      "ValidationError",
    ],
    ["forward without a group", [{ Type: "forward" }], ctx, "ValidationError"],
    ["forward to a missing group", [{ Type: "forward", TargetGroupArn: "nope" }], ctx, "TargetGroupNotFound"],
    ["forward to a TCP group from HTTP", [{ Type: "forward", TargetGroupArn: "tcp" }], ctx, "IncompatibleProtocols"],
    ["forward to an HTTP group from TCP", [{ Type: "forward", TargetGroupArn: "tg1" }], nlb, "IncompatibleProtocols"],
    [
      "a group another load balancer uses",
      [{ Type: "forward", TargetGroupArn: "other" }],
      ctx,
      "TargetGroupAssociationLimit",
    ],
    [
      "TargetGroupArn disagreeing with ForwardConfig",
      [{ Type: "forward", TargetGroupArn: "tg1", ForwardConfig: { TargetGroups: [{ TargetGroupArn: "tg2" }] } }],
      ctx,
      "ValidationError",
    ],
    [
      "a weight over 999",
      [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: "tg1", Weight: 1000 }] } }],
      ctx,
      "ValidationError",
    ],
    [
      "more than 5 groups",
      [
        {
          Type: "forward",
          ForwardConfig: { TargetGroups: ["a", "b", "c", "d", "e", "f"].map((TargetGroupArn) => ({ TargetGroupArn })) },
        },
      ],
      ctx,
      "ValidationError",
    ],
    [
      "stickiness without a duration",
      [
        {
          Type: "forward",
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: "tg1" }], TargetGroupStickinessConfig: { Enabled: true } },
        },
      ],
      ctx,
      "ValidationError",
    ],
    [
      "a redirect loop",
      [{ Type: "redirect", RedirectConfig: { StatusCode: "HTTP_302" } }],
      ctx,
      "InvalidLoadBalancerAction",
    ],
    [
      "a bad redirect code",
      [{ Type: "redirect", RedirectConfig: { Port: "1", StatusCode: "HTTP_307" as "HTTP_301" } }],
      ctx,
      "ValidationError",
    ],
    [
      "a bad redirect protocol",
      [{ Type: "redirect", RedirectConfig: { Protocol: "FTP", StatusCode: "HTTP_301" } }],
      ctx,
      "ValidationError",
    ],
    [
      "a bad redirect port",
      [{ Type: "redirect", RedirectConfig: { Port: "70000", StatusCode: "HTTP_301" } }],
      ctx,
      "ValidationError",
    ],
    [
      "a relative redirect path",
      [{ Type: "redirect", RedirectConfig: { Path: "x", StatusCode: "HTTP_301" } }],
      ctx,
      "ValidationError",
    ],
    [
      "a fixed response with status 302",
      [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "302" } }],
      ctx,
      "ValidationError",
    ],
    [
      "a fixed response with an odd content type",
      [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "200", ContentType: "image/png" } }],
      ctx,
      "ValidationError",
    ],
    [
      "a fixed response over 1024 characters",
      [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "200", MessageBody: "x".repeat(1025) } }],
      ctx,
      "ValidationError",
    ],
    [
      "a fixed response on a Network Load Balancer",
      [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "200" } }],
      nlb,
      "InvalidLoadBalancerAction",
    ],
  ])("rejects %s with %s", (_, actions, context, expected) => {
    expect(code(() => normalizeActions(actions, context))).toBe(expected);
  });
});

describe("health check settings", () => {
  type Group = { protocol: "HTTP" | "TCP"; targetType: string };
  const http: Group = { protocol: "HTTP", targetType: "ip" };
  const tcp: Group = { protocol: "TCP", targetType: "ip" };

  it("has AWS's defaults", () => {
    expect(healthCheckSettings({}, http)).toEqual(defaultHealthCheck("HTTP"));
    expect(defaultHealthCheck("HTTP")).toMatchObject({
      path: "/",
      intervalSeconds: 30,
      timeoutSeconds: 6,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      matcher: "200",
    });
    expect(healthCheckSettings({}, tcp)).toMatchObject({ protocol: "TCP", timeoutSeconds: 10 });
    expect(healthCheckSettings({ HealthCheckProtocol: "HTTP" }, tcp)).toMatchObject({ path: "/", matcher: "200-399" });
  });

  it.each<[string, Parameters<typeof healthCheckSettings>[0], Group]>([
    ["a TCP check for an HTTP group", { HealthCheckProtocol: "TCP" }, http],
    ["a path for a TCP check", { HealthCheckPath: "/x" }, tcp],
    ["a matcher for a TCP check", { Matcher: { HttpCode: "200" } }, tcp],
    ["a relative path", { HealthCheckPath: "x" }, http],
    ["a timeout not below the interval", { HealthCheckIntervalSeconds: 5 }, http],
    ["a matcher out of range", { Matcher: { HttpCode: "500" } }, http],
    ["a malformed matcher", { Matcher: { HttpCode: "2xx" } }, http],
    ["a bad port", { HealthCheckPort: "0" }, http],
    ["disabling checks on an ip group", { HealthCheckEnabled: false }, http],
  ])("rejects %s", (_, input, tg) => {
    expect(code(() => healthCheckSettings(input, tg))).toBe("ValidationError");
  });

  it.each([
    ["200", [200], [201]],
    ["200,202", [200, 202], [201]],
    ["200-299", [200, 250, 299], [300, 199]],
  ])("matcher %s", (text, yes, no) => {
    const m = parseHttpCodeMatcher(text, 200, 499)!;
    for (const c of yes) expect(m(c)).toBe(true);
    for (const c of no) expect(m(c)).toBe(false);
  });
});

describe("attributes", () => {
  it("has AWS's defaults", () => {
    expect(loadBalancerAttributeDefaults("application")).toMatchObject({
      "idle_timeout.timeout_seconds": "60",
      "deletion_protection.enabled": "false",
    });
    expect(targetGroupAttributeDefaults("HTTP")).toMatchObject({
      "deregistration_delay.timeout_seconds": "300",
      "stickiness.enabled": "false",
      "stickiness.type": "lb_cookie",
      "stickiness.lb_cookie.duration_seconds": "86400",
      "slow_start.duration_seconds": "0",
      "load_balancing.algorithm.type": "round_robin",
    });
  });

  it.each([
    ["an unknown key", [{ Key: "nope", Value: "1" }]],
    ["idle timeout 0", [{ Key: "idle_timeout.timeout_seconds", Value: "0" }]],
    ["a non-boolean", [{ Key: "deletion_protection.enabled", Value: "yes" }]],
  ])("rejects %s on a load balancer", (_, changes) => {
    expect(
      code(() => modifyLoadBalancerAttributes("application", loadBalancerAttributeDefaults("application"), changes)),
    ).toBe("ValidationError");
  });

  it.each([
    [
      "a deregistration delay over 3600",
      [{ Key: "deregistration_delay.timeout_seconds", Value: "3601" }],
      "ValidationError",
    ],
    ["slow start of 10 s", [{ Key: "slow_start.duration_seconds", Value: "10" }], "ValidationError"],
    ["an unknown algorithm", [{ Key: "load_balancing.algorithm.type", Value: "random" }], "ValidationError"],
    [
      "app_cookie stickiness (not routed by Berth)",
      [{ Key: "stickiness.type", Value: "app_cookie" }],
      "ValidationError",
    ],
    [
      "slow start with least outstanding requests",
      [
        { Key: "slow_start.duration_seconds", Value: "30" },
        { Key: "load_balancing.algorithm.type", Value: "least_outstanding_requests" },
      ],
      "InvalidConfigurationRequest",
    ],
  ])("rejects %s on a target group", (_, changes, expected) => {
    expect(code(() => modifyTargetGroupAttributes("HTTP", targetGroupAttributeDefaults("HTTP"), changes))).toBe(
      expected,
    );
  });

  it("applies valid changes and keeps the rest", () => {
    const next = modifyTargetGroupAttributes("HTTP", targetGroupAttributeDefaults("HTTP"), [
      { Key: "deregistration_delay.timeout_seconds", Value: "5" },
    ]);
    expect(next["deregistration_delay.timeout_seconds"]).toBe("5");
    expect(next["stickiness.enabled"]).toBe("false");
  });
});

describe("tags", () => {
  it("merges, replacing values of existing keys", () => {
    expect(mergeTags([{ Key: "a", Value: "1" }], [{ Key: "a", Value: "2" }, { Key: "b" }])).toEqual([
      { Key: "a", Value: "2" },
      { Key: "b", Value: "" },
    ]);
  });
  it.each([
    ["duplicate keys", [{ Key: "a" }, { Key: "a" }], "DuplicateTagKeys"],
    ["the aws: prefix", [{ Key: "aws:x" }], "ValidationError"],
    ["more than 50", Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}` })), "TooManyTags"],
  ])("rejects %s", (_, tags, expected) => {
    expect(code(() => mergeTags([], tags))).toBe(expected);
  });
});

describe("resource ARNs (issue 16: Delete* took any text as 'not found, fine')", () => {
  it.each([
    ["arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/a/0123456789abcdef", "loadbalancer", true],
    ["arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/0123456789abcdef", "targetgroup", true],
    ["arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/0123456789abcdef", "loadbalancer", false],
    ["arn:aws:badinput", "loadbalancer", false],
    ["arn:aws:ecs:us-east-1:000000000000:loadbalancer/app/a/1", "loadbalancer", false],
    ["not-an-arn", "targetgroup", false],
  ] as const)("%s as a %s ARN: %s", (value, kind, ok) => {
    if (ok) expect(() => checkResourceArn(value, kind)).not.toThrow();
    else
      expect(() => checkResourceArn(value, kind)).toThrow(
        expect.objectContaining({ code: "ValidationError", message: expect.stringContaining("is not a valid") }),
      );
  });
});
