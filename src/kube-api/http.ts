/** HTTP plumbing of the API server: bodies in, JSON and Status out. */
import type { IncomingMessage, ServerResponse } from "node:http";
import YAML from "yaml";
import { KubeError, kubeErrors } from "../kube/errors.js";
import { readBody as readWholeBody } from "../protocol/http.js";
import { decodeKubeProtobuf } from "./protobuf.js";

const MAX_BODY = 3 * 1024 * 1024 + 512 * 1024; // kube-apiserver's 3 MiB object limit, plus envelope

export const readBody = (req: IncomingMessage): Promise<Buffer> =>
  readWholeBody(
    req,
    MAX_BODY,
    () => new KubeError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"),
  );

/** The media type of a request body, without parameters. */
export const mediaType = (req: IncomingMessage) =>
  (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();

/** A request body as an object: JSON, or YAML when sent as such. */
export function parseObject(body: Buffer, contentType: string): Record<string, unknown> {
  const text = body.toString("utf8");
  if (contentType.includes("protobuf")) return decodeKubeProtobuf(body);
  let v: unknown;
  try {
    v = contentType.includes("yaml") ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw kubeErrors.badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw kubeErrors.badRequest("the object provided is unrecognized (must be of type Object)");
  return v as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = "application/json") {
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": buf.length,
    "cache-control": "no-cache, private",
  });
  res.end(buf);
}

export function sendBytes(res: ServerResponse, status: number, body: Buffer, contentType: string) {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": body.length,
    "cache-control": "no-cache, private",
  });
  res.end(body);
}

/** An error as a Status body (anything not a KubeError is a 500 InternalError). */
export function statusOf(e: unknown): KubeError {
  if (e instanceof KubeError) return e;
  return kubeErrors.internal(`Internal error occurred: ${(e as Error)?.message ?? String(e)}`);
}

export function sendError(res: ServerResponse, e: unknown) {
  const err = statusOf(e);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.toStatus());
}

export const notFoundPath = () =>
  new KubeError(404, "NotFound", "the server could not find the requested resource", {
    causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }],
  });

/** Whether the Accept header asks for a meta.k8s.io Table (kubectl get's human output). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(",")[0].replace(/\s+/g, "");
  return first.includes("as=Table") && first.includes("g=meta.k8s.io");
}

/** Warning headers (`299 - "text"`), as kube-apiserver sends for unknown fields with fieldValidation=Warn. */
export const warningHeader = (warnings: string[]) => warnings.map((w) => `299 - ${JSON.stringify(w)}`);
