import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * ECR registry credentials: GetAuthorizationToken mints `AWS:<password>` where the password is a
 * signed, expiring statement of the account and region it was issued for. Pure given the secret.
 */

export const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;

export interface TokenClaims {
  account: string;
  region: string;
  expiresAt: number;
}

const sign = (secret: string, payload: string) => createHmac("sha256", secret).update(payload).digest("base64url");

/** The password part; it never contains ':' (the AWS CLI splits the token on it). */
export function mintPassword(secret: string, claims: TokenClaims): string {
  const payload = Buffer.from(`${claims.account}.${claims.region}.${claims.expiresAt}`).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}

export function readPassword(secret: string, password: string, now: number): TokenClaims | undefined {
  const [payload, mac] = password.split(".");
  if (!payload || !mac) return undefined;
  const expected = sign(secret, payload);
  if (expected.length !== mac.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(mac))) return undefined;
  const [account, region, exp] = Buffer.from(payload, "base64url").toString("utf8").split(".");
  const expiresAt = Number(exp);
  if (!account || !region || !Number.isFinite(expiresAt) || expiresAt < now) return undefined;
  return { account, region, expiresAt };
}

/** `Basic base64(AWS:<password>)` → the password, or undefined. */
export function basicPassword(authorization: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(authorization ?? "");
  if (!m) return undefined;
  const text = Buffer.from(m[1], "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0 || text.slice(0, colon) !== "AWS") return undefined;
  return text.slice(colon + 1);
}

/** The registry host part of an image reference (`host:port/name:tag` → `host:port`), if it has one. */
export function imageRegistryHost(image: string): string | undefined {
  const first = image.split("/")[0];
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")
    ? first
    : undefined;
}
