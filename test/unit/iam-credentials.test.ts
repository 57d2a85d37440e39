import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/core/logger.js";
import { buildChain } from "../../src/edge/chain.js";
import { createIdentity } from "../../src/iam/index.js";
import { issuedByBerth, newAccessKeyId } from "../../src/iam/keys.js";
import { KEY_FILE, SecretBox } from "../../src/iam/secret-box.js";
import { ssmService } from "../../src/services/ssm/provider.js";
import { stsService } from "../../src/services/sts/provider.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";
import { WireHandler, toWire } from "../support/wire.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "berth-iam-unit-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("SecretBox", () => {
  it("keeps its key in the data directory, readable by the owner only", () => {
    const dir = tempDir();
    const a = SecretBox.forDataDir(dir);
    const b = SecretBox.forDataDir(dir);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(b.openText(a.seal("hello", "p"), "p")).toBe("hello");
  });

  it("property: seal/open round-trips; another purpose, key or a flipped byte opens nothing", () => {
    const box = SecretBox.forDataDir(tempDir());
    const other = SecretBox.forDataDir(tempDir());
    fc.assert(
      fc.property(fc.string(), fc.nat(), (text, n) => {
        const sealed = box.seal(text, "purpose");
        if (text.length >= 8) expect(sealed).not.toContain(text);
        expect(box.openText(sealed, "purpose")).toBe(text);
        expect(box.openText(sealed, "other")).toBeUndefined();
        expect(other.openText(sealed, "purpose")).toBeUndefined();
        const raw = Buffer.from(sealed.slice(3), "base64url");
        raw[n % raw.length] ^= 1 << (n % 8);
        expect(box.openText(`v1.${raw.toString("base64url")}`, "purpose")).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});

describe("access key ids", () => {
  it("look like AWS's and carry a MAC only this Berth can make", () => {
    const id = newAccessKeyId("AKIA", "s3cret");
    expect(id).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(issuedByBerth(id, "s3cret")).toBe(true);
    expect(issuedByBerth(id, "another")).toBe(false);
    expect(issuedByBerth("AKIAIOSFODNN7EXAMPLE", "s3cret")).toBe(false);
    expect(issuedByBerth("test", "s3cret")).toBe(false);
  });
});

describe("the edge with temporary credentials", () => {
  const dir = tempDir();
  let now = new Date("2025-01-01T00:00:00Z").getTime();
  const clock = { now: () => new Date(now) };
  const store = new DocumentStore(openDb(":memory:"));
  const kit = createIdentity({ store, dataDir: dir, clock });
  const config = loadConfig([], { BERTH_DATA_DIR: dir });
  const chain = buildChain({
    config,
    services: [stsService(kit), ssmService({ store, box: kit.box, clock }).service],
    logger: createLogger("silent"),
    identity: kit.edge,
  });

  /** What the SDK sends with these credentials, run through Berth's chain. */
  async function call(
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    json = false,
  ) {
    const wire = new WireHandler();
    const opts = { region: "us-east-1", credentials, requestHandler: wire, maxAttempts: 1 };
    if (json) await new SSMClient(opts).send(new GetParameterCommand({ Name: "x" })).catch(() => undefined);
    else await new STSClient(opts).send(new GetCallerIdentityCommand({})).catch(() => undefined);
    const { response } = await chain(toWire(wire.last));
    return { status: response.status, body: String(response.body), headers: response.headers };
  }

  const session = () =>
    kit.credentials.issueSession(
      { account: "123456789012", kind: "root", arn: "arn:aws:iam::123456789012:root", userId: "123456789012" },
      900,
    ).credentials;

  it("accepts a live session and answers as its principal", async () => {
    now = Date.now(); // the chain checks X-Amz-Date against the real clock
    const c = session();
    const r = await call({
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    });
    expect(r.status).toBe(200);
    expect(r.body).toContain("<Account>123456789012</Account>");
  });

  it("refuses an expired session token with ExpiredToken (query) and ExpiredTokenException (JSON)", async () => {
    now = Date.now() - 3600_000; // minted an hour ago, valid for 15 minutes
    const c = session();
    now = Date.now();
    const creds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const q = await call(creds);
    expect(q.status).toBe(403);
    expect(q.body).toContain("<Code>ExpiredToken</Code>");
    expect(q.body).toContain("The security token included in the request is expired");
    const j = await call(creds, true);
    expect(j.status).toBe(400);
    expect(JSON.parse(j.body).__type).toBe("ExpiredTokenException");
  });

  it("refuses a Berth temporary key id without its token, and unknown tokens on Berth keys", async () => {
    now = Date.now();
    const c = session();
    const noToken = await call({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain("<Code>InvalidClientTokenId</Code>");
    const junk = await call({
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: "v1.AAAA",
    });
    expect(junk.body).toContain("<Code>InvalidClientTokenId</Code>");
  });

  it("treats keys it never issued as before (lenient: the account root), whatever token they carry", async () => {
    const r = await call({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x", sessionToken: "whatever" });
    expect(r.status).toBe(200);
    expect(r.body).toContain("<Arn>arn:aws:iam::000000000000:root</Arn>");
    const plain = await call({ accessKeyId: "test", secretAccessKey: "test" });
    expect(plain.status).toBe(200);
  });

  it("refuses a tampered or foreign key id in AWS's form in lenient mode too, never the root", async () => {
    now = Date.now();
    const c = session();
    const flip = (id: string, i: number) => id.slice(0, i) + (id[i] === "B" ? "C" : "B") + id.slice(i + 1);
    for (const i of [5, 10, 19]) {
      const r = await call({ accessKeyId: flip(c.AccessKeyId, i), secretAccessKey: c.SecretAccessKey });
      expect(r.status).toBe(403);
      expect(r.body).toContain("<Code>InvalidClientTokenId</Code>");
      expect(r.body).not.toContain(":root");
    }
    const foreign = await call({ accessKeyId: "AKIA6TVCQ2ZJXYZ4ABCD", secretAccessKey: "x" });
    expect(foreign.body).toContain("<Code>InvalidClientTokenId</Code>");
  });
});
