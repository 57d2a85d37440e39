import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { eventually, removeClusterContainers, kubeEnv, kubectl } from "../support/kube.js";
import { CreateRoleCommand } from "@aws-sdk/client-iam";

const account = newAccount();
const creds = rootOf(account);
const cluster = "fargate";

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: game }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: ${BUSYBOX_IMAGE}
          command: ["sh", "-c", "hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
          ports: [{ containerPort: 8080, name: http }]
          resources:
            requests: { cpu: 250m, memory: 256Mi }
            limits: { cpu: 250m, memory: 256Mi }
          readinessProbe:
            httpGet: { path: /, port: http }
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: game }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: http }]
`;

interface PodJson {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { nodeName?: string; schedulerName?: string };
  status: { phase?: string };
}

/** EKS's "Fargate profile" getting-started flow with the AWS CLI v2 and kubectl. */
describe("EKS Fargate profiles with kubectl", () => {
  let berth: RunningBerth;
  let dir: string;
  let env: Record<string, string>;
  const k = (args: string[], input?: string) => kubectl("/usr/bin/kubectl", env, args, { input });
  const aws = (args: string[]) => awsCli(berth.endpoint, creds, ["eks", ...args]);
  const podsIn = async (ns: string): Promise<PodJson[]> => {
    const r = await k(["get", "pods", "-n", ns, "-o", "json"]);
    return r.ok ? (JSON.parse(r.stdout).items as PodJson[]) : [];
  };
  const nodes = async (): Promise<{ metadata: { name: string; labels: Record<string, string> } }[]> => {
    const r = await k(["get", "nodes", "-o", "json"]);
    return r.ok ? JSON.parse(r.stdout).items : [];
  };

  beforeAll(async () => {
    berth = await startBerth({
      env: {
        BERTH_EKS_CREATE_MS: "200",
        BERTH_EKS_DELETE_MS: "300",
        BERTH_EKS_FARGATE_CREATE_MS: "2500",
        BERTH_EKS_FARGATE_DELETE_MS: "500",
      },
    });
    dir = mkdtempSync(join(tmpdir(), "berth-eks-fargate-"));
    const iam = iamClient(berth.endpoint, creds);
    await iam.send(
      new CreateRoleCommand({
        RoleName: "eks-cluster",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks.amazonaws.com" }),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: "AmazonEKSFargatePodExecutionRole",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks-fargate-pods.amazonaws.com" }),
      }),
    );
    env = kubeEnv(join(dir, "config"), creds, berth.endpoint);
    const created = await aws([
      "create-cluster",
      "--name",
      cluster,
      "--role-arn",
      `arn:aws:iam::${account}:role/eks-cluster`,
      "--resources-vpc-config",
      "subnetIds=subnet-0a1b2c3d,subnet-4e5f6a7b",
    ]);
    expect(created.ok).toBe(true);
    expect((await aws(["wait", "cluster-active", "--name", cluster])).ok).toBe(true);
    execFileSync(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "eks", "update-kubeconfig", "--name", cluster, "--kubeconfig", env.KUBECONFIG],
      { env, encoding: "utf8" },
    );
  });
  afterAll(async () => {
    if (!berth) return;
    await aws(["delete-fargate-profile", "--cluster-name", cluster, "--fargate-profile-name", "fp-game"]);
    await aws(["wait", "fargate-profile-deleted", "--cluster-name", cluster, "--fargate-profile-name", "fp-game"]);
    await aws(["delete-cluster", "--name", cluster]);
    await eventually(
      async () => ((await aws(["describe-cluster", "--name", cluster])).ok ? undefined : true),
      "the cluster to go",
      30_000,
    ).catch(() => undefined);
    await berth.stop();
    removeClusterContainers(account, cluster);
    rmSync(berth.dataDir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("creates a Fargate profile with the AWS CLI and waits for it to be ACTIVE", async () => {
    const created = await aws([
      "create-fargate-profile",
      "--cluster-name",
      cluster,
      "--fargate-profile-name",
      "fp-game",
      "--pod-execution-role-arn",
      `arn:aws:iam::${account}:role/AmazonEKSFargatePodExecutionRole`,
      "--selectors",
      "namespace=game",
    ]);
    expect(created.ok).toBe(true);
    expect((created as { json: { fargateProfile: object } }).json.fargateProfile).toMatchObject({
      fargateProfileName: "fp-game",
      status: "CREATING",
      subnets: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
      selectors: [{ namespace: "game" }],
    });
    const second = await aws([
      "create-fargate-profile",
      "--cluster-name",
      cluster,
      "--fargate-profile-name",
      "fp-other",
      "--pod-execution-role-arn",
      `arn:aws:iam::${account}:role/AmazonEKSFargatePodExecutionRole`,
      "--selectors",
      "namespace=other",
    ]);
    expect(second.ok).toBe(false);
    expect((second as { stderr: string }).stderr).toMatch(
      /ResourceInUseException.*Cannot create Fargate Profile fp-other because cluster fargate currently has Fargate profile fp-game in status CREATING/,
    );
    const waited = await aws([
      "wait",
      "fargate-profile-active",
      "--cluster-name",
      cluster,
      "--fargate-profile-name",
      "fp-game",
    ]);
    expect(waited.ok).toBe(true);
    const listed = await aws(["list-fargate-profiles", "--cluster-name", cluster]);
    expect((listed as { json: unknown }).json).toEqual({ fargateProfileNames: ["fp-game"] });
    const refused = await aws(["delete-cluster", "--name", cluster]);
    expect((refused as { stderr: string }).stderr).toMatch(/ResourceInUseException.*Fargate Profiles/);
  });

  it("runs each pod of a Deployment in the profile's namespace on a Fargate node of its own, and they serve", async () => {
    expect((await k(["create", "namespace", "game"])).ok).toBe(true);
    const applied = await k(["apply", "-f", "-"], deployment);
    expect(applied.stderr).toBe("");
    const rolled = await k(["rollout", "status", "-n", "game", "deployment/web", "--timeout=90s"]);
    expect(rolled.stdout).toMatch(/successfully rolled out/);
    const pods = (await podsIn("game")).filter((p) => p.metadata.labels?.app === "web");
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.spec.schedulerName).toBe("fargate-scheduler");
      expect(p.spec.nodeName).toMatch(/^fargate-ip-10-0-\d+-\d+\.ec2\.internal$/);
      expect(p.metadata.annotations).toMatchObject({
        "eks.amazonaws.com/fargate-profile": "fp-game",
        CapacityProvisioned: "0.25vCPU 0.5GB",
      });
      expect(p.status.phase).toBe("Running");
    }
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(2);
    const node = (await nodes()).find((n) => n.metadata.name === pods[0].spec.nodeName);
    expect(node?.metadata.labels).toMatchObject({ "eks.amazonaws.com/compute-type": "fargate" });
    const ready = await k([
      "get",
      "node",
      pods[0].spec.nodeName!,
      "-o",
      "jsonpath={.status.conditions[?(@.type=='Ready')].status} {.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect} {.status.capacity.cpu} {.status.capacity.memory}",
    ]);
    expect(ready.stdout).toBe("True eks.amazonaws.com/compute-type=fargate:NoSchedule 250m 524288Ki");
    // One pod reaches the Service (its peers) by DNS name from inside the pod network.
    const served = await eventually(
      async () => {
        const r = await k([
          "exec",
          "-n",
          "game",
          pods[0].metadata.name,
          "--",
          "sh",
          "-c",
          "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web.game.svc.cluster.local 80",
        ]);
        return r.ok && /200 OK/.test(r.stdout) ? r.stdout : undefined;
      },
      "the Service to answer",
      30_000,
    );
    expect(pods.map((p) => p.metadata.name)).toContain(served.trim().split("\n").at(-1));
    // The cluster's compute is Fargate now: the stand-in node is gone.
    await eventually(
      async () =>
        (await nodes()).every((n) => n.metadata.labels["eks.amazonaws.com/compute-type"] === "fargate")
          ? true
          : undefined,
      "only Fargate nodes",
      30_000,
    );
  });

  it("leaves a pod that matches no profile Pending with the default scheduler's FailedScheduling", async () => {
    await k(["create", "namespace", "other"]);
    await k(
      ["apply", "-f", "-"],
      `apiVersion: v1\nkind: Pod\nmetadata: { name: lonely, namespace: other }\nspec:\n  containers:\n    - { name: c, image: ${BUSYBOX_IMAGE}, command: ["sleep", "3600"] }\n`,
    );
    const message = await eventually(async () => {
      const r = await k([
        "get",
        "events",
        "-n",
        "other",
        "--field-selector",
        "reason=FailedScheduling,involvedObject.name=lonely",
        "-o",
        "jsonpath={.items[*].source.component}|{.items[*].message}",
      ]);
      return r.stdout.includes("|0/") ? r.stdout : undefined;
    }, "FailedScheduling");
    expect(message).toMatch(
      /^default-scheduler\|0\/2 nodes are available: 2 node\(s\) had untolerated taint \{eks.amazonaws.com\/compute-type: fargate\}/,
    );
    const phase = await k(["get", "pod", "-n", "other", "lonely", "-o", "jsonpath={.status.phase} {.spec.nodeName}"]);
    expect(phase.stdout.trim()).toBe("Pending");
    await k(["delete", "pod", "-n", "other", "lonely", "--wait=false"]);
  });

  it("deletes the profile: its pods are deleted, their Fargate nodes removed", async () => {
    const before = (await podsIn("game")).map((p) => p.metadata.name);
    const deleted = await aws([
      "delete-fargate-profile",
      "--cluster-name",
      cluster,
      "--fargate-profile-name",
      "fp-game",
    ]);
    expect((deleted as { json: { fargateProfile: { status: string } } }).json.fargateProfile.status).toBe("DELETING");
    expect(
      (await aws(["wait", "fargate-profile-deleted", "--cluster-name", cluster, "--fargate-profile-name", "fp-game"]))
        .ok,
    ).toBe(true);
    await eventually(async () => {
      const ns = await nodes();
      return ns.length > 0 && ns.every((n) => !n.metadata.name.startsWith("fargate-")) ? true : undefined;
    }, "the Fargate nodes to go (and the stand-in node to come back)").catch(async (e) => {
      console.log((await k(["get", "nodes,pods", "-A", "-o", "wide"])).stdout);
      console.log((await k(["get", "pods", "-n", "game", "-o", "yaml"])).stdout.slice(0, 6000));
      console.log(
        berth
          .output()
          .split("\n")
          .filter((l) => /argate|stand-in|node/.test(l))
          .slice(-40)
          .join("\n"),
      );
      throw e;
    });
    const after = await eventually(async () => {
      const ps = (await podsIn("game")).filter(
        (p) => p.metadata.labels?.app === "web" && !before.includes(p.metadata.name),
      );
      return ps.length === 2 ? ps : undefined;
    }, "the Deployment's new pods");
    for (const p of after) expect(p.spec.schedulerName).not.toBe("fargate-scheduler");
  });
});
