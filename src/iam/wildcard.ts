/**
 * IAM's wildcards: `*` matches any run of characters (also none), `?` exactly one. Pure.
 * Patterns compile to anchored regular expressions once and are cached.
 */

const cache = new Map<string, RegExp>();
const MAX_CACHE = 4096;

function compile(pattern: string, ignoreCase: boolean): RegExp {
  const key = `${ignoreCase ? "i" : "s"}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    let src = "^";
    for (const ch of pattern) {
      if (ch === "*") src += "[\\s\\S]*";
      else if (ch === "?") src += "[\\s\\S]";
      else src += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
    }
    re = new RegExp(`${src}$`, ignoreCase ? "iu" : "u");
    if (cache.size >= MAX_CACHE) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** `*`/`?` glob match of a whole string. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === "*") return true;
  if (!pattern.includes("*") && !pattern.includes("?"))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  return compile(pattern, ignoreCase).test(value);
}

/** Actions compare case-insensitively (`ECS:runtask` = `ecs:RunTask`). */
export const actionMatches = (pattern: string, action: string) => globMatch(pattern, action, true);

/**
 * ARN patterns match component by component (partition, service, region, account), then the
 * resource part as a whole, so `*` in the region never swallows the account. A pattern that is
 * not an ARN (only `*` is allowed in policies) matches as a plain glob.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return !pattern.startsWith("arn:") && globMatch(pattern, arn);
  for (let i = 0; i < 6; i++) if (!globMatch(p[i], a[i])) return false;
  return true;
}

/** `arn:partition:service:region:account:resource` → its six parts (the resource may hold colons). */
export function splitArn(value: string): string[] | undefined {
  const parts = value.split(":");
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}
