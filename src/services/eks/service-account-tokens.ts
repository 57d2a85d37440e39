/**
 * The service account token issuer of each EKS cluster: its signing key (one per cluster, kept in
 * the store), the TokenRequest API (`kubectl create token`, the kubelet's projected tokens), the
 * authenticator of the tokens it issued (signature, issuer, audience, expiry, and the service
 * account and bound pod or secret still existing with the same uid), and OIDC discovery.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { uuid } from "../../core/ids.js";
import type { Authenticator, ServiceAccountTokenIssuer, UserInfo } from "../../kube/contracts.js";
import { kubeErrors } from "../../kube/errors.js";
import type { ObjectStore } from "../../kube/objects.js";
import { R } from "../../kube/resources.js";
import {
  API_AUDIENCE,
  claimsFor,
  jwks,
  looksLikeJwt,
  type NamedRef,
  openIdConfiguration,
  signToken,
  tokenRequestSpec,
  userOfClaims,
  verifyToken,
} from "../../kube/service-account-tokens.js";
import type { ClusterRef, KubeObject } from "../../kube/types.js";
import { RevisionConflict } from "../../store/documents.js";
import type { EksClusterRecord, EksRecords } from "../../store/schema/eks.js";
import type { DocumentStore } from "../../store/documents.js";
import { signingKeyCollection } from "../../store/schema/eks-signing-keys.js";
import { oidcIssuer } from "./oidc.js";

export interface ServiceAccountTokenDeps {
  store: DocumentStore;
  records: EksRecords;
  objects: ObjectStore;
  clock: Clock;
  /** The API server's URL of a cluster (jwks_uri points there). */
  endpointUrl: (cluster: ClusterRef, c: EksClusterRecord) => string;
}

/** What the kubelet asks for a pod's projected token. */
export interface PodTokenRequest {
  namespace: string;
  serviceAccount: string;
  audiences: string[];
  expirationSeconds: number;
  pod: { name: string; uid: string };
}

export interface ServiceAccountTokens extends ServiceAccountTokenIssuer, Authenticator {
  /** A token bound to a pod (the kubelet's serviceAccountToken projection). */
  issue(cluster: ClusterRef, req: PodTokenRequest): Promise<string>;
  /** Why a token is not valid, or the user it is (TokenReview and the API server's authenticator). */
  check(cluster: ClusterRef, token: string): { user: UserInfo } | { reason: string };
  /** Forgets a deleted cluster's signing key. */
  forget(cluster: ClusterRef): void;
}

interface SigningKey {
  clusterId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const active = (c: EksClusterRecord | undefined) =>
  c && (c.status === "ACTIVE" || c.status === "UPDATING") ? c : undefined;
const keyOfRef = (r: ClusterRef) => `${r.scope.account}/${r.scope.region}/${r.name}`;
const nameOf = (o: KubeObject): NamedRef => ({ name: o.metadata.name ?? "", uid: o.metadata.uid ?? "" });

export function serviceAccountTokens(deps: ServiceAccountTokenDeps): ServiceAccountTokens {
  const keys = signingKeyCollection(deps.store);
  const cache = new Map<string, SigningKey>();

  const loaded = (clusterId: string, pem: string): SigningKey => {
    const privateKey = createPrivateKey(pem);
    return { clusterId, privateKey, publicKey: createPublicKey(privateKey) };
  };

  /** The cluster's signing key: the stored one, or a new one written with compare-and-put (the first writer wins). */
  function signingKey(ref: ClusterRef, c: EksClusterRecord): SigningKey {
    const cached = cache.get(keyOfRef(ref));
    if (cached?.clusterId === c.id) return cached;
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = keys.getVersioned(ref.scope, ref.name);
      if (stored && stored.doc.clusterId === c.id) {
        const k = loaded(c.id, stored.doc.privateKeyPem);
        cache.set(keyOfRef(ref), k);
        return k;
      }
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      try {
        keys.put(
          ref.scope,
          { clusterName: ref.name, clusterId: c.id, privateKeyPem: pem, createdAt: deps.clock.now() },
          { expect: stored?.rev ?? 0 },
        );
      } catch (e) {
        if (e instanceof RevisionConflict) continue;
        throw e;
      }
    }
    throw kubeErrors.internal("Internal error occurred: the service account signing key could not be written");
  }

  const clusterOf = (ref: ClusterRef) => active(deps.records.clusters.get(ref.scope, ref.name));
  const issuerOf = (ref: ClusterRef, c: EksClusterRecord) => oidcIssuer(ref.scope.region, c.oidcId);

  /** The bound object of a TokenRequest, checked as kube-apiserver does (exists, same uid, uses the service account). */
  function boundObject(ref: ClusterRef, namespace: string, sa: string, spec: ReturnType<typeof tokenRequestSpec>) {
    const b = spec.boundObjectRef;
    if (!b) return {};
    const type = b.kind === "Pod" ? R.pods : R.secrets;
    const obj = deps.objects.get(ref, type, namespace, b.name);
    if (!obj) throw kubeErrors.notFound("", type.resource, b.name);
    if (b.uid && b.uid !== obj.metadata.uid)
      throw kubeErrors.conflict(
        "",
        b.kind,
        b.name,
        `the UID in the bound object reference (${b.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    if (b.kind === "Secret") return { secret: nameOf(obj) };
    const podSa = (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? "default";
    if (podSa !== sa)
      throw kubeErrors.badRequest(
        `cannot bind token for serviceaccount "${sa}" to pod "${b.name}" running with serviceaccount "${podSa}"`,
      );
    const nodeName = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
    const node = nodeName ? deps.objects.get(ref, R.nodes, undefined, nodeName) : undefined;
    return { pod: nameOf(obj), ...(node ? { node: nameOf(node) } : {}) };
  }

  function request(
    ref: ClusterRef,
    namespace: string,
    name: string,
    body: Record<string, unknown>,
    opts: { dryRun: boolean },
  ): KubeObject {
    const c = clusterOf(ref);
    if (!c) throw kubeErrors.internal("Internal error occurred: the cluster is not active");
    const spec = tokenRequestSpec(name, body);
    const sa = deps.objects.get(ref, R.serviceaccounts, namespace, name);
    if (!sa) throw kubeErrors.notFound("", "serviceaccounts", name);
    const bound = boundObject(ref, namespace, name, spec);
    const now = deps.clock.now();
    const claims = claimsFor({
      issuer: issuerOf(ref, c),
      namespace,
      serviceAccount: nameOf(sa),
      audiences: spec.audiences,
      expirationSeconds: spec.expirationSeconds,
      now,
      jti: uuid(),
      ...bound,
    });
    const token = opts.dryRun ? "" : signToken(claims, signingKey(ref, c).privateKey);
    return {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: { name, namespace, creationTimestamp: null as unknown as string },
      spec: {
        audiences: spec.audiences,
        expirationSeconds: spec.expirationSeconds,
        boundObjectRef: spec.boundObjectRef ?? null,
      },
      status: {
        token,
        expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      },
    };
  }

  function check(ref: ClusterRef, token: string): { user: UserInfo } | { reason: string } {
    if (!looksLikeJwt(token)) return { reason: "not a service account token" };
    const c = clusterOf(ref);
    if (!c) return { reason: "the cluster is not active" };
    const key = signingKey(ref, c);
    const v = verifyToken(token, key.publicKey, {
      issuer: issuerOf(ref, c),
      audiences: [API_AUDIENCE],
      now: deps.clock.now(),
    });
    if ("reason" in v) return v;
    const k = v.claims["kubernetes.io"];
    const sa = deps.objects.get(ref, R.serviceaccounts, k.namespace, k.serviceaccount.name);
    if (!sa) return { reason: `serviceaccounts "${k.serviceaccount.name}" not found` };
    if (sa.metadata.uid !== k.serviceaccount.uid)
      return { reason: `service account UID (${sa.metadata.uid}) does not match claim (${k.serviceaccount.uid})` };
    const now = deps.clock.now().getTime();
    for (const [type, bound] of [
      [R.pods, k.pod],
      [R.secrets, k.secret],
    ] as const) {
      if (!bound) continue;
      const obj = deps.objects.get(ref, type, k.namespace, bound.name);
      if (!obj) return { reason: `${type.resource} "${bound.name}" not found` };
      if (obj.metadata.uid !== bound.uid)
        return { reason: `${type.resource} UID (${obj.metadata.uid}) does not match claim (${bound.uid})` };
      const deleting = obj.metadata.deletionTimestamp;
      if (deleting && new Date(deleting).getTime() < now)
        return { reason: `${type.resource} "${bound.name}" is being deleted` };
    }
    return { user: userOfClaims(v.claims) };
  }

  return {
    request,
    check,
    async authenticate(ref, token) {
      const r = check(ref, token);
      return "user" in r ? r.user : undefined;
    },
    async issue(ref, req) {
      const body = {
        spec: {
          audiences: req.audiences,
          expirationSeconds: req.expirationSeconds,
          boundObjectRef: { kind: "Pod", apiVersion: "v1", name: req.pod.name, uid: req.pod.uid },
        },
      };
      const tr = request(ref, req.namespace, req.serviceAccount, body, { dryRun: false });
      return (tr.status as { token: string }).token;
    },
    discovery(ref) {
      const c = clusterOf(ref);
      if (!c) return undefined;
      const key = signingKey(ref, c);
      return {
        configuration: openIdConfiguration(issuerOf(ref, c), `${deps.endpointUrl(ref, c)}/openid/v1/jwks`),
        jwks: jwks([key.publicKey]),
      };
    },
    forget(ref) {
      cache.delete(keyOfRef(ref));
      keys.delete(ref.scope, ref.name);
    },
  };
}
