import { describe, expect, it } from "vitest";
import { containerSpec } from "../../src/controllers/tasks/container-spec.js";
import {
  type EfsMounts,
  SQUASHED_ROOT,
  efsIdentity,
  efsSource,
  efsUser,
  efsVolumeRequests,
  isRootUser,
} from "../../src/controllers/tasks/efs-mounts.js";
import type { ContainerDefinition, Volume } from "../../src/protocol/generated/types/ecs.js";
import { bindfsArgs, mountPoints, viewName } from "../../src/services/efs/posix-views.js";
import type { TaskRecord } from "../../src/store/schema/ecs.js";

const now = new Date("2026-01-01T00:00:00Z");
const scope = { account: "000000000000", region: "us-east-1" };
const placement = { instanceLabels: {}, publishHost: "127.0.0.1", network: "berth" };

function task(defs: ContainerDefinition[], volumes: Volume[], taskRoleArn?: string): TaskRecord {
  return {
    taskArn: "arn:aws:ecs:us-east-1:000000000000:task/c/abc",
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
    lastStatus: "PENDING",
    desiredStatus: "RUNNING",
    createdAt: now,
    spec: { family: "f", revision: 1, networkMode: "awsvpc", containers: defs, volumes, taskRoleArn },
  };
}

const data: Volume = { name: "data", efsVolumeConfiguration: { fileSystemId: "fs-1", rootDirectory: "/sub" } };
const viaAp: Volume = {
  name: "ap",
  efsVolumeConfiguration: {
    fileSystemId: "fs-1",
    transitEncryption: "ENABLED",
    authorizationConfig: { accessPointId: "fsap-1", iam: "ENABLED" },
  },
};
const scratch: Volume = { name: "scratch" };
const role = "arn:aws:iam::000000000000:role/app";

describe("efsVolumeRequests", () => {
  it.each<[string, ContainerDefinition[], Volume[], ReturnType<typeof efsVolumeRequests>]>([
    ["no volumes", [{ name: "a", image: "i" }], [], []],
    ["an EFS volume no container mounts", [{ name: "a", image: "i" }], [data], []],
    [
      "a task-scoped volume",
      [{ name: "a", image: "i", mountPoints: [{ sourceVolume: "scratch", containerPath: "/s" }] }],
      [scratch],
      [],
    ],
    [
      "a root directory",
      [{ name: "a", image: "i", mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] }],
      [data],
      [
        {
          volume: "data",
          request: {
            fileSystemId: "fs-1",
            rootDirectory: "/sub",
            iam: false,
            transitEncryption: false,
            taskRoleArn: role,
          },
        },
      ],
    ],
    [
      "an access point with IAM (root directory left to the access point)",
      [{ name: "a", image: "i", mountPoints: [{ sourceVolume: "ap", containerPath: "/d" }] }],
      [viaAp],
      [
        {
          volume: "ap",
          request: {
            fileSystemId: "fs-1",
            accessPointId: "fsap-1",
            iam: true,
            transitEncryption: true,
            taskRoleArn: role,
          },
        },
      ],
    ],
    [
      "one request for a volume two containers mount",
      [
        { name: "a", image: "i", mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] },
        { name: "b", image: "i", mountPoints: [{ sourceVolume: "data", containerPath: "/e" }] },
      ],
      [data],
      [
        {
          volume: "data",
          request: {
            fileSystemId: "fs-1",
            rootDirectory: "/sub",
            iam: false,
            transitEncryption: false,
            taskRoleArn: role,
          },
        },
      ],
    ],
  ])("%s", (_name, defs, volumes, expected) => {
    expect(efsVolumeRequests(task(defs, volumes, role))).toEqual(expected);
  });

  it("defaults the root directory to /", () => {
    const v: Volume = { name: "data", efsVolumeConfiguration: { fileSystemId: "fs-2" } };
    const t = task([{ name: "a", image: "i", mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] }], [v]);
    expect(efsVolumeRequests(t)[0].request.rootDirectory).toBe("/");
  });
});

describe("container spec with EFS volumes", () => {
  const mounts: EfsMounts = new Map([
    ["data", { hostPath: "/var/berth/efs/fs-1/sub", readOnly: false }],
    ["ap", { hostPath: "/var/berth/efs/fs-1/ap", readOnly: false, posixUser: { uid: 1000, gid: 2000 } }],
  ]);

  it.each<[string, boolean | undefined, boolean, boolean]>([
    ["read-write", undefined, false, false],
    ["read-only mount point", true, false, true],
    ["read-only EFS mount (no ClientWrite)", false, true, true],
  ])("binds the host directory: %s", (_name, mountReadOnly, efsReadOnly, readOnly) => {
    const def: ContainerDefinition = {
      name: "a",
      image: "i",
      mountPoints: [{ sourceVolume: "data", containerPath: "/d", readOnly: mountReadOnly }],
    };
    const efs: EfsMounts = new Map([["data", { hostPath: "/h", readOnly: efsReadOnly }]]);
    const spec = containerSpec(task([def], [data]), def, scope, placement, undefined, {}, efs);
    expect(spec.mounts).toEqual([{ type: "bind", source: "/h", target: "/d", readOnly }]);
  });

  it("keeps task-scoped and EFS volumes apart", () => {
    const def: ContainerDefinition = {
      name: "a",
      image: "i",
      mountPoints: [
        { sourceVolume: "scratch", containerPath: "/s" },
        { sourceVolume: "data", containerPath: "/d" },
      ],
    };
    const spec = containerSpec(task([def], [scratch, data]), def, scope, placement, undefined, {}, mounts);
    expect(spec.mounts.map((m) => [m.type, m.target])).toEqual([
      ["volume", "/s"],
      ["bind", "/d"],
    ]);
  });

  it("refuses an EFS volume that was not prepared", () => {
    const def: ContainerDefinition = {
      name: "a",
      image: "i",
      mountPoints: [{ sourceVolume: "data", containerPath: "/d" }],
    };
    expect(() => containerSpec(task([def], [data]), def, scope, placement, undefined, {}, new Map())).toThrow(
      /not prepared/,
    );
  });

  it.each<[string, ContainerDefinition, string | undefined]>([
    ["no EFS: the definition's user", { name: "a", image: "i", user: "nobody" }, "nobody"],
    ["no EFS, no user", { name: "a", image: "i" }, undefined],
    [
      "EFS without an access point user",
      { name: "a", image: "i", mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] },
      undefined,
    ],
    [
      "an access point's PosixUser",
      { name: "a", image: "i", mountPoints: [{ sourceVolume: "ap", containerPath: "/d" }] },
      "1000:2000",
    ],
    [
      "the definition's user over the PosixUser",
      { name: "a", image: "i", user: "root", mountPoints: [{ sourceVolume: "ap", containerPath: "/d" }] },
      "root",
    ],
  ])("runs as %s", (_name, def, user) => {
    const t = task([def], [data, viaAp]);
    expect(efsUser(def, t, mounts)).toBe(user);
    expect(containerSpec(t, def, scope, placement, undefined, {}, mounts).user).toBe(user);
  });

  describe("efsIdentity: supplementary groups and root squashing", () => {
    const squashed: Volume = { name: "sq", efsVolumeConfiguration: { fileSystemId: "fs-2" } };
    const squashedAp: Volume = { name: "sqap", efsVolumeConfiguration: { fileSystemId: "fs-3" } };
    const rootAp: Volume = { name: "rootap", efsVolumeConfiguration: { fileSystemId: "fs-4" } };
    const m: EfsMounts = new Map([
      ["data", { hostPath: "/h/data", readOnly: false }],
      ["ap", { hostPath: "/h/ap", readOnly: false, posixUser: { uid: 1000, gid: 2000, secondaryGids: [3000, 3001] } }],
      ["sq", { hostPath: "/h/sq", readOnly: false, rootSquash: true }],
      ["sqap", { hostPath: "/h/sqap", readOnly: false, rootSquash: true, posixUser: { uid: 1000, gid: 2000 } }],
      ["rootap", { hostPath: "/h/rootap", readOnly: false, rootSquash: true, posixUser: { uid: 0, gid: 0 } }],
    ]);
    const on = (...volumes: string[]) => volumes.map((v) => ({ sourceVolume: v, containerPath: `/${v}` }));
    it.each<[string, ContainerDefinition, ReturnType<typeof efsIdentity>]>([
      [
        "PosixUser with SecondaryGids",
        { name: "a", image: "i", mountPoints: on("ap") },
        { user: "1000:2000", groups: ["3000", "3001"] },
      ],
      ["own user: no PosixUser, no groups", { name: "a", image: "i", user: "5", mountPoints: on("ap") }, { user: "5" }],
      [
        "no ClientRootAccess, no user: squashed",
        { name: "a", image: "i", mountPoints: on("sq") },
        { user: SQUASHED_ROOT },
      ],
      [
        "no ClientRootAccess, user root",
        { name: "a", image: "i", user: "root", mountPoints: on("sq") },
        { user: SQUASHED_ROOT },
      ],
      [
        "no ClientRootAccess, user 0:0",
        { name: "a", image: "i", user: "0:0", mountPoints: on("data", "sq") },
        { user: SQUASHED_ROOT },
      ],
      [
        "no ClientRootAccess, a non-root user is kept",
        { name: "a", image: "i", user: "1234", mountPoints: on("sq") },
        { user: "1234" },
      ],
      [
        "no ClientRootAccess, a PosixUser is not root",
        { name: "a", image: "i", mountPoints: on("sqap") },
        { user: "1000:2000" },
      ],
      [
        "no ClientRootAccess, a PosixUser of uid 0 is squashed",
        { name: "a", image: "i", mountPoints: on("rootap") },
        { user: SQUASHED_ROOT },
      ],
      ["a container that does not mount the squashed volume", { name: "a", image: "i", mountPoints: on("data") }, {}],
    ])("%s", (_name, def, expected) => {
      const t = task([def], [data, viaAp, squashed, squashedAp, rootAp]);
      expect(efsIdentity(def, t, m)).toEqual(expected);
      const spec = containerSpec(t, def, scope, placement, undefined, {}, m);
      expect([spec.user, spec.groupAdd]).toEqual([expected.user, expected.groups]);
    });

    it.each<[string | undefined, boolean]>([
      [undefined, true],
      ["", true],
      ["root", true],
      ["0", true],
      ["0:1000", true],
      ["root:staff", true],
      ["1000", false],
      ["1000:0", false],
      ["nobody", false],
      ["rooty", false],
    ])("isRootUser(%j) is %s", (user, root) => {
      expect(isRootUser(user)).toBe(root);
    });
  });
});

describe("access point views for containers with their own user", () => {
  const apVolume: Volume = {
    name: "ap",
    efsVolumeConfiguration: { fileSystemId: "fs-1", authorizationConfig: { accessPointId: "fsap-1" } },
  };
  const onAp = [{ sourceVolume: "ap", containerPath: "/d" }];

  it("asks for a view only when some container mounting the access point sets its own user", () => {
    const own = task(
      [
        { name: "a", image: "i", user: "1234", mountPoints: onAp },
        { name: "b", image: "i", user: "1234", mountPoints: onAp },
        { name: "c", image: "i", user: "web", mountPoints: onAp },
      ],
      [apVolume, data],
    );
    expect(efsVolumeRequests(own).map((r) => r.request.ownUsers)).toEqual([["1234", "web"]]);
    const none = task([{ name: "a", image: "i", mountPoints: onAp }], [apVolume]);
    expect(efsVolumeRequests(none)[0].request.ownUsers).toBeUndefined();
    const plain = task(
      [{ name: "a", image: "i", user: "1234", mountPoints: [{ sourceVolume: "data", containerPath: "/x" }] }],
      [data],
    );
    expect(efsVolumeRequests(plain)[0].request.ownUsers).toBeUndefined(); // no access point, no PosixUser
  });

  const viewed: EfsMounts = new Map([
    [
      "ap",
      {
        hostPath: "/h/ap",
        posixViews: { "1234": "/v/ap-1234", "0": "/v/ap-0" },
        readOnly: false,
        rootSquash: true,
        posixUser: { uid: 1000, gid: 2000 },
      },
    ],
  ]);
  it.each<[string, ContainerDefinition, string, ReturnType<typeof efsIdentity>]>([
    [
      "no user: runs as the PosixUser on the directory",
      { name: "a", image: "i", mountPoints: onAp },
      "/h/ap",
      { user: "1000:2000" },
    ],
    [
      "own user: keeps it, binds the view",
      { name: "a", image: "i", user: "1234", mountPoints: onAp },
      "/v/ap-1234",
      { user: "1234" },
    ],
    // Through the view the access point's identity is in force, so root is not squashed.
    [
      "own user root: not squashed through the view",
      { name: "a", image: "i", user: "0", mountPoints: onAp },
      "/v/ap-0",
      { user: "0" },
    ],
  ])("%s", (_name, def, source, identity) => {
    const t = task([def], [apVolume]);
    expect(efsSource(def, viewed.get("ap")!)).toBe(source);
    expect(efsIdentity(def, t, viewed)).toEqual(identity);
    expect(containerSpec(t, def, scope, placement, undefined, {}, viewed).mounts[0].source).toBe(source);
  });

  it("without a view (no bindfs) a container with its own user binds the directory", () => {
    const def: ContainerDefinition = { name: "a", image: "i", user: "1234", mountPoints: onAp };
    expect(efsSource(def, { hostPath: "/h/ap", readOnly: false, posixUser: { uid: 1, gid: 1 } })).toBe("/h/ap");
  });
});

describe("mountPoints and bindfsArgs", () => {
  it("reads mount points from mountinfo, octal escapes decoded", () => {
    const info = [
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
      "95 22 0:50 / /var/lib/berth/efs-views/000000000000/us-east-1/fsap-1 rw,nosuid,nodev - fuse /h/ap rw",
      "96 22 0:51 / /tmp/with\\040space rw - tmpfs tmpfs rw",
      "",
    ].join("\n");
    expect([...mountPoints(info)]).toEqual([
      "/",
      "/var/lib/berth/efs-views/000000000000/us-east-1/fsap-1",
      "/tmp/with space",
    ]);
  });
  const owner = { uid: 1234, gid: 2345 };
  const tail = ["--create-for-user=1234", "--create-for-group=2345", "--chown-deny", "--chgrp-deny", "/s", "/v"];
  it.each<[string, string, string[]]>([
    ["a numeric user sees the PosixUser's files as its own", "5678:5678", ["--map=1234/5678:@2345/@5678", ...tail]],
    ["a uid alone maps the group of the same number", "5678", ["--map=1234/5678:@2345/@5678", ...tail]],
    ["the PosixUser's own uid maps only the group", "1234:7", ["--map=@2345/@7", ...tail]],
    ["root needs no mapping", "0", tail],
    ["a named user only gets the ownership", "nginx", tail],
  ])("bindfs args: %s", (_name, user, args) => {
    expect(bindfsArgs("/s", "/v", owner, user)).toEqual(args);
  });
  it("names views safely for any user string", () => {
    expect(viewName("fsap-1", "1000:1000")).toBe("fsap-1-313030303a31303030");
    expect(viewName("fsap-1", "../x")).not.toContain("/");
  });
});
