/** Self-signed X.509 certificates with their keys, for IAM certificate tests. */
import { webcrypto } from "node:crypto";
import "../../src/core/reflect-metadata.js";
import * as x509 from "@peculiar/x509";

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const crypto = webcrypto as unknown as X509Crypto & typeof webcrypto;

export interface TestCertificate {
  certificate: string;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  privateKey: string;
  notAfter: Date;
}

/** A self-signed certificate (RSA 2048 or ECDSA P-256) valid for a year from now. */
export async function selfSigned(cn: string, kind: "rsa" | "ec" = "rsa"): Promise<TestCertificate> {
  const alg =
    kind === "rsa"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "ECDSA", namedCurve: "P-256" };
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: "01",
      name: `CN=${cn}`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: kind === "rsa" ? alg : { name: "ECDSA", hash: "SHA-256" },
    },
    crypto,
  );
  const privateKey = x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  return { certificate: cert.toString("pem"), privateKey, notAfter };
}
