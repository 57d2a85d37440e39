import { randomBytes } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { Logger } from "../core/logger.js";
import type { TemporaryCredentials } from "../iam/credentials.js";
import type { InstanceHostSpec } from "./provisioner.js";

const TOKEN_MAX_TTL_SEC = 21_600;
const ROLE_SESSION_SEC = 3600;

export interface ImdsDeps {
  logger: Logger;
  /** The instance at a source address. */
  instanceAt(address: string): (InstanceHostSpec & { address: string }) | undefined;
  /** The role's credentials for the instance (the EC2 service assumes it), or why not. */
  roleCredentials(instance: InstanceHostSpec, durationSec: number): TemporaryCredentials | string;
}

/**
 * The EC2 instance metadata service at 169.254.169.254 for instance hosts: it knows which
 * instance asks by the source address, answers IMDSv2 (a PUT for a session token, then GETs
 * carrying it; IMDSv1 GETs too), and hands out the instance profile role's credentials, which
 * `berth agent` uses for every call, as the ECS agent does.
 */
export class InstanceMetadataService {
  private server?: Server;
  private readonly tokens = new Map<string, number>();
  private readonly cache = new Map<string, TemporaryCredentials>();

  constructor(private readonly d: ImdsDeps) {}

  async listen(address: string, port = 80): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, address, () => resolve());
    });
    this.server = server;
  }

  /** Where instance hosts reach it (port 80 unless another Berth on this machine holds it). */
  url(): string | undefined {
    const a = this.server?.address();
    return typeof a === "object" && a ? `http://${a.address}${a.port === 80 ? "" : `:${a.port}`}` : undefined;
  }

  close() {
    this.server?.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const text = (status: number, body: string, type = "text/plain") => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    const source = req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "";
    const instance = this.d.instanceAt(source);
    if (!instance) return text(404, "Not Found");
    const path = new URL(req.url ?? "/", "http://imds").pathname;
    if (req.method === "PUT" && path === "/latest/api/token") {
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > TOKEN_MAX_TTL_SEC) return text(400, "Bad Request");
      const token = randomBytes(32).toString("base64url");
      this.tokens.set(token, Date.now() + ttl * 1000);
      return text(200, token);
    }
    if (req.method !== "GET") return text(405, "Method Not Allowed");
    const token = req.headers["x-aws-ec2-metadata-token"];
    if (typeof token === "string" && !((this.tokens.get(token) ?? 0) > Date.now())) return text(401, "Unauthorized");
    const answer = this.answer(instance, path);
    if (answer === undefined) return text(404, "Not Found");
    return text(200, answer.body, answer.type);
  }

  private answer(i: InstanceHostSpec & { address: string }, path: string): { body: string; type?: string } | undefined {
    const role = i.roleArn?.split("/").pop();
    const region = i.availabilityZone.replace(/[a-z]$/, "");
    const plain = (body: string | undefined) => (body === undefined ? undefined : { body });
    const json = (v: unknown) => ({ body: JSON.stringify(v, null, 2), type: "application/json" });
    switch (path) {
      case "/latest/meta-data/instance-id":
        return plain(i.instanceId);
      case "/latest/meta-data/instance-type":
        return plain(i.instanceType);
      case "/latest/meta-data/ami-id":
        return plain(i.imageId);
      case "/latest/meta-data/local-ipv4":
        return plain(i.privateIpAddress ?? i.address);
      case "/latest/meta-data/placement/availability-zone":
        return plain(i.availabilityZone);
      case "/latest/meta-data/placement/region":
        return plain(region);
      case "/latest/user-data":
        return plain(i.userData);
      case "/latest/dynamic/instance-identity/document":
        return json({
          accountId: i.scope.account,
          architecture: "x86_64",
          availabilityZone: i.availabilityZone,
          imageId: i.imageId,
          instanceId: i.instanceId,
          instanceType: i.instanceType,
          privateIp: i.privateIpAddress ?? i.address,
          region,
          version: "2017-09-30",
        });
      case "/latest/meta-data/iam/security-credentials/":
      case "/latest/meta-data/iam/security-credentials":
        return plain(role);
    }
    if (role && path === `/latest/meta-data/iam/security-credentials/${role}`) {
      const creds = this.credentials(i);
      if (!creds) return undefined;
      return json({
        Code: "Success",
        LastUpdated: new Date().toISOString(),
        Type: "AWS-HMAC",
        AccessKeyId: creds.AccessKeyId,
        SecretAccessKey: creds.SecretAccessKey,
        Token: creds.SessionToken,
        Expiration: creds.Expiration.toISOString(),
      });
    }
    return undefined;
  }

  private credentials(i: InstanceHostSpec): TemporaryCredentials | undefined {
    const cached = this.cache.get(i.instanceId);
    if (cached && cached.Expiration.getTime() - Date.now() > 15 * 60_000) return cached;
    const out = this.d.roleCredentials(i, ROLE_SESSION_SEC);
    if (typeof out === "string") {
      this.d.logger.warn({ instance: i.instanceId, role: i.roleArn, reason: out }, "IMDS: no role credentials");
      return undefined;
    }
    this.cache.set(i.instanceId, out);
    return out;
  }
}
