import { execFileSync } from "node:child_process";
import { Sha256 } from "@aws-crypto/sha256-js";
import { ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, region, startBerth } from "../support/berth.js";

// Requests an attacker could make against Berth's SigV4 edge, in strict mode, each refused with AWS's code.
// (Wrong secrets, inactive and deleted keys and tampered session tokens of IAM users: sts.test.ts.)

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
const root: Keys = { accessKeyId: "test", secretAccessKey: "test" };

const signer = (keys: Keys, service: string) => new SignatureV4({ credentials: keys, region, service, sha256: Sha256 });

/** Sends a request with curl (a real client) and returns status and body. */
function curl(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const args = ["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", "-X", opts.method ?? "GET"];
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (k !== "host") args.push("-H", `${k}: ${v}`);
  if (opts.body !== undefined) args.push("--data-binary", opts.body);
  const out = execFileSync("curl", [...args, url], { encoding: "utf8" });
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

describe("SigV4 attacks on a strict Berth", () => {
  let berth: RunningBerth;
  let host: string;
  const url = (path = "/") => `${berth.endpoint}${path}`;

  /** A signed JSON call to ECS (awsJson1_1), signed over `signedBody`, sending `sentBody`. */
  async function ecsCall(keys: Keys, signedBody: string, sentBody = signedBody, signingDate?: Date) {
    const req = new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: host,
      path: "/",
      headers: {
        host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters",
      },
      body: signedBody,
    });
    const signed = await signer(keys, "ecs").sign(req, signingDate ? { signingDate } : {});
    return curl(url(), { method: "POST", headers: signed.headers as Record<string, string>, body: sentBody });
  }

  /** A presigned STS GetCallerIdentity URL, as `aws eks get-token` makes (without its cluster header). */
  async function presignedCallerIdentity(keys: Keys, expiresIn: number, signingDate?: Date) {
    const req = new HttpRequest({
      method: "GET",
      protocol: "http:",
      hostname: host,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host },
    });
    const signed = await signer(keys, "sts").presign(req, { expiresIn, ...(signingDate ? { signingDate } : {}) });
    return url(`/?${new URLSearchParams(signed.query as Record<string, string>).toString()}`);
  }

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_AUTH: "strict" } });
    host = new URL(berth.endpoint).host;
  });
  afterAll(async () => {
    await berth?.stop();
  });

  it("refuses a wrong secret with each wire's code", async () => {
    const wrong = { accessKeyId: "test", secretAccessKey: "not-the-secret" };
    const json = await ecsCall(wrong, "{}");
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body).__type).toMatch(/InvalidSignatureException$/);
    const sts = new STSClient({ endpoint: berth.endpoint, region, credentials: wrong, maxAttempts: 1 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
  });

  it("refuses a body changed after signing, and accepts the untouched one", async () => {
    expect((await ecsCall(root, "{}")).status).toBe(200);
    const tampered = await ecsCall(root, "{}", '{"maxResults":1}');
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.body).__type).toMatch(/InvalidSignatureException$/);
  });

  it("refuses a signature older than 15 minutes, or dated in the future, saying so", async () => {
    const old = await ecsCall(root, "{}", "{}", new Date(Date.now() - 16 * 60_000));
    expect(old.status).toBe(400);
    expect(JSON.parse(old.body).__type).toMatch(/InvalidSignatureException$/);
    expect(JSON.parse(old.body).message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z/);
    const future = await ecsCall(root, "{}", "{}", new Date(Date.now() + 16 * 60_000));
    expect(JSON.parse(future.body).message).toMatch(/^Signature not yet current: /);
    // 14 minutes of clock skew is still within AWS's window.
    expect((await ecsCall(root, "{}", "{}", new Date(Date.now() - 14 * 60_000))).status).toBe(200);
  });

  it("refuses an unsigned call: MissingAuthenticationToken (403) on the query wire, …Exception (400) on JSON", async () => {
    const query = curl(url(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=ListUsers&Version=2010-05-08",
    });
    expect(query.status).toBe(403);
    expect(query.body).toContain("<Code>MissingAuthenticationToken</Code>");
    const json = curl(url(), {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters",
      },
      body: "{}",
    });
    expect(json.status).toBe(400); // the JSON wire's status for it, as DynamoDB and ECS answer
    expect(JSON.parse(json.body).__type).toMatch(/MissingAuthenticationTokenException$/);
  });

  it("refuses a key id in Berth's form that Berth never issued, and another account's session token", async () => {
    const forged = { accessKeyId: "AKIA6TVCQ2ZXR4KBYF7N", secretAccessKey: "x".repeat(40) };
    const sts = new STSClient({ endpoint: berth.endpoint, region, credentials: forged, maxAttempts: 1 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "InvalidClientTokenId" });
    const ecs = new ECSClient({ endpoint: berth.endpoint, region, credentials: forged, maxAttempts: 1 });
    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: "UnrecognizedClientException" });

    // A user's session (default account) and the session token of a user in another account, swapped.
    const sessionOf = async (account: string) => {
      const iam = new IAMClient({
        endpoint: berth.endpoint,
        region,
        credentials: { accessKeyId: account, secretAccessKey: "test" },
        maxAttempts: 1,
      });
      await iam.send(new CreateUserCommand({ UserName: "sigv4" }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "sigv4" }))).AccessKey!;
      const userSts = new STSClient({
        endpoint: berth.endpoint,
        region,
        credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! },
        maxAttempts: 1,
      });
      const c = (await userSts.send(new GetSessionTokenCommand({}))).Credentials!;
      return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    };
    const mine = await sessionOf("000000000000");
    const theirs = await sessionOf("111111111111");
    const as = (keys: Keys) => new STSClient({ endpoint: berth.endpoint, region, credentials: keys, maxAttempts: 1 });
    expect((await as(theirs).send(new GetCallerIdentityCommand({}))).Account).toBe("111111111111");
    await expect(
      as({ ...mine, sessionToken: theirs.sessionToken }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: "InvalidClientTokenId" });
  });

  it("verifies presigned URLs: signature, tampering and expiry", async () => {
    const good = curl(await presignedCallerIdentity(root, 60));
    expect(good.status).toBe(200);
    expect(good.body).toContain("<Arn>arn:aws:iam::000000000000:root</Arn>");

    const tampered = (await presignedCallerIdentity(root, 60)).replace(
      "Version=2011-06-15",
      "Version=2011-06-15&Extra=1",
    );
    const t = curl(tampered);
    expect(t.status).toBe(403);
    expect(t.body).toContain("<Code>SignatureDoesNotMatch</Code>");

    const wrongKey = curl(await presignedCallerIdentity({ accessKeyId: "test", secretAccessKey: "nope" }, 60));
    expect(wrongKey.status).toBe(403);
    expect(wrongKey.body).toContain("<Code>SignatureDoesNotMatch</Code>");

    // Signed 2 minutes ago for 60 s: expired. Signed 20 minutes ago for a week: STS caps it at 15 minutes.
    for (const [agoMs, expiresIn] of [
      [120_000, 60],
      [20 * 60_000, 604_800],
    ]) {
      const expired = curl(await presignedCallerIdentity(root, expiresIn, new Date(Date.now() - agoMs)));
      expect(expired.status).toBe(403);
      expect(expired.body).toContain("<Code>SignatureDoesNotMatch</Code>");
      expect(expired.body).toContain("Signature expired");
    }
  });
});
