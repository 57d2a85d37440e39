import { DOCKER_HUB, parseImageRef } from "../../runtime/image-ref.js";
import type { PullThroughRuleRecord } from "../../store/schema/ecr.js";
import { REPOSITORY_NAME } from "./context.js";
import { cachedRepository, classifyUpstream, ruleFor } from "./pull-through-rules.js";

/**
 * PURE: where an image named in a task definition or pod is pulled from — Berth's mirror list.
 * Entries: `pull-through` (Berth's registry, through the pull-through rule that covers the image's
 * registry, or the rule whose prefix the name starts with), `upstream` (the image's own registry,
 * as Docker would pull it), or `<host>[/<path>]` (a registry mirror for Docker Hub images, as
 * Docker's `registry-mirrors`).
 */

export const DEFAULT_MIRRORS = ["pull-through", "upstream"];

export interface MirrorContext {
  /** `localhost:4566`: Berth's registry. */
  berthHost: string;
  rules: PullThroughRuleRecord[];
  mirrors: string[];
  /** Whether Berth has the ECR Public repository `public.ecr.aws/<alias>/<name>`. */
  publicRepository: (path: string) => boolean;
}

/** The upstream host a rule stands for, as image references spell it (`docker.io` for Docker Hub). */
function ruleDomain(rule: PullThroughRuleRecord): string | undefined {
  const kind = classifyUpstream(rule.upstreamRegistryUrl, rule.upstreamRegistry);
  if (!kind) return undefined;
  if (kind.registry === "docker-hub") return DOCKER_HUB;
  return new URL(kind.endpoint).host;
}

/** The references to try for `image`, in order; the image itself when nothing else applies. */
export function mirrorCandidates(image: string, ctx: MirrorContext): string[] {
  const ref = parseImageRef(image);
  if (ref.domain === ctx.berthHost || image.startsWith(`${ctx.berthHost}/`)) return [image];
  const out: string[] = [];
  const add = (r: string) => {
    if (!out.includes(r)) out.push(r);
  };
  const berth = (name: string) => `${ctx.berthHost}/${name}${ref.reference}`;
  for (const entry of ctx.mirrors) {
    if (entry === "pull-through") {
      // `hub/library/app:1`: a name under a rule's prefix is that rule's cached repository.
      if (ref.implicitDomain) {
        const direct = ruleFor(ctx.rules, ref.path);
        if (direct && direct.ecrRepositoryPrefix !== "ROOT") {
          add(berth(ref.path));
          continue;
        }
      }
      if (ref.domain === "public.ecr.aws" && ctx.publicRepository(ref.path)) add(berth(`public.ecr.aws/${ref.path}`));
      const rule = ctx.rules
        .filter((r) => ruleDomain(r) === ref.domain)
        .sort((a, b) => a.ecrRepositoryPrefix.localeCompare(b.ecrRepositoryPrefix))
        .map((r) => ({ r, name: cachedRepository(r, ref.path) }))
        .find((x) => x.name !== undefined && REPOSITORY_NAME.test(x.name));
      if (rule?.name) add(berth(rule.name));
    } else if (entry === "upstream") {
      add(image);
    } else if (ref.domain === DOCKER_HUB && entry) {
      add(`${entry.replace(/\/+$/, "")}/${ref.path}${ref.reference}`);
    }
  }
  return out.length > 0 ? out : [image];
}
