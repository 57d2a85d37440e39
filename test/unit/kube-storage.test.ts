import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attachmentName, planAttachments } from "../../src/controllers/kube/storage/attach.js";
import { findMatchingVolume, mismatch } from "../../src/controllers/kube/storage/binding.js";
import {
  accessPointPath,
  allocateGid,
  ebsSizeGiB,
  parseEbsParameters,
  parseEfsHandle,
  parseEfsParameters,
  PROVISIONERS,
} from "../../src/controllers/kube/storage/parameters.js";
import { planClaim, planVolume } from "../../src/controllers/kube/storage/plan.js";
import type { KubeObject } from "../../src/kube/types.js";

const pv = (name: string, spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name, uid: `uid-${name}` },
  spec: { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" }, hostPath: { path: "/x" }, ...spec },
  status: { phase: "Available" },
  ...extra,
});
const pvc = (name: string, spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "default", uid: `uid-${name}` },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...spec },
  status: { phase: "Pending" },
  ...extra,
});
const sc = (name: string, provisioner: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name },
  provisioner,
  ...extra,
});
const pod = (name: string, claim: string, nodeName?: string, created = "2026-01-01T00:00:00Z"): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: `uid-${name}`, creationTimestamp: created },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    containers: [],
    volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }],
  },
  status: { phase: "Running" },
});

describe("matching a claim to a volume", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, string | undefined][] = [
    ["fits", {}, {}, undefined],
    ["too small", { capacity: { storage: "500Mi" } }, {}, "too small"],
    ["access modes", {}, { accessModes: ["ReadWriteMany"] }, "access modes not offered"],
    ["class differs", { storageClassName: "gp3" }, {}, "storage class differs"],
    ["selector", {}, { selector: { matchLabels: { tier: "db" } } }, "selector does not match"],
    ["volume mode", { volumeMode: "Block" }, {}, "volume mode differs"],
    ["bound elsewhere", { claimRef: { name: "other", namespace: "default", uid: "x" } }, {}, "bound to another claim"],
  ];
  for (const [what, v, c, want] of cases) it(what, () => expect(mismatch(pv("v", v), pvc("c", c), "")).toBe(want));

  it("picks the smallest volume that fits", () => {
    const vols = [
      pv("big", { capacity: { storage: "10Gi" } }),
      pv("small", { capacity: { storage: "2Gi" } }),
      pv("tiny", { capacity: { storage: "1Mi" } }),
    ];
    expect(findMatchingVolume(pvc("c", {}), vols, "")?.metadata.name).toBe("small");
  });

  it("never returns a volume that does not match (property)", () => {
    const sizes = ["1Mi", "500Mi", "1Gi", "2Gi", "10Gi"];
    const modes = [["ReadWriteOnce"], ["ReadWriteMany"], ["ReadWriteOnce", "ReadWriteMany"]];
    const arbVol = fc.record({
      size: fc.constantFrom(...sizes),
      modes: fc.constantFrom(...modes),
      cls: fc.constantFrom("", "gp3"),
    });
    fc.assert(
      fc.property(fc.array(arbVol, { maxLength: 6 }), arbVol, (vs, want) => {
        const vols = vs.map((v, i) =>
          pv(`v${i}`, { capacity: { storage: v.size }, accessModes: v.modes, storageClassName: v.cls }),
        );
        const claim = pvc("c", { resources: { requests: { storage: want.size } }, accessModes: want.modes });
        const got = findMatchingVolume(claim, vols, want.cls);
        if (got) expect(mismatch(got, claim, want.cls)).toBeUndefined();
        else for (const v of vols) expect(mismatch(v, claim, want.cls)).toBeDefined();
      }),
    );
  });
});

describe("StorageClass parameters", () => {
  it("EBS: gp3 with iops and throughput", () => {
    expect(
      parseEbsParameters({ type: "gp3", iops: "4000", throughput: "250", "csi.storage.k8s.io/fstype": "xfs" }),
    ).toEqual({
      ok: true,
      value: { type: "gp3", iops: 4000, throughput: 250, encrypted: false, fsType: "xfs", tags: {} },
    });
  });
  const bad: [Record<string, string>, string][] = [
    [{ color: "blue" }, "Invalid parameter key color for CreateVolume"],
    [{ type: "gp9" }, "Invalid volume type gp9"],
    [{ type: "gp3", iops: "100" }, "Invalid iops 100 for gp3"],
    [{ type: "io2" }, "The parameter iops or iopsPerGB must be specified for io2 volumes"],
    [{ type: "gp2", throughput: "200" }, "Throughput is only supported for gp3 volumes"],
    [{ iops: "many" }, "Could not parse invalid iops"],
  ];
  for (const [params, msg] of bad)
    it(`EBS refuses ${JSON.stringify(params)}`, () => {
      const r = parseEbsParameters(params);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(msg);
    });
  it("EBS sizes are whole GiB, at least 1", () => {
    expect([ebsSizeGiB(0), ebsSizeGiB(1), ebsSizeGiB(2 ** 30), ebsSizeGiB(2 ** 30 + 1)]).toEqual([1, 1, 1, 2]);
    fc.assert(fc.property(fc.nat(2 ** 45), (n) => ebsSizeGiB(n) * 2 ** 30 >= n));
  });
  it("EFS: efs-ap with defaults", () => {
    const r = parseEfsParameters({ provisioningMode: "efs-ap", fileSystemId: "fs-1", directoryPerms: "700" });
    expect(r).toMatchObject({ ok: true, value: { gidRangeStart: 50000, gidRangeEnd: 7000000, basePath: "" } });
  });
  const badEfs: [Record<string, string>, string][] = [
    [{}, "Missing provisioningMode parameter"],
    [{ provisioningMode: "efs-dir" }, "Provisioning mode efs-dir is not supported"],
    [{ provisioningMode: "efs-ap" }, "Missing fileSystemId parameter"],
    [{ provisioningMode: "efs-ap", fileSystemId: "fs-1" }, "Missing directoryPerms parameter"],
    [
      { provisioningMode: "efs-ap", fileSystemId: "fs-1", directoryPerms: "999" },
      "Failed to parse invalid directoryPerms",
    ],
    [
      { provisioningMode: "efs-ap", fileSystemId: "fs-1", directoryPerms: "700", gidRangeStart: "9", gidRangeEnd: "5" },
      "Upper bound of Gid range must be greater than lower bound",
    ],
  ];
  for (const [params, msg] of badEfs)
    it(`EFS refuses ${JSON.stringify(params)}`, () => {
      const r = parseEfsParameters(params);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(msg);
    });
  it("EFS gids: the lowest free one in the range", () => {
    expect(allocateGid({ gidRangeStart: 10, gidRangeEnd: 12 }, [10, 11])).toBe(12);
    expect(allocateGid({ gidRangeStart: 10, gidRangeEnd: 11 }, [10, 11])).toBeUndefined();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 100, max: 120 })), (used) => {
        const g = allocateGid({ gidRangeStart: 100, gidRangeEnd: 120 }, used);
        if (g !== undefined) expect(used).not.toContain(g);
        else for (let x = 100; x <= 120; x++) expect(used).toContain(x);
      }),
    );
  });
  it("EFS access point paths and handles", () => {
    const p = { basePath: "/dynamic", subPathPattern: `\${.PV.name}`, ensureUniqueDirectory: true };
    expect(accessPointPath(p, { pv: "pvc-1", pvc: "data", namespace: "ns" }, "u")).toBe("/dynamic/pvc-1");
    expect(
      accessPointPath(
        { ...p, subPathPattern: `\${.PVC.namespace}/\${.PVC.name}` },
        { pv: "pvc-1", pvc: "data", namespace: "ns" },
        "u",
      ),
    ).toBe("/dynamic/ns/data-u");
    expect(parseEfsHandle("fs-1::fsap-2")).toEqual({ fileSystemId: "fs-1", accessPointId: "fsap-2" });
    expect(parseEfsHandle("fs-1:/a")).toEqual({ fileSystemId: "fs-1", path: "/a" });
  });
});

describe("the PV controller's decisions", () => {
  const base = { volumes: [], classes: [], drivers: [...PROVISIONERS], pods: [], provisioners: PROVISIONERS };
  it("a missing class: Pending with kube's event", () => {
    const d = planClaim({ ...base, claim: pvc("c", { storageClassName: "x" }) });
    expect(d).toMatchObject({
      kind: "wait",
      event: { type: "Warning", reason: "ProvisioningFailed", message: 'storageclass.storage.k8s.io "x" not found' },
    });
  });
  it("no class asked for: the default class is set", () => {
    const d = planClaim({
      ...base,
      claim: pvc("c", {}),
      classes: [
        sc("gp3", "ebs.csi.aws.com", {
          metadata: { name: "gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
        }),
      ],
    });
    expect(d).toEqual({ kind: "setClass", className: "gp3" });
  });
  it("provisions through an installed driver; waits for one that is not", () => {
    const claim = pvc("c", { storageClassName: "ebs" });
    expect(planClaim({ ...base, claim, classes: [sc("ebs", "ebs.csi.aws.com")] })).toMatchObject({
      kind: "provision",
      provisioner: "ebs.csi.aws.com",
    });
    expect(planClaim({ ...base, claim, classes: [sc("ebs", "ebs.csi.aws.com")], drivers: [] })).toMatchObject({
      kind: "wait",
      event: { reason: "ExternalProvisioning" },
    });
  });
  it("WaitForFirstConsumer waits for a pod, then provisions for its node", () => {
    const claim = pvc("c", { storageClassName: "ebs" });
    const classes = [sc("ebs", "ebs.csi.aws.com", { volumeBindingMode: "WaitForFirstConsumer" })];
    expect(planClaim({ ...base, claim, classes })).toMatchObject({
      kind: "wait",
      event: { reason: "WaitForFirstConsumer" },
    });
    expect(planClaim({ ...base, claim, classes, pods: [pod("p", "c", "node-a")] })).toEqual({
      kind: "provision",
      className: "ebs",
      provisioner: "ebs.csi.aws.com",
      selectedNode: "node-a",
    });
  });
  it("binds to a matching static volume before provisioning", () => {
    const claim = pvc("c", { storageClassName: "manual" });
    expect(planClaim({ ...base, claim, volumes: [pv("v", { storageClassName: "manual" })] })).toEqual({
      kind: "bind",
      volume: "v",
    });
  });
  it("volumes: a released Delete volume is deleted, a Retain one kept", () => {
    const ref = { name: "gone", namespace: "default", uid: "u1" };
    const released = (policy: string) =>
      pv("v", { claimRef: ref, persistentVolumeReclaimPolicy: policy }, { status: { phase: "Released" } });
    expect(planVolume(pv("v", { claimRef: ref }, { status: { phase: "Bound" } }), [])).toEqual({ kind: "release" });
    expect(planVolume(released("Delete"), [])).toEqual({ kind: "delete" });
    expect(planVolume(released("Retain"), [])).toEqual({ kind: "retain" });
  });
});

describe("attachments", () => {
  const bound = (claim: string, volume: string) => pvc(claim, { volumeName: volume }, { status: { phase: "Bound" } });
  const ebsPv = (name: string, modes = ["ReadWriteOnce"]) =>
    pv(name, { accessModes: modes, csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-1" }, hostPath: undefined });
  const va = (volume: string, node: string) => ({
    apiVersion: "storage.k8s.io/v1",
    kind: "VolumeAttachment",
    metadata: { name: attachmentName(volume, "ebs.csi.aws.com", node) },
    spec: { attacher: "ebs.csi.aws.com", nodeName: node, source: { persistentVolumeName: volume } },
    status: { attached: true },
  });
  const attachRequired = ["ebs.csi.aws.com"];
  it("attaches a RWO volume to its pod's node", () => {
    const plan = planAttachments({
      pods: [pod("p", "c", "a")],
      claims: [bound("c", "v")],
      volumes: [ebsPv("v")],
      attachRequired,
      attachments: [],
    });
    expect(plan.create).toEqual([
      { name: attachmentName("v", "ebs.csi.aws.com", "a"), volume: "v", node: "a", attacher: "ebs.csi.aws.com" },
    ]);
  });
  it("a second node gets the Multi-Attach error; the attachment stays", () => {
    const plan = planAttachments({
      pods: [pod("p1", "c", "a"), pod("p2", "c", "b")],
      claims: [bound("c", "v")],
      volumes: [ebsPv("v")],
      attachRequired,
      attachments: [va("v", "a")],
    });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.multiAttach.map((m) => m.pod.metadata.name)).toEqual(["p2"]);
  });
  it("detaches when no pod on the node needs it any more", () => {
    const plan = planAttachments({
      pods: [pod("p2", "c", "b")],
      claims: [bound("c", "v")],
      volumes: [ebsPv("v")],
      attachRequired,
      attachments: [va("v", "a")],
    });
    expect(plan.delete).toEqual([attachmentName("v", "ebs.csi.aws.com", "a")]);
    expect(plan.create.map((x) => x.node)).toEqual(["b"]);
  });
  it("RWO is never attached to two nodes (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 5 }),
        fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 2 }),
        (podNodes, attached) => {
          const atts = [...new Set(attached)].slice(0, 1).map((n) => va("v", n));
          const plan = planAttachments({
            pods: podNodes.map((n, i) => pod(`p${i}`, "c", n)),
            claims: [bound("c", "v")],
            volumes: [ebsPv("v")],
            attachRequired,
            attachments: atts,
          });
          const after = new Set([
            ...atts
              .map((a) => a.spec.nodeName)
              .filter((n) => !plan.delete.includes(attachmentName("v", "ebs.csi.aws.com", n))),
            ...plan.create.map((x) => x.node),
          ]);
          expect(after.size).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
