/**
 * Bound service account tokens, as kube-apiserver issues and checks them: ES256 JWTs with the
 * cluster's OIDC issuer, `sub: system:serviceaccount:<ns>:<name>`, the audiences, expiry and the
 * `kubernetes.io` claims naming the service account and the object the token is bound to (a pod
 * or a secret). TokenRequest validation, signing, verification, the user a token is, and the OIDC
 * discovery documents. PURE (given the key).
 */
import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import type { UserInfo } from "./contracts.js";
import { kubeErrors, type StatusCause } from "./errors.js";
import { serviceAccountGroups, serviceAccountUsername } from "./rbac.js";

/** The API server's audience on EKS: what a token without explicit audiences is for. */
export const API_AUDIENCE = "https://kubernetes.default.svc";
/** TokenRequest's default `expirationSeconds` (one hour). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 10 * 60;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

/** What a token may be bound to (TokenRequest's spec.boundObjectRef). */
export interface BoundObjectRef {
  kind: "Pod" | "Secret";
  apiVersion: string;
  name: string;
  uid?: string;
}

/** A validated TokenRequest spec, defaults applied. */
export interface TokenSpec {
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef?: BoundObjectRef;
}

// biome-ignore lint/suspicious/noExplicitAny: request bodies are read loosely
type Any = any;

/**
 * A TokenRequest's spec, validated as kube-apiserver does: `expirationSeconds` between 10 minutes
 * and 2^32 s (default 1 h), audiences defaulted to the API server's, `boundObjectRef` a v1 Pod or
 * Secret with a name. 422 Invalid / 400 BadRequest otherwise.
 */
export function tokenRequestSpec(name: string, body: Any): TokenSpec {
  const spec = body?.spec ?? {};
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: unknown, message: string) =>
    causes.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` });
  const raw = spec.expirationSeconds;
  const expirationSeconds = raw === undefined || raw === null ? DEFAULT_EXPIRATION_SECONDS : Number(raw);
  if (!Number.isInteger(expirationSeconds)) invalid("spec.expirationSeconds", raw, "must be an integer");
  else if (expirationSeconds < MIN_EXPIRATION_SECONDS)
    invalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration less than 10 minutes");
  else if (expirationSeconds > MAX_EXPIRATION_SECONDS)
    invalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration larger than 2^32 seconds");
  const audiences: unknown = spec.audiences ?? [];
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== "string"))
    invalid("spec.audiences", audiences, "must be a list of strings");
  if (causes.length) throw kubeErrors.invalid("authentication.k8s.io", "TokenRequest", name, causes);
  const ref = spec.boundObjectRef;
  let boundObjectRef: BoundObjectRef | undefined;
  if (ref) {
    const kind = String(ref.kind ?? "");
    const apiVersion = String(ref.apiVersion ?? "v1");
    if ((kind !== "Pod" && kind !== "Secret") || apiVersion !== "v1")
      throw kubeErrors.badRequest(
        `cannot bind token for object of kind ${JSON.stringify(`${apiVersion}, Kind=${kind}`)}`,
      );
    if (!ref.name) throw kubeErrors.badRequest("boundObjectRef.name must be set");
    boundObjectRef = { kind, apiVersion, name: String(ref.name), ...(ref.uid ? { uid: String(ref.uid) } : {}) };
  }
  const list = (audiences as string[]).filter(Boolean);
  return {
    audiences: list.length ? list : [API_AUDIENCE],
    expirationSeconds,
    ...(boundObjectRef ? { boundObjectRef } : {}),
  };
}

/** An object a token names in its `kubernetes.io` claims. */
export interface NamedRef {
  name: string;
  uid: string;
}

/** The claims of a bound service account token (kube-apiserver's serviceaccount.privateClaims). */
export interface ServiceAccountClaims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  jti: string;
  sub: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: NamedRef;
    pod?: NamedRef;
    secret?: NamedRef;
    node?: NamedRef;
  };
}

export function claimsFor(input: {
  issuer: string;
  namespace: string;
  serviceAccount: NamedRef;
  audiences: string[];
  expirationSeconds: number;
  now: Date;
  jti: string;
  pod?: NamedRef;
  secret?: NamedRef;
  node?: NamedRef;
}): ServiceAccountClaims {
  const iat = Math.floor(input.now.getTime() / 1000);
  return {
    aud: input.audiences,
    exp: iat + input.expirationSeconds,
    iat,
    iss: input.issuer,
    jti: input.jti,
    "kubernetes.io": {
      namespace: input.namespace,
      ...(input.node ? { node: input.node } : {}),
      ...(input.pod ? { pod: input.pod } : {}),
      ...(input.secret ? { secret: input.secret } : {}),
      serviceaccount: input.serviceAccount,
    },
    nbf: iat,
    sub: serviceAccountUsername(input.namespace, input.serviceAccount.name),
  };
}

/** kube-apiserver's key id: base64url of the SHA-256 of the public key's DER (PKIX). */
export function keyId(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url");
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** The claims signed with the (P-256) private key: a compact ES256 JWS. */
export function signToken(claims: ServiceAccountClaims, privateKey: KeyObject): string {
  const header = { alg: "ES256", kid: keyId(createPublicKey(privateKey)) };
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${sig.toString("base64url")}`;
}

/** Whether a bearer token looks like a JWT at all (three base64url parts, a JSON header). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/**
 * A token checked against the signing key, issuer, audiences and time (kube's JWT validator,
 * before the bound objects are looked up). The reason says what is wrong.
 */
export function verifyToken(
  token: string,
  publicKey: KeyObject,
  expected: { issuer: string; audiences: string[]; now: Date },
): { claims: ServiceAccountClaims } | { reason: string } {
  if (!looksLikeJwt(token)) return { reason: "not a JWT" };
  const [h, p, s] = token.split(".");
  let header: Any;
  let claims: Any;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  } catch {
    return { reason: "malformed JWT" };
  }
  if (header?.alg !== "ES256") return { reason: `unexpected signing algorithm ${header?.alg}` };
  if (claims?.iss !== expected.issuer) return { reason: "token issued by another issuer" };
  const ok = verify(
    "sha256",
    Buffer.from(`${h}.${p}`),
    { key: publicKey, dsaEncoding: "ieee-p1363" },
    Buffer.from(s, "base64url"),
  );
  if (!ok) return { reason: "invalid signature" };
  const now = Math.floor(expected.now.getTime() / 1000);
  if (typeof claims.exp !== "number" || claims.exp < now) return { reason: "service account token has expired" };
  if (typeof claims.nbf === "number" && claims.nbf > now + 60)
    return { reason: "service account token is not valid yet" };
  const aud: string[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => expected.audiences.includes(a)))
    return { reason: "token audiences is invalid for the current server" };
  const k = claims["kubernetes.io"];
  if (!k?.namespace || !k.serviceaccount?.name || !k.serviceaccount?.uid)
    return { reason: "not a service account token" };
  if (claims.sub !== serviceAccountUsername(k.namespace, k.serviceaccount.name))
    return { reason: "sub does not match" };
  return { claims: claims as ServiceAccountClaims };
}

/** The user a verified token is (kube 1.32: the SA's uid, its groups, the pod/node/jti extras). */
export function userOfClaims(claims: ServiceAccountClaims): UserInfo {
  const k = claims["kubernetes.io"];
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    extra["authentication.kubernetes.io/pod-name"] = [k.pod.name];
    extra["authentication.kubernetes.io/pod-uid"] = [k.pod.uid];
  }
  if (k.node) {
    extra["authentication.kubernetes.io/node-name"] = [k.node.name];
    extra["authentication.kubernetes.io/node-uid"] = [k.node.uid];
  }
  if (claims.jti) extra["authentication.kubernetes.io/credential-id"] = [`JTI=${claims.jti}`];
  return {
    username: claims.sub,
    uid: k.serviceaccount.uid,
    groups: serviceAccountGroups(k.namespace),
    extra,
  };
}

/** /openid/v1/jwks: the public keys tokens are signed with. */
export function jwks(publicKeys: KeyObject[]) {
  return {
    keys: publicKeys.map((k) => {
      const jwk = k.export({ format: "jwk" }) as { kty: string; crv: string; x: string; y: string };
      return { use: "sig", kty: jwk.kty, kid: keyId(k), crv: jwk.crv, alg: "ES256", x: jwk.x, y: jwk.y };
    }),
  };
}

/** /.well-known/openid-configuration, as kube-apiserver serves it. */
export function openIdConfiguration(issuer: string, jwksUri: string) {
  return {
    issuer,
    jwks_uri: jwksUri,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
  };
}
