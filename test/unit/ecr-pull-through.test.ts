import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshness } from "../../src/registry/upstream/freshness.js";
import { parseChallenges, tokenRequestUrl } from "../../src/registry/upstream/www-authenticate.js";
import {
  cachedRepository,
  classifyUpstream,
  normalizePrefix,
  parseUpstreamSecret,
  prefixesOverlap,
  ruleFor,
  templateFor,
  upstreamRepository,
} from "../../src/services/ecr/pull-through-rules.js";

describe("pull-through rule prefixes", () => {
  it.each([
    ["docker-hub", "docker-hub"],
    ["docker-hub/", "docker-hub"],
    ["a/b", "a/b"],
    ["ROOT", "ROOT"],
  ])("%s is stored as %s", (input, stored) => {
    expect(normalizePrefix(input, 30)).toEqual({ prefix: stored });
  });

  it.each(["a", "Docker", "-x", "/x", "a//b", "x".repeat(31), "Root", "a b"])("refuses %j", (p) => {
    expect(normalizePrefix(p, 30)).toHaveProperty("problem");
  });

  it.each([
    ["hub", "hub", true],
    ["hub", "hub/x", true],
    ["hub/x", "hub", true],
    ["hub", "hubx", false],
    ["hub", "other", false],
    ["ROOT", "anything", true],
    ["a/b", "a/c", false],
  ])("%s and %s overlap: %s", (a, b, overlap) => {
    expect(prefixesOverlap(a, b)).toBe(overlap);
    expect(prefixesOverlap(b, a)).toBe(overlap);
  });

  it("the most specific rule covers a name; none covers a name outside every prefix", () => {
    const rules = [{ ecrRepositoryPrefix: "ROOT" }, { ecrRepositoryPrefix: "hub" }, { ecrRepositoryPrefix: "hub/x" }];
    expect(ruleFor(rules, "hub/x/y")?.ecrRepositoryPrefix).toBe("hub/x");
    expect(ruleFor(rules, "hub/library/nginx")?.ecrRepositoryPrefix).toBe("hub");
    expect(ruleFor(rules, "hubble/app")?.ecrRepositoryPrefix).toBe("ROOT");
    expect(ruleFor(rules.slice(1), "hubble/app")).toBeUndefined();
    expect(ruleFor(rules.slice(1), "hub")).toBeUndefined();
  });

  it.each([
    [{ ecrRepositoryPrefix: "hub" }, "hub/library/nginx", "library/nginx"],
    [{ ecrRepositoryPrefix: "hub", upstreamRepositoryPrefix: "ROOT" }, "hub/a/b", "a/b"],
    [{ ecrRepositoryPrefix: "team", upstreamRepositoryPrefix: "prod" }, "team/app", "prod/app"],
    [{ ecrRepositoryPrefix: "ROOT" }, "app/x", "app/x"],
  ])("%o maps %s to upstream %s and back", (rule, name, upstream) => {
    expect(upstreamRepository(rule, name)).toBe(upstream);
    expect(cachedRepository(rule, upstream)).toBe(name);
  });

  it("mapping a name upstream and back is the identity (property)", () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(
        component,
        fc.array(component, { minLength: 1, maxLength: 3 }),
        fc.option(component),
        (p, rest, up) => {
          const rule = { ecrRepositoryPrefix: p, upstreamRepositoryPrefix: up ?? undefined };
          const name = `${p}/${rest.join("/")}`;
          expect(cachedRepository(rule, upstreamRepository(rule, name))).toBe(name);
        },
      ),
    );
  });
});

describe("upstream registries", () => {
  it.each([
    ["registry-1.docker.io", "docker-hub", "https://registry-1.docker.io", true],
    ["public.ecr.aws", "ecr-public", "https://public.ecr.aws", false],
    ["quay.io", "quay", "https://quay.io", false],
    ["registry.k8s.io", "k8s", "https://registry.k8s.io", false],
    ["ghcr.io", "github-container-registry", "https://ghcr.io", true],
    ["registry.gitlab.com", "gitlab-container-registry", "https://registry.gitlab.com", true],
    ["myreg.azurecr.io", "azure-container-registry", "https://myreg.azurecr.io", true],
    [
      "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
      "ecr",
      "https://111122223333.dkr.ecr.eu-west-1.amazonaws.com",
      false,
    ],
    ["https://ghcr.io", "github-container-registry", "https://ghcr.io", true],
  ])("%s is %s at %s (credentials needed: %s)", (url, registry, endpoint, needs) => {
    expect(classifyUpstream(url)).toEqual({ registry, endpoint, needsCredentials: needs, loopback: false });
  });

  it.each(["docker.io", "example.com", "registry-1.docker.io/library", "ftp://quay.io", ""])(
    "%j is not supported",
    (u) => {
      expect(classifyUpstream(u)).toBeUndefined();
    },
  );

  it("loopback registries are plain HTTP and take the declared kind", () => {
    expect(classifyUpstream("127.0.0.1:5000", "docker-hub")).toEqual({
      registry: "docker-hub",
      endpoint: "http://127.0.0.1:5000",
      needsCredentials: false,
      loopback: true,
    });
    expect(classifyUpstream("https://localhost:5443")?.endpoint).toBe("https://localhost:5443");
    expect(classifyUpstream("[::1]:5000")?.loopback).toBe(true);
  });

  it.each([
    ['{"username":"u","accessToken":"t"}', { username: "u", accessToken: "t" }],
    ['{"username":"u"}', undefined],
    ['{"username":"","accessToken":"t"}', undefined],
    ["u:t", undefined],
    ["null", undefined],
  ])("secret %s holds %o", (text, creds) => {
    expect(parseUpstreamSecret(text)).toEqual(creds);
  });
});

describe("repository creation templates", () => {
  const t = (prefix: string, appliedFor = ["PULL_THROUGH_CACHE"]) => ({ prefix, appliedFor });
  it.each([
    [[t("hub"), t("hub/library"), t("ROOT")], "hub/library/nginx", "hub/library"],
    [[t("hub"), t("ROOT")], "hub/x", "hub"],
    [[t("hub"), t("ROOT")], "other/x", "ROOT"],
    [[t("hub", ["REPLICATION"]), t("ROOT")], "hub/x", "ROOT"],
    [[t("hub", ["CREATE_ON_PUSH"])], "hub/x", undefined],
    [[t("hu")], "hub/x", undefined],
  ])("%o for %s → %s", (templates, name, chosen) => {
    expect(templateFor(templates, name, "PULL_THROUGH_CACHE")?.prefix).toBe(chosen);
  });
});

describe("WWW-Authenticate", () => {
  it("parses Docker Hub's Bearer challenge", () => {
    const [c] = parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
    );
    expect(c).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/nginx:pull",
      },
    });
    expect(tokenRequestUrl(c)).toBe(
      "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull",
    );
  });

  it.each([
    ['Basic realm="Registry Realm"', [{ scheme: "basic", params: { realm: "Registry Realm" } }]],
    ["Basic", [{ scheme: "basic", params: {} }]],
    [
      'Basic realm="a", Bearer realm="https://t/x",service=s',
      [
        { scheme: "basic", params: { realm: "a" } },
        { scheme: "bearer", params: { realm: "https://t/x", service: "s" } },
      ],
    ],
    ['Bearer realm="q\\"uote"', [{ scheme: "bearer", params: { realm: 'q"uote' } }]],
    ["", []],
  ])("%j", (header, challenges) => {
    expect(parseChallenges(header)).toEqual(challenges);
  });

  it("a Bearer challenge without a scope asks for the pull scope; a bad realm asks nothing", () => {
    expect(
      tokenRequestUrl({ scheme: "bearer", params: { realm: "http://127.0.0.1:9/t" } }, "repository:a/b:pull"),
    ).toBe("http://127.0.0.1:9/t?scope=repository%3Aa%2Fb%3Apull");
    expect(tokenRequestUrl({ scheme: "bearer", params: { realm: "not a url" } })).toBeUndefined();
    expect(tokenRequestUrl({ scheme: "basic", params: { realm: "http://x/" } })).toBeUndefined();
  });

  it("never throws on arbitrary headers (property)", () => {
    fc.assert(fc.property(fc.string(), (h) => Array.isArray(parseChallenges(h))));
  });
});

describe("freshness of cached images", () => {
  const day = 86_400_000;
  it.each([
    [{ present: false, isTag: true }, "fetch"],
    [{ present: false, isTag: false }, "fetch"],
    [{ present: true, isTag: false }, "serve"],
    [{ present: true, isTag: true, checkedAt: 0 }, "serve"],
    [{ present: true, isTag: true, checkedAt: -day }, "revalidate"],
    [{ present: true, isTag: true }, "revalidate"],
  ])("%o at t=1 → %s", (cached, decision) => {
    expect(freshness(cached, 1, day)).toBe(decision);
  });
});
