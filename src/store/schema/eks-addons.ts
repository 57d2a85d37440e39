import type { AddonStatus, ErrorDetail, UpdateParam, UpdateStatus } from "../../protocol/generated/types/eks.js";
import type { Collection, DocumentStore } from "../documents.js";

export const EKS_ADDON_KIND = "eks.addon";

/** An update of an add-on (UpdateAddon): InProgress until `completeAt`, then Successful and applied. */
export interface EksAddonUpdate {
  id: string;
  status: UpdateStatus;
  params: UpdateParam[];
  createdAt: Date;
  completeAt: Date;
  errors: ErrorDetail[];
  change: { addonVersion?: string; serviceAccountRoleArn?: string; configurationValues?: string };
  clientRequestToken?: string;
}

/** An EKS add-on installed in a cluster (CreateAddon). */
export interface EksAddonRecord {
  clusterName: string;
  addonName: string;
  addonArn: string;
  addonVersion: string;
  status: AddonStatus;
  /** When the current CREATING, UPDATING or DELETING phase ends. */
  transitionAt?: Date;
  createdAt: Date;
  modifiedAt: Date;
  serviceAccountRoleArn?: string;
  configurationValues?: string;
  namespace: string;
  tags: Record<string, string>;
  clientRequestToken?: string;
  updates: EksAddonUpdate[];
}

export const addonKey = (clusterName: string, addonName: string) => `${clusterName}|${addonName}`;

/** The add-ons of every cluster (the EKS API writes them; the Kubernetes storage controllers read them). */
export function addonCollection(store: DocumentStore): Collection<EksAddonRecord> {
  return store.collection<EksAddonRecord>(EKS_ADDON_KIND, {
    id: (a) => addonKey(a.clusterName, a.addonName),
    arn: (a) => a.addonArn,
    parent: (a) => a.clusterName,
  });
}
