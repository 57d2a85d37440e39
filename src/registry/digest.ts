import { type Hash, createHash } from "node:crypto";

/**
 * Content digests (`<algorithm>:<hex>`) as the OCI image spec defines them. Berth verifies sha256
 * and sha512; any other algorithm is well-formed but unsupported (→ DIGEST_INVALID).
 */

export type DigestAlgorithm = "sha256" | "sha512";

export const DIGEST_ALGORITHMS: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** The canonical `<algorithm>:<hex>` string. */
  value: string;
}

/** The OCI grammar: `algorithm ":" encoded`, algorithm components joined by `+ . _ -`. */
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** True when a reference is shaped like a digest (rather than a tag, which cannot hold `:`). */
export const looksLikeDigest = (s: string) => s.includes(":");

/** A supported, well-formed digest; undefined otherwise. Hex must be lowercase, of the algorithm's length. */
export function parseDigest(s: string): Digest | undefined {
  if (!GRAMMAR.test(s)) return undefined;
  const colon = s.indexOf(":");
  const algorithm = s.slice(0, colon) as DigestAlgorithm;
  const hex = s.slice(colon + 1);
  const len = DIGEST_ALGORITHMS[algorithm];
  if (!Object.hasOwn(DIGEST_ALGORITHMS, algorithm) || hex.length !== len || !/^[a-f0-9]+$/.test(hex)) return undefined;
  return { algorithm, hex, value: s };
}

/** Why a digest string is refused, for error messages. */
export function digestProblem(s: string): string {
  if (!GRAMMAR.test(s)) return `'${s}' is not a digest (expected <algorithm>:<hex>)`;
  const algorithm = s.slice(0, s.indexOf(":"));
  if (!Object.hasOwn(DIGEST_ALGORITHMS, algorithm))
    return `unsupported digest algorithm '${algorithm}' (supported: sha256, sha512)`;
  return `'${s}' is not a valid ${algorithm} digest (expected ${DIGEST_ALGORITHMS[algorithm as DigestAlgorithm]} lowercase hex digits)`;
}

export const newHash = (algorithm: DigestAlgorithm): Hash => createHash(algorithm);

export const digestOf = (algorithm: DigestAlgorithm, data: Buffer): string =>
  `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
