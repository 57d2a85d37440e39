import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkClusterProviders, pickProviders, resolveLaunch } from "../../src/services/ecs/capacity-providers.js";

const both = ["FARGATE", "FARGATE_SPOT"];
const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

describe("capacity providers", () => {
  it.each<[string, string[], { capacityProvider: string; weight?: number; base?: number }[], RegExp | undefined]>([
    [
      "both, weighted",
      both,
      [
        { capacityProvider: "FARGATE", weight: 1, base: 1 },
        { capacityProvider: "FARGATE_SPOT", weight: 3 },
      ],
      undefined,
    ],
    ["none", [], [], undefined],
    ["an EC2 provider Berth does not have", ["my-asg"], [], /'my-asg' does not exist/],
    [
      "a strategy outside the cluster's providers",
      ["FARGATE"],
      [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
      /not associated with the cluster/,
    ],
    [
      "two bases",
      both,
      [
        { capacityProvider: "FARGATE", weight: 1, base: 1 },
        { capacityProvider: "FARGATE_SPOT", weight: 1, base: 2 },
      ],
      /Only one capacity provider/,
    ],
    ["no weight", both, [{ capacityProvider: "FARGATE", base: 1 }], /weight greater than 0/],
    ["duplicates", ["FARGATE", "FARGATE"], [], /duplicates/],
    ["a weight over 1000", both, [{ capacityProvider: "FARGATE", weight: 1001 }], /between 0 and 1000/],
  ])("PutClusterCapacityProviders: %s", (_, providers, strategy, problem) => {
    const message = errorOf(() => checkClusterProviders(providers, strategy));
    if (problem) expect(message).toMatch(problem);
    else expect(message).toBe("no error");
  });

  it("resolves a launch: launch type, then strategy, then the cluster's default, then EC2", () => {
    const cluster = {
      capacityProviders: both,
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
    };
    expect(resolveLaunch({ launchType: "EC2" }, cluster)).toEqual({ launchType: "EC2" });
    expect(resolveLaunch({ capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 2 }] }, cluster)).toEqual({
      launchType: "FARGATE",
      strategy: [{ capacityProvider: "FARGATE", weight: 2, base: 0 }],
    });
    expect(resolveLaunch({}, cluster)).toEqual({
      launchType: "FARGATE",
      strategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1, base: 0 }],
    });
    expect(resolveLaunch({}, { capacityProviders: [] })).toEqual({ launchType: "EC2" });
    expect(
      errorOf(() =>
        resolveLaunch({ launchType: "FARGATE", capacityProviderStrategy: [{ capacityProvider: "FARGATE" }] }, cluster),
      ),
    ).toMatch(/either a launchType or a capacityProviderStrategy/);
    expect(
      errorOf(() =>
        resolveLaunch(
          { capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1 }] },
          { capacityProviders: [] },
        ),
      ),
    ).toMatch(/not associated with the cluster/);
  });

  it.each<
    [string, { capacityProvider: string; weight?: number; base?: number }[], number, Record<string, number>, string[]]
  >([
    [
      "base first, then weights 1:3",
      [
        { capacityProvider: "FARGATE", weight: 1, base: 2 },
        { capacityProvider: "FARGATE_SPOT", weight: 3 },
      ],
      6,
      {},
      ["FARGATE", "FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE", "FARGATE_SPOT"],
    ],
    [
      "one provider",
      [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
      3,
      {},
      ["FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT"],
    ],
    [
      "running tasks count towards the shares",
      [
        { capacityProvider: "FARGATE", weight: 1 },
        { capacityProvider: "FARGATE_SPOT", weight: 1 },
      ],
      2,
      { FARGATE: 3 },
      ["FARGATE_SPOT", "FARGATE_SPOT"],
    ],
  ])("picks providers: %s", (_, strategy, count, running, expected) => {
    expect(pickProviders(strategy, count, running)).toEqual(expected);
  });

  it("property: the base is met first, and beyond it the split follows the weights within one task", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 40 }),
        (base, w1, w2, count) => {
          const picks = pickProviders(
            [
              { capacityProvider: "FARGATE", weight: w1, base },
              { capacityProvider: "FARGATE_SPOT", weight: w2 },
            ],
            count,
          );
          expect(picks).toHaveLength(count);
          const a = picks.filter((p) => p === "FARGATE").length;
          expect(a).toBeGreaterThanOrEqual(Math.min(base, count));
          const beyond = count - Math.min(base, count);
          const want = (beyond * w1) / (w1 + w2);
          expect(Math.abs(a - Math.min(base, count) - want)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
