import type { Collection, DocumentStore } from "../documents.js";

export const EKS_SIGNING_KEY_KIND = "eks.serviceAccountSigningKey";

/**
 * A cluster's service account signing key (the key kube-apiserver's --service-account-signing-key-file
 * holds): kept in the store so tokens issued before a restart stay valid after it.
 */
export interface EksSigningKeyRecord {
  clusterName: string;
  /** The cluster's id: a cluster deleted and created again under the same name gets a new key. */
  clusterId: string;
  /** ECDSA P-256 private key, PKCS#8 PEM. */
  privateKeyPem: string;
  createdAt: Date;
}

export function signingKeyCollection(store: DocumentStore): Collection<EksSigningKeyRecord> {
  return store.collection<EksSigningKeyRecord>(EKS_SIGNING_KEY_KIND, { id: (k) => k.clusterName });
}
