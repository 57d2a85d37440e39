import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { WireRequest } from "./http.js";

/** What a SigV4 `Authorization` header (or a presigned URL's query) says about the caller. */
export interface SigV4Claim {
  accessKeyId: string;
  /** yyyymmdd from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** The request's X-Amz-Date (yyyymmddThhmmssZ). */
  amzDate: string;
  sessionToken?: string;
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256\s+Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)/;

/** Reads the SigV4 claim of a request, or undefined when it carries none. */
export function readClaim(req: WireRequest): SigV4Claim | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = AUTH_RE.exec(header);
    if (!m) return undefined;
    return {
      accessKeyId: m[1],
      scopeDate: m[2],
      region: m[3],
      service: m[4],
      signedHeaders: m[5].split(";"),
      signature: m[6],
      amzDate: req.headers["x-amz-date"] ?? "",
      sessionToken: req.headers["x-amz-security-token"],
    };
  }
  return undefined;
}

/** Node's own SHA-256 in the shape the smithy signer expects (much faster than a JS hash). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac("sha256", toBuffer(secret)) : createHash("sha256");
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

const toBuffer = (d: string | ArrayBuffer | ArrayBufferView) =>
  typeof d === "string"
    ? Buffer.from(d)
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** yyyymmddThhmmssZ → Date */
export function parseAmzDate(amzDate: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

const formatAmzDate = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** How long a signature stays good: 15 minutes either side of the server's clock, as AWS allows. */
export const SIGNATURE_SKEW_SEC = 15 * 60;

/**
 * Why a signature's date is not acceptable now, in AWS's words, or undefined when it is. A header
 * signature is good within 15 minutes either side of the server time; a presigned URL from its
 * X-Amz-Date until X-Amz-Expires seconds later, at most 15 minutes (outside S3, AWS caps it there).
 */
export function signatureTimeProblem(amzDate: string, now: Date, presignedExpiresSec?: number): string | undefined {
  const date = parseAmzDate(amzDate);
  if (!date)
    return `X-Amz-Date ${amzDate ? `'${amzDate.slice(0, 32)}' is not in the form yyyymmddThhmmssZ` : "is missing"}.`;
  const skewMs = SIGNATURE_SKEW_SEC * 1000;
  if (date.getTime() - now.getTime() > skewMs)
    return `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now.getTime() + skewMs))} (${formatAmzDate(now)} + 15 min.)`;
  if (presignedExpiresSec === undefined) {
    if (now.getTime() - date.getTime() > skewMs)
      return `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - skewMs))} (${formatAmzDate(now)} - 15 min.)`;
    return undefined;
  }
  if (!(presignedExpiresSec >= 1)) return "X-Amz-Expires must be a whole number of seconds of at least 1.";
  const lifetimeSec = Math.min(presignedExpiresSec, SIGNATURE_SKEW_SEC);
  if (now.getTime() - date.getTime() > lifetimeSec * 1000)
    return `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - lifetimeSec * 1000))} (${formatAmzDate(now)} - ${lifetimeSec === SIGNATURE_SKEW_SEC ? "15 min." : `${lifetimeSec} sec.`})`;
  return undefined;
}

/**
 * Recomputes the signature with the secret Berth knows for the key and compares. The smithy
 * signer does the canonicalisation, restricted to exactly the headers the client signed.
 */
export async function signatureMatches(req: WireRequest, claim: SigV4Claim, secretAccessKey: string): Promise<boolean> {
  const signingDate = parseAmzDate(claim.amzDate);
  if (!signingDate) return false;
  // The signer takes a signed x-amz-content-sha256 header (current SDKs send one) as the
  // payload hash instead of hashing the body, so check it against the body we received:
  // otherwise any body could be swapped under a valid signature. S3's opt-outs aside.
  const declared = claim.signedHeaders.includes("x-amz-content-sha256")
    ? req.headers["x-amz-content-sha256"]
    : undefined;
  const optOut = claim.service === "s3" && /^(UNSIGNED-PAYLOAD|STREAMING-)/.test(declared ?? "");
  if (declared !== undefined && !optOut && declared !== createHash("sha256").update(req.body).digest("hex"))
    return false;
  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: claim.accessKeyId, secretAccessKey },
    region: claim.region,
    service: claim.service,
    sha256: NodeSha256,
    uriEscapePath: claim.service !== "s3",
    applyChecksum: false,
  });
  for (const query of queryReadings(req)) {
    const request = new HttpRequest({
      method: req.method,
      protocol: "http:",
      hostname: req.headers.host ?? "localhost",
      path: req.path,
      query,
      headers,
      body: req.body,
    });
    const signed = await signer.sign(request, { signingDate, signableHeaders: new Set(claim.signedHeaders) });
    const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1];
    if (sameSignature(expected, claim.signature)) return true;
  }
  return false;
}

const sameSignature = (expected: unknown, given: string) =>
  typeof expected === "string" &&
  expected.length === given.length &&
  timingSafeEqual(Buffer.from(expected), Buffer.from(given));

/** Query parameters as the signer takes them (repeated names as lists), without `skip`. */
function queryRecord(params: URLSearchParams, skip?: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    if (k === skip) continue;
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return query;
}

/**
 * The readings of a request's query a client may have signed: a raw `+` is a space to form
 * encoders (signed as %20) and itself to AWS's canonicalisation (signed as %2B).
 */
function queryReadings(req: WireRequest, skip?: string): Record<string, string | string[]>[] {
  const readings = [queryRecord(req.query, skip)];
  if (req.rawQuery?.includes("+"))
    readings.push(queryRecord(new URLSearchParams(req.rawQuery.replaceAll("+", "%2B")), skip));
  return readings;
}

/** A presigned URL's claim: the SigV4 claim from its X-Amz-* query parameters, and X-Amz-Expires. */
export interface PresignedClaim extends SigV4Claim {
  /** X-Amz-Expires (seconds), NaN when absent or not a number. */
  expiresSec: number;
}

const CREDENTIAL_RE = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;

/** Reads the SigV4 claim of a presigned request's query (X-Amz-Algorithm, -Credential, …), or undefined. */
export function readPresignedClaim(query: URLSearchParams): PresignedClaim | undefined {
  if (query.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return undefined;
  const m = CREDENTIAL_RE.exec(query.get("X-Amz-Credential") ?? "");
  const signature = query.get("X-Amz-Signature") ?? "";
  const signedHeaders = query.get("X-Amz-SignedHeaders") ?? "";
  if (!m || !/^[0-9a-f]{64}$/.test(signature) || !signedHeaders) return undefined;
  const expires = query.get("X-Amz-Expires");
  return {
    accessKeyId: m[1],
    scopeDate: m[2],
    region: m[3],
    service: m[4],
    signedHeaders: signedHeaders.split(";"),
    signature,
    amzDate: query.get("X-Amz-Date") ?? "",
    sessionToken: query.get("X-Amz-Security-Token") ?? undefined,
    expiresSec: expires !== null && /^\d+$/.test(expires) ? Number(expires) : Number.NaN,
  };
}

/**
 * Recomputes a presigned request's signature (the smithy signer's `presign`, with the headers the
 * client signed and the query without X-Amz-Signature) and compares. Expiry is the caller's check.
 */
export async function presignedSignatureMatches(
  req: WireRequest,
  claim: PresignedClaim,
  secretAccessKey: string,
): Promise<boolean> {
  const signingDate = parseAmzDate(claim.amzDate);
  if (!signingDate || !(claim.expiresSec >= 1)) return false;
  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return false;
    headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: claim.accessKeyId, secretAccessKey, sessionToken: claim.sessionToken },
    region: claim.region,
    service: claim.service,
    sha256: NodeSha256,
    uriEscapePath: claim.service !== "s3",
    applyChecksum: false,
  });
  for (const query of queryReadings(req, "X-Amz-Signature")) {
    const request = new HttpRequest({
      method: req.method,
      protocol: "https:",
      hostname: req.headers.host ?? "localhost",
      path: req.path,
      query,
      headers,
      body: req.body,
    });
    let signed: HttpRequest;
    try {
      signed = (await signer.presign(request, {
        signingDate,
        expiresIn: claim.expiresSec,
        signableHeaders: new Set(claim.signedHeaders),
        unhoistableHeaders: new Set(claim.signedHeaders),
      })) as HttpRequest;
    } catch {
      return false;
    }
    if (sameSignature(signed.query["X-Amz-Signature"], claim.signature)) return true;
  }
  return false;
}
