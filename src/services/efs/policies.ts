import { MalformedPolicy, parsePolicy } from "../../iam/policy.js";
import { efsErrors } from "../../protocol/generated/errors/efs.js";
import type { LifecyclePolicy, Operations } from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import { type EfsContext, badRequest, efsError } from "./context.js";

const LIFECYCLE_FIELDS = ["TransitionToIA", "TransitionToPrimaryStorageClass", "TransitionToArchive"] as const;

/** LifecyclePolicies as EFS takes them: each names one transition, each transition at most once. */
export function checkLifecyclePolicies(policies: LifecyclePolicy[]) {
  const seen = new Set<string>();
  for (const p of policies) {
    const set = LIFECYCLE_FIELDS.filter((f) => p[f] !== undefined);
    if (set.length !== 1) throw badRequest("Each LifecyclePolicy must specify exactly one transition.");
    if (seen.has(set[0])) throw badRequest(`${set[0]} can be specified only once.`);
    seen.add(set[0]);
  }
}

/** A file system policy's text, or InvalidPolicyException saying what is wrong. */
export function checkFileSystemPolicy(text: string) {
  try {
    parsePolicy(text, "resource");
  } catch (err) {
    if (err instanceof MalformedPolicy)
      throw efsError(efsErrors.InvalidPolicyException, `Policy is malformed: ${err.message}`);
    throw err;
  }
}

/** Lifecycle configuration, file system policy and backup policy: settings stored on the file system. */
export function policyOperations(efs: EfsContext): Provider<Operations> {
  const { fileSystems } = efs.records;
  return {
    PutLifecycleConfiguration: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      checkLifecyclePolicies(input.LifecyclePolicies ?? []);
      fileSystems.put(scope, { ...fs, LifecyclePolicies: input.LifecyclePolicies ?? [] });
      return { LifecyclePolicies: input.LifecyclePolicies ?? [] };
    },
    DescribeLifecycleConfiguration: (input, scope) => ({
      LifecyclePolicies: efs.requireFileSystem(scope, input.FileSystemId).LifecyclePolicies,
    }),

    PutFileSystemPolicy: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      checkFileSystemPolicy(input.Policy);
      fileSystems.put(scope, { ...fs, Policy: input.Policy });
      return { FileSystemId: fs.FileSystemId, Policy: input.Policy };
    },
    DescribeFileSystemPolicy: (input, scope) => {
      const fs = efs.requireFileSystem(scope, input.FileSystemId);
      if (fs.Policy === undefined)
        throw efsError(efsErrors.PolicyNotFound, `No file system policy is set for file system '${fs.FileSystemId}'.`);
      return { FileSystemId: fs.FileSystemId, Policy: fs.Policy };
    },
    DeleteFileSystemPolicy: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      const { Policy: _, ...rest } = fs;
      fileSystems.put(scope, rest);
      return {};
    },

    PutBackupPolicy: (input, scope) => {
      const fs = efs.requireAvailable(scope, input.FileSystemId);
      const status = input.BackupPolicy?.Status;
      if (status !== "ENABLED" && status !== "DISABLED")
        throw efsError(
          efsErrors.ValidationException,
          `BackupPolicy.Status must be ENABLED or DISABLED; got ${String(status)}.`,
        );
      fileSystems.put(scope, { ...fs, BackupPolicy: { Status: status } });
      return { BackupPolicy: { Status: status } };
    },
    DescribeBackupPolicy: (input, scope) => ({
      BackupPolicy: efs.requireFileSystem(scope, input.FileSystemId).BackupPolicy,
    }),
  };
}
