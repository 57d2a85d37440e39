import { parseArn } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { Operations, SecretListEntry, Tag } from "../../protocol/generated/types/secretsmanager.js";
import type { Provider } from "../../protocol/service.js";
import {
  DAY_MS,
  type SecretsContext,
  addVersion,
  checkToken,
  invalidParameter,
  invalidRequest,
  secretValueOf,
} from "./context.js";
import { type SecretRecord, markedForDeletion, newSecretArn } from "./store.js";
import { secretsmanagerErrors } from "../../protocol/generated/errors/secretsmanager.js";
import { type FilterSubject, checkFilters, matchesFilters } from "./filters.js";

const NAME = /^[a-zA-Z0-9/_+=.@-]{1,512}$/;

/** The ListSecrets view of a secret. */
export const entry = (c: SecretsContext, s: SecretRecord): SecretListEntry => ({
  ARN: s.ARN,
  Name: s.Name,
  Description: s.Description,
  KmsKeyId: s.KmsKeyId,
  RotationEnabled: false,
  LastChangedDate: s.LastChangedDate,
  LastAccessedDate: s.LastAccessedDate,
  DeletedDate: s.DeletedDate,
  Tags: s.Tags,
  SecretVersionsToStages: c.stagesMap(s),
  CreatedDate: s.CreatedDate,
});

/** What ListSecrets / BatchGetSecretValue filters look at in a secret. */
export const filterSubject = (s: SecretRecord): FilterSubject => ({
  name: s.Name,
  description: s.Description,
  tags: s.Tags,
  primaryRegion: parseArn(s.ARN)?.region,
});

/** CreateSecret, UpdateSecret, DescribeSecret, ListSecrets, DeleteSecret, RestoreSecret. */
export function secretOperations(c: SecretsContext): Provider<Operations> {
  return {
    CreateSecret: (input, ctx) => {
      if (!NAME.test(input.Name))
        throw invalidParameter(
          "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        );
      const value = secretValueOf(input);
      const token = checkToken(input.ClientRequestToken);
      return c.sm.store.transaction(() => {
        const existing = c.sm.find(ctx, input.Name);
        if (existing) {
          if (existing.DeletedDate)
            throw invalidRequest(
              "You can't create this secret because a secret with this name is already scheduled for deletion.",
            );
          const same = existing.versions.find((v) => v.VersionId === token);
          if (same && value && c.sm.open(same) === value.text)
            return { ARN: existing.ARN, Name: existing.Name, VersionId: same.VersionId };
          throw secretsmanagerErrors.ResourceExistsException(
            `The operation failed because the secret ${input.Name} already exists.`,
          );
        }
        const created = c.now();
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
                  sealed: c.sm.seal(value.text),
                  binary: value.binary,
                  CreatedDate: created,
                },
              ]
            : [],
        };
        c.sm.secrets.put(ctx, s);
        return { ARN: s.ARN, Name: s.Name, VersionId: value ? token : undefined };
      });
    },
    UpdateSecret: (input, ctx) => {
      const value = secretValueOf(input);
      const token = value ? checkToken(input.ClientRequestToken) : undefined;
      return c.sm.store.transaction(() => {
        const s = c.require(ctx, input.SecretId);
        const at = c.now();
        let next: SecretRecord = {
          ...s,
          Description: input.Description ?? s.Description,
          KmsKeyId: input.KmsKeyId ?? s.KmsKeyId,
          LastChangedDate: at,
        };
        if (value && token) {
          const same = s.versions.find((v) => v.VersionId === token);
          // A retry with the same token and value is a no-op (idempotency); another value is refused.
          if (same && c.sm.open(same) === value.text) return { ARN: s.ARN, Name: s.Name, VersionId: token };
          if (same)
            throw secretsmanagerErrors.ResourceExistsException(
              `You can't modify an existing version, you can only create a new version. VersionId: ${token}`,
            );
          next = addVersion(next, {
            VersionId: token,
            stages: ["AWSCURRENT"],
            sealed: c.sm.seal(value.text),
            binary: value.binary,
            CreatedDate: at,
          });
        }
        c.save(next);
        return { ARN: s.ARN, Name: s.Name, VersionId: token };
      });
    },
    DescribeSecret: (input, ctx) => {
      // DescribeSecret names the stages map VersionIdsToStages; the rest is the ListSecrets entry.
      const { SecretVersionsToStages, ...rest } = entry(c, c.require(ctx, input.SecretId, true));
      return { ...rest, VersionIdsToStages: SecretVersionsToStages };
    },
    ListSecrets: (input, ctx) => {
      const limit = pageSize(input.MaxResults, { default: 100, max: 100 }, () =>
        invalidParameter("MaxResults must be between 1 and 100."),
      );
      checkFilters(input.Filters);
      const found = c.sm.secrets
        .list(ctx)
        .filter(
          (s) => (input.IncludePlannedDeletion || !s.DeletedDate) && matchesFilters(filterSubject(s), input.Filters),
        );
      const { page, nextToken } = pageByKey(found, (s) => [s.CreatedDate.getTime(), s.Name], {
        descending: input.SortOrder === "desc",
        nextToken: input.NextToken,
        limit,
        invalidToken: () => secretsmanagerErrors.InvalidNextTokenException("You provided an invalid NextToken value."),
      });
      return { SecretList: page.map((s) => entry(c, s)), NextToken: nextToken };
    },
    DeleteSecret: (input, ctx) =>
      c.sm.store.transaction(() => {
        if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined)
          throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
        const days = input.RecoveryWindowInDays ?? 30;
        if (!input.ForceDeleteWithoutRecovery && (days < 7 || days > 30))
          throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
        const s = c.require(ctx, input.SecretId, true);
        const at = c.now();
        if (input.ForceDeleteWithoutRecovery) {
          c.sm.secrets.delete(c.scopeOfSecret(s), s.Name);
          return { ARN: s.ARN, Name: s.Name, DeletionDate: at };
        }
        if (s.DeletedDate) throw markedForDeletion();
        const purge = new Date(at.getTime() + days * DAY_MS);
        c.save({ ...s, DeletedDate: at, PurgeDate: purge });
        return { ARN: s.ARN, Name: s.Name, DeletionDate: purge };
      }),
    RestoreSecret: (input, ctx) => {
      const s = c.require(ctx, input.SecretId, true);
      c.save({ ...s, DeletedDate: undefined, PurgeDate: undefined });
      return { ARN: s.ARN, Name: s.Name };
    },
  };
}
