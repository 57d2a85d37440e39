import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { presignedSignatureMatches, readPresignedClaim } from "../../src/protocol/sigv4.js";
import { TOKEN_PREFIX, isStsHost, parseToken, tokenOf } from "../../src/services/eks/token.js";

const NOW = new Date(Date.UTC(2026, 11, 3, 12, 0, 0));
const CREDS = { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" };

/** A presigned GetCallerIdentity URL exactly as `aws eks get-token` makes one (smithy's presigner). */
async function presignedUrl(
  opts: {
    cluster?: string;
    date?: Date;
    host?: string;
    protocol?: "https:" | "http:";
    expiresIn?: number;
    sessionToken?: string;
    headers?: Record<string, string>;
    service?: string;
  } = {},
) {
  const host = opts.host ?? "sts.us-west-2.amazonaws.com";
  const signer = new SignatureV4({
    credentials: { ...CREDS, sessionToken: opts.sessionToken },
    region: "us-west-2",
    service: opts.service ?? "sts",
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: "GET",
    protocol: opts.protocol ?? "https:",
    hostname: host,
    path: "/",
    query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
    headers: { host, "x-k8s-aws-id": opts.cluster ?? "dev", ...opts.headers },
  });
  const signed = await signer.presign(request, { signingDate: opts.date ?? NOW, expiresIn: opts.expiresIn ?? 60 });
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  return `${opts.protocol ?? "https:"}//${host}/?${query}`;
}

const ctx = { clusterName: "dev", now: NOW, ownHosts: ["127.0.0.1:4566"] };

describe("EKS tokens", () => {
  it("recognises the STS hosts a token may be presigned for", () => {
    for (const h of [
      "sts.amazonaws.com",
      "sts.us-east-1.amazonaws.com",
      "sts.eu-west-3.amazonaws.com",
      "sts-fips.us-gov-west-1.amazonaws.com",
      "sts.cn-north-1.amazonaws.com.cn",
    ])
      expect(isStsHost(h), h).toBe(true);
    for (const h of ["sts.amazonaws.com.evil.com", "evil.com", "s3.amazonaws.com", "sts.us-east-1.amazonaws.co"])
      expect(isStsHost(h), h).toBe(false);
  });

  it("parses a token into the request the client signed, and the signature verifies with the key's secret only", async () => {
    const url = await presignedUrl();
    const checked = parseToken(tokenOf(url), ctx);
    if (!checked.ok) throw new Error(checked.reason);
    expect(checked.request.headers).toEqual({ host: "sts.us-west-2.amazonaws.com", "x-k8s-aws-id": "dev" });
    expect(checked.claim).toMatchObject({
      accessKeyId: "AKIAEXAMPLE",
      region: "us-west-2",
      service: "sts",
      expiresSec: 60,
    });
    expect(await presignedSignatureMatches(checked.request, checked.claim, "secret")).toBe(true);
    expect(await presignedSignatureMatches(checked.request, checked.claim, "other")).toBe(false);
    // The same token presented to another cluster: the signed x-k8s-aws-id differs.
    const other = parseToken(tokenOf(url), { ...ctx, clusterName: "prod" });
    if (!other.ok) throw new Error(other.reason);
    expect(await presignedSignatureMatches(other.request, other.claim, "secret")).toBe(false);
  });

  it("verifies a session's token (X-Amz-Security-Token) and Berth's own http endpoint", async () => {
    const session = parseToken(tokenOf(await presignedUrl({ sessionToken: "tok/en+=" })), ctx);
    if (!session.ok) throw new Error(session.reason);
    expect(session.claim.sessionToken).toBe("tok/en+=");
    expect(await presignedSignatureMatches(session.request, session.claim, "secret")).toBe(true);
    const own = parseToken(tokenOf(await presignedUrl({ host: "127.0.0.1:4566", protocol: "http:" })), ctx);
    if (!own.ok) throw new Error(own.reason);
    expect(await presignedSignatureMatches(own.request, own.claim, "secret")).toBe(true);
  });

  it("accepts a token for 15 minutes after its X-Amz-Date (as EKS), not for its 60 s X-Amz-Expires", async () => {
    const url = await presignedUrl({ date: new Date(NOW.getTime() - 14 * 60_000) });
    expect(parseToken(tokenOf(url), ctx).ok).toBe(true);
  });

  const bad: [string, () => Promise<string>, RegExp][] = [
    ["no prefix", async () => Buffer.from(await presignedUrl()).toString("base64url"), /prefix/],
    ["not base64url", async () => `${TOKEN_PREFIX}!!!`, /base64url/],
    ["not a URL", async () => tokenOf("just text"), /URL/],
    ["http to AWS", async () => tokenOf((await presignedUrl()).replace("https:", "http:")), /scheme/],
    ["another host", async () => tokenOf(await presignedUrl({ host: "sts.amazonaws.com.evil.com" })), /hostname/],
    ["a port on an STS host", async () => tokenOf(await presignedUrl({ host: "sts.amazonaws.com:8443" })), /hostname/],
    ["another path", async () => tokenOf((await presignedUrl()).replace("/?", "/x?")), /path/],
    [
      "another action",
      async () => tokenOf((await presignedUrl()).replace("GetCallerIdentity", "AssumeRole")),
      /action/,
    ],
    ["an extra parameter", async () => tokenOf(`${await presignedUrl()}&RoleArn=x`), /non-whitelisted/],
    ["a repeated parameter", async () => tokenOf(`${await presignedUrl()}&Action=GetCallerIdentity`), /more than once/],
    [
      "no signature",
      async () => tokenOf((await presignedUrl()).replace(/&X-Amz-Signature=[0-9a-f]+/, "")),
      /malformed/,
    ],
    [
      "x-k8s-aws-id not signed",
      async () => tokenOf((await presignedUrl()).replace("host%3Bx-k8s-aws-id", "host")),
      /x-k8s-aws-id/,
    ],
    ["signed for s3", async () => tokenOf(await presignedUrl({ service: "s3" })), /not sts/],
    ["X-Amz-Expires too large", async () => tokenOf(await presignedUrl({ expiresIn: 3600 })), /too large/],
    [
      "X-Amz-Expires not a number",
      async () => tokenOf((await presignedUrl()).replace("X-Amz-Expires=60", "X-Amz-Expires=soon")),
      /Expires/,
    ],
    [
      "expired",
      async () => tokenOf(await presignedUrl({ date: new Date(NOW.getTime() - 16 * 60_000) })),
      /expired \(15 minute expiration\)/,
    ],
    [
      "from the future",
      async () => tokenOf(await presignedUrl({ date: new Date(NOW.getTime() + 20 * 60_000) })),
      /future/,
    ],
    [
      "signs a header a token cannot carry",
      async () => tokenOf(await presignedUrl({ headers: { "x-extra": "1" } })),
      /cannot carry/,
    ],
    ["too long", async () => `${TOKEN_PREFIX}${"A".repeat(5000)}`, /too large/],
  ];
  it.each(bad)("refuses a token with %s", async (_name, make, reason) => {
    const checked = parseToken(await make(), ctx);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.reason).toMatch(reason);
  });

  it("reads presigned claims only from complete X-Amz-* parameters", async () => {
    const q = new URL(await presignedUrl()).searchParams;
    expect(readPresignedClaim(q)?.signedHeaders).toEqual(["host", "x-k8s-aws-id"]);
    q.set("X-Amz-Algorithm", "AWS4-HMAC-SHA1");
    expect(readPresignedClaim(q)).toBeUndefined();
  });
});
