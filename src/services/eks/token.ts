/**
 * EKS bearer tokens: `k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL, as
 * `aws eks get-token` and aws-iam-authenticator make them. PURE: the checks aws-iam-authenticator's
 * verifier makes before the signature (which the caller checks with Berth's SigV4 verifier).
 */
import type { WireRequest } from "../../protocol/http.js";
import { type PresignedClaim, parseAmzDate, readPresignedClaim } from "../../protocol/sigv4.js";

export const TOKEN_PREFIX = "k8s-aws-v1.";
/** The header that binds a token to one cluster. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** aws-iam-authenticator's limit on a token's length. */
export const MAX_TOKEN_BYTES = 4096;
/** A token is good for 15 minutes after its X-Amz-Date (what EKS accepts; `get-token` says 14). */
export const TOKEN_LIFETIME_MS = 15 * 60 * 1000;

const ALLOWED_PARAMS = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);

/** The STS hosts a token may be presigned for: the global and regional endpoints (and FIPS, China). */
export function isStsHost(host: string): boolean {
  return /^sts(-fips)?(\.[a-z]{2}(-gov)?-[a-z]+-\d)?\.amazonaws\.com(\.cn)?$/.test(host);
}

export interface TokenContext {
  clusterName: string;
  now: Date;
  /** Hosts (host[:port]) other than AWS's STS endpoints that tokens may name: Berth's own endpoint. */
  ownHosts: readonly string[];
}

export type TokenCheck = { ok: true; request: WireRequest; claim: PresignedClaim } | { ok: false; reason: string };

const fail = (reason: string): TokenCheck => ({ ok: false, reason });

/** Decodes a token and checks everything but the signature; the request is what the client signed. */
export function parseToken(token: string, ctx: TokenContext): TokenCheck {
  if (!token.startsWith(TOKEN_PREFIX)) return fail(`token is missing the expected "${TOKEN_PREFIX}" prefix`);
  if (token.length > MAX_TOKEN_BYTES) return fail("token is too large");
  const encoded = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) return fail("token is not valid base64url");
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
  } catch {
    return fail("token does not hold a URL");
  }
  const own = ctx.ownHosts.includes(url.host);
  if (url.protocol !== "https:" && !(own && url.protocol === "http:"))
    return fail(`unexpected scheme ${url.protocol.replace(":", "")} in pre-signed URL`);
  if (!own && !(url.port === "" && isStsHost(url.hostname)))
    return fail(`unexpected hostname ${url.host} in pre-signed URL`);
  if (url.pathname !== "/") return fail("unexpected path in pre-signed URL");
  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    const lower = key.toLowerCase();
    if (!ALLOWED_PARAMS.has(lower)) return fail(`non-whitelisted query parameter ${key}`);
    if (seen.has(lower)) return fail(`query parameter ${key} appears more than once`);
    seen.add(lower);
  }
  if (url.searchParams.get("Action") !== "GetCallerIdentity")
    return fail("unexpected action parameter in pre-signed URL");
  const claim = readPresignedClaim(url.searchParams);
  if (!claim) return fail("pre-signed URL is missing or has malformed X-Amz-* parameters");
  if (claim.service !== "sts") return fail(`pre-signed URL is signed for ${claim.service}, not sts`);
  if (!claim.signedHeaders.includes(CLUSTER_ID_HEADER))
    return fail(`client did not sign the ${CLUSTER_ID_HEADER} header in the pre-signed URL`);
  if (!claim.signedHeaders.includes("host")) return fail("client did not sign the host header in the pre-signed URL");
  if (!Number.isInteger(claim.expiresSec) || claim.expiresSec < 1)
    return fail("X-Amz-Expires parameter is missing or invalid");
  if (claim.expiresSec > TOKEN_LIFETIME_MS / 1000) return fail("X-Amz-Expires parameter is too large");
  const date = parseAmzDate(claim.amzDate);
  if (!date || claim.amzDate.slice(0, 8) !== claim.scopeDate)
    return fail("X-Amz-Date parameter is missing or malformed");
  const now = ctx.now.getTime();
  if (now > date.getTime() + TOKEN_LIFETIME_MS)
    return fail(`X-Amz-Date parameter is expired (15 minute expiration) ${date.toISOString()}`);
  if (date.getTime() > now + TOKEN_LIFETIME_MS) return fail("X-Amz-Date parameter is in the future");
  const headers: Record<string, string> = { host: url.host, [CLUSTER_ID_HEADER]: ctx.clusterName };
  for (const name of claim.signedHeaders)
    if (!(name in headers)) return fail(`the pre-signed URL signs a header (${name}) a token cannot carry`);
  return {
    ok: true,
    claim,
    request: { method: "GET", path: url.pathname, query: url.searchParams, headers, body: Buffer.alloc(0) },
  };
}

/** A token the way `aws eks get-token` builds one from a presigned URL (tests and tools). */
export const tokenOf = (presignedUrl: string) => TOKEN_PREFIX + Buffer.from(presignedUrl).toString("base64url");
