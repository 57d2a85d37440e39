import { type Scope, arn } from "../../core/ids.js";
import type { ResourceResolver } from "../../iam/resources.js";

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The resources of an EKS call, for IAM: the cluster it names (`name` or `clusterName`), or the
 * ARN a tag call names. Access entry calls are authorised on their cluster.
 */
export const eksResources: ResourceResolver = (_op, input, s: Scope) => {
  const target = str(input.resourceArn);
  if (target) return [target];
  const name = str(input.name) ?? str(input.clusterName);
  return name ? [arn("eks", s, `cluster/${name}`)] : [];
};
