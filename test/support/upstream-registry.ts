import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
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
  tokensIssued(): Promise<number>;
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

/** The token service: Basic credentials in, a JWT granting the requested repository scopes out. */
const TOKEN_SERVER = `
import { createServer } from "node:http";
import { randomUUID, sign } from "node:crypto";
const users = JSON.parse(process.env.USERS);
const b64url = (v) => Buffer.from(v).toString("base64url");
let issued = 0;
const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/issued") return res.end(String(issued));
  const m = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
  const text = m ? Buffer.from(m[1], "base64").toString("utf8") : "";
  const colon = text.indexOf(":");
  const user = colon > 0 ? text.slice(0, colon) : "";
  if (!user || users[user] === undefined || users[user] !== text.slice(colon + 1)) {
    res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="token"' });
    return res.end(JSON.stringify({ details: "incorrect username or password" }));
  }
  const access = url.searchParams.getAll("scope").flatMap((s) => {
    const [type, name, actions] = s.split(":");
    return type === "repository" ? [{ type, name, actions: actions.split(",") }] : [];
  });
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [process.env.CERT] }));
  const claims = b64url(JSON.stringify({
    iss: process.env.ISSUER, sub: user, aud: process.env.SERVICE, exp: now + 300, nbf: now - 10, iat: now,
    jti: randomUUID(), access,
  }));
  const signature = b64url(sign("sha256", Buffer.from(header + "." + claims), process.env.KEY));
  issued++;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ token: header + "." + claims + "." + signature, expires_in: 300 }));
});
server.listen(0, "127.0.0.1", () => process.stdout.write("listening " + server.address().port + "\\n"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

export async function startUpstreamRegistry(users: Record<string, string>): Promise<UpstreamRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "berth-upstream-"));
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=berth-test-token"].concat([
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]),
    { stdio: "ignore" },
  );
  const key = readFileSync(join(dir, "key.pem"), "utf8");
  const certDer = readFileSync(join(dir, "cert.pem"), "utf8")
    .replace(/-----[^-]+-----/g, "")
    .replace(/\s+/g, "");
  const service = "berth-upstream";
  const issuer = "berth-test-token";
  // The token service runs in its own process: tests call docker and skopeo synchronously.
  const tokenServer = spawn(process.execPath, ["--input-type=module", "-e", TOKEN_SERVER], {
    env: { ...process.env, KEY: key, CERT: certDer, USERS: JSON.stringify(users), SERVICE: service, ISSUER: issuer },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const tokenExited = new Promise<void>((r) => tokenServer.on("exit", () => r()));
  const tokenPort = await new Promise<number>((resolve, reject) => {
    let out = "";
    tokenServer.stdout?.on("data", (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    tokenServer.on("exit", (code) => reject(new Error(`the token service exited with ${code}`)));
  });
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
    tokensIssued: async () => Number(await (await fetch(`http://127.0.0.1:${tokenPort}/issued`)).text()),
    startRegistry,
    stopRegistry,
    stop: async () => {
      await stopRegistry();
      tokenServer.kill("SIGTERM");
      await tokenExited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
