import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, newAccount, rootOf } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { eventually, removeClusterContainers, KUBECTL_120, kubeEnv, kubectl, kubectls } from "../support/kube.js";

const run = promisify(execFile);
const account = newAccount();
const creds = rootOf(account);
const cluster = "tokens";
const KUBECTL = "/usr/bin/kubectl"; // 1.32: `kubectl create token`

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));

/** A pod that calls the API server with its mounted token (busybox wget over HTTPS to the `kubernetes` Service). */
const apiClientPod = (name: string, namespace: string, path: string, extra = "") => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  ${extra}
  containers:
    - name: c
      image: ${BUSYBOX_IMAGE}
      command:
        - sh
        - -c
        - |
          D=/var/run/secrets/kubernetes.io/serviceaccount
          ls $D || exit 0
          echo "ns=$(cat $D/namespace)"
          grep -q "BEGIN CERTIFICATE" $D/ca.crt && echo ca=ok
          wget -q -O- --no-check-certificate --header "Authorization: Bearer $(cat $D/token)" \\
            "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT${path}" 2>&1
          echo "rc=$?"
`;

/** Service account tokens: `kubectl create token`, bearer calls checked by RBAC, pods calling the API with their token. */
describe("EKS service account tokens", () => {
  let berth: RunningBerth;
  let dir: string;
  let env: Record<string, string>;
  let server: string;
  let caFile: string;
  const k = (args: string[], input?: string) => kubectl(KUBECTL, env, args, { input });
  /** kubectl with only a bearer token (no IAM exec plugin). */
  const kt = (token: string, args: string[]) =>
    kubectl(KUBECTL, { ...env, KUBECONFIG: "/dev/null" }, [
      `--server=${server}`,
      `--certificate-authority=${caFile}`,
      `--token=${token}`,
      ...args,
    ]);
  const curl = async (token: string, path: string) => {
    const { stdout } = await run("curl", [
      "-s",
      "--max-time",
      "10",
      "--cacert",
      caFile,
      "-H",
      `Authorization: Bearer ${token}`,
      "-w",
      "\n%{http_code}",
      `${server}${path}`,
    ]);
    const lines = stdout.trimEnd().split("\n");
    const code = Number(lines.pop());
    return { code, body: JSON.parse(lines.join("\n") || "{}") };
  };
  const podLogs = async (name: string, ns: string) => {
    await eventually(async () => {
      const r = await k(["get", "pod", name, "-n", ns, "-o", "jsonpath={.status.phase}"]);
      return ["Succeeded", "Failed"].includes(r.stdout) ? r.stdout : undefined;
    }, `pod ${ns}/${name} to finish`);
    return (await k(["logs", name, "-n", ns])).stdout;
  };

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" } });
    dir = mkdtempSync(join(tmpdir(), "berth-eks-tokens-"));
    env = kubeEnv(join(dir, "config"), creds, berth.endpoint);
    const created = await awsCli(berth.endpoint, creds, [
      "eks",
      "create-cluster",
      "--name",
      cluster,
      "--role-arn",
      `arn:aws:iam::${account}:role/eks-cluster`,
      "--resources-vpc-config",
      "subnetIds=subnet-a",
    ]);
    expect(created.ok).toBe(true);
    await awsCli(berth.endpoint, creds, ["eks", "wait", "cluster-active", "--name", cluster]);
    execFileSync(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "eks", "update-kubeconfig", "--name", cluster, "--kubeconfig", env.KUBECONFIG],
      { env },
    );
    const d = await awsCli(berth.endpoint, creds, ["eks", "describe-cluster", "--name", cluster]);
    const c = (d as { json: { cluster: { endpoint: string; certificateAuthority: { data: string } } } }).json.cluster;
    server = c.endpoint;
    caFile = join(dir, "ca.crt");
    writeFileSync(caFile, Buffer.from(c.certificateAuthority.data, "base64"));
  });
  afterAll(async () => {
    await awsCli(berth.endpoint, creds, ["eks", "delete-cluster", "--name", cluster]);
    await eventually(
      async () => {
        const r = await awsCli(berth.endpoint, creds, ["eks", "describe-cluster", "--name", cluster]);
        return r.ok ? undefined : true;
      },
      "the cluster to go",
      30_000,
    ).catch(() => undefined);
    await berth?.stop();
    removeClusterContainers(account, cluster);
    if (berth) rmSync(berth.dataDir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("kubectl create token issues a JWT with the cluster's OIDC issuer; bad durations are refused", async () => {
    const d = await awsCli(berth.endpoint, creds, ["eks", "describe-cluster", "--name", cluster]);
    const issuer = (d as { json: { cluster: { identity: { oidc: { issuer: string } } } } }).json.cluster.identity.oidc
      .issuer;
    const r = await k(["create", "token", "default"]);
    expect(r.stderr).toBe("");
    const claims = claimsOf(r.stdout.trim());
    expect(claims.iss).toBe(issuer);
    expect(claims.sub).toBe("system:serviceaccount:default:default");
    expect(claims.aud).toEqual(["https://kubernetes.default.svc"]);
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims["kubernetes.io"].serviceaccount.name).toBe("default");

    const long = await k(["create", "token", "default", "--duration=2h"]);
    const lc = claimsOf(long.stdout.trim());
    expect(lc.exp - lc.iat).toBe(7200);
    const short = await k(["create", "token", "default", "--duration=5m"]);
    expect(short.ok).toBe(false);
    expect(short.stderr).toMatch(
      /spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/,
    );
    const missing = await k(["create", "token", "nobody"]);
    expect(missing.stderr).toMatch(/serviceaccounts "nobody" not found/);
  });

  it("a bearer call with the token is RBAC-checked: forbidden until a RoleBinding grants it", async () => {
    const token = (await k(["create", "token", "default"])).stdout.trim();
    const who = await kt(token, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    expect(who.stdout).toBe("system:serviceaccount:default:default");
    const before = await kt(token, ["get", "configmaps"]);
    expect(before.ok).toBe(false);
    expect(before.stderr).toMatch(
      /configmaps is forbidden: User "system:serviceaccount:default:default" cannot list resource "configmaps" in API group "" in the namespace "default"/,
    );
    const bound = await k([
      "create",
      "rolebinding",
      "sa-view",
      "--clusterrole=view",
      "--serviceaccount=default:default",
    ]);
    expect(bound.stderr).toBe("");
    const after = await eventually(
      async () => {
        const r = await kt(token, ["get", "configmaps", "-o", "name"]);
        return r.ok ? r : undefined;
      },
      "the RoleBinding to take effect",
      10_000,
    );
    expect(after.stdout).toMatch(/configmap\/kube-root-ca.crt/);
    // Only in its namespace: kube-system stays forbidden.
    expect((await kt(token, ["get", "configmaps", "-n", "kube-system"])).stderr).toMatch(/forbidden/);
    expect((await kt(token, ["auth", "can-i", "list", "configmaps"])).stdout.trim()).toBe("yes");
  });

  it("serves OIDC discovery whose keys match the tokens' key id", async () => {
    const token = (await k(["create", "token", "default"])).stdout.trim();
    const config = await curl(token, "/.well-known/openid-configuration");
    expect(config.code).toBe(200);
    expect(config.body.issuer).toBe(claimsOf(token).iss);
    expect(config.body.jwks_uri).toBe(`${server}/openid/v1/jwks`);
    const keys = await curl(token, "/openid/v1/jwks");
    const kid = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid;
    expect(keys.body.keys.map((key: { kid: string }) => key.kid)).toContain(kid);
  });

  it("answers 401 Status for altered tokens and tokens of a deleted service account", async () => {
    const token = (await k(["create", "token", "default"])).stdout.trim();
    const [h, p, s] = token.split(".");
    const forged = Buffer.from(
      JSON.stringify({ ...claimsOf(token), sub: "system:serviceaccount:kube-system:admin" }),
    ).toString("base64url");
    for (const bad of [`${h}.${forged}.${s}`, `${h}.${p}.${s.slice(0, -4)}AAAA`, "not-a-token"]) {
      const r = await curl(bad, "/api/v1/namespaces/default/configmaps");
      expect(r.code).toBe(401);
      expect(r.body).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
    }
    await k(["create", "serviceaccount", "robot"]);
    const robot = (await k(["create", "token", "robot"])).stdout.trim();
    expect((await curl(robot, "/api/v1/namespaces/default/configmaps")).code).toBe(403);
    await k(["delete", "serviceaccount", "robot"]);
    const gone = await curl(robot, "/api/v1/namespaces/default/configmaps");
    expect(gone.code).toBe(401);
    expect(gone.body.reason).toBe("Unauthorized");
  });

  it("a pod reads its projected token and lists its namespace's objects through the kubernetes Service", async () => {
    const applied = await k(
      ["apply", "-f", "-"],
      apiClientPod("api-client", "default", "/api/v1/namespaces/default/configmaps"),
    );
    expect(applied.stderr).toBe("");
    const out = await podLogs("api-client", "default");
    expect(out).toMatch(/ns=default/);
    expect(out).toMatch(/ca=ok/);
    expect(out).toMatch(/"kind":"ConfigMapList"/);
    expect(out).toMatch(/kube-root-ca.crt/);
    expect(out).toMatch(/rc=0/);
  });

  it("a pod of a namespace without a binding is forbidden; automountServiceAccountToken: false mounts nothing", async () => {
    await k(["create", "namespace", "other"]);
    await eventually(async () => {
      const r = await k(["get", "serviceaccount", "default", "-n", "other", "-o", "name"]);
      return r.ok ? true : undefined;
    }, "the default service account of other");
    await k(["apply", "-f", "-"], apiClientPod("api-denied", "other", "/api/v1/namespaces/default/configmaps"));
    const denied = await podLogs("api-denied", "other");
    expect(denied).toMatch(/ns=other/);
    expect(denied).toMatch(/403 Forbidden/);
    await k(
      ["apply", "-f", "-"],
      apiClientPod("no-token", "other", "/api/v1/namespaces/other/configmaps", "automountServiceAccountToken: false"),
    );
    const none = await podLogs("no-token", "other");
    expect(none).toMatch(/No such file or directory/);
    expect(none).not.toMatch(/ns=/);
  });

  it("tokens stay valid across a Berth restart (the signing key is in the store)", async () => {
    const token = (await k(["create", "token", "default"])).stdout.trim();
    await berth.stop();
    berth = await startBerth({
      dataDir: berth.dataDir,
      env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" },
    });
    env = kubeEnv(env.KUBECONFIG, creds, berth.endpoint);
    const r = await eventually(
      async () => {
        const got = await kt(token, ["get", "configmaps", "-o", "name"]);
        return got.ok ? got : undefined;
      },
      "the API server after the restart",
      30_000,
    );
    expect(r.stdout).toMatch(/configmap\/kube-root-ca.crt/);
  });

  describe("pod access beyond tokens", () => {
    const webPod = `
apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: httpd
      image: ${BUSYBOX_IMAGE}
      command: ["sh", "-c", "echo hello-pf > /www/index.html && exec httpd -f -p 8080 -h /www"]
      readinessProbe:
        tcpSocket: { port: 8080 }
        periodSeconds: 1
`;
    /** Runs `kubectl port-forward` until the test is done with it; resolves with the local port. */
    const portForward = async (bin: string, remote: number) => {
      // -v=4: client-go says "fallback to secondary dialer" when the WebSocket tunnel is refused.
      const args = ["port-forward", "pod/web", `:${remote}`, ...(bin === KUBECTL ? ["-v=4"] : [])];
      const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.stderr.on("data", (d) => {
        out += d;
      });
      const port = await eventually(
        async () => {
          const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
          return m ? Number(m[1]) : undefined;
        },
        `${bin} port-forward to listen`,
        20_000,
      ).catch((e) => {
        child.kill("SIGKILL");
        throw new Error(`${(e as Error).message}: ${out}`);
      });
      return { port, output: () => out, stop: () => child.kill("SIGKILL") };
    };
    const get = async (port: number) => {
      const r = await run("curl", ["-s", "--max-time", "10", `http://127.0.0.1:${port}/`]).catch((e) => e);
      return String((r as { stdout?: string }).stdout ?? "");
    };

    beforeAll(async () => {
      await k(["apply", "-f", "-"], webPod);
      const ready = await k(["wait", "--for=condition=Ready", "pod/web", "--timeout=90s"]);
      expect(ready.stdout).toMatch(/condition met/);
    });

    it("kubectl port-forward reaches a busybox httpd pod (1.32: SPDY tunnelled in a WebSocket; 1.20: SPDY)", async () => {
      for (const bin of kubectls()) {
        const pf = await portForward(bin, 8080);
        try {
          expect(await get(pf.port)).toBe("hello-pf\n");
          // A second connection through the same forwarding.
          expect(await get(pf.port)).toBe("hello-pf\n");
          expect(pf.output()).not.toMatch(/fallback to secondary dialer/);
        } finally {
          pf.stop();
        }
      }
      // Nothing listens on 9999: the connection fails and kubectl reports the kubelet's error.
      const pf = await portForward(KUBECTL, 9999);
      try {
        expect(await get(pf.port)).toBe("");
        await eventually(
          async () => (/error forwarding port 9999/.test(pf.output()) ? true : undefined),
          "kubectl to report the failure",
          10_000,
        );
      } finally {
        pf.stop();
      }
    });

    it("kubectl 1.20 exec works over SPDY: output, stdin and the exit code", async () => {
      const r = await kubectl(KUBECTL_120, env, ["exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      expect(r.ok).toBe(false);
      expect(r.stdout).toBe("out\n");
      expect(r.stderr).toMatch(/err\n/);
      expect(r.stderr).toMatch(/command terminated with exit code 3/);
      const i = await kubectl(KUBECTL_120, env, ["exec", "-i", "web", "--", "cat"], { input: "hi-stdin\n" });
      expect(i.stdout).toBe("hi-stdin\n");
      expect(i.ok).toBe(true);
    });
  });
});
