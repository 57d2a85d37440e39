import { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Operations } from "../../protocol/generated/types/secretsmanager.js";
import type { Provider } from "../../protocol/service.js";
import { DAY_MS, type SecretsContext, addVersion, checkToken, invalidParameter, secretValueOf } from "./context.js";
import { matchesFilters } from "./secrets.js";
import type { SecretRecord, SecretVersionRecord } from "./store.js";
import { secretsmanagerErrors } from "../../protocol/generated/errors/secretsmanager.js";
import { noTokenIssued } from "../../core/paginate.js";

/** All versions and values come in one page: a token is one Secrets Manager never issued. */
const invalidNextToken = () =>
  secretsmanagerErrors.InvalidNextTokenException("You provided an invalid NextToken value.");

/** GetSecretValue, BatchGetSecretValue, PutSecretValue, ListSecretVersionIds, UpdateSecretVersionStage. */
export function valueOperations(c: SecretsContext): Provider<Operations> {
  /** Records a read, at day granularity like AWS (and so at most one write a day). */
  const touch = (s: SecretRecord, v: SecretVersionRecord) => {
    const today = new Date(Math.floor(c.now().getTime() / DAY_MS) * DAY_MS);
    if (s.LastAccessedDate?.getTime() === today.getTime()) return;
    c.save({
      ...s,
      LastAccessedDate: today,
      versions: s.versions.map((x) => (x.VersionId === v.VersionId ? { ...x, LastAccessedDate: today } : x)),
    });
  };
  const getValue = (scope: Scope, id: string, versionId?: string, stage?: string) => {
    const s = c.require(scope, id);
    const v = c.sm.version(s, versionId, stage);
    const text = c.sm.open(v);
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

  return {
    GetSecretValue: (input, ctx) => getValue(ctx, input.SecretId, input.VersionId, input.VersionStage),
    BatchGetSecretValue: (input, ctx) => {
      noTokenIssued(input.NextToken, invalidNextToken);
      if (input.SecretIdList && input.Filters)
        throw invalidParameter("Either SecretIdList or Filters must be provided, not both.");
      const ids =
        input.SecretIdList ??
        c.sm.secrets
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
      return c.sm.store.transaction(() => {
        const s = c.require(ctx, input.SecretId);
        const same = s.versions.find((v) => v.VersionId === token);
        if (same) {
          if (c.sm.open(same) !== value.text)
            throw secretsmanagerErrors.ResourceExistsException(
              `You can't modify an existing version, you can only create a new version. VersionId: ${token}`,
            );
          return { ARN: s.ARN, Name: s.Name, VersionId: token, VersionStages: same.stages };
        }
        const at = c.now();
        const next = addVersion(s, {
          VersionId: token,
          stages,
          sealed: c.sm.seal(value.text),
          binary: value.binary,
          CreatedDate: at,
        });
        c.save({ ...next, LastChangedDate: at });
        return { ARN: s.ARN, Name: s.Name, VersionId: token, VersionStages: stages };
      });
    },
    ListSecretVersionIds: (input, ctx) => {
      const s = c.require(ctx, input.SecretId, true);
      noTokenIssued(input.NextToken, invalidNextToken);
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
      c.sm.store.transaction(() => {
        const s = c.require(ctx, input.SecretId);
        const stage = input.VersionStage;
        const holder = s.versions.find((v) => v.stages.includes(stage));
        if (holder && holder.VersionId !== input.RemoveFromVersionId && input.MoveToVersionId)
          throw invalidParameter(
            `The staging label ${stage} is currently attached to version ${holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
          );
        if (input.RemoveFromVersionId && !s.versions.some((v) => v.VersionId === input.RemoveFromVersionId))
          throw secretsmanagerErrors.ResourceNotFoundException(
            `Secrets Manager can't find the specified secret value for VersionId: ${input.RemoveFromVersionId}`,
          );
        if (input.MoveToVersionId && !s.versions.some((v) => v.VersionId === input.MoveToVersionId))
          throw secretsmanagerErrors.ResourceNotFoundException(
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
        c.save({ ...s, versions, LastChangedDate: c.now() });
        return { ARN: s.ARN, Name: s.Name };
      }),
  };
}
