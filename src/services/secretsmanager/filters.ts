/**
 * ListSecrets / BatchGetSecretValue filters as Secrets Manager documents them, pure:
 * - name, tag-key, tag-value, primary-region, owning-service: prefix match, case-sensitive;
 * - description: the value's words each begin a word of the description, not case-sensitive;
 * - all: the same word match over the name, description, tag keys and tag values.
 * Words split at anything but letters and digits, at a lowercase→uppercase change and between
 * letters and digits ("credsDatabase#892" → creds, Database, 892). A value starting with `!`
 * negates: it matches the secrets whose attribute does not match the rest (no tag key, for
 * tag-key). Several values of one filter
 * match when any does; several filters (the same key repeated too) must all match.
 */
import { commonErrors } from "../../core/errors.js";
import { secretsmanagerErrors } from "../../protocol/generated/errors/secretsmanager.js";

export interface FilterSubject {
  name: string;
  description?: string;
  tags: { Key?: string; Value?: string }[];
  primaryRegion?: string;
  owningService?: string;
}

export interface SecretFilter {
  Key?: string;
  Values?: string[];
}

const VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const KEYS = ["description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"];

/** The words of a text: letter-and-digit runs, split at lower→upper case changes and letter↔digit changes. */
export function words(text: string): string[] {
  return text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [];
}

/** Every word of the pattern begins some word of the text (not case-sensitive); an empty pattern matches nothing. */
function wordsMatch(pattern: string, text: string): boolean {
  const want = words(pattern).map((w) => w.toLowerCase());
  if (want.length === 0) return false;
  const have = words(text).map((w) => w.toLowerCase());
  return want.every((w) => have.some((h) => h.startsWith(w)));
}

type Matcher = (pattern: string, actual: string) => boolean;
const prefix: Matcher = (p, a) => a.startsWith(p);

/** One value against an attribute's strings: any string matches, or with `!` none does. */
function valueMatches(value: string, strings: string[], match: Matcher): boolean {
  if (value.startsWith("!")) return !strings.some((s) => match(value.slice(1), s));
  return strings.some((s) => match(value, s));
}

function attribute(subject: FilterSubject, key: string): { strings: string[]; match: Matcher } {
  const defined = (xs: (string | undefined)[]) => xs.filter((x): x is string => x !== undefined);
  switch (key) {
    case "name":
      return { strings: [subject.name], match: prefix };
    case "description":
      return { strings: defined([subject.description]), match: wordsMatch };
    case "tag-key":
      return { strings: defined(subject.tags.map((t) => t.Key)), match: prefix };
    case "tag-value":
      return { strings: defined(subject.tags.map((t) => t.Value)), match: prefix };
    case "primary-region":
      return { strings: defined([subject.primaryRegion]), match: prefix };
    case "owning-service":
      return { strings: defined([subject.owningService]), match: prefix };
    default:
      return {
        strings: defined([subject.name, subject.description, ...subject.tags.flatMap((t) => [t.Key, t.Value])]),
        match: wordsMatch,
      };
  }
}

/** Refuses filters AWS refuses: unknown keys, values breaking the model's pattern, too many values. */
export function checkFilters(filters: SecretFilter[] | undefined) {
  (filters ?? []).forEach((f, i) => {
    if (f.Key === undefined || !KEYS.includes(f.Key))
      throw secretsmanagerErrors.InvalidParameterException(
        `Invalid filter key: ${String(f.Key).slice(0, 64)}. Use one of ${KEYS.join(", ")}.`,
      );
    const values = f.Values ?? [];
    if (values.length === 0 || values.length > 10)
      throw commonErrors.ValidationException(
        `1 validation error detected: Value at 'filters.${i + 1}.member.values' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`,
      );
    values.forEach((v) => {
      if (v.length > 512 || !VALUE.test(v))
        throw commonErrors.ValidationException(
          `1 validation error detected: Value '[${v.slice(0, 64)}]' at 'filters.${i + 1}.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 512, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$]`,
        );
    });
  });
}

/** Whether a secret passes every filter. */
export function matchesFilters(subject: FilterSubject, filters: SecretFilter[] | undefined): boolean {
  return (filters ?? []).every((f) => {
    const { strings, match } = attribute(subject, f.Key ?? "all");
    return (f.Values ?? []).some((v) => valueMatches(v, strings, match));
  });
}
