import { randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { commonErrors } from "../../core/errors.js";
import { type Scope, arn, parseArn } from "../../core/ids.js";
import type { SecretBox } from "../../iam/secret-box.js";
import type { Tag } from "../../protocol/generated/types/secretsmanager.js";
import type { Collection, DocumentStore } from "../../store/documents.js";
import { SealedStore, type SealedStoreOptions } from "../sealed-store.js";
import { secretsmanagerErrors } from "../../protocol/generated/errors/secretsmanager.js";

export interface SecretVersionRecord {
  VersionId: string;
  stages: string[];
  /** The value (text, or base64 of the binary), sealed with the data directory's key. */
  sealed: string;
  binary: boolean;
  CreatedDate: Date;
  LastAccessedDate?: Date;
}

export interface SecretRecord {
  Name: string;
  ARN: string;
  Description?: string;
  KmsKeyId?: string;
  CreatedDate: Date;
  LastChangedDate: Date;
  LastAccessedDate?: Date;
  /** Set while the secret is scheduled for deletion; purged at PurgeDate. */
  DeletedDate?: Date;
  PurgeDate?: Date;
  Tags: Tag[];
  policy?: string;
  versions: SecretVersionRecord[];
}

export const SECRET_KIND = "secretsmanager.secret";
const PURPOSE = "berth-secretsmanager-secret";
const SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export const notFound = () =>
  secretsmanagerErrors.ResourceNotFoundException("Secrets Manager can't find the specified secret.");

export const markedForDeletion = () =>
  secretsmanagerErrors.InvalidRequestException(
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

export function newSecretArn(s: Scope, name: string) {
  const bytes = randomBytes(6);
  const suffix = [...bytes].map((b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join("");
  return arn("secretsmanager", s, `secret:${name}-${suffix}`);
}

/** A task definition's secret reference: ARN with `:json-key:version-stage:version-id`, or a name. */
export interface SecretSelector {
  scope: Scope;
  id: string;
  jsonKey?: string;
  versionStage?: string;
  versionId?: string;
}

export function parseSecretSelector(scope: Scope, valueFrom: string): SecretSelector {
  if (!valueFrom.startsWith("arn:")) return { scope, id: valueFrom };
  const parts = valueFrom.split(":");
  const base = parts.slice(0, 7).join(":");
  const p = parseArn(base);
  if (p?.service !== "secretsmanager" || !p.resource.startsWith("secret:"))
    throw commonErrors.ValidationException(`Invalid Secrets Manager ARN: ${valueFrom}`);
  const opt = (v: string | undefined) => (v ? v : undefined);
  return {
    scope: { account: p.account, region: p.region },
    id: base,
    jsonKey: opt(parts[7]),
    versionStage: opt(parts[8]),
    versionId: opt(parts[9]),
  };
}

/** Secrets in the store, values sealed at rest. */
const SEALING: SealedStoreOptions<SecretRecord> = {
  kind: SECRET_KIND,
  purpose: PURPOSE,
  name: (s) => s.Name,
  arn: (s) => s.ARN,
  undecryptable: () =>
    secretsmanagerErrors.DecryptionFailure(
      "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
    ),
};

export class SecretStore extends SealedStore<SecretRecord> {
  readonly secrets: Collection<SecretRecord>;

  constructor(store: DocumentStore, box: SecretBox, clock: Clock) {
    super(store, box, clock, SEALING);
    this.secrets = this.records;
  }

  /**
   * A secret by name, full ARN or partial ARN (without the random suffix). Secrets past their
   * recovery window are purged here.
   */
  find(scope: Scope, id: string): SecretRecord | undefined {
    let found: { scope: Scope; doc: SecretRecord } | undefined;
    if (id.startsWith("arn:")) {
      found = this.secrets.byArn(id);
      if (!found) {
        const p = parseArn(id);
        if (p?.service === "secretsmanager" && p.resource.startsWith("secret:")) {
          const s = { account: p.account, region: p.region };
          const doc = this.secrets.get(s, p.resource.slice("secret:".length));
          if (doc) found = { scope: s, doc };
        }
      }
    } else {
      const doc = this.secrets.get(scope, id);
      if (doc) found = { scope, doc };
    }
    if (!found) return undefined;
    if (found.doc.PurgeDate && found.doc.PurgeDate.getTime() <= this.clock.now().getTime()) {
      this.secrets.delete(found.scope, found.doc.Name);
      return undefined;
    }
    return found.doc;
  }

  /** The version a request asks for (default AWSCURRENT). */
  version(s: SecretRecord, versionId?: string, stage?: string): SecretVersionRecord {
    if (versionId) {
      const v = s.versions.find((x) => x.VersionId === versionId);
      if (!v || (stage && !v.stages.includes(stage)))
        throw secretsmanagerErrors.ResourceNotFoundException(
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      return v;
    }
    const label = stage ?? "AWSCURRENT";
    const v = s.versions.find((x) => x.stages.includes(label));
    if (!v)
      throw secretsmanagerErrors.ResourceNotFoundException(
        `Secrets Manager can't find the specified secret value for staging label: ${label}`,
      );
    return v;
  }

  /**
   * What a task definition's `valueFrom` holds, for ECS: the secret's text, or one JSON key of
   * it. Throws ResourceNotFoundException and friends.
   */
  resolve(scope: Scope, valueFrom: string): { arn: string; value: string } {
    const sel = parseSecretSelector(scope, valueFrom);
    const s = this.find(sel.scope, sel.id);
    if (!s) throw notFound();
    if (s.DeletedDate) throw markedForDeletion();
    const v = this.version(s, sel.versionId, sel.versionStage);
    const text = this.open(v);
    if (!sel.jsonKey) return { arn: s.ARN, value: v.binary ? Buffer.from(text, "base64").toString("utf8") : text };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw secretsmanagerErrors.InvalidRequestException(
        `the secret ${s.ARN} is not a JSON document, so key ${sel.jsonKey} cannot be read from it`,
      );
    }
    const value = (doc as Record<string, unknown> | null)?.[sel.jsonKey];
    if (value === undefined)
      throw secretsmanagerErrors.InvalidRequestException(
        `retrieved secret from Secrets Manager did not contain json key ${sel.jsonKey}`,
      );
    return { arn: s.ARN, value: typeof value === "string" ? value : JSON.stringify(value) };
  }
}
