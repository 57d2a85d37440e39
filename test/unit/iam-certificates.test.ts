import { createPrivateKey } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/iam/credentials.js";
import { IamStore } from "../../src/iam/store.js";
import type { RequestContext } from "../../src/protocol/service.js";
import { certificateOperations } from "../../src/services/iam/certificates.js";
import type { IamContext } from "../../src/services/iam/common.js";
import { checkPrivateKey, parseCertificate, parseChain } from "../../src/services/iam/pem.js";
import { userOperations } from "../../src/services/iam/users.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { type TestCertificate, selfSigned } from "../support/certs.js";

let rsa: TestCertificate;
let ec: TestCertificate;
let other: TestCertificate;
beforeAll(async () => {
  [rsa, ec, other] = await Promise.all([
    selfSigned("rsa.example"),
    selfSigned("ec.example", "ec"),
    selfSigned("other"),
  ]);
});

const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return "no error";
};

describe("PEM checks", () => {
  it("parses one certificate and reads its expiry", () => {
    expect(parseCertificate(rsa.certificate).notAfter).toEqual(rsa.notAfter);
    expect(parseChain(`${rsa.certificate}\n${ec.certificate}`)).toHaveLength(2);
  });

  it.each([
    ["not PEM", "hello"],
    ["a truncated block", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"],
    ["text around the block", () => `junk\n${rsa.certificate}`],
    ["two certificates as a body", () => `${rsa.certificate}${ec.certificate}`],
    ["a key instead of a certificate", () => rsa.privateKey],
  ])("refuses %s as a certificate body", (_, body) => {
    const text = typeof body === "function" ? body() : body;
    expect(errorOf(() => parseCertificate(text))).toMatch(
      /^MalformedCertificate(Exception)?: Unable to parse certificate/,
    );
  });

  it("accepts the matching key as PKCS#8 or PKCS#1 and EC keys; refuses another key and garbage", () => {
    const cert = parseCertificate(rsa.certificate);
    expect(() => checkPrivateKey(rsa.privateKey, cert)).not.toThrow();
    const pkcs1 = createPrivateKey(rsa.privateKey).export({ type: "pkcs1", format: "pem" }).toString();
    expect(() => checkPrivateKey(pkcs1, cert)).not.toThrow();
    expect(() => checkPrivateKey(ec.privateKey, parseCertificate(ec.certificate))).not.toThrow();
    expect(errorOf(() => checkPrivateKey(other.privateKey, cert))).toMatch(/^KeyPairMismatch(Exception)?: /);
    expect(
      errorOf(() => checkPrivateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", cert)),
    ).toMatch(/^MalformedCertificate(Exception)?: Unable to parse private key/);
  });
});

describe("IAM certificate operations over an in-memory store", () => {
  let c: IamContext;
  const ctx: RequestContext = {
    account: "000000000000",
    region: "us-east-1",
    requestId: "test",
    principal: { accessKeyId: "test", arn: "arn:aws:iam::000000000000:root" },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the test calls handlers by name
  let ops: Record<string, (input: any, ctx: RequestContext) => any>;
  const refusal = (op: string, input: unknown) => {
    try {
      ops[op](input, ctx);
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
    return "succeeded";
  };

  beforeEach(() => {
    const db = openDb(":memory:");
    c = {
      iam: new IamStore(new DocumentStore(db)),
      credentials: {} as Credentials,
      clock: { now: () => new Date(1e12) },
    };
    // biome-ignore lint/suspicious/noExplicitAny: handlers by name
    ops = { ...userOperations(c), ...certificateOperations(c) } as any;
    ops.CreateUser({ UserName: "alice" }, ctx);
  });

  it("signing certificates: upload, duplicate, quota of 2, list, update, delete; DeleteUser waits for them", () => {
    const up = ops.UploadSigningCertificate({ UserName: "alice", CertificateBody: rsa.certificate }, ctx);
    expect(up.Certificate).toMatchObject({ UserName: "alice", Status: "Active", CertificateBody: rsa.certificate });
    expect(up.Certificate.CertificateId).toMatch(/^[A-Z2-7]{28}$/);
    expect(refusal("UploadSigningCertificate", { UserName: "alice", CertificateBody: rsa.certificate })).toMatch(
      /^DuplicateCertificate/,
    );
    ops.UploadSigningCertificate({ UserName: "alice", CertificateBody: ec.certificate }, ctx);
    expect(refusal("UploadSigningCertificate", { UserName: "alice", CertificateBody: other.certificate })).toMatch(
      /SigningCertificatesPerUser: 2/,
    );
    expect(refusal("UploadSigningCertificate", { UserName: "bob", CertificateBody: other.certificate })).toMatch(
      /^NoSuchEntity.*The user with name bob cannot be found/,
    );
    expect(refusal("UploadSigningCertificate", { CertificateBody: other.certificate })).toMatch(
      /Must specify userName/,
    );
    const id = up.Certificate.CertificateId;
    ops.UpdateSigningCertificate({ UserName: "alice", CertificateId: id, Status: "Inactive" }, ctx);
    const listed = ops.ListSigningCertificates({ UserName: "alice" }, ctx);
    const status = (x: { CertificateId: string }) =>
      listed.Certificates.find((y: { CertificateId: string }) => y.CertificateId === x.CertificateId).Status;
    expect(listed.Certificates).toHaveLength(2);
    expect(status(up.Certificate)).toBe("Inactive");
    expect(refusal("DeleteUser", { UserName: "alice" })).toMatch(/must delete signing certificates first/);
    expect(refusal("DeleteSigningCertificate", { UserName: "alice", CertificateId: "X".repeat(28) })).toMatch(
      /^NoSuchEntity.*The Certificate with id X{28} cannot be found/,
    );
    for (const x of listed.Certificates)
      ops.DeleteSigningCertificate({ UserName: "alice", CertificateId: x.CertificateId }, ctx);
    expect(ops.ListSigningCertificates({ UserName: "alice" }, ctx).Certificates).toEqual([]);
    ops.DeleteUser({ UserName: "alice" }, ctx);
  });

  it("server certificates: upload with key and chain, get, list by path, rename, tags, delete", () => {
    const up = ops.UploadServerCertificate(
      {
        ServerCertificateName: "web",
        Path: "/cloudfront/",
        CertificateBody: rsa.certificate,
        PrivateKey: rsa.privateKey,
        CertificateChain: ec.certificate,
        Tags: [{ Key: "team", Value: "web" }],
      },
      ctx,
    );
    expect(up).toMatchObject({
      ServerCertificateMetadata: {
        ServerCertificateName: "web",
        Path: "/cloudfront/",
        Arn: "arn:aws:iam::000000000000:server-certificate/cloudfront/web",
        Expiration: rsa.notAfter,
      },
      Tags: [{ Key: "team", Value: "web" }],
    });
    expect(up.ServerCertificateMetadata.ServerCertificateId).toMatch(/^ASCA[A-Z2-7]{17}$/);
    expect(
      refusal("UploadServerCertificate", {
        ServerCertificateName: "web",
        CertificateBody: rsa.certificate,
        PrivateKey: rsa.privateKey,
      }),
    ).toMatch(/^EntityAlreadyExists.*The Server Certificate with name web already exists/);
    expect(
      refusal("UploadServerCertificate", {
        ServerCertificateName: "x",
        CertificateBody: rsa.certificate,
        PrivateKey: other.privateKey,
      }),
    ).toMatch(/^KeyPairMismatch/);
    expect(
      refusal("UploadServerCertificate", {
        ServerCertificateName: "x",
        CertificateBody: "nope",
        PrivateKey: rsa.privateKey,
      }),
    ).toMatch(/^MalformedCertificate/);
    expect(
      refusal("UploadServerCertificate", {
        ServerCertificateName: "x",
        CertificateBody: rsa.certificate,
        PrivateKey: rsa.privateKey,
        CertificateChain: "garbage",
      }),
    ).toMatch(/^MalformedCertificate.*certificate chain/);

    const got = ops.GetServerCertificate({ ServerCertificateName: "web" }, ctx).ServerCertificate;
    expect(got).toMatchObject({
      CertificateBody: rsa.certificate,
      CertificateChain: ec.certificate,
      Tags: [{ Key: "team", Value: "web" }],
    });
    expect(got).not.toHaveProperty("PrivateKey");
    expect(ops.ListServerCertificates({ PathPrefix: "/cloudfront/" }, ctx).ServerCertificateMetadataList).toHaveLength(
      1,
    );
    expect(ops.ListServerCertificates({ PathPrefix: "/elb/" }, ctx).ServerCertificateMetadataList).toEqual([]);

    ops.UpdateServerCertificate(
      { ServerCertificateName: "web", NewServerCertificateName: "web2", NewPath: "/elb/" },
      ctx,
    );
    expect(refusal("GetServerCertificate", { ServerCertificateName: "web" })).toMatch(/cannot be found/);
    expect(
      ops.GetServerCertificate({ ServerCertificateName: "web2" }, ctx).ServerCertificate.ServerCertificateMetadata.Arn,
    ).toBe("arn:aws:iam::000000000000:server-certificate/elb/web2");
    ops.TagServerCertificate({ ServerCertificateName: "web2", Tags: [{ Key: "env", Value: "prod" }] }, ctx);
    ops.UntagServerCertificate({ ServerCertificateName: "web2", TagKeys: ["team"] }, ctx);
    expect(ops.ListServerCertificateTags({ ServerCertificateName: "web2" }, ctx).Tags).toEqual([
      { Key: "env", Value: "prod" },
    ]);
    ops.DeleteServerCertificate({ ServerCertificateName: "web2" }, ctx);
    expect(refusal("DeleteServerCertificate", { ServerCertificateName: "web2" })).toMatch(
      /^NoSuchEntity.*The Server Certificate with name web2 cannot be found/,
    );
  });
});
