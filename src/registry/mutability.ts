import type { RepositoryInfo } from "./api.js";
import { registryError } from "./errors.js";

/** Tag immutability as ECR defines it (pure). */

/** ECR's wildcard filters: `*` matches any run of characters, everything else itself. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const mid of parts.slice(1, -1)) {
    const i = value.indexOf(mid, at);
    if (i < 0 || i + mid.length > end) return false;
    at = i + mid.length;
  }
  return true;
}

/** Whether a tag, once it exists, may not be moved to another manifest. */
export function isTagImmutable(
  repo: Pick<RepositoryInfo, "imageTagMutability" | "mutabilityExclusionFilters">,
  tag: string,
): boolean {
  const excluded = () => repo.mutabilityExclusionFilters.some((f) => wildcardMatch(f, tag));
  switch (repo.imageTagMutability) {
    case "MUTABLE":
      return false;
    case "IMMUTABLE":
      return true;
    case "IMMUTABLE_WITH_EXCLUSION":
      return !excluded();
    case "MUTABLE_WITH_EXCLUSION":
      return excluded();
  }
}

/**
 * Throws TAG_INVALID (the text ECR answers a push with) when `tag` exists at `current` and may
 * not move to `next`. Re-pushing the same manifest under an immutable tag is fine.
 */
export function checkTagMove(repo: RepositoryInfo, tag: string, current: string | undefined, next: string) {
  if (current === undefined || current === next || !isTagImmutable(repo, tag)) return;
  throw registryError(
    "TAG_INVALID",
    `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the ${
      repo.imageTagMutability === "MUTABLE_WITH_EXCLUSION"
        ? "tag matches an immutability filter"
        : "repository is immutable"
    }.`,
    { tag, digest: current },
  );
}
