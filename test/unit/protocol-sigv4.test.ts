import { createHash } from "node:crypto";
import { ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import {
  EKSClient,
  ListClustersCommand as EksListClusters,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-eks";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WireRequest } from "../../src/protocol/http.js";
import { parseAmzDate, readClaim, signatureMatches, signatureTimeProblem } from "../../src/protocol/sigv4.js";
import { WireHandler, clientOptions, toWire } from "../support/wire.js";

const SECRET = clientOptions(new WireHandler()).credentials.secretAccessKey;

/** Checks a request against Berth's verifier with the given secret. */
async function verify(req: WireRequest, secret = SECRET) {
  const claim = readClaim(req);
  if (!claim) throw new Error("request carries no SigV4 claim");
  return signatureMatches(req, claim, secret);
}

/** What the real SDK client put on the wire for a command, as Berth's edge sees it. */
async function sdkSigned(send: (wire: WireHandler) => Promise<unknown>) {
  const wire = new WireHandler();
  await send(wire).catch(() => undefined);
  return toWire(wire.last);
}

/** Signs a hand-built request exactly as the SDK's signer does. */
async function smithySigned(init: {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers: Record<string, string>;
  body?: string;
  service: string;
  sessionToken?: string;
  /** Send x-amz-content-sha256 (the SDK v3 does; botocore and the CLI do not for these services). */
  contentSha256?: boolean;
}): Promise<WireRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET, sessionToken: init.sessionToken },
    region: "us-west-2",
    service: init.service,
    sha256: Sha256,
    applyChecksum: init.contentSha256 ?? true,
  });
  const request = new HttpRequest({
    method: init.method,
    protocol: "http:",
    hostname: "localhost",
    port: 4566,
    path: init.path,
    query: init.query ?? {},
    headers: { host: "localhost:4566", ...init.headers },
    body: init.body,
  });
  const signed = (await signer.sign(request)) as HttpRequest;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(init.query ?? {})) for (const item of [v].flat()) query.append(k, item);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return { method: init.method, path: init.path, query, headers, body: Buffer.from(init.body ?? "") };
}

const withHeader = (req: WireRequest, name: string, value: string): WireRequest => ({
  ...req,
  headers: { ...req.headers, [name]: value },
});

describe("SigV4: requests signed by the real SDK clients verify", () => {
  it("awsJson (ECS): signed headers include x-amz-target and x-amz-content-sha256", async () => {
    const req = await sdkSigned((w) =>
      new ECSClient(clientOptions(w)).send(new ListClustersCommand({ maxResults: 5 })),
    );
    const claim = readClaim(req)!;
    expect(claim).toMatchObject({ accessKeyId: "AKIDEXAMPLE", region: "us-east-1", service: "ecs" });
    expect(claim.signedHeaders).toContain("x-amz-target");
    expect(parseAmzDate(claim.amzDate)).toBeInstanceOf(Date);
    expect(await verify(req)).toBe(true);
  });

  it("awsQuery (STS): a form body with list members", async () => {
    const req = await sdkSigned((w) =>
      new STSClient(clientOptions(w)).send(
        new AssumeRoleCommand({
          RoleArn: "arn:aws:iam::000000000000:role/r",
          RoleSessionName: "s p a c e",
          Tags: [{ Key: "k", Value: "v+w=x&y" }],
          PolicyArns: [{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }],
        }),
      ),
    );
    expect(req.body.toString()).toContain("Tags.member.1.Value=v%2Bw%3Dx%26y");
    expect(await verify(req)).toBe(true);
  });

  it("restJson1 (EKS): an ARN label percent-encoded in the path", async () => {
    const req = await sdkSigned((w) =>
      new EKSClient(clientOptions(w)).send(
        new TagResourceCommand({
          resourceArn: "arn:aws:eks:us-east-1:000000000000:cluster/my cluster+1",
          tags: { a: "b" },
        }),
      ),
    );
    expect(req.path).toBe("/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A000000000000%3Acluster%2Fmy%20cluster%2B1");
    expect(await verify(req)).toBe(true);
  });

  it("restJson1 (EKS): repeated query keys", async () => {
    const req = await sdkSigned((w) =>
      new EKSClient(clientOptions(w)).send(
        new UntagResourceCommand({
          resourceArn: "arn:aws:eks:us-east-1:0:cluster/c",
          tagKeys: ["zeta", "alpha", "a b"],
        }),
      ),
    );
    expect(req.query.getAll("tagKeys")).toEqual(["zeta", "alpha", "a b"]);
    expect(await verify(req)).toBe(true);
    // Berth's edge may see the repeated keys in another order; the canonical query sorts them.
    const reordered = new URLSearchParams([
      ["tagKeys", "a b"],
      ["tagKeys", "zeta"],
      ["tagKeys", "alpha"],
    ]);
    expect(await verify({ ...req, query: reordered })).toBe(true);
  });

  it("restJson1 (EKS): query parameters with characters that need encoding", async () => {
    const req = await sdkSigned((w) =>
      new EKSClient(clientOptions(w)).send(new EksListClusters({ maxResults: 10, nextToken: "a/b+c=d&e f~g*h'é" })),
    );
    expect(await verify(req)).toBe(true);
  });
});

describe("SigV4: requests signed with @smithy/signature-v4 directly verify", () => {
  it("a path with percent-encoded and reserved characters", async () => {
    const req = await smithySigned({
      method: "GET",
      path: "/tags/arn%3Aaws%3Aecs%3Aus-west-2%3A0%3Acluster%2Fa%20b%E2%9C%93",
      headers: {},
      service: "eks",
    });
    expect(await verify(req)).toBe(true);
  });

  it("repeated query keys, empty values and keys needing encoding", async () => {
    const req = await smithySigned({
      method: "GET",
      path: "/clusters",
      query: { include: ["all", "b", "a"], "weird key": "v/=&", empty: "" },
      headers: {},
      service: "eks",
    });
    expect(await verify(req)).toBe(true);
  });

  it("an awsQuery form body and a session token", async () => {
    const req = await smithySigned({
      method: "POST",
      path: "/",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body: "Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=web&Names.member.2=a%20b",
      service: "elasticloadbalancing",
      sessionToken: "FQoGZXIvYXdzEXAMPLE",
    });
    expect(req.headers["x-amz-security-token"]).toBe("FQoGZXIvYXdzEXAMPLE");
    expect(readClaim(req)?.sessionToken).toBe("FQoGZXIvYXdzEXAMPLE");
    expect(await verify(req)).toBe(true);
  });
});

describe("SigV4: tampering is rejected", () => {
  const ecsRequest = () =>
    sdkSigned((w) => new ECSClient(clientOptions(w)).send(new ListClustersCommand({ maxResults: 5 })));
  const formRequest = () =>
    smithySigned({
      method: "POST",
      path: "/",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
      service: "sts",
      contentSha256: false,
    });

  it("a wrong secret", async () => {
    expect(await verify(await ecsRequest(), "not-the-secret")).toBe(false);
  });

  it("a changed body, even though the signed x-amz-content-sha256 header still vouches for the old one", async () => {
    const req = await ecsRequest();
    expect(req.headers["x-amz-content-sha256"]).toBe(createHash("sha256").update(req.body).digest("hex"));
    expect(await verify({ ...req, body: Buffer.from('{"maxResults":100}') })).toBe(false);
  });

  it("a changed body, and a recomputed x-amz-content-sha256 to match it", async () => {
    const req = await ecsRequest();
    const body = Buffer.from('{"maxResults":100}');
    const forged = withHeader(req, "x-amz-content-sha256", createHash("sha256").update(body).digest("hex"));
    expect(await verify({ ...forged, body })).toBe(false);
  });

  it("a changed form body without x-amz-content-sha256", async () => {
    const req = await formRequest();
    expect(req.headers["x-amz-content-sha256"]).toBeUndefined();
    expect(await verify(req)).toBe(true);
    expect(await verify({ ...req, body: Buffer.from("Action=GetSessionToken&Version=2011-06-15") })).toBe(false);
  });

  it("a signed x-amz-content-sha256 that does not match the body", async () => {
    const req = await ecsRequest();
    expect(await verify(withHeader(req, "x-amz-content-sha256", "UNSIGNED-PAYLOAD"))).toBe(false);
  });

  it("a changed signed header", async () => {
    const req = await ecsRequest();
    const other = withHeader(req, "x-amz-target", "AmazonEC2ContainerServiceV20141113.DeleteCluster");
    expect(await verify(other)).toBe(false);
  });

  it("a changed X-Amz-Date", async () => {
    const req = await ecsRequest();
    expect(await verify(withHeader(req, "x-amz-date", "20200101T000000Z"))).toBe(false);
  });

  it("a changed path or query", async () => {
    const req = await smithySigned({
      method: "GET",
      path: "/clusters/a",
      query: { maxResults: "5" },
      headers: {},
      service: "eks",
    });
    expect(await verify(req)).toBe(true);
    expect(await verify({ ...req, path: "/clusters/b" })).toBe(false);
    expect(await verify({ ...req, query: new URLSearchParams("maxResults=6") })).toBe(false);
    expect(await verify({ ...req, method: "DELETE" })).toBe(false);
  });

  it("but an added header the client did not sign does not matter", async () => {
    const req = await ecsRequest();
    expect(await verify(withHeader(req, "x-forwarded-for", "10.0.0.1"))).toBe(true);
  });

  it("no claim at all, or a malformed Authorization header", async () => {
    const req = await ecsRequest();
    expect(readClaim({ ...req, headers: { ...req.headers, authorization: undefined } })).toBeUndefined();
    expect(readClaim(withHeader(req, "authorization", "Bearer abc"))).toBeUndefined();
  });
});

describe("signatureTimeProblem", () => {
  const now = new Date("2026-12-04T02:00:00Z");
  it.each([
    ["20261204T020000Z", undefined, undefined],
    ["20261204T014600Z", undefined, undefined],
    [
      "20261204T014459Z",
      undefined,
      "Signature expired: 20261204T014459Z is now earlier than 20261204T014500Z (20261204T020000Z - 15 min.)",
    ],
    [
      "20261204T021501Z",
      undefined,
      "Signature not yet current: 20261204T021501Z is still later than 20261204T021500Z (20261204T020000Z + 15 min.)",
    ],
    ["20261204T015900Z", 60, undefined],
    [
      "20261204T015859Z",
      60,
      "Signature expired: 20261204T015859Z is now earlier than 20261204T015900Z (20261204T020000Z - 60 sec.)",
    ],
    [
      "20261204T014459Z",
      604800,
      "Signature expired: 20261204T014459Z is now earlier than 20261204T014500Z (20261204T020000Z - 15 min.)",
    ],
    ["20261204T020000Z", Number.NaN, "X-Amz-Expires must be a whole number of seconds of at least 1."],
    ["", undefined, "X-Amz-Date is missing."],
  ])("%s expiring in %s s → %s", (amzDate, expires, problem) => {
    expect(signatureTimeProblem(amzDate, now, expires)).toBe(problem);
  });

  it("accepts exactly the dates within the window (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -3600, max: 3600 }), (offsetSec) => {
        const date = new Date(now.getTime() + offsetSec * 1000)
          .toISOString()
          .replace(/[-:]/g, "")
          .replace(/\.\d{3}/, "");
        return (signatureTimeProblem(date, now) === undefined) === Math.abs(offsetSec) <= 900;
      }),
    );
  });
});
