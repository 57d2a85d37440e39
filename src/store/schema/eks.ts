import type {
  AssociatedAccessPolicy,
  AuthenticationMode,
  ClusterStatus,
  ErrorDetail,
  KubernetesNetworkConfigResponse,
  Logging,
  UpdateParam,
  UpdateStatus,
  UpdateType,
  VpcConfigResponse,
} from "../../protocol/generated/types/eks.js";
import type { Collection, DocumentStore } from "../documents.js";

export const EKS_CLUSTER_KIND = "eks.cluster";
export const EKS_UPDATE_KIND = "eks.update";
export const EKS_ACCESS_ENTRY_KIND = "eks.accessEntry";

/** A cluster's TLS identity: its CA (CN=kubernetes) and the API server's certificate signed by it (PEM). */
export interface ClusterPki {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** What an update changes on the cluster when it completes. */
export interface ClusterChange {
  version?: string;
  platformVersion?: string;
  logging?: Logging;
  endpointPublicAccess?: boolean;
  endpointPrivateAccess?: boolean;
  publicAccessCidrs?: string[];
  authenticationMode?: AuthenticationMode;
  deletionProtection?: boolean;
}

/** An EKS cluster as stored (the Kubernetes API server, the controllers and the kubelet read it too). */
export interface EksClusterRecord {
  name: string;
  arn: string;
  /** EKS's cluster id (a UUID). */
  id: string;
  createdAt: Date;
  version: string;
  platformVersion: string;
  roleArn: string;
  status: ClusterStatus;
  /** When the current CREATING or DELETING phase ends. */
  transitionAt?: Date;
  resourcesVpcConfig: VpcConfigResponse;
  kubernetesNetworkConfig: KubernetesNetworkConfigResponse;
  logging: Logging;
  accessConfig: { authenticationMode: AuthenticationMode; bootstrapClusterCreatorAdminPermissions: boolean };
  tags: Record<string, string>;
  clientRequestToken?: string;
  /** Who created it (an assumed role as its role): the admin of a CONFIG_MAP cluster. */
  creatorArn?: string;
  /** The 32 hex digits of the OIDC issuer URL. */
  oidcId: string;
  /** The API server's port on 127.0.0.1 (stable across restarts). */
  port: number;
  pki: ClusterPki;
  upgradePolicy: { supportType: "STANDARD" | "EXTENDED" };
  deletionProtection: boolean;
}

/** An update of a cluster (UpdateClusterVersion / UpdateClusterConfig). */
export interface EksUpdateRecord {
  id: string;
  clusterName: string;
  status: UpdateStatus;
  type: UpdateType;
  params: UpdateParam[];
  createdAt: Date;
  errors: ErrorDetail[];
  clientRequestToken?: string;
  /** When it completes, and what it changes then. */
  completeAt: Date;
  change: ClusterChange;
}

/** An access entry: an IAM principal's way into a cluster's Kubernetes API. */
export interface EksAccessEntryRecord {
  clusterName: string;
  principalArn: string;
  accessEntryArn: string;
  kubernetesGroups: string[];
  username: string;
  type: string;
  createdAt: Date;
  modifiedAt: Date;
  tags: Record<string, string>;
  policies: AssociatedAccessPolicy[];
}

/** The store key of an access entry: its cluster and principal. */
export const accessEntryKey = (clusterName: string, principalArn: string) => `${clusterName}|${principalArn}`;

/** The EKS collections the API, the authenticator and the Kubernetes side share. */
export class EksRecords {
  readonly clusters: Collection<EksClusterRecord>;
  readonly updates: Collection<EksUpdateRecord>;
  readonly accessEntries: Collection<EksAccessEntryRecord>;

  constructor(store: DocumentStore) {
    this.clusters = store.collection<EksClusterRecord>(EKS_CLUSTER_KIND, { id: (c) => c.name, arn: (c) => c.arn });
    this.updates = store.collection<EksUpdateRecord>(EKS_UPDATE_KIND, {
      id: (u) => u.id,
      parent: (u) => u.clusterName,
    });
    this.accessEntries = store.collection<EksAccessEntryRecord>(EKS_ACCESS_ENTRY_KIND, {
      id: (e) => accessEntryKey(e.clusterName, e.principalArn),
      arn: (e) => e.accessEntryArn,
      parent: (e) => e.clusterName,
    });
  }
}
