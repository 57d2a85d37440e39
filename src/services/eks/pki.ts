import { webcrypto } from "node:crypto";
import "../../core/reflect-metadata.js";
import * as x509 from "@peculiar/x509";
import type { ClusterPki } from "../../store/schema/eks.js";

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
type Key = webcrypto.CryptoKey;
type KeyPair = webcrypto.CryptoKeyPair;

const crypto = webcrypto as unknown as X509Crypto & typeof webcrypto;
const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

async function keyPem(key: Key) {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

const serial = () =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");

/** What the API server's certificate names: the endpoint address and the in-cluster names of the `kubernetes` Service. */
export interface ServerNames {
  ips: string[];
  dns: string[];
}

/** The in-cluster names kube-apiserver's certificate carries, plus localhost. */
export const serverNames = (serviceIp: string, extraIps: string[] = []): ServerNames => ({
  ips: [...new Set(["127.0.0.1", serviceIp, ...extraIps])],
  dns: [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ],
});

/**
 * A new cluster CA (CN=kubernetes, 10 years, as EKS's) and the API server's certificate signed by
 * it for the given addresses and names (serverAuth). ECDSA P-256 keys, PEM out.
 */
export async function createClusterPki(names: ServerNames, now: Date): Promise<ClusterPki> {
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const notAfter = new Date(now.getTime() + 10 * YEAR_MS);
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: "CN=kubernetes",
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const serverKeys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as KeyPair;
  const server = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: "CN=kube-apiserver",
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...names.dns.map((value) => ({ type: "dns" as const, value })),
          ...names.ips.map((value) => ({ type: "ip" as const, value })),
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
        await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return {
    caCertPem: ca.toString("pem"),
    caKeyPem: await keyPem(caKeys.privateKey),
    serverCertPem: server.toString("pem"),
    serverKeyPem: await keyPem(serverKeys.privateKey),
  };
}

/** DescribeCluster's certificateAuthority.data: base64 of the CA's PEM (what kubeconfig's certificate-authority-data holds). */
export const certificateAuthorityData = (pki: ClusterPki) => Buffer.from(pki.caCertPem).toString("base64");
