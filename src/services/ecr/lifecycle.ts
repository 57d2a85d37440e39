import { ecrErrors } from "../../protocol/generated/errors/ecr.js";

/** ECR lifecycle policies (AWS-FACTS §5): validation and image selection, pure. */

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: "tagged" | "untagged" | "any";
    tagPrefixList?: string[];
    tagPatternList?: string[];
    countType: "imageCountMoreThan" | "sinceImagePushed";
    countUnit?: "days";
    countNumber: number;
  };
  action: { type: "expire" };
}

export interface LifecycleImage {
  digest: string;
  tags: string[];
  pushedAt: Date;
}

export interface Expiry {
  image: LifecycleImage;
  rulePriority: number;
}

const invalid = (message: string) =>
  ecrErrors.InvalidParameterException(
    `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '${message}'`,
  );

/** Parses and checks a lifecycle policy text; throws InvalidParameterException naming the problem. */
export function parseLifecyclePolicy(text: string): LifecycleRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid("Lifecycle policy is not valid JSON");
  }
  const rules = (doc as { rules?: unknown })?.rules;
  if (!Array.isArray(rules) || rules.length === 0) throw invalid("Lifecycle policy must have a non-empty 'rules' list");
  const seen = new Set<number>();
  const out: LifecycleRule[] = [];
  for (const raw of rules) {
    const r = raw as LifecycleRule;
    if (!Number.isInteger(r?.rulePriority) || r.rulePriority < 1)
      throw invalid("rulePriority must be a positive integer");
    if (seen.has(r.rulePriority)) throw invalid(`rulePriority ${r.rulePriority} is used by more than one rule`);
    seen.add(r.rulePriority);
    const s = r.selection;
    if (!s || !["tagged", "untagged", "any"].includes(s.tagStatus))
      throw invalid(`rule ${r.rulePriority}: selection.tagStatus must be tagged, untagged or any`);
    if (s.tagStatus === "tagged" && !s.tagPrefixList?.length && !s.tagPatternList?.length)
      throw invalid(`rule ${r.rulePriority}: tagStatus 'tagged' needs a tagPrefixList or tagPatternList`);
    if (s.tagPrefixList?.length && s.tagPatternList?.length)
      throw invalid(`rule ${r.rulePriority}: use tagPrefixList or tagPatternList, not both`);
    for (const p of s.tagPatternList ?? [])
      if ((p.match(/\*/g)?.length ?? 0) > 4)
        throw invalid(`rule ${r.rulePriority}: at most 4 wildcards per tag pattern ('${p}')`);
    if (s.countType !== "imageCountMoreThan" && s.countType !== "sinceImagePushed")
      throw invalid(`rule ${r.rulePriority}: countType must be imageCountMoreThan or sinceImagePushed`);
    if (s.countType === "sinceImagePushed" && s.countUnit !== "days")
      throw invalid(`rule ${r.rulePriority}: sinceImagePushed needs countUnit 'days'`);
    if (s.countType === "imageCountMoreThan" && s.countUnit !== undefined)
      throw invalid(`rule ${r.rulePriority}: countUnit is only allowed with sinceImagePushed`);
    if (!Number.isInteger(s.countNumber) || s.countNumber < 1)
      throw invalid(`rule ${r.rulePriority}: countNumber must be a positive integer`);
    if (r.action?.type !== "expire") throw invalid(`rule ${r.rulePriority}: action.type must be 'expire'`);
    out.push(r);
  }
  out.sort((a, b) => a.rulePriority - b.rulePriority);
  const anyRule = out.find((r) => r.selection.tagStatus === "any");
  if (anyRule && anyRule !== out[out.length - 1])
    throw invalid("the rule with tagStatus 'any' must have the highest rulePriority");
  return out;
}

/** `*` wildcard match of a whole tag. */
export function wildcardMatch(pattern: string, tag: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(tag);
}

function selects(rule: LifecycleRule, image: LifecycleImage): boolean {
  const s = rule.selection;
  if (s.tagStatus === "any") return true;
  if (s.tagStatus === "untagged") return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  // With several prefixes or patterns, an image must match every one of them (AWS docs).
  if (s.tagPrefixList?.length) return s.tagPrefixList.every((p) => image.tags.some((t) => t.startsWith(p)));
  return (s.tagPatternList ?? []).every((p) => image.tags.some((t) => wildcardMatch(p, t)));
}

/**
 * Which images a policy expires now. Rules apply in priority order; an image is claimed by the
 * first rule that selects it and is never considered by a later one. imageCountMoreThan keeps the
 * newest countNumber images a rule claims; sinceImagePushed expires those older than countNumber days.
 */
export function expiredImages(rules: LifecycleRule[], images: LifecycleImage[], now: Date): Expiry[] {
  const claimed = new Set<string>();
  const out: Expiry[] = [];
  for (const rule of rules) {
    const mine = images.filter((i) => !claimed.has(i.digest) && selects(rule, i));
    for (const i of mine) claimed.add(i.digest);
    const s = rule.selection;
    let expire: LifecycleImage[];
    if (s.countType === "imageCountMoreThan") {
      const newestFirst = [...mine].sort(
        (a, b) => b.pushedAt.getTime() - a.pushedAt.getTime() || a.digest.localeCompare(b.digest),
      );
      expire = newestFirst.slice(s.countNumber);
    } else {
      const cutoff = now.getTime() - s.countNumber * 86_400_000;
      expire = mine.filter((i) => i.pushedAt.getTime() < cutoff);
    }
    for (const image of expire) out.push({ image, rulePriority: rule.rulePriority });
  }
  return out;
}
