import type {
  NetworkConfiguration,
  OperationStatus,
  OperationType,
  ServiceObservabilityConfiguration,
  ServiceStatus,
  SourceConfiguration,
  Tag,
} from "../../protocol/generated/types/apprunner.js";
import type { Collection, DocumentStore } from "../documents.js";

export const APPRUNNER_SERVICE_KIND = "apprunner.service";
export const APPRUNNER_AUTOSCALING_KIND = "apprunner.autoScalingConfiguration";
export const APPRUNNER_ACCOUNT_KIND = "apprunner.account";
export const APPRUNNER_CONNECTION_KIND = "apprunner.connection";
export const APPRUNNER_VPC_CONNECTOR_KIND = "apprunner.vpcConnector";

/** One App Runner operation (ListOperations), newest first on its service. */
export interface OperationRecord {
  id: string;
  type: OperationType;
  status: OperationStatus;
  startedAt: Date;
  endedAt?: Date;
  updatedAt: Date;
  /** The ECS deployment this operation rolls out (UpdateService's primary deployment id). */
  deploymentId?: string;
}

/** The health check a service asked for, every default filled in. */
export interface HealthCheckSettings {
  Protocol: "TCP" | "HTTP";
  Path: string;
  Interval: number;
  Timeout: number;
  HealthyThreshold: number;
  UnhealthyThreshold: number;
}

/** The ordinary Berth resources one App Runner service runs on (what delete removes). */
export interface AppRunnerResources {
  cluster: string;
  ecsServiceName: string;
  loadBalancerArn: string;
  listenerArn: string;
  targetGroupArn?: string;
  ruleArn?: string;
  /** Every task definition revision it registered (deregistered on delete). */
  taskDefinitionArns: string[];
  /** Whether the ECS service exists (created and not yet deleted). */
  ecsService: boolean;
}

export interface AppRunnerServiceRecord {
  ServiceName: string;
  ServiceId: string;
  ServiceArn: string;
  ServiceUrl: string;
  Status: ServiceStatus;
  /** Why the service is CREATE_FAILED (or why its last operation failed). */
  statusReason?: string;
  CreatedAt: Date;
  UpdatedAt: Date;
  DeletedAt?: Date;
  SourceConfiguration: SourceConfiguration;
  InstanceConfiguration: { Cpu: string; Memory: string; InstanceRoleArn?: string };
  HealthCheckConfiguration: HealthCheckSettings;
  AutoScalingConfigurationArn: string;
  NetworkConfiguration: NetworkConfiguration;
  ObservabilityConfiguration?: ServiceObservabilityConfiguration;
  KmsKey?: string;
  /** The image digest the newest deployment runs (image sources), to notice pushes of the same tag. */
  imageDigest?: string;
  /** The source revision the running image was built from (SourceBuilder.revision), for automatic deployments. */
  sourceRevision?: string;
  /** The image the newest deployment runs (built from source, or the ECR image by digest). */
  image?: string;
  /** Custom domains (AssociateCustomDomain): routed by Host header on the service's rule. */
  customDomains?: { DomainName: string; EnableWWWSubdomain: boolean; Status: string; CreatedAt: Date }[];
  /** Images built from source for it (removed with the service). */
  builtImages?: string[];
  resources: AppRunnerResources;
  /** Newest first; the first is the one in progress while Status is OPERATION_IN_PROGRESS. */
  operations: OperationRecord[];
  /** Instances the scaler wants (ECS desired count), and since when concurrency has been below it. */
  desiredInstances: number;
  belowSince?: Date;
  Tags: Tag[];
}

export interface AutoScalingConfigurationRecord {
  AutoScalingConfigurationArn: string;
  AutoScalingConfigurationName: string;
  AutoScalingConfigurationRevision: number;
  Latest: boolean;
  Status: "ACTIVE" | "INACTIVE";
  MaxConcurrency: number;
  MinSize: number;
  MaxSize: number;
  CreatedAt: Date;
  DeletedAt?: Date;
  Tags: Tag[];
}

/** Per account and region: which auto scaling configuration is the default (UpdateDefaultAutoScalingConfiguration). */
export interface AppRunnerAccountRecord {
  id: "settings";
  defaultAutoScalingConfigurationName?: string;
}

/** Connections and VPC connectors: recorded resources (a local source replaces GitHub/Bitbucket). */
export interface AppRunnerConnectionRecord {
  ConnectionName: string;
  ConnectionArn: string;
  ProviderType: string;
  Status: string;
  CreatedAt: Date;
  Tags: Tag[];
}

export interface AppRunnerVpcConnectorRecord {
  VpcConnectorName: string;
  VpcConnectorArn: string;
  VpcConnectorRevision: number;
  Subnets: string[];
  SecurityGroups: string[];
  Status: "ACTIVE" | "INACTIVE";
  CreatedAt: Date;
  DeletedAt?: Date;
  Tags: Tag[];
}

export interface AppRunnerCollections {
  services: Collection<AppRunnerServiceRecord>;
  autoScaling: Collection<AutoScalingConfigurationRecord>;
  accounts: Collection<AppRunnerAccountRecord>;
  connections: Collection<AppRunnerConnectionRecord>;
  vpcConnectors: Collection<AppRunnerVpcConnectorRecord>;
}

export const appRunnerCollections = (store: DocumentStore): AppRunnerCollections => ({
  services: store.collection<AppRunnerServiceRecord>(APPRUNNER_SERVICE_KIND, {
    id: (r) => r.ServiceId,
    arn: (r) => r.ServiceArn,
  }),
  autoScaling: store.collection<AutoScalingConfigurationRecord>(APPRUNNER_AUTOSCALING_KIND, {
    id: (r) => `${r.AutoScalingConfigurationName}/${r.AutoScalingConfigurationRevision}`,
    arn: (r) => r.AutoScalingConfigurationArn,
  }),
  accounts: store.collection<AppRunnerAccountRecord>(APPRUNNER_ACCOUNT_KIND, { id: (r) => r.id }),
  connections: store.collection<AppRunnerConnectionRecord>(APPRUNNER_CONNECTION_KIND, {
    id: (r) => r.ConnectionName,
    arn: (r) => r.ConnectionArn,
  }),
  vpcConnectors: store.collection<AppRunnerVpcConnectorRecord>(APPRUNNER_VPC_CONNECTOR_KIND, {
    id: (r) => `${r.VpcConnectorName}/${r.VpcConnectorRevision}`,
    arn: (r) => r.VpcConnectorArn,
  }),
});
