import type { Tag } from "../../../protocol/generated/types/ecs.js";
import type { Collection, DocumentStore } from "../../../store/documents.js";
import type { ExpressSettings } from "./spec.js";

/** Resource kind of Express Mode's own record (what it created, to show and to remove). */
export const EXPRESS_SERVICE_KIND = "ecs.expressGatewayService";

/** One configuration (service revision) of an Express service. */
export interface ExpressConfigurationRecord {
  serviceRevisionArn: string;
  taskDefinitionArn: string;
  settings: ExpressSettings;
  createdAt: Date;
}

/** The ordinary resources an Express service made; Express Mode owns and removes exactly these. */
export interface ExpressResources {
  loadBalancerArn: string;
  listenerArn: string;
  ruleArn: string;
  targetGroupArn: string;
  scalableTargetArn?: string;
  scalingPolicyArn?: string;
  alarmArns: string[];
  /** The security group recorded for the service's tasks (unless the request named its own). */
  serviceSecurityGroup: string;
  /** The shared load balancer's security group. */
  loadBalancerSecurityGroups: string[];
  /** The subnets the tasks use: the request's, else the load balancer's (the default VPC's). */
  subnets: string[];
  logGroups: string[];
  /** Every task definition revision it registered (deregistered on delete). */
  taskDefinitionArns: string[];
}

export interface ExpressServiceRecord {
  serviceArn: string;
  serviceName: string;
  cluster: string;
  clusterArn: string;
  infrastructureRoleArn: string;
  /** ACTIVE; DRAINING from delete until the ECS service is gone and the rest removed; INACTIVE after. */
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  statusReason?: string;
  endpoint: string;
  /** Newest first. */
  configurations: ExpressConfigurationRecord[];
  resources: ExpressResources;
  tags: Tag[];
  createdAt: Date;
  updatedAt: Date;
}

/** Express services by `<cluster>/<name>` (the ECS service ARN belongs to the ECS service record). */
export const expressServices = (store: DocumentStore): Collection<ExpressServiceRecord> =>
  store.collection<ExpressServiceRecord>(EXPRESS_SERVICE_KIND, {
    id: (r) => `${r.cluster}/${r.serviceName}`,
    parent: (r) => r.clusterArn,
  });
