import { createHmac, randomBytes } from "node:crypto";

/**
 * Identifiers in AWS's shapes: access key ids (AKIA… long-term, ASIA… temporary, 20 characters
 * of base32), secret keys (40 characters), unique ids (AROA… roles, AIDA… users, ANPA… policies,
 * AIPA… instance profiles, AGPA… groups; 21 characters).
 *
 * Access key ids Berth issues carry a short MAC of themselves, so Berth recognises its own keys
 * even after they were deleted and refuses them instead of treating them as unknown keys.
 */

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Buffer, length: number): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

const randomBase32 = (length: number) => base32(randomBytes(Math.ceil((length * 5) / 8) + 1), length);

const tag = (secret: string, body: string) => base32(createHmac("sha256", secret).update(body).digest(), 6);

export type KeyKind = "AKIA" | "ASIA";

/** A new access key id: prefix, 10 random characters, 6 characters of MAC. */
export function newAccessKeyId(kind: KeyKind, secret: string): string {
  const body = `${kind}${randomBase32(10)}`;
  return `${body}${tag(secret, body)}`;
}

/** Whether this Berth (holding `secret`) issued the key id. */
export function issuedByBerth(accessKeyId: string, secret: string): boolean {
  if (!/^(AKIA|ASIA)[A-Z2-7]{16}$/.test(accessKeyId)) return false;
  return tag(secret, accessKeyId.slice(0, 14)) === accessKeyId.slice(14);
}

/** 40 characters like AWS secret access keys. */
export const newSecretAccessKey = () =>
  randomBytes(30).toString("base64").replace(/\+/g, "A").replace(/\//g, "B").slice(0, 40);

export type IdPrefix = "AROA" | "AIDA" | "ANPA" | "AIPA" | "AGPA";

export const newUniqueId = (prefix: IdPrefix) => `${prefix}${randomBase32(17)}`;

/** A stable unique id for something with a fixed name (AWS managed policies). */
export const fixedUniqueId = (prefix: IdPrefix, name: string) =>
  `${prefix}${base32(createHmac("sha256", "berth").update(name).digest(), 17)}`;
