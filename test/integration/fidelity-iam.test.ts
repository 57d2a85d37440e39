/**
 * IAM as AWS documents it (issue 16): CreatePolicy / GetPolicy answer with their Tags; signing
 * certificates and server certificates with PEM checks (MalformedCertificate, KeyPairMismatch),
 * through the AWS CLI v2 (file:// bodies) and the SDK v3.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteUserCommand,
  GetPolicyCommand,
  GetServerCertificateCommand,
  IAMClient,
  ListPoliciesCommand,
  ListServerCertificatesCommand,
  ListSigningCertificatesCommand,
  UploadServerCertificateCommand,
  UploadSigningCertificateCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type TestCertificate, selfSigned } from "../support/certs.js";
import { awsCli, clientOptions, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

describe("IAM fidelity", () => {
  const endpoint = inject("endpoint");
  const iam = new IAMClient(clientOptions(endpoint, rootOf(account)));
  const cli = (...args: string[]) => awsCli(endpoint, rootOf(account), ["iam", ...args]);
  const dir = mkdtempSync(join(tmpdir(), "berth-iam-certs-"));
  let web: TestCertificate;
  let other: TestCertificate;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return `file://${path}`;
  };

  beforeAll(async () => {
    [web, other] = await Promise.all([selfSigned("web.example.com"), selfSigned("other.example.com", "ec")]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("CreatePolicy and GetPolicy answer with the policy's Tags; ListPolicies does not show them", async () => {
    const document = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
    });
    const tags = [{ Key: "team", Value: "web" }];
    const created = await iam.send(
      new CreatePolicyCommand({ PolicyName: "tagged", PolicyDocument: document, Tags: tags }),
    );
    expect(created.Policy?.Tags).toEqual(tags);
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: created.Policy!.Arn }))).Policy?.Tags).toEqual(tags);
    const listed = await iam.send(new ListPoliciesCommand({ Scope: "Local" }));
    expect(listed.Policies?.find((p) => p.PolicyName === "tagged")?.Tags).toBeUndefined();
    const untagged = await cli("create-policy", "--policy-name", "untagged", "--policy-document", document);
    expect(untagged.ok && (untagged.json as { Policy: Record<string, unknown> }).Policy).not.toHaveProperty("Tags");
  });

  it("signing certificates through the CLI: upload, list, update, delete; bad PEM is MalformedCertificate", async () => {
    await iam.send(new CreateUserCommand({ UserName: "signer" }));
    const up = await cli(
      "upload-signing-certificate",
      "--user-name",
      "signer",
      "--certificate-body",
      file("web.pem", web.certificate),
    );
    expect(up.ok).toBe(true);
    const cert = (up as { json: { Certificate: { CertificateId: string; Status: string; UserName: string } } }).json
      .Certificate;
    expect(cert).toMatchObject({ UserName: "signer", Status: "Active" });
    const id = cert.CertificateId;
    expect(
      await cli("update-signing-certificate", "--user-name", "signer", "--certificate-id", id, "--status", "Inactive"),
    ).toEqual({
      ok: true,
      json: {},
    });
    const listed = await iam.send(new ListSigningCertificatesCommand({ UserName: "signer" }));
    expect(listed.Certificates?.map((c) => [c.CertificateId, c.Status])).toEqual([[id, "Inactive"]]);
    expect(
      await refusal(
        iam.send(new UploadSigningCertificateCommand({ UserName: "signer", CertificateBody: "not a cert" })),
      ),
    ).toEqual({
      name: "MalformedCertificateException",
      message: "Unable to parse certificate. Please ensure the certificate is in PEM format.",
      status: 400,
    });
    expect(
      (
        await refusal(
          iam.send(new UploadSigningCertificateCommand({ UserName: "signer", CertificateBody: web.certificate })),
        )
      ).name,
    ).toBe("DuplicateCertificateException");
    expect((await refusal(iam.send(new DeleteUserCommand({ UserName: "signer" })))).name).toBe(
      "DeleteConflictException",
    );
    expect(await cli("delete-signing-certificate", "--user-name", "signer", "--certificate-id", id)).toEqual({
      ok: true,
      json: {},
    });
    const gone = await cli("delete-signing-certificate", "--user-name", "signer", "--certificate-id", id);
    expect(gone.ok === false && gone.stderr).toMatch(/NoSuchEntity.*The Certificate with id .* cannot be found/);
    await iam.send(new DeleteUserCommand({ UserName: "signer" }));
  });

  it("server certificates: upload with key (CLI), get, list, rename, delete; mismatched and malformed keys refused", async () => {
    const up = await cli(
      "upload-server-certificate",
      "--server-certificate-name",
      "web",
      "--path",
      "/cloudfront/",
      "--certificate-body",
      file("web.pem", web.certificate),
      "--private-key",
      file("web.key", web.privateKey),
      "--tags",
      "Key=team,Value=web",
    );
    expect(up.ok).toBe(true);
    expect((up as { json: unknown }).json).toMatchObject({
      ServerCertificateMetadata: {
        ServerCertificateName: "web",
        Path: "/cloudfront/",
        Arn: `arn:aws:iam::${account}:server-certificate/cloudfront/web`,
      },
      Tags: [{ Key: "team", Value: "web" }],
    });
    const got = await iam.send(new GetServerCertificateCommand({ ServerCertificateName: "web" }));
    expect(got.ServerCertificate?.CertificateBody).toBe(web.certificate);
    expect(got.ServerCertificate?.ServerCertificateMetadata?.Expiration).toEqual(web.notAfter);

    expect(
      await refusal(
        iam.send(
          new UploadServerCertificateCommand({
            ServerCertificateName: "bad",
            CertificateBody: web.certificate,
            PrivateKey: other.privateKey,
          }),
        ),
      ),
    ).toMatchObject({ name: "KeyPairMismatchException", status: 400 });
    expect(
      await refusal(
        iam.send(
          new UploadServerCertificateCommand({
            ServerCertificateName: "bad",
            CertificateBody: web.certificate,
            PrivateKey: "key",
          }),
        ),
      ),
    ).toMatchObject({ name: "MalformedCertificateException", message: expect.stringMatching(/private key/) });
    expect(
      (
        await refusal(
          iam.send(
            new UploadServerCertificateCommand({
              ServerCertificateName: "web",
              CertificateBody: web.certificate,
              PrivateKey: web.privateKey,
            }),
          ),
        )
      ).name,
    ).toBe("EntityAlreadyExistsException");

    expect(
      await cli(
        "update-server-certificate",
        "--server-certificate-name",
        "web",
        "--new-server-certificate-name",
        "web2",
        "--new-path",
        "/elb/",
      ),
    ).toEqual({
      ok: true,
      json: {},
    });
    const listed = await iam.send(new ListServerCertificatesCommand({ PathPrefix: "/elb/" }));
    expect(listed.ServerCertificateMetadataList?.map((m) => m.Arn)).toEqual([
      `arn:aws:iam::${account}:server-certificate/elb/web2`,
    ]);
    expect(await cli("delete-server-certificate", "--server-certificate-name", "web2")).toEqual({ ok: true, json: {} });
    expect((await refusal(iam.send(new GetServerCertificateCommand({ ServerCertificateName: "web2" })))).name).toBe(
      "NoSuchEntityException",
    );
  });
});
