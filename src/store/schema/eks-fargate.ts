import type { FargateProfileSelector, FargateProfileStatus } from "../../protocol/generated/types/eks.js";
import type { Collection, DocumentStore } from "../documents.js";

export const EKS_FARGATE_PROFILE_KIND = "eks.fargateProfile";

/** A Fargate profile of an EKS cluster: which pods run on Fargate (CreateFargateProfile). */
export interface EksFargateProfileRecord {
  clusterName: string;
  fargateProfileName: string;
  fargateProfileArn: string;
  createdAt: Date;
  podExecutionRoleArn: string;
  subnets: string[];
  selectors: FargateProfileSelector[];
  status: FargateProfileStatus;
  /** When the current CREATING or DELETING phase ends. */
  transitionAt?: Date;
  tags: Record<string, string>;
  clientRequestToken?: string;
}

/** The store key of a Fargate profile: its cluster and name. */
export const fargateProfileKey = (clusterName: string, name: string) => `${clusterName}|${name}`;

/** The Fargate profiles of every cluster (the EKS API writes them; the Fargate scheduler reads them). */
export function fargateProfileCollection(store: DocumentStore): Collection<EksFargateProfileRecord> {
  return store.collection<EksFargateProfileRecord>(EKS_FARGATE_PROFILE_KIND, {
    id: (p) => fargateProfileKey(p.clusterName, p.fargateProfileName),
    arn: (p) => p.fargateProfileArn,
    parent: (p) => p.clusterName,
  });
}
