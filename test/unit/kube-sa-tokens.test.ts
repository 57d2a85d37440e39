import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeError } from "../../src/kube/errors.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import {
  API_AUDIENCE,
  claimsFor,
  jwks,
  keyId,
  signToken,
  tokenRequestSpec,
  userOfClaims,
  verifyToken,
} from "../../src/kube/service-account-tokens.js";
import type { ClusterRef } from "../../src/kube/types.js";
import { oidcIssuer } from "../../src/services/eks/oidc.js";
import { serviceAccountTokens } from "../../src/services/eks/service-account-tokens.js";
import { type Db, openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { type EksClusterRecord, EksRecords } from "../../src/store/schema/eks.js";

const key = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";
const now = new Date("2026-12-04T02:00:00Z");
const claims = (over: Partial<Parameters<typeof claimsFor>[0]> = {}) =>
  claimsFor({
    issuer,
    namespace: "dev",
    serviceAccount: { name: "builder", uid: "sa-uid" },
    audiences: [API_AUDIENCE],
    expirationSeconds: 3600,
    now,
    jti: "j-1",
    ...over,
  });

describe("TokenRequest validation (as kube-apiserver's ValidateTokenRequest)", () => {
  it.each([
    [{}, { audiences: [API_AUDIENCE], expirationSeconds: 3600 }],
    [{ spec: { expirationSeconds: 600 } }, { audiences: [API_AUDIENCE], expirationSeconds: 600 }],
    [{ spec: { audiences: ["vault"], expirationSeconds: 7200 } }, { audiences: ["vault"], expirationSeconds: 7200 }],
    [
      { spec: { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p" } } },
      {
        audiences: [API_AUDIENCE],
        expirationSeconds: 3600,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p" },
      },
    ],
  ])("accepts %j", (body, spec) => {
    expect(tokenRequestSpec("default", body)).toEqual(spec);
  });

  it.each([
    [599, "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"],
    [2 ** 32 + 1, "may not specify a duration larger than 2^32 seconds"],
    [1.5, "must be an integer"],
  ])("refuses expirationSeconds %s with 422", (expirationSeconds, message) => {
    let err: unknown;
    try {
      tokenRequestSpec("default", { spec: { expirationSeconds } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).code).toBe(422);
    expect((err as KubeError).message).toContain('TokenRequest.authentication.k8s.io "default" is invalid');
    expect((err as KubeError).message).toContain(message);
  });

  it("refuses a boundObjectRef of another kind with 400", () => {
    expect(() =>
      tokenRequestSpec("default", {
        spec: { boundObjectRef: { kind: "Deployment", apiVersion: "apps/v1", name: "d" } },
      }),
    ).toThrow(/cannot bind token for object of kind/);
  });
});

describe("signed service account tokens", () => {
  const k = key();
  const expected = { issuer, audiences: [API_AUDIENCE], now };

  it("verifies what it signs and yields the service account's user", () => {
    const token = signToken(claims({ pod: { name: "p", uid: "p-uid" } }), k.privateKey);
    const v = verifyToken(token, k.publicKey, expected);
    if (!("claims" in v)) throw new Error(v.reason);
    expect(v.claims.sub).toBe("system:serviceaccount:dev:builder");
    expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString())).toEqual({
      alg: "ES256",
      kid: keyId(k.publicKey),
    });
    expect(userOfClaims(v.claims)).toEqual({
      username: "system:serviceaccount:dev:builder",
      uid: "sa-uid",
      groups: ["system:serviceaccounts", "system:serviceaccounts:dev", "system:authenticated"],
      extra: {
        "authentication.kubernetes.io/pod-name": ["p"],
        "authentication.kubernetes.io/pod-uid": ["p-uid"],
        "authentication.kubernetes.io/credential-id": ["JTI=j-1"],
      },
    });
  });

  it.each([
    ["expired", () => signToken(claims({ now: new Date(now.getTime() - 3601_000) }), k.privateKey), /expired/],
    ["another key", () => signToken(claims(), key().privateKey), /signature/],
    ["another issuer", () => signToken(claims({ issuer: "https://other" }), k.privateKey), /issuer/],
    ["another audience", () => signToken(claims({ audiences: ["vault"] }), k.privateKey), /audiences/],
    ["not a JWT", () => "k8s-aws-v1.abc", /not a JWT/],
  ])("refuses a token signed for %s", (_what, make, reason) => {
    const v = verifyToken(make(), k.publicKey, expected);
    expect("reason" in v && v.reason).toMatch(reason);
  });

  it("refuses any altered payload (property)", () => {
    const token = signToken(claims(), k.privateKey);
    const [h, , s] = token.split(".");
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (ns) => {
        fc.pre(ns !== "dev");
        const forged = Buffer.from(
          JSON.stringify({ ...claims(), "kubernetes.io": { ...claims()["kubernetes.io"], namespace: ns } }),
        ).toString("base64url");
        const v = verifyToken(`${h}.${forged}.${s}`, k.publicKey, expected);
        return "reason" in v;
      }),
      { numRuns: 30 },
    );
  });

  it("publishes the key as a JWK set with kube's key id", () => {
    const set = jwks([k.publicKey]);
    expect(set.keys[0]).toMatchObject({ use: "sig", kty: "EC", crv: "P-256", alg: "ES256", kid: keyId(k.publicKey) });
  });
});

describe("the EKS cluster's token issuer", () => {
  let db: Db;
  let store: DocumentStore;
  let objects: ObjectStore;
  let records: EksRecords;
  const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "dev" };
  let clock = new Date("2026-12-04T02:00:00Z");
  const tokens = () =>
    serviceAccountTokens({
      store,
      records,
      objects,
      clock: { now: () => clock },
      endpointUrl: () => "https://127.0.0.1:4600",
    });

  beforeEach(() => {
    db = openDb(":memory:");
    store = new DocumentStore(db);
    objects = new ObjectStore(store);
    records = new EksRecords(store);
    records.clusters.put(cluster.scope, {
      name: "dev",
      id: "cid-1",
      status: "ACTIVE",
      oidcId: "ABC",
    } as EksClusterRecord);
    objects.create(cluster, R.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: "dev" } });
    objects.create(cluster, R.serviceaccounts, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "builder", namespace: "dev" },
    });
  });
  afterEach(() => db.close());

  const request = (t: ReturnType<typeof tokens>, body = {}) =>
    (t.request(cluster, "dev", "builder", body, { dryRun: false }).status as { token: string }).token;

  it("issues tokens with the cluster's OIDC issuer that a new process (same store) still accepts", () => {
    const token = request(tokens());
    const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
    expect(payload.iss).toBe(oidcIssuer("us-east-1", "ABC"));
    const again = tokens().check(cluster, token);
    expect("user" in again && again.user.username).toBe("system:serviceaccount:dev:builder");
  });

  it("refuses a token once its service account is gone, or recreated with another uid", () => {
    const t = tokens();
    const token = request(t);
    objects.delete(cluster, R.serviceaccounts, "dev", "builder");
    expect(t.check(cluster, token)).toEqual({ reason: 'serviceaccounts "builder" not found' });
    objects.create(cluster, R.serviceaccounts, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "builder", namespace: "dev" },
    });
    expect("reason" in t.check(cluster, token)).toBe(true);
  });

  it("binds to a pod: refused for a pod of another service account, invalid once the pod is gone", async () => {
    const t = tokens();
    const pod = objects.create(cluster, R.pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "dev" },
      spec: { serviceAccountName: "builder", containers: [{ name: "c", image: "i" }] },
    });
    const token = await t.issue(cluster, {
      namespace: "dev",
      serviceAccount: "builder",
      audiences: [],
      expirationSeconds: 3607,
      pod: { name: "p", uid: pod.metadata.uid ?? "" },
    });
    const ok = t.check(cluster, token);
    expect("user" in ok && ok.user.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["p"]);
    expect(() =>
      t.request(cluster, "dev", "default", { spec: { boundObjectRef: { kind: "Pod", name: "p" } } }, { dryRun: false }),
    ).toThrow(/serviceaccounts "default" not found/);
    objects.delete(cluster, R.pods, "dev", "p", { gracePeriodSeconds: 0 });
    expect(t.check(cluster, token)).toMatchObject({ reason: expect.stringMatching(/pods "p"/) });
  });

  it("refuses expired tokens and forgets the key of a deleted cluster", () => {
    const t = tokens();
    const token = request(t, { spec: { expirationSeconds: 600 } });
    clock = new Date(clock.getTime() + 601_000);
    expect(t.check(cluster, token)).toEqual({ reason: "service account token has expired" });
    t.forget(cluster);
    expect(store.collection("eks.serviceAccountSigningKey", { id: () => "" }).list(cluster.scope)).toEqual([]);
  });
});
