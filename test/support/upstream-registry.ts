import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * An upstream registry standing in for Docker Hub: Debian's `docker-registry` (CNCF
 * distribution 2.8) on 127.0.0.1 with token auth, and a small token service here that checks
 * Basic credentials and signs the JWTs distribution verifies (RS256, the certificate in `x5c`).
 */

export const DISTRIBUTION = "/usr/bin/docker-registry";

export interface UpstreamRegistry {
  /** `127.0.0.1:<port>` of the registry. */
  host: string;
  /** How many token requests the token service answered (to see credentials were used). */
  tokensIssued(): number;
  /** Stops the registry (the token service stays, so a restart can reuse it). */
  stopRegistry(): Promise<void>;
  /** Starts the registry again on the same port and storage. */
  startRegistry(): Promise<void>;
  /** Stops everything and removes its files. */
  stop(): Promise<void>;
}

const freePort = async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
};

const b64url = (v: Buffer | string) => Buffer.from(v).toString("base64url");

export async function startUpstreamRegistry(users: Record<string, string>): Promise<UpstreamRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "berth-upstream-"));
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=berth-test-token"]
      .concat(["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]),
    { stdio: "ignore" },
  );
  const key = readFileSync(join(dir, "key.pem"), "utf8");
  const certDer = readFileSync(join(dir, "cert.pem"), "utf8")
    .replace(/-----[^-]+-----/g, "")
    .replace(/\s+/g, "");
  const service = "berth-upstream";
  const issuer = "berth-test-token";
  let issued = 0;

  const tokenServer: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
    const [user, password] = m ? Buffer.from(m[1], "base64").toString("utf8").split(/:(.*)/s) : [];
    if (!user || users[user] === undefined || users[user] !== password) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="token"' });
      res.end(JSON.stringify({ details: "incorrect username or password" }));
      return;
    }
    const access = url.searchParams.getAll("scope").flatMap((s) => {
      const [type, name, actions] = s.split(":");
      return type === "repository" ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [certDer] }));
    const claims = b64url(
      JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }),
    );
    const signature = b64url(sign("sha256", Buffer.from(`${header}.${claims}`), key));
    issued++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => tokenServer.listen(0, "127.0.0.1", () => r()));
  const tokenPort = (tokenServer.address() as AddressInfo).port;
  const port = await freePort();
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "auth:",
      "  token:",
      `    realm: http://127.0.0.1:${tokenPort}/token`,
      `    service: ${service}`,
      `    issuer: ${issuer}`,
      `    rootcertbundle: ${join(dir, "cert.pem")}`,
      "",
    ].join("\n"),
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const startRegistry = async () => {
    const c = spawn(DISTRIBUTION, ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
    child = c;
    let stderr = "";
    c.stderr?.on("data", (d) => {
      stderr += d;
    });
    exited = new Promise<void>((r) => c.on("exit", () => r()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v2/`);
        if (r.status === 401) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || c.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopRegistry = async () => {
    child?.kill("SIGTERM");
    await exited;
    child = undefined;
  };
  await startRegistry();
  return {
    host: `127.0.0.1:${port}`,
    tokensIssued: () => issued,
    startRegistry,
    stopRegistry,
    stop: async () => {
      await stopRegistry();
      await new Promise((r) => tokenServer.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
