import { randomInt, randomUUID } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Authorizer } from "../../iam/authorizer.js";
import { MalformedPolicy, parsePolicy } from "../../iam/policy.js";
import type { SecretBox } from "../../iam/secret-box.js";
import type { Operations, SecretListEntry, Tag } from "../../protocol/generated/types/secretsmanager.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import {
  type SecretRecord,
  SecretStore,
  type SecretVersionRecord,
  markedForDeletion,
  newSecretArn,
  notFound,
} from "./store.js";

const invalidParameter = (m: string) => new ServiceError("InvalidParameterException", m);
const invalidRequest = (m: string) => new ServiceError("InvalidRequestException", m);
const NAME = /^[a-zA-Z0-9/_+=.@-]{1,512}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_VERSIONS = 100;

export interface SecretsManagerDeps {
  store: DocumentStore;
  box: SecretBox;
  clock: Clock;
  /** Registers how secret calls name their resources and where their resource policies are. */
  authorizer?: Authorizer;
}

const secretValueOf = (input: { SecretString?: string; SecretBinary?: Uint8Array }) => {
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

function checkToken(token: string | undefined): string {
  const t = token ?? randomUUID();
  if (t.length < 32 || t.length > 64)
    throw invalidParameter("ClientRequestToken must be between 32 and 64 characters long.");
  return t;
}

/** Adds a version carrying `stages`; those stages leave other versions; AWSCURRENT's old holder becomes AWSPREVIOUS. */
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

/** Secrets Manager (awsJson1_1, target prefix secretsmanager). */
export function secretsManagerService(deps: SecretsManagerDeps) {
  const sm = new SecretStore(deps.store, deps.box, deps.clock);
  const now = () => deps.clock.now();

  const scopeOfSecret = (s: SecretRecord): Scope => {
    const [, , , region, account] = s.ARN.split(":");
    return { account, region };
  };
  const save = (s: SecretRecord) => sm.secrets.put(scopeOfSecret(s), s);
  const require = (scope: Scope, id: string, allowDeleted = false) => {
    const s = sm.find(scope, id);
    if (!s) throw notFound();
    if (s.DeletedDate && !allowDeleted) throw markedForDeletion();
    return s;
  };
  const stagesMap = (s: SecretRecord) =>
    Object.fromEntries(s.versions.filter((v) => v.stages.length).map((v) => [v.VersionId, v.stages]));
  const entry = (s: SecretRecord): SecretListEntry => ({
    ARN: s.ARN,
    Name: s.Name,
    Description: s.Description,
    KmsKeyId: s.KmsKeyId,
    RotationEnabled: false,
    LastChangedDate: s.LastChangedDate,
    LastAccessedDate: s.LastAccessedDate,
    DeletedDate: s.DeletedDate,
    Tags: s.Tags,
    SecretVersionsToStages: stagesMap(s),
    CreatedDate: s.CreatedDate,
  });
  const checkPolicy = (text: string) => {
    try {
      return parsePolicy(text, "resource");
    } catch (e) {
      if (e instanceof MalformedPolicy)
        throw new ServiceError(
          "MalformedPolicyDocumentException",
          `This resource policy contains a syntax error: ${e.message}`,
        );
      throw e;
    }
  };
  /** Records a read, at day granularity like AWS (and so at most one write a day). */
  const touch = (s: SecretRecord, v: SecretVersionRecord) => {
    const today = new Date(Math.floor(now().getTime() / DAY_MS) * DAY_MS);
    if (s.LastAccessedDate?.getTime() === today.getTime()) return;
    save({
      ...s,
      LastAccessedDate: today,
      versions: s.versions.map((x) => (x.VersionId === v.VersionId ? { ...x, LastAccessedDate: today } : x)),
    });
  };
  const getValue = (scope: Scope, id: string, versionId?: string, stage?: string) => {
    const s = require(scope, id);
    const v = sm.version(s, versionId, stage);
    const text = sm.open(v);
    touch(s, v);
    return {
      ARN: s.ARN,
      Name: s.Name,
      VersionId: v.VersionId,
      SecretString: v.binary ? undefined : text,
      SecretBinary: v.binary ? new Uint8Array(Buffer.from(text, "base64")) : undefined,
      VersionStages: v.stages,
      CreatedDate: v.CreatedDate,
    };
  };
  const matchesFilters = (s: SecretRecord, filters: { Key?: string; Values?: string[] }[] | undefined) =>
    (filters ?? []).every((f) => {
      const values = f.Values ?? [];
      const test = (actual: string | undefined) =>
        actual !== undefined &&
        values.some((v) =>
          v.startsWith("!")
            ? !actual.toLowerCase().startsWith(v.slice(1).toLowerCase())
            : actual.toLowerCase().startsWith(v.toLowerCase()),
        );
      switch (f.Key) {
        case "name":
          return test(s.Name);
        case "description":
          return test(s.Description);
        case "tag-key":
          return s.Tags.some((t) => test(t.Key));
        case "tag-value":
          return s.Tags.some((t) => test(t.Value));
        case "primary-region":
          return test(s.ARN.split(":")[3]);
        case "owning-service":
          return false;
        case "all":
          return test(s.Name) || test(s.Description) || s.Tags.some((t) => test(t.Key) || test(t.Value));
        default:
          throw invalidParameter(`Invalid filter key: ${f.Key}`);
      }
    });

  const provider: Provider<Operations> = {
    CreateSecret: (input, ctx) => {
      if (!NAME.test(input.Name))
        throw invalidParameter(
          "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        );
      const value = secretValueOf(input);
      const token = checkToken(input.ClientRequestToken);
      return deps.store.transaction(() => {
        const existing = sm.find(ctx, input.Name);
        if (existing) {
          if (existing.DeletedDate)
            throw invalidRequest(
              "You can't create this secret because a secret with this name is already scheduled for deletion.",
            );
          const same = existing.versions.find((v) => v.VersionId === token);
          if (same && value && sm.open(same) === value.text)
            return { ARN: existing.ARN, Name: existing.Name, VersionId: same.VersionId };
          throw new ServiceError(
            "ResourceExistsException",
            `The operation failed because the secret ${input.Name} already exists.`,
          );
        }
        const created = now();
        const s: SecretRecord = {
          Name: input.Name,
          ARN: newSecretArn(ctx, input.Name),
          Description: input.Description,
          KmsKeyId: input.KmsKeyId,
          CreatedDate: created,
          LastChangedDate: created,
          Tags: (input.Tags ?? []).map((t: Tag) => ({ Key: t.Key, Value: t.Value })),
          versions: value
            ? [
                {
                  VersionId: token,
                  stages: ["AWSCURRENT"],
                  sealed: sm.seal(value.text),
                  binary: value.binary,
                  CreatedDate: created,
                },
              ]
            : [],
        };
        sm.secrets.put(ctx, s);
        return { ARN: s.ARN, Name: s.Name, VersionId: value ? token : undefined };
      });
    },
    GetSecretValue: (input, ctx) => getValue(ctx, input.SecretId, input.VersionId, input.VersionStage),
    BatchGetSecretValue: (input, ctx) => {
      if (input.SecretIdList && input.Filters)
        throw invalidParameter("Either SecretIdList or Filters must be provided, not both.");
      const ids =
        input.SecretIdList ??
        sm.secrets
          .list(ctx)
          .filter((s) => !s.DeletedDate && matchesFilters(s, input.Filters))
          .map((s) => s.ARN);
      const SecretValues: ReturnType<typeof getValue>[] = [];
      const Errors: { SecretId: string; ErrorCode: string; Message: string }[] = [];
      for (const id of ids) {
        try {
          SecretValues.push(getValue(ctx, id));
        } catch (e) {
          if (!(e instanceof ServiceError)) throw e;
          Errors.push({ SecretId: id, ErrorCode: e.code, Message: e.message });
        }
      }
      return { SecretValues, Errors };
    },
    PutSecretValue: (input, ctx) => {
      const value = secretValueOf(input);
      if (!value) throw invalidParameter("You must provide either SecretString or SecretBinary.");
      const token = checkToken(input.ClientRequestToken);
      const stages = input.VersionStages ?? ["AWSCURRENT"];
      return deps.store.transaction(() => {
        const s = require(ctx, input.SecretId);
        const same = s.versions.find((v) => v.VersionId === token);
        if (same) {
          if (sm.open(same) !== value.text)
            throw new ServiceError(
              "ResourceExistsException",
              `You can't modify an existing version, you can only create a new version. VersionId: ${token}`,
            );
          return { ARN: s.ARN, Name: s.Name, VersionId: token, VersionStages: same.stages };
        }
        const at = now();
        const next = addVersion(s, {
          VersionId: token,
          stages,
          sealed: sm.seal(value.text),
          binary: value.binary,
          CreatedDate: at,
        });
        save({ ...next, LastChangedDate: at });
        return { ARN: s.ARN, Name: s.Name, VersionId: token, VersionStages: stages };
      });
    },
    UpdateSecret: (input, ctx) => {
      const value = secretValueOf(input);
      const token = value ? checkToken(input.ClientRequestToken) : undefined;
      return deps.store.transaction(() => {
        const s = require(ctx, input.SecretId);
        const at = now();
        let next: SecretRecord = {
          ...s,
          Description: input.Description ?? s.Description,
          KmsKeyId: input.KmsKeyId ?? s.KmsKeyId,
          LastChangedDate: at,
        };
        if (value && token) {
          if (s.versions.some((v) => v.VersionId === token))
            throw new ServiceError(
              "ResourceExistsException",
              `You can't modify an existing version, you can only create a new version. VersionId: ${token}`,
            );
          next = addVersion(next, {
            VersionId: token,
            stages: ["AWSCURRENT"],
            sealed: sm.seal(value.text),
            binary: value.binary,
            CreatedDate: at,
          });
        }
        save(next);
        return { ARN: s.ARN, Name: s.Name, VersionId: token };
      });
    },
    DescribeSecret: (input, ctx) => {
      const s = require(ctx, input.SecretId, true);
      return {
        ARN: s.ARN,
        Name: s.Name,
        Description: s.Description,
        KmsKeyId: s.KmsKeyId,
        RotationEnabled: false,
        LastChangedDate: s.LastChangedDate,
        LastAccessedDate: s.LastAccessedDate,
        DeletedDate: s.DeletedDate,
        Tags: s.Tags,
        VersionIdsToStages: stagesMap(s),
        CreatedDate: s.CreatedDate,
      };
    },
    ListSecrets: (input, ctx) => {
      const size = input.MaxResults ?? 100;
      if (!Number.isInteger(size) || size < 1 || size > 100)
        throw invalidParameter("MaxResults must be between 1 and 100.");
      const desc = input.SortOrder === "desc";
      const all = sm.secrets
        .list(ctx)
        .filter((s) => (input.IncludePlannedDeletion || !s.DeletedDate) && matchesFilters(s, input.Filters))
        .sort(
          (a, b) => (desc ? -1 : 1) * (a.CreatedDate.getTime() - b.CreatedDate.getTime() || (a.Name < b.Name ? -1 : 1)),
        );
      let start = 0;
      if (input.NextToken !== undefined) {
        start = Number(Buffer.from(input.NextToken, "base64url").toString("utf8"));
        if (!Number.isInteger(start) || start < 0)
          throw new ServiceError("InvalidNextTokenException", "You provided an invalid NextToken value.");
      }
      const page = all.slice(start, start + size);
      return {
        SecretList: page.map(entry),
        NextToken: start + size < all.length ? Buffer.from(String(start + size)).toString("base64url") : undefined,
      };
    },
    ListSecretVersionIds: (input, ctx) => {
      const s = require(ctx, input.SecretId, true);
      const versions = s.versions
        .filter((v) => input.IncludeDeprecated || v.stages.length > 0)
        .map((v) => ({
          VersionId: v.VersionId,
          VersionStages: v.stages,
          LastAccessedDate: v.LastAccessedDate,
          CreatedDate: v.CreatedDate,
          KmsKeyIds: [s.KmsKeyId ?? "DefaultEncryptionKey"],
        }));
      return { Versions: versions, ARN: s.ARN, Name: s.Name };
    },
    UpdateSecretVersionStage: (input, ctx) =>
      deps.store.transaction(() => {
        const s = require(ctx, input.SecretId);
        const stage = input.VersionStage;
        const holder = s.versions.find((v) => v.stages.includes(stage));
        if (holder && holder.VersionId !== input.RemoveFromVersionId && input.MoveToVersionId)
          throw invalidParameter(
            `The staging label ${stage} is currently attached to version ${holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
          );
        if (input.RemoveFromVersionId && !s.versions.some((v) => v.VersionId === input.RemoveFromVersionId))
          throw new ServiceError(
            "ResourceNotFoundException",
            `Secrets Manager can't find the specified secret value for VersionId: ${input.RemoveFromVersionId}`,
          );
        if (input.MoveToVersionId && !s.versions.some((v) => v.VersionId === input.MoveToVersionId))
          throw new ServiceError(
            "ResourceNotFoundException",
            `Secrets Manager can't find the specified secret value for VersionId: ${input.MoveToVersionId}`,
          );
        const movingCurrent = stage === "AWSCURRENT" && input.MoveToVersionId && holder;
        const versions = s.versions.map((v) => {
          let stages = v.stages;
          if (v.VersionId === input.RemoveFromVersionId) stages = stages.filter((x) => x !== stage);
          if (movingCurrent) stages = stages.filter((x) => x !== "AWSPREVIOUS");
          if (movingCurrent && v.VersionId === holder.VersionId) stages = [...stages, "AWSPREVIOUS"];
          if (v.VersionId === input.MoveToVersionId && !stages.includes(stage)) stages = [...stages, stage];
          return { ...v, stages };
        });
        save({ ...s, versions, LastChangedDate: now() });
        return { ARN: s.ARN, Name: s.Name };
      }),
    DeleteSecret: (input, ctx) =>
      deps.store.transaction(() => {
        if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined)
          throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
        const days = input.RecoveryWindowInDays ?? 30;
        if (!input.ForceDeleteWithoutRecovery && (days < 7 || days > 30))
          throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
        const s = require(ctx, input.SecretId, true);
        const at = now();
        if (input.ForceDeleteWithoutRecovery) {
          sm.secrets.delete(scopeOfSecret(s), s.Name);
          return { ARN: s.ARN, Name: s.Name, DeletionDate: at };
        }
        if (s.DeletedDate) throw markedForDeletion();
        const purge = new Date(at.getTime() + days * DAY_MS);
        save({ ...s, DeletedDate: at, PurgeDate: purge });
        return { ARN: s.ARN, Name: s.Name, DeletionDate: purge };
      }),
    RestoreSecret: (input, ctx) => {
      const s = require(ctx, input.SecretId, true);
      save({ ...s, DeletedDate: undefined, PurgeDate: undefined });
      return { ARN: s.ARN, Name: s.Name };
    },
    PutResourcePolicy: (input, ctx) => {
      const policy = checkPolicy(input.ResourcePolicy);
      const isPublic = policy.statements.some(
        (st) =>
          st.effect === "Allow" &&
          (st.principal === "*" || (typeof st.principal === "object" && st.principal.AWS?.includes("*"))) &&
          !st.condition,
      );
      if ((input.BlockPublicPolicy ?? true) && isPublic)
        throw new ServiceError(
          "PublicPolicyException",
          "You can't attach a resource-based policy that allows broad access to the secret.",
        );
      const s = require(ctx, input.SecretId);
      save({ ...s, policy: input.ResourcePolicy });
      return { ARN: s.ARN, Name: s.Name };
    },
    GetResourcePolicy: (input, ctx) => {
      const s = require(ctx, input.SecretId, true);
      return { ARN: s.ARN, Name: s.Name, ResourcePolicy: s.policy };
    },
    DeleteResourcePolicy: (input, ctx) => {
      const s = require(ctx, input.SecretId);
      save({ ...s, policy: undefined });
      return { ARN: s.ARN, Name: s.Name };
    },
    ValidateResourcePolicy: (input) => {
      try {
        parsePolicy(input.ResourcePolicy, "resource");
        return { PolicyValidationPassed: true, ValidationErrors: [] };
      } catch (e) {
        if (!(e instanceof MalformedPolicy)) throw e;
        return {
          PolicyValidationPassed: false,
          ValidationErrors: [{ CheckName: "JSON_SYNTAX", ErrorMessage: e.message }],
        };
      }
    },
    TagResource: (input, ctx) => {
      const s = require(ctx, input.SecretId);
      const tags = new Map(s.Tags.map((t) => [t.Key, t.Value]));
      for (const t of input.Tags) tags.set(t.Key, t.Value);
      if (tags.size > 50)
        throw invalidRequest("The request failed because it would exceed the maximum of 50 tags for a secret.");
      save({ ...s, Tags: [...tags].map(([Key, Value]) => ({ Key, Value })) });
      return {};
    },
    UntagResource: (input, ctx) => {
      const s = require(ctx, input.SecretId);
      save({ ...s, Tags: s.Tags.filter((t) => !input.TagKeys.includes(t.Key ?? "")) });
      return {};
    },
    GetRandomPassword: (input) => {
      const length = input.PasswordLength ?? 32;
      if (!Number.isInteger(length) || length < 1 || length > 4096)
        throw invalidParameter("PasswordLength must be between 1 and 4096.");
      const exclude = new Set(input.ExcludeCharacters ?? "");
      const classes = [
        input.ExcludeLowercase ? "" : "abcdefghijklmnopqrstuvwxyz",
        input.ExcludeUppercase ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        input.ExcludeNumbers ? "" : "0123456789",
        input.ExcludePunctuation ? "" : "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        input.IncludeSpace ? " " : "",
      ]
        .map((c) => [...c].filter((ch) => !exclude.has(ch)).join(""))
        .filter(Boolean);
      if (!classes.length) throw invalidParameter("The password cannot be generated: every character is excluded.");
      const all = classes.join("");
      const required = input.RequireEachIncludedType ?? true;
      if (required && length < classes.length)
        throw invalidParameter("PasswordLength is too short to include each character type.");
      for (;;) {
        let out = "";
        for (let i = 0; i < length; i++) out += all[randomInt(all.length)];
        if (!required || classes.every((c) => [...out].some((ch) => c.includes(ch)))) return { RandomPassword: out };
      }
    },
  };

  // How calls name their secrets (the full ARN, with its random suffix) and where the policy is.
  deps.authorizer?.resolveResourcesWith("secretsmanager", (_op, input, scope) => {
    const id =
      typeof input.SecretId === "string" ? input.SecretId : typeof input.Name === "string" ? input.Name : undefined;
    if (!id) {
      const list = Array.isArray(input.SecretIdList) ? (input.SecretIdList as string[]) : [];
      return list.length ? list.map((x) => sm.find(scope, x)?.ARN ?? x) : ["*"];
    }
    return [
      sm.find(scope, id)?.ARN ??
        (id.startsWith("arn:") ? id : `arn:aws:secretsmanager:${scope.region}:${scope.account}:secret:${id}`),
    ];
  });
  deps.authorizer?.resourcePoliciesFrom("secretsmanager", (arn) => sm.secrets.byArn(arn)?.doc.policy);

  return {
    service: defineService("secretsmanager", provider, { validationCode: "InvalidParameterException" }),
    secrets: sm,
  };
}
