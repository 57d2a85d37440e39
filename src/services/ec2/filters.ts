import { ServiceError } from "../../core/errors.js";

/** An EC2 `Filter`: a name and the values any of which may match. */
export interface Filter {
  Name?: string;
  Values?: string[];
}

/**
 * The filter names a kind of resource answers to, each with the values an item has for it; with
 * `tags`, also `tag:<key>`, `tag-key` and `tag-value`.
 */
export interface FilterSpec<T> {
  names: Record<string, (item: T) => readonly (string | undefined)[]>;
  tags?: (item: T) => readonly { Key?: string; Value?: string }[] | undefined;
}

/** EC2's filter wildcards: `*` any run, `?` one character, `\` escapes the next one. */
export function wildcardRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`);
}

const escapeRegExp = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const invalidFilter = (name: string) => new ServiceError("InvalidParameterValue", `The filter '${name}' is invalid`);

/**
 * The items every filter matches (filters AND, a filter's values OR). Unknown filter names are
 * refused as EC2 does, even when there are no items to filter.
 */
export function applyFilters<T>(items: T[], filters: readonly Filter[] | undefined, spec: FilterSpec<T>): T[] {
  if (!filters?.length) return items;
  const compiled = filters.map((f) => {
    const name = f.Name ?? "";
    const values = valuesFor(spec, name);
    if (!values) throw invalidFilter(name || "null");
    return { values, patterns: (f.Values ?? []).map(wildcardRegExp) };
  });
  return items.filter((item) =>
    compiled.every(({ values, patterns }) => {
      const have = values(item).filter((v): v is string => v !== undefined);
      return patterns.some((p) => have.some((v) => p.test(v)));
    }),
  );
}

function valuesFor<T>(spec: FilterSpec<T>, name: string): ((item: T) => readonly (string | undefined)[]) | undefined {
  if (Object.hasOwn(spec.names, name)) return spec.names[name];
  const tagsOf = spec.tags;
  if (!tagsOf) return undefined;
  if (name.startsWith("tag:")) {
    const key = name.slice(4);
    return (item) => (tagsOf(item) ?? []).filter((t) => t.Key === key).map((t) => t.Value ?? "");
  }
  if (name === "tag-key") return (item) => (tagsOf(item) ?? []).map((t) => t.Key);
  if (name === "tag-value") return (item) => (tagsOf(item) ?? []).map((t) => t.Value);
  return undefined;
}
