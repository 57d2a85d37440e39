import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

/** Credentials as IMDS hands them out (an instance profile role's session). */
export interface AgentCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** SigV4 headers for a request to the control plane (an ECS call, or the channel's upgrade). */
export async function signedHeaders(opts: {
  url: URL;
  method: "GET" | "POST";
  region: string;
  credentials: AgentCredentials;
  headers?: Record<string, string>;
  body?: string;
}): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: "ecs",
    sha256: Sha256,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of opts.url.searchParams) query[k] = v;
  const signed = await signer.sign(
    new HttpRequest({
      method: opts.method,
      protocol: opts.url.protocol === "wss:" ? "https:" : opts.url.protocol === "ws:" ? "http:" : opts.url.protocol,
      hostname: opts.url.hostname,
      port: opts.url.port ? Number(opts.url.port) : undefined,
      path: opts.url.pathname,
      query,
      headers: { host: opts.url.host, ...opts.headers },
      body: opts.body,
    }),
  );
  return signed.headers as Record<string, string>;
}

/** An error an AWS JSON API answered with. */
export class AwsCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(`${code}: ${message}`);
  }
}

/** One ECS (awsJson1_1) call, signed with the instance's credentials. */
export async function ecsCall<T>(
  endpoint: string,
  region: string,
  credentials: AgentCredentials,
  operation: string,
  input: unknown,
): Promise<T> {
  const url = new URL("/", endpoint);
  const body = JSON.stringify(input);
  const headers = await signedHeaders({
    url,
    method: "POST",
    region,
    credentials,
    body,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AmazonEC2ContainerServiceV20141113.${operation}`,
    },
  });
  const res = await fetch(url, { method: "POST", headers, body });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const type = String(parsed.__type ?? res.headers.get("x-amzn-errortype") ?? `HTTP${res.status}`);
    throw new AwsCallError(type.split("#").pop()!, String(parsed.message ?? parsed.Message ?? text), res.status);
  }
  return parsed as T;
}
