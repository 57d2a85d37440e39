import { type Scope, arn } from "../../core/ids.js";
import type { ResourceResolver } from "../../iam/resources.js";

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** An EFS id or ARN as the ARN IAM policies name (access points and file systems). */
const efsArn = (s: Scope, id: string) => {
  if (id.startsWith("arn:")) return id;
  if (id.startsWith("fsap-")) return arn("elasticfilesystem", s, `access-point/${id}`);
  return arn("elasticfilesystem", s, `file-system/${id}`);
};

/**
 * The resources of an EFS call, for IAM: the file system or access point it names. Mount target
 * calls name the file system only by their record, so they are authorised on `*`.
 */
export const efsResources: ResourceResolver = (_op, input, s) => {
  const id =
    str(input.AccessPointId) ?? str(input.ResourceId) ?? str(input.FileSystemId) ?? str(input.SourceFileSystemId);
  return id ? [efsArn(s, id)] : [];
};
