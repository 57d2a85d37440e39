import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RegisterTaskDefinitionRequest } from "../../src/protocol/generated/types/ecs.js";
import { checkTaskDefinition } from "../../src/services/ecs/task-definition-rules.js";
import { checkPlatformVersion } from "../../src/services/ecs/tasks.js";
import { FARGATE_SIZES, isValidFargateSize, parseCpu, parseMemory } from "../../src/services/ecs/sizes.js";

const base = (extra: Partial<RegisterTaskDefinitionRequest> = {}): RegisterTaskDefinitionRequest => ({
  family: "f",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  containerDefinitions: [{ name: "a", image: "img" }],
  ...extra,
});

describe("cpu and memory parsing", () => {
  it.each([
    ["1024", 1024],
    ["1 vCPU", 1024],
    ["0.25 vcpu", 256],
    ["2vCPU", 2048],
    ["lots", undefined],
  ])("cpu %s → %s", (text, units) => expect(parseCpu(text)).toBe(units));

  it.each([
    ["512", 512],
    ["1GB", 1024],
    ["2 GB", 2048],
    ["0.5GB", 512],
    ["300 MiB", 300],
    ["big", undefined],
  ])("memory %s → %s", (text, mib) => expect(parseMemory(text)).toBe(mib));
});

describe("Fargate sizes (AWS-FACTS §2)", () => {
  it.each([
    [256, 512, true],
    [256, 2048, true],
    [256, 4096, false],
    [512, 4096, true],
    [1024, 9216, false],
    [4096, 30720, true],
    [8192, 16384, true],
    [8192, 20480, true],
    [8192, 17408, false],
    [16384, 122880, true],
    [300, 512, false],
  ])("%i CPU with %i MiB valid: %s", (cpu, mem, ok) => expect(isValidFargateSize(cpu, mem)).toBe(ok));

  it("registration accepts exactly the valid Fargate sizes", () => {
    const cpus = Object.keys(FARGATE_SIZES).map(Number);
    fc.assert(
      fc.property(fc.constantFrom(...cpus), fc.integer({ min: 1, max: 128 }), (cpu, gib) => {
        const memory = gib * 1024;
        const valid = isValidFargateSize(cpu, memory);
        let accepted = true;
        try {
          checkTaskDefinition(base({ cpu: String(cpu), memory: String(memory) }));
        } catch {
          accepted = false;
        }
        return accepted === valid;
      }),
    );
  });
});

describe("checkTaskDefinition", () => {
  it("normalises sizes and defaults essential to true", () => {
    const out = checkTaskDefinition(base({ cpu: "0.25 vCPU", memory: "0.5GB" }));
    expect(out.cpu).toBe("256");
    expect(out.memory).toBe("512");
    expect(out.containerDefinitions[0].essential).toBe(true);
    expect(out.compatibilities).toEqual(["EC2", "FARGATE"]);
  });

  it("defaults networkMode to bridge without Fargate, and is EC2-only then", () => {
    const out = checkTaskDefinition({ family: "f", containerDefinitions: [{ name: "a", image: "i", memory: 64 }] });
    expect(out.networkMode).toBe("bridge");
    expect(out.compatibilities).toEqual(["EC2"]);
  });

  const rejects: [string, Partial<RegisterTaskDefinitionRequest>, RegExp][] = [
    ["bad family", { family: "a b" }, /Family/],
    ["empty containers", { containerDefinitions: [] }, /cannot be empty/],
    [
      "duplicate names",
      {
        containerDefinitions: [
          { name: "a", image: "i" },
          { name: "a", image: "i" },
        ],
      },
      /Duplicate/,
    ],
    ["bridge on Fargate", { networkMode: "bridge" }, /awsvpc/],
    ["missing Fargate cpu", { cpu: undefined }, /cpu/],
    [
      "memory sum over task",
      { containerDefinitions: [{ name: "a", image: "i", memory: 1024 }] },
      /sum of container memory/,
    ],
    [
      "reservation above memory",
      { containerDefinitions: [{ name: "a", image: "i", memory: 64, memoryReservation: 128 }] },
      /memoryReservation/,
    ],
    [
      "awsvpc host port mismatch",
      { containerDefinitions: [{ name: "a", image: "i", portMappings: [{ containerPort: 80, hostPort: 81 }] }] },
      /must match/,
    ],
    [
      "undefined volume",
      { containerDefinitions: [{ name: "a", image: "i", mountPoints: [{ sourceVolume: "v", containerPath: "/d" }] }] },
      /sourceVolume 'v'/,
    ],
    [
      "dependency cycle",
      {
        containerDefinitions: [
          { name: "a", image: "i", dependsOn: [{ containerName: "b", condition: "START" }] },
          { name: "b", image: "i", dependsOn: [{ containerName: "a", condition: "START" }] },
        ],
      },
      /cycle/,
    ],
    [
      "HEALTHY without health check",
      {
        containerDefinitions: [
          { name: "a", image: "i" },
          { name: "b", image: "i", dependsOn: [{ containerName: "a", condition: "HEALTHY" }] },
        ],
      },
      /no healthCheck/,
    ],
    [
      "health check interval",
      { containerDefinitions: [{ name: "a", image: "i", healthCheck: { command: ["CMD", "true"], interval: 1 } }] },
      /interval/,
    ],
  ];
  it.each(rejects)("rejects %s with ClientException", (_name, extra, message) => {
    expect(() => checkTaskDefinition(base(extra))).toThrow(
      expect.objectContaining({ code: "ClientException", message: expect.stringMatching(message) }),
    );
  });
});

describe("EFS volumes", () => {
  const withEfs = (efs: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    base({
      volumes: [{ name: "data", efsVolumeConfiguration: efs as never, ...extra }],
      containerDefinitions: [{ name: "a", image: "img", mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] }],
    });
  const encrypted = { fileSystemId: "fs-1", transitEncryption: "ENABLED" };

  it.each<[string, Record<string, unknown>]>([
    ["a file system alone", { fileSystemId: "fs-1" }],
    ["a root directory", { fileSystemId: "fs-1", rootDirectory: "/a/b" }],
    ["transit encryption with a port", { ...encrypted, transitEncryptionPort: 2049 }],
    ["an access point with rootDirectory unset", { ...encrypted, authorizationConfig: { accessPointId: "fsap-1" } }],
    [
      'an access point with rootDirectory "/"',
      { ...encrypted, rootDirectory: "/", authorizationConfig: { accessPointId: "fsap-1", iam: "DISABLED" } },
    ],
    ["IAM with transit encryption", { ...encrypted, authorizationConfig: { iam: "ENABLED" } }],
    ["IAM DISABLED without transit encryption", { fileSystemId: "fs-1", authorizationConfig: { iam: "DISABLED" } }],
  ])("accepts %s", (_name, efs) => {
    expect(() => checkTaskDefinition(withEfs(efs))).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["no fileSystemId", { rootDirectory: "/" }, /fileSystemId should not be null or empty/],
    ["an empty fileSystemId", { fileSystemId: " " }, /fileSystemId should not be null or empty/],
    ["an unknown transitEncryption", { fileSystemId: "fs-1", transitEncryption: "ON" }, /ENABLED \| DISABLED/],
    [
      "a port without transit encryption",
      { fileSystemId: "fs-1", transitEncryptionPort: 2049 },
      /port can only be specified when transit encryption is enabled/,
    ],
    [
      "a port with transit encryption DISABLED",
      { fileSystemId: "fs-1", transitEncryption: "DISABLED", transitEncryptionPort: 2049 },
      /port can only be specified/,
    ],
    ["a port out of range", { ...encrypted, transitEncryptionPort: 70000 }, /between 0 and 65535/],
    [
      "an access point without transit encryption",
      { fileSystemId: "fs-1", authorizationConfig: { accessPointId: "fsap-1" } },
      /Transit encryption must be enabled when using an EFS access point/,
    ],
    [
      "an access point with a root directory",
      { ...encrypted, rootDirectory: "/x", authorizationConfig: { accessPointId: "fsap-1" } },
      /When using an EFS access point, the root directory must either be set to "\/" or be omitted/,
    ],
    [
      "IAM without transit encryption",
      { fileSystemId: "fs-1", authorizationConfig: { iam: "ENABLED" } },
      /Transit encryption must be enabled when using EFS IAM authorization/,
    ],
    ["an unknown iam value", { ...encrypted, authorizationConfig: { iam: "YES" } }, /authorizationConfig.iam/],
  ])("rejects %s with ClientException", (_name, efs, message) => {
    expect(() => checkTaskDefinition(withEfs(efs))).toThrow(
      expect.objectContaining({ code: "ClientException", message: expect.stringMatching(message) }),
    );
  });

  it("rejects a volume with two configuration types", () => {
    expect(() => checkTaskDefinition(withEfs({ fileSystemId: "fs-1" }, { host: { sourcePath: "/tmp" } }))).toThrow(
      expect.objectContaining({
        code: "ClientException",
        message: expect.stringMatching(/only one volume configuration type/),
      }),
    );
  });
});

describe("Fargate platform versions", () => {
  const efs = { volumes: [{ name: "v", efsVolumeConfiguration: { fileSystemId: "fs-1" } }] };
  const plain = { volumes: [{ name: "v" }] };
  it.each<[string, typeof efs | typeof plain, string | undefined, string | undefined]>([
    ["unset, with EFS", efs, undefined, undefined],
    ["LATEST, with EFS", efs, "LATEST", undefined],
    ["1.4.0, with EFS", efs, "1.4.0", undefined],
    ["1.3.0 without EFS", plain, "1.3.0", undefined],
    ["1.3.0 with EFS", efs, "1.3.0", "PlatformTaskDefinitionIncompatibilityException"],
    ["1.0.0 with EFS", efs, "1.0.0", "PlatformTaskDefinitionIncompatibilityException"],
    ["an unknown version", plain, "1.4", "PlatformUnknownException"],
  ])("%s", (_name, def, version, code) => {
    if (code) expect(() => checkPlatformVersion(def, version)).toThrow(expect.objectContaining({ code }));
    else expect(() => checkPlatformVersion(def, version)).not.toThrow();
  });
});

describe("values ECS refuses that the model does not constrain (issue 16)", () => {
  const refused = (extra: Partial<RegisterTaskDefinitionRequest>, message: RegExp) =>
    expect(() => checkTaskDefinition(base(extra))).toThrow(message);

  it.each([
    ["a task role that is not an ARN", { taskRoleArn: "arn:bad" }],
    ["an execution role with no role", { executionRoleArn: "arn:aws:iam::bad" }],
    ["a cluster ARN as the execution role", { executionRoleArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c" }],
  ])("%s → Role is not valid", (_what, extra) => refused(extra, /^Role is not valid$/));

  it("takes role ARNs with paths and bare role names", () => {
    for (const taskRoleArn of ["arn:aws:iam::123456789012:role/app", "arn:aws:iam::123456789012:role/svc/app", "app"])
      expect(() => checkTaskDefinition(base({ taskRoleArn }))).not.toThrow();
  });

  it.each([-1, 0, 20, 201, 1.5])("ephemeralStorage %s GiB is refused", (sizeInGiB) =>
    refused({ ephemeralStorage: { sizeInGiB } }, /ephemeralStorage/),
  );

  it("Fargate refuses pidMode host", () => refused({ pidMode: "host" }, /pidMode/));

  it("an oversized image name is refused and quoted only by a prefix", () => {
    let message = "";
    try {
      checkTaskDefinition(base({ containerDefinitions: [{ name: "a", image: "x".repeat(1_000_000) }] }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/Container.image/);
    expect(message.length).toBeLessThan(400);
  });

  it("a container without an image is reported before task-level cpu/memory rules", () =>
    refused({ cpu: "7", containerDefinitions: [{ name: "a", image: "" }] }, /Container.image should not be null/));
});
