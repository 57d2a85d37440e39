/**
 * PEM certificates and private keys as IAM checks them, pure: a body must be one PEM
 * `CERTIFICATE` block that parses as X.509; a chain one or more; a private key an unencrypted PEM
 * key whose public half is the certificate's. Errors carry IAM's codes' messages.
 */
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import "../../core/reflect-metadata.js";
import * as x509 from "@peculiar/x509";
import { iamErrors } from "../../protocol/generated/errors/iam.js";

export interface ParsedCertificate {
  /** DER of the certificate (duplicates are the same DER). */
  der: Buffer;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Buffer;
  notBefore: Date;
  notAfter: Date;
}

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

const malformed = (what: string) =>
  iamErrors.MalformedCertificateException(`Unable to parse ${what}. Please ensure the ${what} is in PEM format.`);

function parseBlock(block: string, what: string): ParsedCertificate {
  try {
    const cert = new x509.X509Certificate(block);
    return {
      der: Buffer.from(cert.rawData),
      publicKey: Buffer.from(cert.publicKey.rawData),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  } catch {
    throw malformed(what);
  }
}

/** The certificates of a PEM text; MalformedCertificate unless it is `count` of them (or at least one). */
function parseBlocks(text: string, what: string, single: boolean): ParsedCertificate[] {
  const blocks = text.match(BLOCK) ?? [];
  const rest = text.replace(BLOCK, "").trim();
  if (blocks.length === 0 || rest !== "" || (single && blocks.length > 1)) throw malformed(what);
  return blocks.map((b) => parseBlock(b, what));
}

export const parseCertificate = (body: string): ParsedCertificate => parseBlocks(body, "certificate", true)[0];

export const parseChain = (chain: string): ParsedCertificate[] => parseBlocks(chain, "certificate chain", false);

/** The private key of a server certificate: PEM, unencrypted, matching the certificate. */
export function checkPrivateKey(pem: string, cert: ParsedCertificate) {
  let publicKey: Buffer;
  try {
    if (!/^-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem.trim())) throw new Error("not PEM");
    publicKey = createPublicKey(createPrivateKey(pem)).export({ type: "spki", format: "der" });
  } catch {
    throw iamErrors.MalformedCertificateException(
      "Unable to parse private key. Please ensure the private key is unencrypted and in PEM format.",
    );
  }
  if (!publicKey.equals(cert.publicKey))
    throw iamErrors.KeyPairMismatchException("The private key does not match the public key in the certificate.");
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const randomId = (length: number) => Array.from(randomBytes(length), (b) => ALPHABET[b % 32]).join("");

/** Signing certificate ids: 28 characters of [A-Z2-7], like AWS's. */
export const newSigningCertificateId = () => randomId(28);
/** Server certificate ids: ASCA then 17 characters, like AWS's. */
export const newServerCertificateId = () => `ASCA${randomId(17)}`;
