/** serviceaccounts/token (the TokenRequest API) and the service account issuer's OIDC discovery. */
import { kubeErrors } from "../kube/errors.js";
import { dryRunOf } from "./admit.js";
import type { Call } from "./context.js";
import { mediaType, notFoundPath, parseObject, sendBytes, sendJson } from "./http.js";

/** POST …/serviceaccounts/<name>/token: a TokenRequest in, the same with status.token out (201). */
export function handleTokenRequest(c: Call, body: Buffer) {
  if (c.info.verb !== "create")
    throw kubeErrors.methodNotAllowed("the server does not allow this method on the requested resource");
  if (!c.deps.tokens) throw notFoundPath();
  const obj = body.length ? parseObject(body, mediaType(c.req)) : {};
  const answer = c.deps.tokens.request(c.cluster, c.info.namespace ?? "", c.info.name ?? "", obj, {
    dryRun: dryRunOf(c.query),
  });
  sendJson(c.res, 201, answer);
}

/** The discovery paths, as kube-apiserver serves them (the system:service-account-issuer-discovery role grants them). */
export const OIDC_PATHS = ["/.well-known/openid-configuration", "/openid/v1/jwks"];

export function serveOidcDiscovery(c: Call, path: string) {
  const doc = c.deps.tokens?.discovery(c.cluster);
  if (!doc) throw notFoundPath();
  if (path === OIDC_PATHS[0])
    return sendBytes(c.res, 200, Buffer.from(JSON.stringify(doc.configuration)), "application/json");
  return sendBytes(c.res, 200, Buffer.from(JSON.stringify(doc.jwks)), "application/jwk-set+json");
}
