import { describe, expect, it } from "vitest";
import { parseImageRef } from "../../src/runtime/image-ref.js";
import { mirrorCandidates } from "../../src/services/ecr/mirrors.js";
import type { PullThroughRuleRecord } from "../../src/store/schema/ecr.js";

describe("image references as Docker reads them", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx", ":latest", true],
    ["nginx:1.27", "docker.io", "library/nginx", ":1.27", true],
    ["library/nginx", "docker.io", "library/nginx", ":latest", true],
    ["docker.io/nginx", "docker.io", "library/nginx", ":latest", false],
    ["index.docker.io/library/nginx:1", "docker.io", "library/nginx", ":1", false],
    ["bitnami/redis:7", "docker.io", "bitnami/redis", ":7", true],
    ["public.ecr.aws/docker/library/redis:7", "public.ecr.aws", "docker/library/redis", ":7", false],
    ["ghcr.io/o/app@sha256:abc", "ghcr.io", "o/app", "@sha256:abc", false],
    ["localhost:4566/hub/library/app:1", "localhost:4566", "hub/library/app", ":1", false],
    ["localhost/app", "localhost", "app", ":latest", false],
    ["127.0.0.1:5000/app", "127.0.0.1:5000", "app", ":latest", false],
  ])("%s", (image, domain, path, reference, implicitDomain) => {
    expect(parseImageRef(image)).toEqual({ domain, path, reference, implicitDomain });
  });
});

const rule = (prefix: string, url: string, extra: Partial<PullThroughRuleRecord> = {}): PullThroughRuleRecord => ({
  ecrRepositoryPrefix: prefix,
  upstreamRegistryUrl: url,
  registryId: "000000000000",
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...extra,
});

describe("mirror list", () => {
  const rules = [
    rule("docker-hub", "registry-1.docker.io", { upstreamRegistry: "docker-hub" }),
    rule("ecr-public", "public.ecr.aws"),
    rule("ghcr", "ghcr.io"),
  ];
  const ctx = {
    berthHost: "localhost:4566",
    rules,
    mirrors: ["pull-through", "upstream"],
    publicRepository: (p: string) => p === "berth/tools",
  };
  it.each([
    ["nginx:1.27", ["localhost:4566/docker-hub/library/nginx:1.27", "nginx:1.27"]],
    ["library/nginx", ["localhost:4566/docker-hub/library/nginx:latest", "library/nginx"]],
    ["docker.io/bitnami/redis:7", ["localhost:4566/docker-hub/bitnami/redis:7", "docker.io/bitnami/redis:7"]],
    [
      "public.ecr.aws/docker/library/redis:7",
      ["localhost:4566/ecr-public/docker/library/redis:7", "public.ecr.aws/docker/library/redis:7"],
    ],
    [
      "public.ecr.aws/berth/tools:1",
      [
        "localhost:4566/public.ecr.aws/berth/tools:1",
        "localhost:4566/ecr-public/berth/tools:1",
        "public.ecr.aws/berth/tools:1",
      ],
    ],
    ["ghcr.io/o/app@sha256:abc", ["localhost:4566/ghcr/o/app@sha256:abc", "ghcr.io/o/app@sha256:abc"]],
    ["quay.io/o/app:1", ["quay.io/o/app:1"]],
    ["docker-hub/library/app:1", ["localhost:4566/docker-hub/library/app:1", "docker-hub/library/app:1"]],
    ["localhost:4566/team/app:1", ["localhost:4566/team/app:1"]],
  ])("%s → %o", (image, refs) => {
    expect(mirrorCandidates(image, ctx)).toEqual(refs);
  });

  it("a loopback rule declared as Docker Hub stands in for Docker Hub", () => {
    const local = { ...ctx, rules: [rule("hub", "127.0.0.1:5000", { upstreamRegistry: "docker-hub" })] };
    expect(mirrorCandidates("nginx", local)).toEqual(["localhost:4566/hub/library/nginx:latest", "nginx"]);
    expect(mirrorCandidates("127.0.0.1:5000/library/app:1", local)).toEqual(["127.0.0.1:5000/library/app:1"]);
  });

  it("without rules, and with Docker-style mirrors, only Docker Hub images go to the mirrors", () => {
    const m = { ...ctx, rules: [], mirrors: ["mirror.example:5000/", "upstream"] };
    expect(mirrorCandidates("nginx", m)).toEqual(["mirror.example:5000/library/nginx:latest", "nginx"]);
    expect(mirrorCandidates("ghcr.io/o/app:1", m)).toEqual(["ghcr.io/o/app:1"]);
    expect(mirrorCandidates("nginx", { ...ctx, rules: [], mirrors: ["pull-through"] })).toEqual(["nginx"]);
  });
});
