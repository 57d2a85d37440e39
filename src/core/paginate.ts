import { ServiceError } from "./errors.js";

/**
 * Cuts a sorted list into pages. The token is opaque to clients: the position after the last
 * item returned, base64-encoded. A token that does not decode is AWS's InvalidParameterException.
 */
export function paginate<T>(
  items: T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  limits: { default: number; max: number; code?: string },
): { page: T[]; nextToken?: string } {
  const size = maxResults ?? limits.default;
  if (size < 1 || size > limits.max)
    throw new ServiceError(
      limits.code ?? "InvalidParameterException",
      `maxResults must be between 1 and ${limits.max}; got ${size}.`,
    );
  let start = 0;
  if (nextToken) {
    const decoded = Number(Buffer.from(nextToken, "base64").toString("utf8").replace(/^p:/, ""));
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new ServiceError(limits.code ?? "InvalidParameterException", "The nextToken is invalid or expired.");
    start = decoded;
  }
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return { page, nextToken: end < items.length ? Buffer.from(`p:${end}`).toString("base64") : undefined };
}
