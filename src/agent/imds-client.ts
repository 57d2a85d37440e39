import type { AgentCredentials } from "./aws-call.js";

/** What an agent reads from the instance metadata service (IMDSv2, as the ECS agent does). */
export class ImdsClient {
  private token?: { value: string; until: number };

  constructor(private readonly endpoint: string) {}

  private async session(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const res = await fetch(new URL("/latest/api/token", this.endpoint), {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" },
    });
    if (!res.ok) throw new Error(`IMDS refused a session token (HTTP ${res.status})`);
    this.token = { value: await res.text(), until: Date.now() + 6 * 3600_000 - 60_000 };
    return this.token.value;
  }

  async get(path: string): Promise<string> {
    const res = await fetch(new URL(path, this.endpoint), {
      headers: { "x-aws-ec2-metadata-token": await this.session() },
    });
    if (!res.ok) throw new Error(`IMDS ${path}: HTTP ${res.status}`);
    return res.text();
  }

  identityDocument(): Promise<string> {
    return this.get("/latest/dynamic/instance-identity/document");
  }

  /** The instance profile role's current credentials. */
  async credentials(): Promise<AgentCredentials> {
    const roles = (await this.get("/latest/meta-data/iam/security-credentials/")).split("\n").filter(Boolean);
    if (roles.length === 0) throw new Error("the instance has no instance profile (IMDS lists no role)");
    const c = JSON.parse(await this.get(`/latest/meta-data/iam/security-credentials/${roles[0]}`)) as {
      AccessKeyId: string;
      SecretAccessKey: string;
      Token: string;
      Expiration: string;
    };
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.Token,
      expiration: new Date(c.Expiration),
    };
  }
}
