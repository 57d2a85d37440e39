/**
 * A Kubernetes API server of Berth's on 127.0.0.1 without the rest of Berth: an in-memory store, a
 * test CA and server certificate, an Authenticator that accepts fixed tokens, and an Authorizer
 * given as a function. For the kube-api integration test and the EKS API benchmark.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/core/logger.js";
import { createKubeApiEndpoints, type KubeApiDeps, type KubeApiServer } from "../../src/kube-api/index.js";
import type { AuthorizationDecision, RequestAttributes, UserInfo } from "../../src/kube/contracts.js";
import { ObjectStore } from "../../src/kube/objects.js";
import { R } from "../../src/kube/resources.js";
import type { ClusterRef } from "../../src/kube/types.js";
import { openDb } from "../../src/store/db.js";
import { DocumentStore } from "../../src/store/documents.js";

/** A test CA and a server certificate for host, made with the openssl CLI. */
export async function testCertificates(host = "127.0.0.1") {
  const dir = mkdtempSync(join(tmpdir(), "kube-certs-"));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-subj",
    "/CN=kubernetes",
    "-days",
    "2",
  );
  ssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
    "-subj",
    "/CN=kube-apiserver",
  );
  writeFileSync(f("ext"), `subjectAltName=IP:${host},DNS:localhost,DNS:kubernetes\nextendedKeyUsage=serverAuth\n`);
  ssl(
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("server.crt"),
    "-days",
    "2",
    "-extfile",
    f("ext"),
  );
  const read = (n: string) => readFileSync(f(n), "utf8");
  const certs = { caPem: read("ca.crt"), certPem: read("server.crt"), keyPem: read("server.key") };
  rmSync(dir, { recursive: true, force: true });
  return certs;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export interface KubeHarness {
  url: string;
  cluster: ClusterRef;
  objects: ObjectStore;
  server: KubeApiServer;
  caPem: string;
  /** A kubeconfig file for a token (default: the admin's). */
  kubeconfig(token?: string): string;
  stop(): Promise<void>;
}

export const ADMIN_TOKEN = "admin-token";
export const VIEWER_TOKEN = "viewer-token";

/** Admin may do anything; viewer only get/list/watch, and nothing on secrets. */
export function testAuthorizer(user: UserInfo, a: RequestAttributes): AuthorizationDecision {
  if (user.groups.includes("system:masters")) return { allowed: true, reason: "" };
  if (!a.resourceRequest) return { allowed: true, reason: "" };
  if (a.resource === "selfsubjectaccessreviews" || a.resource === "selfsubjectrulesreviews")
    return { allowed: true, reason: "" };
  if (["get", "list", "watch"].includes(a.verb) && a.resource !== "secrets") return { allowed: true, reason: "" };
  return { allowed: false, reason: "" };
}

export async function startKubeHarness(
  extra: Partial<KubeApiDeps> = {},
  store: { retainChanges?: number; file?: string } = {},
): Promise<KubeHarness> {
  const db = openDb(store.file ?? ":memory:");
  const objects = new ObjectStore(new DocumentStore(db, { retainChanges: store.retainChanges }));
  const cluster: ClusterRef = { scope: { account: "000000000000", region: "us-east-1" }, name: "test" };
  for (const ns of ["default", "kube-system", "kube-public"])
    objects.create(cluster, R.namespaces, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  const users: Record<string, UserInfo> = {
    [ADMIN_TOKEN]: { username: "kubernetes-admin", groups: ["system:masters"] },
    [VIEWER_TOKEN]: { username: "viewer", groups: ["viewers"] },
  };
  const server = createKubeApiEndpoints({
    objects,
    authenticator: { authenticate: async (_c, token) => users[token] },
    authorizer: { authorize: (_c, user, a) => testAuthorizer(user, a) },
    logger: createLogger("silent"),
    ...extra,
  });
  const certs = await testCertificates();
  const port = await freePort();
  await server.serve({ cluster, host: "127.0.0.1", port, ...certs });
  const url = `https://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "kube-harness-"));
  return {
    url,
    cluster,
    objects,
    server,
    caPem: certs.caPem,
    kubeconfig(token = ADMIN_TOKEN) {
      const file = join(dir, `kubeconfig-${token}`);
      writeFileSync(
        file,
        [
          "apiVersion: v1",
          "kind: Config",
          "clusters:",
          "- name: test",
          "  cluster:",
          `    server: ${url}`,
          `    certificate-authority-data: ${Buffer.from(certs.caPem).toString("base64")}`,
          "contexts:",
          "- name: test",
          "  context: {cluster: test, user: test}",
          "current-context: test",
          "users:",
          "- name: test",
          `  user: {token: ${token}}`,
          "",
        ].join("\n"),
      );
      return file;
    },
    async stop() {
      await server.close(cluster);
      db.close();
    },
  };
}
