import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import type {
  Compatibility,
  ContainerDefinition,
  RegisterTaskDefinitionRequest,
  Volume,
} from "../../protocol/generated/types/ecs.js";
import { isValidFargateSize, parseCpu, parseMemory } from "./sizes.js";

const client = ecsErrors.ClientException;
const NAME = /^[a-zA-Z0-9_-]{1,255}$/;

export interface NormalizedTaskDefinition {
  cpu?: string;
  memory?: string;
  networkMode: "awsvpc" | "bridge" | "host" | "none";
  containerDefinitions: ContainerDefinition[];
  compatibilities: Compatibility[];
}

/**
 * Checks a RegisterTaskDefinition request the way ECS does and returns the normalised parts
 * (cpu/memory as numbers in text, defaults filled in). Pure: throws ClientException on bad input.
 */
export function checkTaskDefinition(input: RegisterTaskDefinitionRequest): NormalizedTaskDefinition {
  if (!NAME.test(input.family))
    throw client(
      `Family '${clip(input.family)}' is invalid: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.`,
    );
  const defs = input.containerDefinitions;
  if (defs.length === 0) throw client("Container list cannot be empty.");
  // Containers are checked first, as ECS reports a nameless or imageless container before task-level rules.
  const names = new Set<string>();
  for (const c of defs) {
    if (!c.name || !NAME.test(c.name))
      throw client(
        `Container name '${clip(c.name ?? "")}' is invalid: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.`,
      );
    if (names.has(c.name)) throw client(`Duplicate container name '${c.name}' in task definition.`);
    names.add(c.name);
    if (!c.image?.trim()) throw client(`Container.image should not be null or empty (container '${c.name}').`);
    if (c.image.length > 255 || !IMAGE.test(c.image))
      throw client(
        `Container.image '${clip(c.image)}' is invalid (container '${c.name}'): up to 255 letters (uppercase and lowercase), numbers, hyphens, underscores, colons, periods, forward slashes, at signs and number signs are allowed.`,
      );
  }
  for (const role of [input.taskRoleArn, input.executionRoleArn])
    if (role !== undefined && !isRoleReference(role)) throw client("Role is not valid");
  const wantsFargate = input.requiresCompatibilities?.includes("FARGATE") ?? false;
  const networkMode = input.networkMode ?? (wantsFargate ? "awsvpc" : "bridge");
  if (wantsFargate && networkMode !== "awsvpc")
    throw client(`Fargate only supports network mode 'awsvpc'; this task definition uses '${networkMode}'.`);

  let cpu: number | undefined;
  let memory: number | undefined;
  if (input.cpu !== undefined) {
    cpu = parseCpu(input.cpu);
    if (cpu === undefined || cpu < 128 || cpu > 196608)
      throw client(
        `Invalid 'cpu' setting for task: '${input.cpu}'. Use CPU units (e.g. 256, 1024) or vCPUs (e.g. '1 vCPU').`,
      );
  }
  if (input.memory !== undefined) {
    memory = parseMemory(input.memory);
    if (memory === undefined || memory < 6)
      throw client(`Invalid 'memory' setting for task: '${input.memory}'. Use MiB (e.g. 512) or GB (e.g. '1GB').`);
  }
  if (wantsFargate) {
    if (cpu === undefined || memory === undefined)
      throw client("Fargate requires that 'cpu' and 'memory' be defined at the task level.");
    if (!isValidFargateSize(cpu, memory))
      throw client(
        `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`,
      );
  }

  for (const c of defs) checkContainerSizes(c, memory);
  if (wantsFargate && input.pidMode === "host")
    throw client("Fargate does not support pidMode 'host'; use 'task' or leave pidMode unset.");
  if (wantsFargate && input.ipcMode !== undefined) throw client("Fargate does not support ipcMode; leave it unset.");
  const storage = input.ephemeralStorage?.sizeInGiB;
  if (storage !== undefined && (!Number.isInteger(storage) || storage < 21 || storage > 200))
    throw client(
      `Invalid 'ephemeralStorage' setting: sizeInGiB ${storage} is outside the supported range of 21 to 200 GiB.`,
    );
  const normalized = defs.map((c) => ({ ...c, essential: c.essential ?? true }));
  if (!normalized.some((c) => c.essential))
    throw client("Invalid setting for containers: at least one container in the task definition must be essential.");

  let containerMemory = 0;
  for (const c of normalized) containerMemory += c.memory ?? c.memoryReservation ?? 0;
  if (memory !== undefined && containerMemory > memory)
    throw client(
      `Invalid setting: the sum of container memory (${containerMemory} MiB) is greater than the task memory (${memory} MiB).`,
    );

  for (const v of input.volumes ?? []) checkVolume(v);
  const volumeNames = new Set((input.volumes ?? []).map((v) => v.name));
  const ports = new Set<string>();
  for (const c of normalized) {
    for (const p of c.portMappings ?? []) {
      if (p.containerPort === undefined) continue;
      if (p.containerPort < 1 || p.containerPort > 65535)
        throw client(`Invalid container port ${p.containerPort} for container '${c.name}'; use 1-65535.`);
      if (networkMode === "awsvpc" && p.hostPort !== undefined && p.hostPort !== 0 && p.hostPort !== p.containerPort)
        throw client(
          `When networkMode=awsvpc, the host ports and container ports in port mappings must match (container '${c.name}': ${p.hostPort} vs ${p.containerPort}).`,
        );
      const key = `${p.containerPort}/${p.protocol ?? "tcp"}`;
      if (networkMode !== "bridge" && ports.has(key))
        throw client(`Container port ${key} is mapped more than once in this task definition.`);
      ports.add(key);
    }
    for (const m of c.mountPoints ?? [])
      if (!m.sourceVolume || !volumeNames.has(m.sourceVolume))
        throw client(
          `Invalid 'mountPoints' setting for container '${c.name}': sourceVolume '${m.sourceVolume ?? ""}' is not defined in the task definition's volumes.`,
        );
    if (!containerPathsAbsolute(c))
      throw client(`Invalid 'mountPoints' setting for container '${c.name}': containerPath must be absolute.`);
    checkHealthCheck(c);
    if (wantsFargate && c.logConfiguration?.logDriver === "awslogs" && !input.executionRoleArn)
      throw client("Fargate requires task definition to have execution role ARN to support log driver awslogs.");
  }
  checkDependencies(normalized);

  const compatibilities: Compatibility[] = ["EC2"];
  if (networkMode === "awsvpc" && cpu !== undefined && memory !== undefined && isValidFargateSize(cpu, memory))
    compatibilities.push("FARGATE");
  return {
    cpu: cpu === undefined ? undefined : String(cpu),
    memory: memory === undefined ? undefined : String(memory),
    networkMode,
    containerDefinitions: normalized,
    compatibilities,
  };
}

/** Image references as ECS allows them (registry/repository:tag or @digest). */
const IMAGE = /^[A-Za-z0-9\-_:./@#]+$/;

/** A role as ECS takes it: an IAM role ARN (with an optional path) or a bare role name. */
export const isRoleReference = (role: string) =>
  /^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/.test(role) || /^[\w+=,.@-]{1,64}$/.test(role);

/** Long inputs quoted in messages only by a short prefix. */
const clip = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}...` : text);

/**
 * ECS prefixes its task definition ClientExceptions about volume settings with this. Of the EFS
 * texts below, the access point root directory one is ECS's verbatim (quoted in aws/aws-cdk#10683);
 * the others keep ECS's form but their exact wording is not in public sources (searched 2026-12-03).
 */
const INVALID = "Invalid request provided: Create TaskDefinition:";

/**
 * One volume: a single configuration type, and `efsVolumeConfiguration` as ECS checks it
 * (transit encryption is what access points and IAM authorization ride on).
 */
export function checkVolume(v: Volume) {
  const kinds = [
    v.host,
    v.dockerVolumeConfiguration,
    v.efsVolumeConfiguration,
    v.fsxWindowsFileServerVolumeConfiguration,
  ];
  if (kinds.filter((k) => k !== undefined).length > 1)
    throw client("When the volume parameter is specified, only one volume configuration type should be used.");
  const efs = v.efsVolumeConfiguration;
  if (!efs) return;
  if (!efs.fileSystemId?.trim())
    throw client(
      `${INVALID} EFSVolumeConfiguration.fileSystemId should not be null or empty (volume '${v.name ?? ""}').`,
    );
  const te = efs.transitEncryption ?? "DISABLED";
  if (te !== "ENABLED" && te !== "DISABLED")
    throw client(
      `${INVALID} Invalid transitEncryption value '${te}' for volume '${v.name ?? ""}'. Valid values: ENABLED | DISABLED.`,
    );
  const encrypted = te === "ENABLED";
  if (efs.transitEncryptionPort !== undefined) {
    if (!encrypted)
      throw client(
        `${INVALID} Transit encryption port can only be specified when transit encryption is enabled (volume '${v.name ?? ""}').`,
      );
    if (
      !Number.isInteger(efs.transitEncryptionPort) ||
      efs.transitEncryptionPort < 0 ||
      efs.transitEncryptionPort > 65535
    )
      throw client(
        `${INVALID} Invalid transitEncryptionPort ${efs.transitEncryptionPort} for volume '${v.name ?? ""}': the value must be between 0 and 65535.`,
      );
  }
  const auth = efs.authorizationConfig;
  const iam = auth?.iam ?? "DISABLED";
  if (iam !== "ENABLED" && iam !== "DISABLED")
    throw client(
      `${INVALID} Invalid authorizationConfig.iam value '${iam}' for volume '${v.name ?? ""}'. Valid values: ENABLED | DISABLED.`,
    );
  if (auth?.accessPointId) {
    if (!encrypted) throw client(`${INVALID} Transit encryption must be enabled when using an EFS access point.`);
    if (efs.rootDirectory !== undefined && efs.rootDirectory !== "/")
      throw client(
        `${INVALID} When using an EFS access point, the root directory must either be set to "/" or be omitted.`,
      );
  }
  if (iam === "ENABLED" && !encrypted)
    throw client(`${INVALID} Transit encryption must be enabled when using EFS IAM authorization.`);
}

const containerPathsAbsolute = (c: ContainerDefinition) =>
  (c.mountPoints ?? []).every((m) => !m.containerPath || m.containerPath.startsWith("/"));

function checkContainerSizes(c: ContainerDefinition, taskMemory: number | undefined) {
  if (c.memory !== undefined && c.memory < 6)
    throw client(`Invalid 'memory' setting for container '${c.name}'. The minimum is 6 MiB.`);
  if (c.memoryReservation !== undefined && c.memoryReservation < 6)
    throw client(`Invalid 'memoryReservation' setting for container '${c.name}'. The minimum is 6 MiB.`);
  if (c.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation > c.memory)
    throw client(
      `Invalid setting for container '${c.name}': memoryReservation (${c.memoryReservation}) must be less than or equal to memory (${c.memory}).`,
    );
  if (taskMemory === undefined && c.memory === undefined && c.memoryReservation === undefined)
    throw client(
      `Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified when the task has no task-level memory.`,
    );
  if (c.cpu !== undefined && c.cpu < 0) throw client(`Invalid 'cpu' setting for container '${c.name}'.`);
}

function checkHealthCheck(c: ContainerDefinition) {
  const h = c.healthCheck;
  if (!h) return;
  if (!h.command?.length || !["CMD", "CMD-SHELL", "NONE"].includes(h.command[0]))
    throw client(`Invalid healthCheck for container '${c.name}': command must start with CMD, CMD-SHELL or NONE.`);
  const bounds: [keyof typeof h, number, number][] = [
    ["interval", 5, 300],
    ["timeout", 2, 120],
    ["retries", 1, 10],
    ["startPeriod", 0, 300],
  ];
  for (const [k, lo, hi] of bounds) {
    const v = h[k] as number | undefined;
    if (v !== undefined && (v < lo || v > hi))
      throw client(`Invalid healthCheck ${k} ${v} for container '${c.name}': allowed ${lo}-${hi}.`);
  }
}

function checkDependencies(defs: ContainerDefinition[]) {
  const byName = new Map(defs.map((c) => [c.name!, c]));
  for (const c of defs)
    for (const d of c.dependsOn ?? []) {
      const dep = byName.get(d.containerName);
      if (!dep)
        throw client(
          `Container '${c.name}' depends on '${d.containerName}', which is not defined in this task definition.`,
        );
      if (d.condition === "HEALTHY" && !dep.healthCheck)
        throw client(
          `Container '${c.name}' depends on '${d.containerName}' being HEALTHY, but '${d.containerName}' has no healthCheck.`,
        );
    }
  // Cycle check: depth-first walk with colours.
  const state = new Map<string, 1 | 2>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 2) return;
    if (state.get(name) === 1) throw client(`Container dependency cycle: ${[...path, name].join(" -> ")}.`);
    state.set(name, 1);
    for (const d of byName.get(name)?.dependsOn ?? []) visit(d.containerName, [...path, name]);
    state.set(name, 2);
  };
  for (const c of defs) visit(c.name!, []);
}
