import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ForwardAction } from "../../src/lb/routing.js";
import {
  GROUP_COOKIE,
  STICKY_COOKIE,
  chooseForward,
  cookieValue,
  decodeSticky,
  encodeSticky,
  setCookieLine,
} from "../../src/lb/stickiness.js";
import type { TargetGroupRuntime, TargetRuntime } from "../../src/lb/target-group.js";

describe("sticky cookies", () => {
  it.each<[string[], string, string | undefined]>([
    [["AWSALB=abc"], "AWSALB", "abc"],
    [["a=1; AWSALB=abc; b=2"], "AWSALB", "abc"],
    [["a=1", " AWSALB = abc "], "AWSALB", "abc"],
    [["AWSALBTG=x; AWSALB=y"], "AWSALB", "y"],
    [["AWSALB=first", "AWSALB=second"], "AWSALB", "first"],
    [["=abc; AWSALB"], "AWSALB", undefined],
    [[], "AWSALB", undefined],
    [["awsalb=abc"], "AWSALB", undefined],
  ])("%j → %s = %s", (headers, name, expected) => {
    expect(cookieValue(headers, name)).toBe(expected);
  });

  it("values round-trip and are cookie-safe", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (key) => {
        const v = encodeSticky(key);
        return /^[A-Za-z0-9_-]*$/.test(v) && decodeSticky(v) === Buffer.from(Buffer.from(key)).toString();
      }),
    );
  });

  it("Set-Cookie lines carry the expiry and the root path", () => {
    expect(setCookieLine(STICKY_COOKIE, "tg|10.0.0.1|80", Date.UTC(2026, 0, 2, 3, 4, 5))).toBe(
      `Set-Cookie: AWSALB=${encodeSticky("tg|10.0.0.1|80")}; Expires=Fri, 02 Jan 2026 03:04:05 GMT; Path=/\r\n`,
    );
  });
});

describe("choosing a forward target", () => {
  const target = (key: string) => ({ key }) as TargetRuntime;
  const group = (arn: string, keys: string[], sticky = { enabled: false, durationSeconds: 60 }) => {
    const targets = new Map(keys.map((k) => [k, target(k)]));
    const eligible = [...targets.values()];
    let next = 0;
    const tg = {
      arn,
      spec: { stickiness: sticky },
      targets,
      eligible,
      pick: () => (eligible.length ? eligible[next++ % eligible.length] : undefined),
    } as unknown as TargetGroupRuntime;
    return { tg, counters: {} as never };
  };
  const action = (groups: ReturnType<typeof group>[], weights: number[], groupStickySeconds = 0): ForwardAction => ({
    kind: "forward",
    groups,
    weights,
    current: weights.map(() => 0),
    groupStickySeconds,
  });
  const NOW = Date.UTC(2026, 0, 1);

  it("one group: its algorithm, no cookies", () => {
    const a = action([group("g1", ["t1", "t2"])], [1]);
    expect(chooseForward(a, () => [], NOW)).toMatchObject({ target: { key: "t1" }, setCookies: "" });
    expect(chooseForward(a, () => [], NOW).target?.key).toBe("t2");
  });

  it("a group of weight 0 takes nothing; an empty group has no target", () => {
    expect(chooseForward(action([group("g1", ["t1"])], [0]), () => [], NOW)).toEqual({ setCookies: "" });
    const empty = chooseForward(action([group("g1", [])], [1]), () => [], NOW);
    expect(empty.group?.tg.arn).toBe("g1");
    expect(empty.target).toBeUndefined();
  });

  it("target stickiness: honours a cookie naming a routable target, and sets one", () => {
    const g = group("g1", ["t1", "t2"], { enabled: true, durationSeconds: 60 });
    const a = action([g], [1]);
    const got = chooseForward(a, () => [`${STICKY_COOKIE}=${encodeSticky("t2")}`], NOW);
    expect(got.target?.key).toBe("t2");
    expect(got.setCookies).toBe(setCookieLine(STICKY_COOKIE, "t2", NOW + 60_000));
    // A cookie naming a target that is gone falls back to the algorithm.
    expect(chooseForward(a, () => [`${STICKY_COOKIE}=${encodeSticky("t9")}`], NOW).target?.key).toBe("t1");
  });

  it("group stickiness: the cookie's group while it has weight, else weighted; the cookie is set even when the group has no target", () => {
    const a = action([group("g1", ["a"]), group("g2", [])], [1, 1], 30);
    const cookie = [`${GROUP_COOKIE}=${encodeSticky("g2")}`];
    const got = chooseForward(a, () => cookie, NOW);
    expect(got.group?.tg.arn).toBe("g2");
    expect(got.target).toBeUndefined();
    expect(got.setCookies).toBe(setCookieLine(GROUP_COOKIE, "g2", NOW + 30_000));
    a.weights[1] = 0;
    expect(chooseForward(a, () => cookie, NOW).group?.tg.arn).toBe("g1");
  });

  it("weighted groups without stickiness follow the weights and set no cookie", () => {
    const a = action([group("g1", ["a"]), group("g2", ["b"])], [3, 1]);
    const picks = Array.from({ length: 8 }, () => chooseForward(a, () => [], NOW));
    expect(picks.filter((p) => p.group?.tg.arn === "g1")).toHaveLength(6);
    expect(picks.every((p) => p.setCookies === "")).toBe(true);
  });
});
