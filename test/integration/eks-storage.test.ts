import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBerth, startBerth } from "../support/berth.js";
import { awsCli, iamClient, newAccount, rootOf, trustPolicy } from "../support/identity.js";
import { BUSYBOX_IMAGE } from "../support/images.js";
import { eventually, removeClusterContainers, kubeEnv, kubectl, kubectls } from "../support/kube.js";

const account = newAccount();
const creds = rootOf(account);
const cluster = "storage";

const classes = (fileSystemId: string) => `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ebs-gp3
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
parameters:
  type: gp3
  iops: "3000"
  throughput: "125"
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: efs-sc
provisioner: efs.csi.aws.com
parameters:
  provisioningMode: efs-ap
  fileSystemId: ${fileSystemId}
  directoryPerms: "700"
  basePath: /dynamic
`;

const statefulSet = `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: { app: db }
  template:
    metadata:
      labels: { app: db }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: db
          image: ${BUSYBOX_IMAGE}
          command: ["sh", "-c", "[ -f /data/stamp ] || cat /proc/sys/kernel/random/uuid > /data/stamp; cat /data/stamp; exec sleep 3600"]
          volumeMounts:
            - { name: data, mountPath: /data }
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: ebs-gp3
        resources:
          requests:
            storage: 1Gi
`;

const sharedClaim = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shared
spec:
  accessModes: [ReadWriteMany]
  storageClassName: efs-sc
  resources:
    requests:
      storage: 5Gi
`;

const sharedPod = (name: string, script: string) => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${BUSYBOX_IMAGE}
      command: ["sh", "-c", ${JSON.stringify(script)}]
      volumeMounts:
        - { name: shared, mountPath: /shared }
  volumes:
    - name: shared
      persistentVolumeClaim:
        claimName: shared
`;

const missingClassClaim = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: lost
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: does-not-exist
  resources:
    requests:
      storage: 1Gi
`;

/** Storage on EKS as the user guide walks it: the CSI driver add-ons, StorageClasses, claims, StatefulSets. */
describe("EKS storage with the EBS and EFS CSI drivers", () => {
  let berth: RunningBerth;
  let dir: string;
  let dataDir: string;
  let env: Record<string, string>;
  let fileSystemId = "";
  const bin = kubectls().at(-1) as string;
  const k = (args: string[], input?: string) => kubectl(bin, env, args, { input });
  const apply = async (manifest: string) => {
    const r = await k(["apply", "-f", "-"], manifest);
    expect(r.ok, r.stderr).toBe(true);
  };
  const aws = (...args: string[]) => awsCli(berth.endpoint, creds, args);
  const json = async (args: string[]) => {
    const r = await k([...args, "-o", "json"]);
    if (!r.ok) throw new Error(r.stderr);
    // biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON is read loosely
    return JSON.parse(r.stdout) as any;
  };
  const ebsDirs = () => {
    const root = join(dataDir, "ebs", account, "us-east-1");
    return existsSync(root) ? readdirSync(root) : [];
  };
  const stampOf = async (pod: string) =>
    eventually(async () => {
      const p = await json(["get", "pod", pod]);
      if (p.status?.phase !== "Running") return undefined;
      const logs = await k(["logs", pod]);
      const line = logs.stdout.trim();
      return /^[0-9a-f-]{36}$/.test(line) ? line : undefined;
    }, `${pod} to print its stamp`);
  const start = async () => {
    berth = await startBerth({
      dataDir,
      env: { BERTH_EKS_CREATE_MS: "200", BERTH_EKS_DELETE_MS: "300" },
    });
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "berth-eks-storage-"));
    await start();
    dir = mkdtempSync(join(tmpdir(), "berth-eks-storage-kube-"));
    await iamClient(berth.endpoint, creds).send(
      new CreateRoleCommand({
        RoleName: "eks-cluster",
        AssumeRolePolicyDocument: trustPolicy({ Service: "eks.amazonaws.com" }),
      }),
    );
    env = kubeEnv(join(dir, "config"), creds, berth.endpoint);
    const created = await aws(
      "eks",
      "create-cluster",
      "--name",
      cluster,
      "--role-arn",
      `arn:aws:iam::${account}:role/eks-cluster`,
      "--resources-vpc-config",
      "subnetIds=subnet-a,subnet-b",
    );
    expect(created.ok).toBe(true);
    expect((await aws("eks", "wait", "cluster-active", "--name", cluster)).ok).toBe(true);
    execFileSync(
      "/usr/bin/aws",
      ["--endpoint-url", berth.endpoint, "eks", "update-kubeconfig", "--name", cluster, "--kubeconfig", env.KUBECONFIG],
      { env, encoding: "utf8" },
    );
    const fs = await aws(
      "efs",
      "create-file-system",
      "--creation-token",
      "eks-storage",
      "--tags",
      "Key=Name,Value=eks",
    );
    expect(fs.ok).toBe(true);
    fileSystemId = (fs as { json: { FileSystemId: string } }).json.FileSystemId;
    await eventually(async () => {
      const d = await aws("efs", "describe-file-systems", "--file-system-id", fileSystemId);
      const state = d.ok
        ? (d.json as { FileSystems: { LifeCycleState: string }[] }).FileSystems[0]?.LifeCycleState
        : "";
      return state === "available" ? true : undefined;
    }, "the file system to be available");
  }, 120_000);

  afterAll(async () => {
    if (berth) {
      await aws("eks", "delete-cluster", "--name", cluster);
      await eventually(
        async () => ((await aws("eks", "describe-cluster", "--name", cluster)).ok ? undefined : true),
        "the cluster to go",
        30_000,
      ).catch(() => undefined);
      await berth.stop();
    }
    removeClusterContainers(account, cluster);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a claim waits for the CSI driver add-on, as on EKS; a claim of a missing class stays Pending with its event", async () => {
    await apply(classes(fileSystemId));
    await apply(sharedClaim);
    await apply(missingClassClaim);
    const waiting = await eventually(async () => {
      const ev = await json(["get", "events", "--field-selector", "involvedObject.name=shared"]);
      return ev.items.find((e: { reason: string }) => e.reason === "ExternalProvisioning");
    }, "the ExternalProvisioning event");
    expect(waiting.message).toContain(
      "Waiting for a volume to be created either by the external provisioner 'efs.csi.aws.com'",
    );
    const lost = await eventually(async () => {
      const ev = await json(["get", "events", "--field-selector", "involvedObject.name=lost"]);
      return ev.items.find((e: { reason: string }) => e.reason === "ProvisioningFailed");
    }, "the ProvisioningFailed event");
    expect(lost.type).toBe("Warning");
    expect(lost.message).toBe('storageclass.storage.k8s.io "does-not-exist" not found');
    expect((await json(["get", "pvc", "lost"])).status.phase).toBe("Pending");
    expect((await json(["get", "pvc", "shared"])).status.phase).toBe("Pending");
    const table = await k(["get", "pvc"]);
    expect(table.stdout).toMatch(/lost\s+Pending\s+does-not-exist/);
  }, 120_000);

  it("installs the add-ons with the AWS CLI: their CSIDriver objects appear", async () => {
    const versions = await aws("eks", "describe-addon-versions", "--addon-name", "aws-ebs-csi-driver");
    expect(versions.ok).toBe(true);
    for (const addon of ["aws-ebs-csi-driver", "aws-efs-csi-driver", "vpc-cni", "coredns", "kube-proxy"]) {
      const r = await aws("eks", "create-addon", "--cluster-name", cluster, "--addon-name", addon);
      expect(r.ok).toBe(true);
    }
    for (const addon of ["aws-ebs-csi-driver", "aws-efs-csi-driver"])
      expect((await aws("eks", "wait", "addon-active", "--cluster-name", cluster, "--addon-name", addon)).ok).toBe(
        true,
      );
    const listed = await aws("eks", "list-addons", "--cluster-name", cluster);
    expect((listed as { json: { addons: string[] } }).json.addons).toEqual([
      "aws-ebs-csi-driver",
      "aws-efs-csi-driver",
      "coredns",
      "kube-proxy",
      "vpc-cni",
    ]);
    const dup = await aws("eks", "create-addon", "--cluster-name", cluster, "--addon-name", "coredns");
    expect(dup.ok).toBe(false);
    expect((dup as { stderr: string }).stderr).toContain("ResourceInUseException");
    const drivers = await eventually(async () => {
      const d = await json(["get", "csidrivers"]);
      return d.items.length === 2
        ? d.items.map((x: { metadata: { name: string } }) => x.metadata.name).sort()
        : undefined;
    }, "the CSIDriver objects");
    expect(drivers).toEqual(["ebs.csi.aws.com", "efs.csi.aws.com"]);
  }, 120_000);

  it("a StatefulSet's EBS-class claim keeps its data across pod deletion", async () => {
    await apply(statefulSet);
    const stamp = await stampOf("db-0");
    const claim = await json(["get", "pvc", "data-db-0"]);
    expect(claim.status).toMatchObject({
      phase: "Bound",
      accessModes: ["ReadWriteOnce"],
      capacity: { storage: "1Gi" },
    });
    expect(claim.metadata.annotations["volume.kubernetes.io/selected-node"]).toBeTruthy();
    const pv = await json(["get", "pv", claim.spec.volumeName]);
    expect(pv.spec.csi.driver).toBe("ebs.csi.aws.com");
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe("Delete");
    const volumeId = pv.spec.csi.volumeHandle as string;
    expect(readFileSync(join(dataDir, "ebs", account, "us-east-1", volumeId, "stamp"), "utf8").trim()).toBe(stamp);
    const attachments = await json(["get", "volumeattachments"]);
    expect(
      attachments.items.map(
        (a: { spec: { source: { persistentVolumeName: string } } }) => a.spec.source.persistentVolumeName,
      ),
    ).toEqual([claim.spec.volumeName]);

    const uid = (await json(["get", "pod", "db-0"])).metadata.uid;
    expect((await k(["delete", "pod", "db-0", "--wait=false"])).ok).toBe(true);
    await eventually(async () => {
      const p = await json(["get", "pod", "db-0"]).catch(() => undefined);
      return p && p.metadata.uid !== uid ? true : undefined;
    }, "db-0 to be made again");
    expect(await stampOf("db-0")).toBe(stamp);
  }, 180_000);

  it("two pods share an EFS-class ReadWriteMany claim through a real access point", async () => {
    const claim = await eventually(async () => {
      const c = await json(["get", "pvc", "shared"]);
      return c.status.phase === "Bound" ? c : undefined;
    }, "the EFS claim to bind");
    const pv = await json(["get", "pv", claim.spec.volumeName]);
    expect(pv.spec.accessModes).toEqual(["ReadWriteMany"]);
    const [fsId, , apId] = (pv.spec.csi.volumeHandle as string).split(":");
    expect(fsId).toBe(fileSystemId);
    const aps = await aws("efs", "describe-access-points", "--file-system-id", fileSystemId);
    const ap = (
      aps as {
        json: { AccessPoints: { AccessPointId: string; RootDirectory: { Path: string }; Tags: { Key: string }[] }[] };
      }
    ).json.AccessPoints[0];
    expect(ap?.AccessPointId).toBe(apId);
    expect(ap?.RootDirectory.Path).toBe(`/dynamic/${claim.spec.volumeName}`);
    expect(ap?.Tags.map((t) => t.Key)).toContain("efs.csi.aws.com/cluster");

    expect((await k(["apply", "-f", "-"], sharedPod("writer", "echo from-writer > /shared/note; sleep 3600"))).ok).toBe(
      true,
    );
    expect(
      (
        await k(
          ["apply", "-f", "-"],
          sharedPod(
            "reader",
            "for i in $(seq 1 60); do [ -f /shared/note ] && cat /shared/note && exit 0; sleep 1; done; exit 1",
          ),
        )
      ).ok,
    ).toBe(true);
    const phase = await eventually(async () => {
      const p = await json(["get", "pod", "reader"]);
      return ["Succeeded", "Failed"].includes(p.status?.phase) ? p.status.phase : undefined;
    }, "the reader to finish");
    expect(phase).toBe("Succeeded");
    expect((await k(["logs", "reader"])).stdout.trim()).toBe("from-writer");
    expect(
      readFileSync(
        join(dataDir, "efs", account, "us-east-1", fileSystemId, "dynamic", claim.spec.volumeName, "note"),
        "utf8",
      ),
    ).toBe("from-writer\n");
    // Through the access point the file belongs to its PosixUser, as EFS owns it (bindfs, scripts/ensure-host-tools.sh).
    const note = statSync(
      join(dataDir, "efs", account, "us-east-1", fileSystemId, "dynamic", claim.spec.volumeName, "note"),
    );
    const posix = (aps as { json: { AccessPoints: { PosixUser: { Uid: number; Gid: number } }[] } }).json
      .AccessPoints[0]?.PosixUser;
    expect(posix?.Gid).toBe(50000);
    expect([note.uid, note.gid]).toEqual([posix?.Uid, posix?.Gid]);
  }, 180_000);

  it("the data survives a Berth restart", async () => {
    const before = await stampOf("db-0");
    await berth.stop();
    await start();
    env = kubeEnv(env.KUBECONFIG, creds, berth.endpoint);
    // A new pod after the restart mounts the same volume.
    const uid = (await eventually(() => json(["get", "pod", "db-0"]), "the API server after the restart")).metadata.uid;
    expect((await k(["delete", "pod", "db-0", "--wait=false"])).ok).toBe(true);
    await eventually(async () => {
      const p = await json(["get", "pod", "db-0"]).catch(() => undefined);
      return p && p.metadata.uid !== uid ? true : undefined;
    }, "db-0 to be made again");
    expect(await stampOf("db-0")).toBe(before);
    expect((await json(["get", "pvc", "lost"])).status.phase).toBe("Pending");
  }, 180_000);

  it("reclaimPolicy Delete removes the volume's data and the access point", async () => {
    const volume = (await json(["get", "pvc", "data-db-0"])).spec.volumeName;
    const volumeId = (await json(["get", "pv", volume])).spec.csi.volumeHandle;
    expect(ebsDirs()).toContain(volumeId);
    expect((await k(["delete", "statefulset", "db"])).ok).toBe(true);
    expect((await k(["delete", "pod", "writer", "reader", "--grace-period=1"])).ok).toBe(true);
    expect((await k(["delete", "pvc", "data-db-0", "shared", "--wait=false"])).ok).toBe(true);
    await eventually(
      async () => ((await k(["get", "pv", volume])).ok ? undefined : true),
      "the EBS-class volume to go",
    );
    expect(ebsDirs()).not.toContain(volumeId);
    await eventually(async () => {
      const aps = await aws("efs", "describe-access-points", "--file-system-id", fileSystemId);
      return aps.ok && (aps.json as { AccessPoints: unknown[] }).AccessPoints.length === 0 ? true : undefined;
    }, "the access point to go");
  }, 180_000);

  it("on a node group of 2: a ReadWriteOnce volume is attached to one node at a time (Multi-Attach), ReadWriteMany spans both", async () => {
    await iamClient(berth.endpoint, creds).send(
      new CreateRoleCommand({
        RoleName: "eks-node",
        AssumeRolePolicyDocument: trustPolicy({ Service: "ec2.amazonaws.com" }),
      }),
    );
    const ng = await aws(
      "eks",
      "create-nodegroup",
      "--cluster-name",
      cluster,
      "--nodegroup-name",
      "ng",
      "--scaling-config",
      "minSize=2,maxSize=2,desiredSize=2",
      "--subnets",
      "subnet-a",
      "subnet-b",
      "--node-role",
      `arn:aws:iam::${account}:role/eks-node`,
    );
    expect(ng.ok, ng.ok ? "" : ng.stderr).toBe(true);
    expect((await aws("eks", "wait", "nodegroup-active", "--cluster-name", cluster, "--nodegroup-name", "ng")).ok).toBe(
      true,
    );
    const names = await eventually(async () => {
      const n = await json(["get", "nodes", "-l", "eks.amazonaws.com/nodegroup=ng"]);
      type NodeJson = { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } };
      const ready = (n.items as NodeJson[]).filter((x) =>
        x.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length === 2 ? ready.map((x: { metadata: { name: string } }) => x.metadata.name).sort() : undefined;
    }, "two Ready nodes");
    const pinned = (name: string, node: string, claimName: string, script: string) => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: ${node}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${BUSYBOX_IMAGE}
      command: ["sh", "-c", ${JSON.stringify(script)}]
      volumeMounts:
        - { name: v, mountPath: /v }
  volumes:
    - name: v
      persistentVolumeClaim:
        claimName: ${claimName}
`;
    const claim = (name: string, mode: string, cls: string) => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  accessModes: [${mode}]
  storageClassName: ${cls}
  resources:
    requests:
      storage: 1Gi
`;
    await apply(claim("solo", "ReadWriteOnce", "ebs-gp3"));
    await apply(pinned("solo-a", names[0], "solo", "echo a > /v/who; sleep 3600"));
    await eventually(
      async () => ((await json(["get", "pod", "solo-a"])).status?.phase === "Running" ? true : undefined),
      "solo-a to run",
    );
    await apply(pinned("solo-b", names[1], "solo", "cat /v/who; sleep 3600"));
    const multi = await eventually(async () => {
      const ev = await json(["get", "events", "--field-selector", "involvedObject.name=solo-b"]);
      return ev.items.find((e: { reason: string }) => e.reason === "FailedAttachVolume");
    }, "the Multi-Attach error");
    expect(multi.message).toMatch(
      /^Multi-Attach error for volume "pvc-[0-9a-f-]+" Volume is already exclusively attached to 1 node\(s\) and can't be attached to another$/,
    );
    expect((await json(["get", "pod", "solo-b"])).status.phase).toBe("Pending");
    // Once solo-a is gone the volume moves to solo-b's node, with its data.
    expect((await k(["delete", "pod", "solo-a", "--grace-period=1"])).ok).toBe(true);
    await eventually(async () => {
      const p = await json(["get", "pod", "solo-b"]);
      if (p.status?.phase !== "Running") return undefined;
      return (await k(["logs", "solo-b"])).stdout.trim() === "a" ? true : undefined;
    }, "solo-b to run with solo-a's data");

    await apply(claim("both", "ReadWriteMany", "efs-sc"));
    await apply(
      pinned(
        "both-a",
        names[0],
        "both",
        "echo a > /v/a; for i in $(seq 1 60); do [ -f /v/b ] && exit 0; sleep 1; done; exit 1",
      ),
    );
    await apply(
      pinned(
        "both-b",
        names[1],
        "both",
        "echo b > /v/b; for i in $(seq 1 60); do [ -f /v/a ] && exit 0; sleep 1; done; exit 1",
      ),
    );
    for (const p of ["both-a", "both-b"]) {
      const phase = await eventually(async () => {
        const x = await json(["get", "pod", p]);
        return ["Succeeded", "Failed"].includes(x.status?.phase) ? x.status.phase : undefined;
      }, `${p} to finish`);
      expect(phase).toBe("Succeeded");
    }
    await k(["delete", "pod", "solo-b", "both-a", "both-b", "--grace-period=1"]);
    await aws("eks", "delete-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "ng");
    await aws("eks", "wait", "nodegroup-deleted", "--cluster-name", cluster, "--nodegroup-name", "ng");
  }, 300_000);
});
