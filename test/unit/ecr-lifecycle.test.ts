import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { basicPassword, imageRegistryHost, mintPassword, readPassword } from "../../src/services/ecr/auth.js";
import {
  type LifecycleImage,
  expiredImages,
  parseLifecyclePolicy,
  wildcardMatch,
} from "../../src/services/ecr/lifecycle.js";

const day = 86_400_000;
const now = new Date("2026-06-01T00:00:00Z");
const img = (digest: string, tags: string[], ageDays: number): LifecycleImage => ({
  digest,
  tags,
  pushedAt: new Date(now.getTime() - ageDays * day),
});
const policy = (...rules: object[]) => JSON.stringify({ rules });
const rule = (rulePriority: number, selection: object) => ({ rulePriority, selection, action: { type: "expire" } });

describe("parseLifecyclePolicy", () => {
  it.each([
    ["not JSON", "{", /valid JSON/],
    ["no rules", policy(), /non-empty/],
    [
      "duplicate priority",
      policy(
        rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1 }),
        rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 }),
      ),
      /more than one rule/,
    ],
    [
      "tagged without prefixes",
      policy(rule(1, { tagStatus: "tagged", countType: "imageCountMoreThan", countNumber: 1 })),
      /tagPrefixList or tagPatternList/,
    ],
    [
      "any not last",
      policy(
        rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 }),
        rule(2, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1 }),
      ),
      /highest rulePriority/,
    ],
    [
      "five wildcards",
      policy(
        rule(1, {
          tagStatus: "tagged",
          tagPatternList: ["*a*b*c*d*"],
          countType: "imageCountMoreThan",
          countNumber: 1,
        }),
      ),
      /at most 4 wildcards/,
    ],
    [
      "sinceImagePushed without days",
      policy(rule(1, { tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 1 })),
      /countUnit/,
    ],
    [
      "zero count",
      policy(rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 0 })),
      /countNumber/,
    ],
  ])("rejects %s", (_name, text, message) => {
    expect(() => parseLifecyclePolicy(text)).toThrow(
      expect.objectContaining({ code: "InvalidParameterException", message: expect.stringMatching(message) }),
    );
  });
});

describe("expiredImages", () => {
  it("keeps the newest N untagged images", () => {
    const rules = parseLifecyclePolicy(
      policy(rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1 })),
    );
    const images = [img("a", [], 3), img("b", [], 1), img("c", ["v1"], 5), img("d", [], 2)];
    expect(
      expiredImages(rules, images, now)
        .map((e) => e.image.digest)
        .sort(),
    ).toEqual(["a", "d"]);
  });

  it("expires tagged images older than N days by prefix, all prefixes required", () => {
    const rules = parseLifecyclePolicy(
      policy(
        rule(1, {
          tagStatus: "tagged",
          tagPrefixList: ["prod", "v"],
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: 7,
        }),
      ),
    );
    const images = [
      img("old-both", ["prod-1", "v1"], 10),
      img("old-one", ["prod-2"], 10),
      img("new", ["prod-3", "v3"], 1),
    ];
    expect(expiredImages(rules, images, now).map((e) => e.image.digest)).toEqual(["old-both"]);
  });

  it("lets an image be claimed only by the first rule that selects it", () => {
    const rules = parseLifecyclePolicy(
      policy(
        rule(1, {
          tagStatus: "tagged",
          tagPatternList: ["release-*"],
          countType: "imageCountMoreThan",
          countNumber: 5,
        }),
        rule(2, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 }),
      ),
    );
    const images = [img("r1", ["release-1"], 5), img("r2", ["release-2"], 4), img("x", ["dev"], 3), img("y", [], 1)];
    const out = expiredImages(rules, images, now);
    expect(out).toEqual([{ image: images[2], rulePriority: 2 }]);
  });

  it("never expires more than imageCountMoreThan leaves", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        (ages, keep) => {
          const images = ages.map((a, i) => img(`d${i}`, [], a));
          const rules = parseLifecyclePolicy(
            policy(rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: keep })),
          );
          const expired = new Set(expiredImages(rules, images, now).map((e) => e.image.digest));
          const kept = images.filter((i) => !expired.has(i.digest));
          const newestExpired = Math.max(
            ...images.filter((i) => expired.has(i.digest)).map((i) => i.pushedAt.getTime()),
            -Infinity,
          );
          return (
            kept.length === Math.min(keep, images.length) && kept.every((k) => k.pushedAt.getTime() >= newestExpired)
          );
        },
      ),
    );
  });

  it.each([
    ["v*", "v1.2", true],
    ["*-prod", "api-prod", true],
    ["*-prod", "api-prod-2", false],
    ["a.b", "aXb", false],
  ])("wildcard %s matches %s: %s", (p, t, ok) => expect(wildcardMatch(p, t)).toBe(ok));
});

describe("registry passwords", () => {
  const secret = "s3cret";
  it("round-trips the claims and never contains a colon", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{12}$/), fc.constantFrom("us-east-1", "eu-west-3"), (account, region) => {
        const p = mintPassword(secret, { account, region, expiresAt: now.getTime() + 1000 });
        return !p.includes(":") && readPassword(secret, p, now.getTime())?.account === account;
      }),
    );
  });

  it("rejects expired, tampered and foreign passwords", () => {
    const p = mintPassword(secret, { account: "000000000000", region: "us-east-1", expiresAt: now.getTime() + 1000 });
    expect(readPassword(secret, p, now.getTime() + 2000)).toBeUndefined();
    expect(readPassword("other", p, now.getTime())).toBeUndefined();
    expect(readPassword(secret, `${p.slice(0, -2)}xx`, now.getTime())).toBeUndefined();
  });

  it("reads Basic AWS credentials only", () => {
    expect(basicPassword(`Basic ${Buffer.from("AWS:abc").toString("base64")}`)).toBe("abc");
    expect(basicPassword(`Basic ${Buffer.from("bob:abc").toString("base64")}`)).toBeUndefined();
    expect(basicPassword(undefined)).toBeUndefined();
  });

  it.each([
    ["localhost:4566/app:1", "localhost:4566"],
    ["000000000000.dkr.ecr.us-east-1.localhost:4566/a/b", "000000000000.dkr.ecr.us-east-1.localhost:4566"],
    ["nginx:alpine", undefined],
    ["library/nginx", undefined],
  ])("registry host of %s is %s", (image, host) => expect(imageRegistryHost(image)).toBe(host));
});
