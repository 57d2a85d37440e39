import { randomUUID } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { type Scope, parseArn } from "../../core/ids.js";
import { type SecretRecord, type SecretStore, type SecretVersionRecord, markedForDeletion, notFound } from "./store.js";
import { secretsmanagerErrors } from "../../protocol/generated/errors/secretsmanager.js";

export const invalidParameter = secretsmanagerErrors.InvalidParameterException;
export const invalidRequest = secretsmanagerErrors.InvalidRequestException;
export const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_VERSIONS = 100;

/** What every Secrets Manager operation module shares: the sealed store and the lookups on it. */
export class SecretsContext {
  constructor(
    readonly sm: SecretStore,
    readonly clock: Clock,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  scopeOfSecret(s: SecretRecord): Scope {
    const { account, region } = parseArn(s.ARN)!;
    return { account, region };
  }

  save(s: SecretRecord) {
    this.sm.secrets.put(this.scopeOfSecret(s), s);
  }

  /** A secret by name or ARN; ResourceNotFound, or InvalidRequest while it is scheduled for deletion. */
  require(scope: Scope, id: string, allowDeleted = false): SecretRecord {
    const s = this.sm.find(scope, id);
    if (!s) throw notFound();
    if (s.DeletedDate && !allowDeleted) throw markedForDeletion();
    return s;
  }

  stagesMap(s: SecretRecord): Record<string, string[]> {
    return Object.fromEntries(s.versions.filter((v) => v.stages.length).map((v) => [v.VersionId, v.stages]));
  }
}

/** The value a request carries (SecretString or SecretBinary, not both), or undefined. */
export const secretValueOf = (input: { SecretString?: string; SecretBinary?: Uint8Array }) => {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined)
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  if (input.SecretString !== undefined) {
    if (input.SecretString.length > 65536) throw invalidParameter("SecretString must be at most 65536 characters.");
    return { text: input.SecretString, binary: false };
  }
  if (input.SecretBinary !== undefined)
    return { text: Buffer.from(input.SecretBinary).toString("base64"), binary: true };
  return undefined;
};

/** A ClientRequestToken (a new one when absent), checked for AWS's length. */
export function checkToken(token: string | undefined): string {
  const t = token ?? randomUUID();
  if (t.length < 32 || t.length > 64)
    throw invalidParameter("ClientRequestToken must be between 32 and 64 characters long.");
  return t;
}

export /** Adds a version carrying `stages`; those stages leave other versions; AWSCURRENT's old holder becomes AWSPREVIOUS. */
function addVersion(s: SecretRecord, v: SecretVersionRecord): SecretRecord {
  const moving = new Set(v.stages);
  const oldCurrent = moving.has("AWSCURRENT") ? s.versions.find((x) => x.stages.includes("AWSCURRENT")) : undefined;
  let versions = s.versions.map((x) => {
    let stages = x.stages.filter((st) => !moving.has(st));
    if (oldCurrent) stages = stages.filter((st) => st !== "AWSPREVIOUS");
    if (x === oldCurrent) stages = [...stages, "AWSPREVIOUS"];
    return { ...x, stages };
  });
  versions.push(v);
  // Versions without a stage are deprecated; AWS keeps about 100 of them.
  while (versions.length > MAX_VERSIONS) {
    const i = versions.findIndex((x) => x.stages.length === 0);
    if (i < 0) break;
    versions = versions.filter((_, j) => j !== i);
  }
  return { ...s, versions };
}
