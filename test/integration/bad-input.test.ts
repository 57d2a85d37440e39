/**
 * The bad-input suite (issue 16): for every operation Berth implements, in every service it
 * serves (as /_berth/health?operations reports them, so new services join by being served),
 * the invalid requests test/support/bad-input.ts derives from the model are sent signed, raw,
 * to a real Berth. Each must come back 4xx with the code the protocol and service use, a message
 * naming the member, never a 5xx — and nothing may change: the Describe/List/Get answers of
 * every service are the same before and after.
 */
import { request } from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, inject, it } from "vitest";
import { MAX_BODY } from "../../src/edge/server.js";
import { type ServiceModel, loadModel } from "../../src/protocol/model.js";
import {
  type BadCase,
  type RawRequest,
  type WireKind,
  baseRequest,
  casesForService,
  codeMatches,
  expectedCodes,
  namesMember,
  wireKinds,
} from "../support/bad-input.js";
import { region } from "../support/berth.js";
import { newAccount, rootOf } from "../support/identity.js";

interface Answer {
  status: number;
  code: string;
  message: string;
  body: string;
}

const CONCURRENCY = 8;
const CASE_TIMEOUT_MS = 30_000;

/** Sends one raw request, SigV4-signed as the service's SDK would sign it (the oversized one is not: it never gets that far). */
async function send(endpoint: string, model: ServiceModel, creds: ReturnType<typeof rootOf>, raw: RawRequest) {
  const url = new URL(endpoint);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of raw.query) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string> = { ...raw.headers, host: url.host };
  if (raw.declaredLength === undefined) {
    const signer = new SignatureV4({
      credentials: creds,
      region,
      service: model.metadata.signingName ?? model.metadata.endpointPrefix,
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: raw.method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: raw.path,
      query,
      headers,
      body: raw.body,
    });
    Object.assign(headers, signed.headers);
  }
  const qs = new URLSearchParams(raw.query).toString().replace(/\+/g, "%20");
  const body = Buffer.from(raw.body);
  headers["content-length"] = String(raw.declaredLength ?? body.length);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: raw.method, path: qs ? `${raw.path}?${qs}` : raw.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          if (raw.declaredLength !== undefined) req.destroy();
          resolve(answerOf(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8")));
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(CASE_TIMEOUT_MS, () => req.destroy(new Error("no answer in time")));
    req.on("error", reject);
    // The oversized body: only its start is sent; the answer must come before the rest would.
    req.write(raw.declaredLength === undefined ? body : Buffer.alloc(64 * 1024, 0x61));
    if (raw.declaredLength === undefined) req.end();
  });
}

/** Status, error code and message of an answer in any of the protocols. */
function answerOf(status: number, headers: Record<string, string | string[] | undefined>, body: string): Answer {
  let code = String(headers["x-amzn-errortype"] ?? "").split(":")[0];
  let message = "";
  if (body.startsWith("<")) {
    code ||= /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? "";
    message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? "";
  } else {
    try {
      const doc = JSON.parse(body) as Record<string, unknown>;
      code ||= String(doc.__type ?? doc.code ?? "");
      message = String(doc.message ?? doc.Message ?? "");
    } catch {
      message = body.slice(0, 200);
    }
  }
  return { status, code: code.replace(/^.*#/, ""), message, body };
}

/** What is wrong with an answer to a case, or undefined when it is right. */
function fault(c: BadCase, model: ServiceModel, a: Answer): string | undefined {
  if (a.status >= 500) return `answered ${a.status} ${a.code}`;
  if (c.expect === "too-large") return a.status === 413 ? undefined : `answered ${a.status}, not 413`;
  if (a.status < 400) return `accepted (${a.status})`;
  const codes = expectedCodes(c, model);
  if (!codeMatches(model, codes, a.code)) return `code ${a.code}, expected ${codes.slice(0, 4).join(" | ")}`;
  if ((c.expect === "validation" || c.expect === "type") && !namesMember(a.message, c.member))
    return `message does not name '${c.member}': ${a.message.slice(0, 160)}`;
  return undefined;
}

/** Runs tasks with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The read-only calls of a service that take no input: its state as clients see it. */
const readers = (model: ServiceModel, operations: string[]) =>
  operations.filter((o) => {
    const op = model.operations[o];
    if (!/^(List|Describe|Get)/.test(o)) return false;
    const input = op.input ? model.shapes[op.input.shape] : undefined;
    return !input?.required?.length;
  });

const normalize = (a: Answer) => `${a.status} ${a.body.replace(/<RequestId>[^<]*<\/RequestId>/g, "")}`;

describe("bad input derived from the models, for every implemented operation", () => {
  const endpoint = inject("endpoint");
  const creds = rootOf(newAccount());

  it("is refused with the service's code naming the member, never 5xx, and changes nothing", {
    timeout: 600_000,
  }, async () => {
    const health = (await (await fetch(`${endpoint}/_berth/health?operations`)).json()) as {
      operations: Record<string, string[]>;
    };
    const services = Object.keys(health.operations).sort();
    expect(services.length).toBeGreaterThanOrEqual(10);

    // State before: every input-less reader of every service, asked twice (what differs between
    // two asks — tokens, clocks — is not state and is left out).
    const snapshot = async () => {
      const out = new Map<string, string>();
      for (const service of services) {
        const model = loadModel(service);
        for (const wire of wireKinds(model).slice(0, 1))
          for (const o of readers(model, health.operations[service]))
            out.set(`${service} ${o}`, normalize(await send(endpoint, model, creds, baseRequest(model, o, wire))));
      }
      return out;
    };
    const first = await snapshot();
    const second = await snapshot();
    const stable = [...first.keys()].filter((k) => first.get(k) === second.get(k) && first.get(k)!.startsWith("200"));
    expect(stable.length).toBeGreaterThan(20);

    const failures: string[] = [];
    const counts: string[] = [];
    for (const service of services) {
      const model = loadModel(service);
      const cases = casesForService(service, model, health.operations[service], { maxBody: MAX_BODY });
      const byKind = new Map<string, number>();
      let failed = 0;
      await pool(cases, CONCURRENCY, async (c) => {
        byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
        let problem: string | undefined;
        try {
          problem = fault(c, model, await send(endpoint, model, creds, c.request));
        } catch (e) {
          problem = `no answer: ${(e as Error).message}`;
        }
        if (problem) {
          failed++;
          failures.push(`${service} ${c.operation} [${c.protocol as WireKind}] ${c.what.slice(0, 120)}: ${problem}`);
        }
      });
      counts.push(
        `${service}: ${cases.length} cases over ${health.operations[service].length} operations, ${failed} wrong (${[
          ...byKind,
        ]
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")})`,
      );
    }
    const after = await snapshot();
    const changed = stable.filter((k) => after.get(k) !== first.get(k));
    console.log(`bad-input suite:\n  ${counts.join("\n  ")}\n  state readers compared: ${stable.length}`);
    expect(failures.sort()).toEqual([]);
    expect(changed.map((k) => `${k}: ${first.get(k)?.slice(0, 200)} → ${after.get(k)?.slice(0, 200)}`)).toEqual([]);
  });
});
