/** The edge's authentication of requests that arrive unsigned or with unusual query encodings. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/core/logger.js";
import { buildChain } from "../../src/edge/chain.js";
import { createIdentity } from "../../src/iam/index.js";
import type { WireRequest } from "../../src/protocol/http.js";
import { iamService } from "../../src/services/iam/provider.js";
import { stsService } from "../../src/services/sts/provider.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

const dir = mkdtempSync(join(tmpdir(), "berth-edge-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chainFor(auth: "strict" | "lenient") {
  const store = new DocumentStore(openDb(":memory:"));
  const kit = createIdentity({ store, dataDir: dir, clock: { now: () => new Date() } });
  return buildChain({
    config: loadConfig([], { BERTH_DATA_DIR: dir, BERTH_AUTH: auth }),
    services: [
      stsService(kit),
      iamService({ iam: kit.iam, credentials: kit.credentials, clock: { now: () => new Date() } }),
    ],
    logger: createLogger("silent"),
    identity: kit.edge,
  });
}

const form = (body: string): WireRequest => ({
  method: "POST",
  path: "/",
  query: new URLSearchParams(),
  headers: { host: "localhost:4566", "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
  body: Buffer.from(body),
});

const get = (rawQuery: string, headers: Record<string, string>): WireRequest => ({
  method: "GET",
  path: "/",
  query: new URLSearchParams(rawQuery),
  rawQuery,
  headers,
  body: Buffer.alloc(0),
});

/** The headers a client signing `query` (as parameter values) with the root key sends. */
async function signedHeaders(query: Record<string, string>) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    region: "us-east-1",
    service: "sts",
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: "GET",
      protocol: "http:",
      hostname: "localhost:4566",
      path: "/",
      query,
      headers: { host: "localhost:4566" },
    }),
  );
  return signed.headers as Record<string, string>;
}

describe("unsigned query-protocol calls", () => {
  it("strict mode refuses them as unauthenticated (not UnknownService), for IAM and STS", async () => {
    const handle = chainFor("strict");
    for (const body of ["Action=ListUsers&Version=2010-05-08", "Action=GetCallerIdentity&Version=2011-06-15"]) {
      const { response } = await handle(form(body));
      expect(response.status).toBe(403);
      expect(String(response.body)).toContain("<Code>MissingAuthenticationToken</Code>");
    }
    const { response } = await handle(get("Action=GetCallerIdentity&Version=2011-06-15", { host: "localhost:4566" }));
    expect(String(response.body)).toContain("<Code>MissingAuthenticationToken</Code>");
  });

  it("lenient mode answers them as the default account's root", async () => {
    const { response } = await chainFor("lenient")(form("Action=GetCallerIdentity&Version=2011-06-15"));
    expect(response.status).toBe(200);
    expect(String(response.body)).toContain("<Arn>arn:aws:iam::000000000000:root</Arn>");
  });

  it("an Action/Version pair no service serves is still UnknownService", async () => {
    const { response } = await chainFor("lenient")(form("Action=ListUsers&Version=1999-01-01"));
    expect(response.status).toBe(400);
    expect(String(response.body)).toContain("UnknownService");
  });
});

describe("SigV4 query canonicalisation", () => {
  const base = "Action=GetCallerIdentity&Version=2011-06-15";
  it("accepts a `+` sent for a space the client signed as %20, and a `+` it signed as itself", async () => {
    const handle = chainFor("strict");
    const asSpace = await signedHeaders({ Action: "GetCallerIdentity", Version: "2011-06-15", Note: "a b" });
    const r1 = await handle(get(`${base}&Note=a+b`, asSpace));
    expect(r1.response.status).toBe(200);
    const r2 = await handle(get(`${base}&Note=a%20b`, asSpace));
    expect(r2.response.status).toBe(200);
    const asPlus = await signedHeaders({ Action: "GetCallerIdentity", Version: "2011-06-15", Note: "a+b" });
    const r3 = await handle(get(`${base}&Note=a%2Bb`, asPlus));
    expect(r3.response.status).toBe(200);
    const r4 = await handle(get(`${base}&Note=a+b`, asPlus));
    expect(r4.response.status).toBe(200);
  });

  it("still refuses a query changed after signing", async () => {
    const headers = await signedHeaders({ Action: "GetCallerIdentity", Version: "2011-06-15", Note: "a b" });
    const { response } = await chainFor("strict")(get(`${base}&Note=a+c`, headers));
    expect(response.status).toBe(403);
    expect(String(response.body)).toContain("<Code>SignatureDoesNotMatch</Code>");
  });
});
