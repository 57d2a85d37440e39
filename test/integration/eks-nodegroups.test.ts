import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, clientOptions, iamClient, newAccount, rootOf, stsClient, trustPolicy } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { eventually, removeClusterContainers, kubeEnv, kubectl } from "../support/kube.js";

const account = newAccount();
const creds = rootOf(account);
const cluster = "workers";
const NG_LABEL = "eks.amazonaws.com/nodegroup";

const workload = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: DoNotSchedule
          labelSelector: { matchLabels: { app: web } }
      containers:
        - name: httpd
          image: ${BUSYBOX_IMAGE}
          command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
          ports: [{ containerPort: 8080, name: http }]
          resources:
            requests: { cpu: 100m, memory: 64Mi }
          readinessProbe:
            httpGet: { path: /, port: http }
            periodSeconds: 1
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec:
  minAvailable: 1
  selector:
    matchLabels: { app: web }
`;

interface NodeJson {
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[]; providerID?: string };
  status: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}
interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}
const ready = (o: { status: { conditions?: { type: string; status: string }[] } }) =>
  o.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** EKS's managed node group flow with the AWS CLI v2 and kubectl, then a self-managed node. */
describe("EKS managed node groups with the AWS CLI and kubectl", () => {
  let berth: RunningBerth;
  let dir: string;
  let env: Record<string, string>;
  const k = (args: string[], input?: string, e = env) => kubectl("/usr/bin/kubectl", e, args, { input });
  const aws = (args: string[]) => awsCli(berth.endpoint, creds, ["eks", ...args]);
  const json = <T>(r: Awaited<ReturnType<typeof aws>>) => (r as { json: T }).json;
  const stderr = (r: Awaited<ReturnType<typeof aws>>) => (r.ok ? "" : r.stderr);
  const nodes = async (selector?: string): Promise<NodeJson[]> => {
    const r = await k(["get", "nodes", ...(selector ? ["-l", selector] : []), "-o", "json"]);
    return r.ok ? JSON.parse(r.stdout).items : [];
  };
  const webPods = async (): Promise<PodJson[]> => {
    const r = await k(["get", "pods", "-l", "app=web", "-o", "json"]);
    return r.ok ? JSON.parse(r.stdout).items : [];
  };
  const dump = async () => {
    console.log((await k(["get", "nodes,pods,pdb", "-A", "-o", "wide"])).stdout);
    console.log(
      berth
        .output()
        .split("\n")
        .filter((l) => /node|evict|drain|stand-in|warn/i.test(l))
        .slice(-40)
        .join("\n"),
    );
  };
  const nodeRole = () => `arn:aws:iam::${account}:role/eks-node`;

  beforeAll(async () => {
    berth = await startBerth({
      env: {
        BERTH_EKS_CREATE_MS: "200",
        BERTH_EKS_DELETE_MS: "300",
        BERTH_EKS_UPDATE_MS: "1000",
        BERTH_EKS_NODEGROUP_CREATE_MS: "1500",
      },
    });
    dir = mkdtempSync(join(tmpdir(), "berth-eks-nodegroups-"));
    const iam = iamClient(berth.endpoint, creds);
    await iam.send(
      new CreateRoleCommand({
        RoleName: "eks-cluster",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks.amazonaws.com" }),
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: "eks-node",
        AssumeRolePolicyDocument: trustPolicy({ Service: "ec2.amazonaws.com" }),
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
    await aws(["delete-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "ng1"]);
    await aws(["wait", "nodegroup-deleted", "--cluster-name", cluster, "--nodegroup-name", "ng1"]);
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

  it("creates a node group of 2: CREATING, then ACTIVE, with two Ready nodes carrying EKS's labels", async () => {
    const created = await aws([
      "create-nodegroup",
      "--cluster-name",
      cluster,
      "--nodegroup-name",
      "ng1",
      "--scaling-config",
      "minSize=1,maxSize=3,desiredSize=2",
      "--subnets",
      "subnet-0a1b2c3d",
      "subnet-4e5f6a7b",
      "--node-role",
      nodeRole(),
      "--instance-types",
      "t3.medium",
      "--labels",
      "team=web",
    ]);
    expect(stderr(created)).toBe("");
    expect(json<{ nodegroup: object }>(created).nodegroup).toMatchObject({
      nodegroupName: "ng1",
      clusterName: cluster,
      status: "CREATING",
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 2 },
      instanceTypes: ["t3.medium"],
      amiType: "AL2023_x86_64_STANDARD",
      labels: { team: "web" },
    });
    expect((await aws(["wait", "nodegroup-active", "--cluster-name", cluster, "--nodegroup-name", "ng1"])).ok).toBe(
      true,
    );
    const listed = await aws(["list-nodegroups", "--cluster-name", cluster]);
    expect(json(listed)).toEqual({ nodegroups: ["ng1"] });
    const mine = await eventually(async () => {
      const ns = await nodes(`${NG_LABEL}=ng1`);
      return ns.length === 2 && ns.every(ready) ? ns : undefined;
    }, "two Ready node group nodes").catch(async (e) => {
      await dump();
      throw e;
    });
    for (const n of mine) {
      expect(n.metadata.name).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
      expect(n.metadata.labels).toMatchObject({
        [NG_LABEL]: "ng1",
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "node.kubernetes.io/instance-type": "t3.medium",
        "topology.kubernetes.io/region": "us-east-1",
        "kubernetes.io/hostname": n.metadata.name,
        team: "web",
      });
      expect(n.metadata.labels["eks.amazonaws.com/nodegroup-image"]).toMatch(/^ami-/);
      expect(n.spec.providerID).toMatch(/^aws:\/\/\/us-east-1[a-c]\/i-[0-9a-f]{17}$/);
      expect(n.status.allocatable).toMatchObject({ cpu: "1930m", pods: "17" });
    }
    const lease = await k([
      "get",
      "lease",
      "-n",
      "kube-node-lease",
      mine[0].metadata.name,
      "-o",
      "jsonpath={.spec.holderIdentity}",
    ]);
    expect(lease.stdout).toBe(mine[0].metadata.name);
    // The cluster has compute of its own: the stand-in node is retired.
    await eventually(
      async () => ((await nodes()).every((n) => n.metadata.labels[NG_LABEL] === "ng1") ? true : undefined),
      "only node group nodes",
      30_000,
    );
  });

  it("answers bad input with EKS's errors", async () => {
    const noCluster = await aws(["describe-nodegroup", "--cluster-name", "nope", "--nodegroup-name", "ng1"]);
    expect(stderr(noCluster)).toMatch(/ResourceNotFoundException.*No cluster found for name: nope/);
    const noGroup = await aws(["describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "nope"]);
    expect(stderr(noGroup)).toMatch(/ResourceNotFoundException.*No node group found for name: nope/);
    const minMax = await aws([
      "create-nodegroup",
      "--cluster-name",
      cluster,
      "--nodegroup-name",
      "bad",
      "--scaling-config",
      "minSize=3,maxSize=2,desiredSize=2",
      "--subnets",
      "subnet-0a1b2c3d",
      "--node-role",
      nodeRole(),
    ]);
    expect(stderr(minMax)).toMatch(/InvalidParameterException.*minSize can't be greater than maxSize/);
    const tooMany = await aws([
      "update-nodegroup-config",
      "--cluster-name",
      cluster,
      "--nodegroup-name",
      "ng1",
      "--scaling-config",
      "desiredSize=5",
    ]);
    expect(stderr(tooMany)).toMatch(/InvalidParameterException.*desiredSize can't be greater than maxSize/);
    const inUse = await aws([
      "create-nodegroup",
      "--cluster-name",
      cluster,
      "--nodegroup-name",
      "ng1",
      "--subnets",
      "subnet-0a1b2c3d",
      "--node-role",
      nodeRole(),
    ]);
    expect(stderr(inUse)).toMatch(/ResourceInUseException.*NodeGroup already exists with name ng1/);
    const refused = await aws(["delete-cluster", "--name", cluster]);
    expect(stderr(refused)).toMatch(/ResourceInUseException.*Cluster has nodegroups attached/);
    expect(json(await aws(["list-nodegroups", "--cluster-name", cluster]))).toEqual({ nodegroups: ["ng1"] });
  });

  it("spreads a Deployment over both nodes, with a PodDisruptionBudget", async () => {
    const applied = await k(["apply", "-f", "-"], workload);
    expect(applied.stderr).toBe("");
    const rolled = await k(["rollout", "status", "deployment/web", "--timeout=90s"]);
    expect(rolled.stdout).toMatch(/successfully rolled out/);
    const pods = await webPods();
    expect(pods).toHaveLength(2);
    const onNodes = new Set(pods.map((p) => p.spec.nodeName));
    expect(onNodes.size).toBe(2);
    const groupNodes = (await nodes(`${NG_LABEL}=ng1`)).map((n) => n.metadata.name);
    for (const n of onNodes) expect(groupNodes).toContain(n);
    const pdb = await eventually(async () => {
      const r = await k([
        "get",
        "pdb",
        "web",
        "-o",
        "jsonpath={.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}",
      ]);
      return r.stdout === "2/1/1" ? r.stdout : undefined;
    }, "the budget's status");
    expect(pdb).toBe("2/1/1");
  });

  it("scales the node group to 1: a node is cordoned and drained, its pod moves, and both pods are Ready again", async () => {
    const before = await webPods();
    const updated = await aws([
      "update-nodegroup-config",
      "--cluster-name",
      cluster,
      "--nodegroup-name",
      "ng1",
      "--scaling-config",
      "minSize=1,maxSize=3,desiredSize=1",
    ]);
    expect(stderr(updated)).toBe("");
    const update = json<{
      update: { id: string; type: string; status: string; params: { type: string; value: string }[] };
    }>(updated).update;
    expect(update).toMatchObject({ type: "ConfigUpdate", status: "InProgress" });
    expect(update.params).toContainEqual({ type: "DesiredSize", value: "1" });
    const listed = await aws(["list-updates", "--name", cluster, "--nodegroup-name", "ng1"]);
    expect(json<{ updateIds: string[] }>(listed).updateIds).toEqual([update.id]);
    await eventually(async () => {
      const r = await aws(["describe-update", "--name", cluster, "--nodegroup-name", "ng1", "--update-id", update.id]);
      return json<{ update: { status: string } }>(r)?.update?.status === "Successful" ? true : undefined;
    }, "the update to succeed");
    const left = await eventually(async () => {
      const ns = await nodes(`${NG_LABEL}=ng1`);
      return ns.length === 1 ? ns[0] : undefined;
    }, "one node left").catch(async (e) => {
      await dump();
      throw e;
    });
    const after = await eventually(async () => {
      const ps = (await webPods()).filter((p) => p.status.phase === "Running");
      return ps.length === 2 && ps.every(ready) && ps.every((p) => p.spec.nodeName === left.metadata.name)
        ? ps
        : undefined;
    }, "both pods Ready on the remaining node").catch(async (e) => {
      await dump();
      throw e;
    });
    const moved = before.find((p) => p.spec.nodeName !== left.metadata.name);
    expect(after.map((p) => p.metadata.name)).not.toContain(moved?.metadata.name);
    const cordoned = await k([
      "get",
      "events",
      "--field-selector",
      "reason=NodeNotSchedulable",
      "-o",
      "jsonpath={.items[*].involvedObject.name}",
    ]);
    expect(cordoned.stdout).toContain(moved?.spec.nodeName);
    const described = await aws(["describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "ng1"]);
    expect(json<{ nodegroup: object }>(described).nodegroup).toMatchObject({
      status: "ACTIVE",
      scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 1 },
      health: { issues: [] },
    });
  });

  it("refuses an eviction the budget does not allow (429) and changes nothing", async () => {
    const pods = await webPods();
    const name = pods[0].metadata.name;
    expect((await k(["patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":2}}'])).ok).toBe(true);
    await eventually(async () => {
      const r = await k(["get", "pdb", "web", "-o", "jsonpath={.status.disruptionsAllowed}/{.status.desiredHealthy}"]);
      return r.stdout === "0/2" ? true : undefined;
    }, "the budget to allow none");
    const body = JSON.stringify({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name, namespace: "default" },
    });
    const refused = await k(["create", "--raw", `/api/v1/namespaces/default/pods/${name}/eviction`, "-f", "-"], body);
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/Cannot evict pod as it would violate the pod's disruption budget/);
    expect((await webPods()).map((p) => p.metadata.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
    expect((await k(["patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":1}}'])).ok).toBe(true);
  });

  it("lets a self-managed node join through an EC2_LINUX access entry, and Berth's kubelet runs it", async () => {
    const iam = iamClient(berth.endpoint, creds);
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: "self-managed-node",
        AssumeRolePolicyDocument: trustPolicy({ AWS: `arn:aws:iam::${account}:root` }),
      }),
    );
    const eks = new EKSClient(clientOptions(berth.endpoint, creds));
    const entry = await eks.send(
      new CreateAccessEntryCommand({ clusterName: cluster, principalArn: role.Role!.Arn!, type: "EC2_LINUX" }),
    );
    expect(entry.accessEntry).toMatchObject({ type: "EC2_LINUX", username: "system:node:{{EC2PrivateDNSName}}" });
    const name = "ip-10-0-200-7.ec2.internal";
    const session = (
      await stsClient(berth.endpoint, creds).send(
        new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: name }),
      )
    ).Credentials!;
    const nodeEnv = kubeEnv(
      env.KUBECONFIG,
      {
        accessKeyId: session.AccessKeyId!,
        secretAccessKey: session.SecretAccessKey!,
        sessionToken: session.SessionToken!,
      },
      berth.endpoint,
    );
    const whoami = await k(
      ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"],
      undefined,
      nodeEnv,
    );
    expect(whoami.stdout).toMatch(new RegExp(`^system:node:${name.replaceAll(".", "\\.")} .*system:nodes`));
    const created = await k(
      ["apply", "-f", "-"],
      `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\n  labels: { kubernetes.io/hostname: ${name}, role: self-managed }\n  annotations: { berth.dev/hosted-by: local }\n`,
      nodeEnv,
    );
    expect(created.stderr).toBe("");
    const joined = await eventually(async () => {
      const n = (await nodes("role=self-managed"))[0];
      return n && ready(n) ? n : undefined;
    }, "the self-managed node to be Ready");
    expect(joined.metadata.name).toBe(name);
    const pod = await k([
      "run",
      "on-self",
      `--image=${BUSYBOX_IMAGE}`,
      "--restart=Never",
      `--overrides={"spec":{"nodeName":"${name}"}}`,
      "--",
      "sh",
      "-c",
      "echo hi from self",
    ]);
    expect(pod.ok).toBe(true);
    const logs = await eventually(async () => {
      const r = await k(["logs", "on-self"]);
      return r.stdout.includes("hi from self") ? r.stdout : undefined;
    }, "the pod on the self-managed node to run");
    expect(logs).toContain("hi from self");
    await k(["delete", "pod", "on-self", "--wait=false"]);
    expect((await k(["delete", "node", name])).ok).toBe(true);
  });

  it("deletes the node group: DELETING, its nodes drained and removed, then gone", async () => {
    const deleted = await aws(["delete-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "ng1"]);
    expect(json<{ nodegroup: { status: string } }>(deleted).nodegroup.status).toBe("DELETING");
    expect((await aws(["wait", "nodegroup-deleted", "--cluster-name", cluster, "--nodegroup-name", "ng1"])).ok).toBe(
      true,
    );
    expect((await nodes(`${NG_LABEL}=ng1`)).length).toBe(0);
    expect(json(await aws(["list-nodegroups", "--cluster-name", cluster]))).toEqual({ nodegroups: [] });
    // No compute of its own any more: the stand-in node is back and the Deployment's pods run there.
    await eventually(async () => {
      const ps = (await webPods()).filter((p) => p.status.phase === "Running" && ready(p));
      return ps.length === 2 && ps.every((p) => p.spec.nodeName === "berth-local") ? true : undefined;
    }, "the pods back on the stand-in node").catch(async (e) => {
      await dump();
      throw e;
    });
    expect((await k(["delete", "-f", "-"], workload)).ok).toBe(true);
  });
});
