import type { ForwardAction, ForwardGroup } from "./routing.js";
import { pickWeighted } from "./select.js";
import type { TargetRuntime } from "./target-group.js";

/**
 * Sticky sessions, as ALB does them with its own cookies: AWSALB names the target a client was
 * sent to (target group stickiness, lb_cookie), AWSALBTG the target group of a weighted forward
 * action (forward-action stickiness). Both values are opaque to the client (base64url here).
 */

export const STICKY_COOKIE = "AWSALB";
export const GROUP_COOKIE = "AWSALBTG";

/** The value of cookie `name` in a request's Cookie header values, trimmed; the first one wins. */
export function cookieValue(cookieHeaders: readonly string[], name: string): string | undefined {
  for (const value of cookieHeaders) {
    for (const part of value.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

export const encodeSticky = (key: string) => Buffer.from(key).toString("base64url");
export const decodeSticky = (value: string) => {
  try {
    return Buffer.from(value, "base64url").toString();
  } catch {
    return "";
  }
};

/** The Set-Cookie line (with its CRLF) that keeps a client on `key` until `expiresAtMs`. */
export const setCookieLine = (name: string, key: string, expiresAtMs: number) =>
  `Set-Cookie: ${name}=${encodeSticky(key)}; Expires=${new Date(expiresAtMs).toUTCString()}; Path=/\r\n`;

/** Where a forward action sends a request, and the Set-Cookie lines the response must carry. */
export interface ForwardChoice {
  /** Undefined when no group may take traffic (every weight 0): ALB answers 503. */
  group?: ForwardGroup;
  /** Undefined when the group has no routable target: ALB answers 503 (with the group's cookie). */
  target?: TargetRuntime;
  setCookies: string;
}

/**
 * Picks the target group (weighted, or the one the AWSALBTG cookie names while it still has
 * weight) and then the target (the one the AWSALB cookie names while it is still routable, else
 * by the group's algorithm). Advances the round-robin state of the action and the group.
 */
export function chooseForward(action: ForwardAction, cookieHeaders: () => string[], now: number): ForwardChoice {
  let setCookies = "";
  let gi = -1;
  if (action.groups.length === 1) gi = action.weights[0] > 0 ? 0 : -1;
  else {
    if (action.groupStickySeconds > 0) {
      const v = cookieValue(cookieHeaders(), GROUP_COOKIE);
      if (v) {
        const arn = decodeSticky(v);
        const i = action.groups.findIndex((g) => g.tg.arn === arn);
        if (i >= 0 && action.weights[i] > 0) gi = i;
      }
    }
    if (gi < 0) gi = pickWeighted(action.weights, action.current);
    if (gi >= 0 && action.groupStickySeconds > 0)
      setCookies += setCookieLine(GROUP_COOKIE, action.groups[gi].tg.arn, now + action.groupStickySeconds * 1000);
  }
  if (gi < 0) return { setCookies };
  const group = action.groups[gi];
  const tg = group.tg;
  let target: TargetRuntime | undefined;
  const sticky = tg.spec.stickiness;
  if (sticky.enabled) {
    const v = cookieValue(cookieHeaders(), STICKY_COOKIE);
    if (v) {
      const t = tg.targets.get(decodeSticky(v));
      if (t && tg.eligible.includes(t)) target = t;
    }
  }
  target ??= tg.pick(now);
  if (!target) return { group, setCookies };
  if (sticky.enabled) setCookies += setCookieLine(STICKY_COOKIE, target.key, now + sticky.durationSeconds * 1000);
  return { group, target, setCookies };
}
