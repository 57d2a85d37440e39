import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  diffTargets,
  healthCheckDrift,
  planListeners,
  planRules,
  sameAction,
  toAction,
} from "../../src/controllers/kube/loadbalancers/diff.js";
import type { DesiredListener, DesiredTargetGroup } from "../../src/controllers/kube/loadbalancers/stack.js";

const arnOf = (r: string) => `arn:tg/${r}`;

describe("diffTargets", () => {
  it("registers the missing, deregisters the extra, re-registers the draining", () => {
    expect(
      diffTargets(
        [
          { id: "10.0.0.1", port: 80 },
          { id: "10.0.0.2", port: 80 },
          { id: "10.0.0.3", port: 80 },
        ],
        [
          { id: "10.0.0.1", port: 80, state: "healthy" },
          { id: "10.0.0.2", port: 80, state: "draining" },
          { id: "10.0.0.9", port: 80, state: "unhealthy" },
          { id: "10.0.0.8", port: 80, state: "draining" },
        ],
      ),
    ).toEqual({
      register: [
        { id: "10.0.0.2", port: 80 },
        { id: "10.0.0.3", port: 80 },
      ],
      deregister: [{ id: "10.0.0.9", port: 80 }],
    });
  });

  it("after applying it, the live targets are exactly the desired ones", () => {
    const target = fc.record({ id: fc.constantFrom("a", "b", "c", "d"), port: fc.constantFrom(80, 81) });
    fc.assert(
      fc.property(
        fc.array(target),
        fc.array(fc.record({ t: target, state: fc.constantFrom("healthy", "initial", "draining") })),
        (desired, observedRaw) => {
          const seen = new Set<string>();
          const observed = observedRaw
            .filter(({ t }) => !seen.has(`${t.id}:${t.port}`) && seen.add(`${t.id}:${t.port}`))
            .map(({ t, state }) => ({ ...t, state }));
          const { register, deregister } = diffTargets(desired, observed);
          const key = (t: { id: string; port: number }) => `${t.id}:${t.port}`;
          const live = new Set(observed.filter((o) => o.state !== "draining").map(key));
          for (const d of deregister) live.delete(key(d));
          for (const r of register) live.add(key(r));
          expect([...live].sort()).toEqual([...new Set(desired.map(key))].sort());
          // Nothing is registered twice or deregistered that was not live.
          expect(new Set(register.map(key)).size).toBe(register.length);
        },
      ),
    );
  });
});

describe("planListeners", () => {
  const l = (port: number, tg: string): DesiredListener => ({
    port,
    protocol: "TCP",
    defaultAction: { type: "forward", targetGroup: tg },
    rules: [],
  });
  it("matches by port: creates, modifies a changed default action, keeps, deletes", () => {
    const plan = planListeners(
      [l(80, "web:80"), l(443, "web:443"), l(9000, "web:9000")],
      [
        {
          arn: "L80",
          port: 80,
          protocol: "TCP",
          defaultActions: [{ Type: "forward", TargetGroupArn: "arn:tg/web:80" }],
        },
        {
          arn: "L443",
          port: 443,
          protocol: "TCP",
          defaultActions: [{ Type: "forward", TargetGroupArn: "arn:tg/old" }],
        },
        { arn: "L22", port: 22, protocol: "TCP", defaultActions: [] },
      ],
      arnOf,
    );
    expect(plan.keep.map((x) => x.arn)).toEqual(["L80"]);
    expect(plan.modify.map((x) => x.arn)).toEqual(["L443"]);
    expect(plan.create.map((x) => x.port)).toEqual([9000]);
    expect(plan.delete).toEqual(["L22"]);
  });
});

describe("planRules", () => {
  it("matches by priority and compares conditions and actions", () => {
    const plan = planRules(
      [
        {
          priority: 1,
          conditions: [{ field: "path-pattern", values: ["/a", "/a/*"] }],
          action: { type: "forward", targetGroup: "a" },
        },
        {
          priority: 2,
          conditions: [{ field: "path-pattern", values: ["/b"] }],
          action: { type: "forward", targetGroup: "b" },
        },
        {
          priority: 3,
          conditions: [{ field: "host-header", values: ["x.example"] }],
          action: { type: "forward", targetGroup: "b" },
        },
      ],
      [
        {
          arn: "R1",
          priority: 1,
          conditions: [
            { Field: "path-pattern", Values: ["/a", "/a/*"], PathPatternConfig: { Values: ["/a", "/a/*"] } },
          ],
          actions: [
            {
              Type: "forward",
              TargetGroupArn: "arn:tg/a",
              ForwardConfig: { TargetGroups: [{ TargetGroupArn: "arn:tg/a" }] },
            },
          ],
        },
        {
          arn: "R2",
          priority: 2,
          conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/old"] } }],
          actions: [{ Type: "forward", TargetGroupArn: "arn:tg/b" }],
        },
        { arn: "R7", priority: 7, conditions: [], actions: [] },
      ],
      arnOf,
    );
    expect(plan.modify.map((m) => m.arn)).toEqual(["R2"]);
    expect(plan.create.map((r) => r.priority)).toEqual([3]);
    expect(plan.delete).toEqual(["R7"]);
  });

  it("compares fixed responses by status and content type", () => {
    const want = toAction({ type: "fixed-response", statusCode: "404", contentType: "text/plain" }, arnOf);
    expect(
      sameAction(
        [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404", ContentType: "text/plain" } }],
        want,
      ),
    ).toBe(true);
    expect(
      sameAction(
        [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "503", ContentType: "text/plain" } }],
        want,
      ),
    ).toBe(false);
    expect(sameAction([], want)).toBe(false);
  });
});

describe("healthCheckDrift", () => {
  const tg: DesiredTargetGroup = {
    resource: "r",
    name: "n",
    protocol: "HTTP",
    port: 80,
    targetType: "ip",
    healthCheck: {
      protocol: "HTTP",
      port: "traffic-port",
      path: "/healthz",
      intervalSeconds: 15,
      timeoutSeconds: 5,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: "200",
    },
    tags: {},
    targets: [],
  };
  const observed = {
    TargetGroupArn: "arn",
    HealthCheckProtocol: "HTTP" as const,
    HealthCheckPort: "traffic-port",
    HealthCheckPath: "/healthz",
    HealthCheckIntervalSeconds: 15,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 2,
    UnhealthyThresholdCount: 2,
    Matcher: { HttpCode: "200" },
  };
  it("is nothing when the settings agree, else only what differs", () => {
    expect(healthCheckDrift(tg, observed)).toBeUndefined();
    expect(healthCheckDrift(tg, { ...observed, HealthCheckPath: "/", Matcher: { HttpCode: "200-399" } })).toEqual({
      TargetGroupArn: "arn",
      HealthCheckPath: "/healthz",
      Matcher: { HttpCode: "200" },
    });
  });
});
