import type { IncomingMessage, ServerResponse } from "node:http";
import { registryError } from "../errors.js";
import { sendError, sendJson } from "./respond.js";

/**
 * The token service of the Bearer challenge (see `challenge` in respond.ts). A token is the
 * caller's Basic credential (base64 `AWS:<password>`, so it expires with the password) or, for a
 * caller without credentials, the anonymous token, which pulls public repositories only.
 */
export const ANONYMOUS = "anonymous";

const TOKEN_LIFETIME_S = 12 * 60 * 60;

/** The Authorization header as the policy reads it: Bearer tokens back to `Basic …`, anonymous to none. */
export function credentialsOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m) return header;
  return m[1] === ANONYMOUS ? undefined : `Basic ${m[1]}`;
}

/**
 * GET (docker, skopeo) or POST with an OAuth2 password grant (containerd) of the token path.
 * `authorization` is the caller's Basic credential when valid, undefined otherwise.
 */
export async function tokenRoute(req: IncomingMessage, res: ServerResponse, authorization: string | undefined) {
  if (req.method !== "GET" && req.method !== "HEAD")
    // containerd falls back to GET when the OAuth POST is refused.
    return sendError(res, registryError("UNSUPPORTED", "use GET with Basic credentials", undefined, 405));
  const presented = req.headers.authorization;
  if (presented !== undefined && /^Basic\s/i.test(presented) && authorization === undefined)
    return sendError(
      res,
      registryError("UNAUTHORIZED", "invalid credentials: use the password from aws ecr get-login-password"),
    );
  const token = authorization ? authorization.replace(/^Basic\s+/i, "") : ANONYMOUS;
  return sendJson(res, 200, {
    token,
    access_token: token,
    expires_in: TOKEN_LIFETIME_S,
  });
}
