import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, clientOptions, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";
import { CreateAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { eventually, removeClusterContainers, kubeEnv, kubectl, kubectls } from "../support/kube.js";
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand } from "@aws-sdk/client-iam";

const account = newAccount();
const creds = rootOf(account);
const cluster = "journey";

const deployment = (image: string, version: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  strategy:
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: httpd
          image: ${image}
          command: ["sh", "-c", "echo ${version} > /www/index.html && exec httpd -f -p 8080 -h /www"]
          ports:
            - containerPort: 8080
              name: http
          readinessProbe:
            httpGet: { path: /, port: http }
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
    - port: 80
      targetPort: http
`;

const clientPod = (name: string) => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: ${BUSYBOX_IMAGE}
      command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET / HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n' | nc -w 5 web.default.svc.cluster.local 80 > /tmp/out && grep -q 200 /tmp/out && tail -n 1 /tmp/out && exit 0; sleep 1; done; exit 1"]
`;

const dockerPods = () =>
  execFileSync("docker", ["ps", "-q", "--filter", `label=berth.kube.cluster=${account}/us-east-1/${cluster}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);

/** The EKS journey as a new user walks it: AWS CLI v2 for the cluster, then plain kubectl. */
describe("EKS with kubectl", () => {
  let berth: RunningBerth;
  let dir: string;
  let env: Record<string, string>;
  const [k120, kNew] = kubectls();
  const k = (args: string[], input?: string, bin = k120) => kubectl(bin, env, args, { input });

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" } });
    dir = mkdtempSync(join(tmpdir(), "berth-eks-"));
    const iam = iamClient(berth.endpoint, creds);
    await iam.send(
      new CreateRoleCommand({
        RoleName: "eks-cluster",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks.amazonaws.com" }),
      }),
    );
    env = kubeEnv(join(dir, "config"), creds, berth.endpoint);
  });
  afterAll(async () => {
    // Deleting the cluster removes its objects, pod containers and pod network.
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

  it("creates a cluster with the AWS CLI and writes a kubeconfig that kubectl uses unmodified", async () => {
    const created = await awsCli(berth.endpoint, creds, [
      "eks",
      "create-cluster",
      "--name",
      cluster,
      "--role-arn",
      `arn:aws:iam::${account}:role/eks-cluster`,
      "--resources-vpc-config",
      "subnetIds=subnet-a,subnet-b",
    ]);
    expect(created.ok).toBe(true);
    const waited = await awsCli(berth.endpoint, creds, ["eks", "wait", "cluster-active", "--name", cluster]);
    expect(waited.ok).toBe(true);
    // update-kubeconfig prints text, not JSON.
    const kc = execFileSync(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "eks", "update-kubeconfig", "--name", cluster, "--kubeconfig", env.KUBECONFIG],
      { env, encoding: "utf8" },
    );
    expect(kc).toMatch(/Added new context arn:aws:eks:us-east-1:\d{12}:cluster\/journey/);
    expect(readFileSync(env.KUBECONFIG, "utf8")).toMatch(/certificate-authority-data:/);
    for (const bin of kubectls()) {
      const ns = await k(["get", "namespaces", "-o", "name"], undefined, bin);
      expect(ns.stderr).toBe("");
      expect(ns.stdout).toMatch(/namespace\/default/);
      expect(ns.stdout).toMatch(/namespace\/kube-system/);
      const can = await k(["auth", "can-i", "create", "deployments"], undefined, bin);
      expect(can.stdout.trim()).toBe("yes");
    }
  });

  it("runs a Deployment behind a Service that another pod reaches by its DNS name", async () => {
    const applied = await k(["apply", "-f", "-"], deployment(BUSYBOX_IMAGE, "v1"));
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toMatch(/deployment.apps\/web created/);
    const status = await k(["rollout", "status", "deployment/web", "--timeout=120s"]);
    expect(status.stdout).toMatch(/successfully rolled out/);
    const pods = await k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"]);
    expect(pods.stdout.split(" ")).toEqual(["Running", "Running"]);
    expect(dockerPods().length).toBeGreaterThanOrEqual(2);

    await k(["apply", "-f", "-"], clientPod("client-1"));
    const phase = await eventually(async () => {
      const r = await k(["get", "pod", "client-1", "-o", "jsonpath={.status.phase}"]);
      return ["Succeeded", "Failed"].includes(r.stdout) ? r.stdout : undefined;
    }, "the client pod to finish");
    const logs = await k(["logs", "client-1"]);
    expect(logs.stdout.trim()).toBe("v1");
    expect(phase).toBe("Succeeded");
  });

  it("rolls pods over on a template change and keeps serving", async () => {
    const before = (await k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"])).stdout.split(
      " ",
    );
    await k(["apply", "-f", "-"], deployment(BUSYBOX_IMAGE, "v2"));
    const status = await k(["rollout", "status", "deployment/web", "--timeout=120s"]);
    expect(status.stdout).toMatch(/successfully rolled out/);
    const after = await eventually(async () => {
      const r = (await k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"])).stdout.split(
        " ",
      );
      return r.length === 2 ? r : undefined;
    }, "two pods after the rollout");
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    await k(["apply", "-f", "-"], clientPod("client-2"));
    await eventually(async () => {
      const r = await k(["get", "pod", "client-2", "-o", "jsonpath={.status.phase}"]);
      return r.stdout === "Succeeded" ? r.stdout : undefined;
    }, "client-2 to succeed");
    expect((await k(["logs", "client-2"])).stdout.trim()).toBe("v2");
    const history = await k(["rollout", "history", "deployment/web"]);
    expect(history.stdout).toMatch(/2/);
  });

  it("restarts a crashing container with back-off", async () => {
    await k(
      ["apply", "-f", "-"],
      `apiVersion: v1\nkind: Pod\nmetadata: { name: crash }\nspec:\n  containers:\n    - { name: c, image: ${BUSYBOX_IMAGE}, command: ["sh", "-c", "echo boom; exit 3"] }\n`,
    );
    const restarts = await eventually(async () => {
      const r = await k(["get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"]);
      return Number(r.stdout) >= 2 ? Number(r.stdout) : undefined;
    }, "two restarts");
    expect(restarts).toBeGreaterThanOrEqual(2);
    const waiting = await eventually(async () => {
      const r = await k(["get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]);
      return r.stdout === "CrashLoopBackOff" ? r.stdout : undefined;
    }, "CrashLoopBackOff");
    expect(waiting).toBe("CrashLoopBackOff");
    expect((await k(["delete", "pod", "crash", "--wait=true"])).ok).toBe(true);
  });

  it("loses nothing and duplicates nothing across a Berth restart", async () => {
    const before = (await k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.uid}"])).stdout;
    const containers = dockerPods().sort();
    await berth.stop();
    berth = await startBerth({
      dataDir: berth.dataDir,
      env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" },
    });
    env = { ...env, AWS_ENDPOINT_URL: berth.endpoint };
    const after = await eventually(async () => {
      const r = await k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.uid}"]);
      return r.ok ? r.stdout : undefined;
    }, "the API after restart");
    expect(after).toBe(before);
    await new Promise((r) => setTimeout(r, 3000));
    expect(dockerPods().sort()).toEqual(containers);
  });

  it("refuses an IAM user without an access entry, and a user's RBAC is evaluated", async () => {
    const iam = iamClient(berth.endpoint, creds);
    await iam.send(new CreateUserCommand({ UserName: "dev" }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "dev" }))).AccessKey;
    const devEnv = kubeEnv(
      env.KUBECONFIG,
      { accessKeyId: key?.AccessKeyId ?? "", secretAccessKey: key?.SecretAccessKey ?? "" },
      berth.endpoint,
    );
    const refused = await kubectl(k120, devEnv, ["get", "pods"]);
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/Unauthorized|must be logged in/);

    // The machine's AWS CLI v2 predates access entries: the SDK creates it.
    const eks = new EKSClient(clientOptions(berth.endpoint, creds));
    await eks.send(
      new CreateAccessEntryCommand({
        clusterName: cluster,
        principalArn: `arn:aws:iam::${account}:user/dev`,
        kubernetesGroups: ["viewers"],
      }),
    );
    const forbidden = await kubectl(k120, devEnv, ["get", "pods"]);
    expect(forbidden.stderr).toMatch(/forbidden: User ".*" cannot list resource "pods"/);
    await k(["create", "clusterrolebinding", "viewers", "--clusterrole=view", "--group=viewers"]);
    const allowed = await eventually(async () => {
      const r = await kubectl(k120, devEnv, ["get", "pods", "-o", "name"]);
      return r.ok ? r : undefined;
    }, "view access");
    expect(allowed.stdout).toMatch(/pod\//);
    expect((await kubectl(kNew ?? k120, devEnv, ["auth", "can-i", "delete", "pods"])).stdout.trim()).toBe("no");
  });

  it("deletes the Deployment and its pods' containers", async () => {
    expect((await k(["delete", "deployment", "web"])).ok).toBe(true);
    await eventually(async () => {
      const r = await k(["get", "pods", "-l", "app=web", "-o", "name"]);
      return r.ok && r.stdout.trim() === "" ? true : undefined;
    }, "the pods to go");
  });
});
