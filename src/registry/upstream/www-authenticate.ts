/**
 * PURE: the `WWW-Authenticate` challenge of a registry (RFC 7235 with the Docker token spec's
 * parameters): `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"`.
 */

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Every challenge in a header (schemes lowercased, parameter names lowercased, values unquoted). */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  const text = header ?? "";
  let i = 0;
  const skip = (re: RegExp) => {
    while (i < text.length && re.test(text[i])) i++;
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const start = i;
    skip(/[^\s,=]/);
    const word = text.slice(start, i);
    if (!word) break;
    const challenge: Challenge = { scheme: word.toLowerCase(), params: {} };
    out.push(challenge);
    // Parameters: name=value pairs separated by commas, until the next bare word (a new scheme).
    for (;;) {
      skip(/[\s,]/);
      const nameStart = i;
      skip(/[^\s,=]/);
      const name = text.slice(nameStart, i);
      skip(/\s/);
      if (!name || text[i] !== "=") {
        i = nameStart; // a new scheme (or the end)
        break;
      }
      i++;
      skip(/\s/);
      let value = "";
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\" && i + 1 < text.length) i++;
          value += text[i++];
        }
        i++;
      } else {
        const vStart = i;
        skip(/[^\s,]/);
        value = text.slice(vStart, i);
      }
      challenge.params[name.toLowerCase()] = value;
    }
    if (i === start) break;
  }
  return out;
}

/** The token request a Bearer challenge asks for, or undefined when the challenge is not Bearer. */
export function tokenRequestUrl(challenge: Challenge, fallbackScope?: string): string | undefined {
  if (challenge.scheme !== "bearer" || !challenge.params.realm) return undefined;
  let url: URL;
  try {
    url = new URL(challenge.params.realm);
  } catch {
    return undefined;
  }
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  const scope = challenge.params.scope ?? fallbackScope;
  if (scope) url.searchParams.set("scope", scope);
  return url.toString();
}
