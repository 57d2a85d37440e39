import { createHash } from "node:crypto";
import type { Scope } from "../../core/ids.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type { CreationInfo, PosixUser } from "../../protocol/generated/types/efs.js";

/** Pure checks and derivations for the EFS API, with EFS's error codes (BadRequest for bad values). */

const badRequest = (message: string) => efsErrors.BadRequest(message, { ErrorCode: "BadRequest" });

const MAX_ID = 4294967295;
/** The model's Path pattern: "/" or up to four components, none starting with ".". */
const PATH = /^(\/|(\/(?!\.)+[^$#<>;`|&?{}^*/\n]+){1,4})$/;

export function checkPosixId(value: unknown, member: string) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_ID)
    throw badRequest(`${member} must be an integer between 0 and ${MAX_ID}; got ${String(value)}.`);
}

export function checkPosixUser(user: PosixUser | undefined) {
  if (!user) return;
  checkPosixId(user.Uid, "PosixUser.Uid");
  checkPosixId(user.Gid, "PosixUser.Gid");
  const extra = user.SecondaryGids ?? [];
  if (extra.length > 16) throw badRequest("PosixUser.SecondaryGids can contain at most 16 group ids.");
  for (const g of extra) checkPosixId(g, "PosixUser.SecondaryGids");
}

/** An access point's root directory path ("/" when unset), checked as EFS checks it. */
export function checkRootPath(path: string | undefined): string {
  const p = path ?? "/";
  if (p.length < 1 || p.length > 100 || !PATH.test(p))
    throw badRequest(
      `RootDirectory.Path '${p}' is not valid: it must be an absolute path of at most 100 characters and 4 subdirectories, without '.' or '..' components or special characters.`,
    );
  return p;
}

export function checkCreationInfo(info: CreationInfo | undefined): number | undefined {
  if (!info) return undefined;
  checkPosixId(info.OwnerUid, "CreationInfo.OwnerUid");
  checkPosixId(info.OwnerGid, "CreationInfo.OwnerGid");
  if (typeof info.Permissions !== "string" || !/^[0-7]{3,4}$/.test(info.Permissions))
    throw badRequest(`CreationInfo.Permissions '${String(info.Permissions)}' must be 3 or 4 octal digits.`);
  return Number.parseInt(info.Permissions, 8);
}

/** A file system id from an id or an ARN, or undefined when it is neither. */
export function fileSystemIdOf(value: string): string | undefined {
  return /^(?:arn:aws[-a-z]*:elasticfilesystem:[0-9a-z-:]+:file-system\/)?(fs-[0-9a-f]{8,40})$/.exec(value)?.[1];
}

export function accessPointIdOf(value: string): string | undefined {
  return /^(?:arn:aws[-a-z]*:elasticfilesystem:[0-9a-z-:]+:access-point\/)?(fsap-[0-9a-f]{8,40})$/.exec(value)?.[1];
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** "us-east-1" → "use1", as AWS's zone ids spell regions. */
const regionCode = (region: string) =>
  region
    .split("-")
    .map((p, i, all) => (i === all.length - 1 ? p : p[0]))
    .join("");

/**
 * Where a subnet is. Berth has no VPCs, so a subnet id names its zone: the default subnets
 * ELBv2 reports (per account and region, zones a and b) keep their zones; any other
 * well-formed subnet id lands in zone a, b or c by its hash. Same id, same zone, always.
 */
export function subnetPlacement(scope: Scope, subnetId: string) {
  const h = (s: string) => sha(`${scope.account}/${scope.region}/${s}`);
  const defaults = ["a", "b"].map((z) => `subnet-${h(z).slice(0, 17)}`);
  const index = defaults.includes(subnetId)
    ? defaults.indexOf(subnetId)
    : Number.parseInt(sha(subnetId).slice(0, 8), 16) % 3;
  const letter = String.fromCharCode(97 + index);
  return {
    availabilityZoneName: `${scope.region}${letter}`,
    availabilityZoneId: `${regionCode(scope.region)}-az${index + 1}`,
    vpcId: `vpc-${h("vpc").slice(0, 17)}`,
    /** The subnet's /20 in 172.31.0.0/16, as a default VPC lays them out. */
    cidrBase: [172, 31, index * 16],
  };
}

/** An IPv4 address in the subnet's /20 that is not in `used`. */
export function allocateIp(base: number[], used: ReadonlySet<string>, random: () => number = Math.random): string {
  for (;;) {
    const n = 4 + Math.floor(random() * (16 * 256 - 8));
    const ip = `${base[0]}.${base[1]}.${base[2] + (n >> 8)}.${n & 255}`;
    if (!used.has(ip)) return ip;
  }
}

/** Whether an IPv4 address lies in the subnet's /20. */
export function inSubnet(base: number[], ip: string): boolean {
  const p = ip.split(".").map(Number);
  return (
    p.length === 4 &&
    p.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) &&
    p[0] === base[0] &&
    p[1] === base[1] &&
    p[2] >= base[2] &&
    p[2] < base[2] + 16
  );
}
