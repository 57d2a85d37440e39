import { hostOnly, splitTarget } from "./http1.js";
import type { RedirectAction } from "./routing.js";

/**
 * Where a redirect action sends a request: each URL component of the action with the #{protocol},
 * #{host}, #{port}, #{path} and #{query} keywords replaced by the request's own (the listener
 * speaks plain HTTP, so #{protocol} is "http"). Pure.
 */
export function redirectLocation(
  action: Omit<RedirectAction, "kind" | "status">,
  request: { target: string; host: string; listenerPort: number },
): string {
  const { path, query } = splitTarget(request.target);
  const host = hostOnly(request.host);
  const port = String(request.listenerPort);
  // Replaced one keyword after the other, as ALB does: a value that itself reads "#{…}" is replaced again.
  const sub = (s: string) =>
    s
      .replaceAll("#{protocol}", "http")
      .replaceAll("#{host}", host)
      .replaceAll("#{port}", port)
      .replaceAll("#{path}", path.slice(1))
      .replaceAll("#{query}", query);
  const protocol = action.protocol === "#{protocol}" ? "http" : action.protocol.toLowerCase();
  const q = sub(action.query);
  return `${protocol}://${sub(action.host)}:${sub(action.port)}${sub(action.path)}${q ? `?${q}` : ""}`;
}
