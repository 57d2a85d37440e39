import type {
  Cluster,
  ContainerDefinition,
  ContainerInstance,
  Deployment,
  Service,
  ServiceEvent,
  Tag,
  Task,
  TaskDefinition,
} from "../../protocol/generated/types/ecs.js";

/** A cluster as stored; counts are computed when described. */
export interface ClusterRecord extends Cluster {
  clusterName: string;
  clusterArn: string;
  status: "ACTIVE" | "INACTIVE";
  tags: Tag[];
}

export interface TaskDefinitionRecord extends TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE" | "DELETE_IN_PROGRESS";
  containerDefinitions: ContainerDefinition[];
  tags: Tag[];
}

/** What the task controller needs to run a task: the definition with overrides applied. */
export interface TaskSpec {
  family: string;
  revision: number;
  networkMode: "awsvpc" | "bridge" | "host" | "none";
  cpuUnits?: number;
  memoryMiB?: number;
  containers: ContainerDefinition[];
  volumes: TaskDefinition["volumes"];
  taskRoleArn?: string;
  executionRoleArn?: string;
}

/**
 * A task as stored: the ECS Task shape (what DescribeTasks returns; the serializer drops the
 * members below that the shape lacks) plus the spec the controller runs.
 */
export interface TaskRecord extends Task {
  taskArn: string;
  clusterArn: string;
  lastStatus: string;
  desiredStatus: string;
  createdAt: Date;
  spec: TaskSpec;
  /** Set when the task has been RUNNING at least once. */
  everRunning?: boolean;
  /** EC2 launch type: the EC2 instance id of its container instance (load balancer `instance` targets). */
  ec2InstanceId?: string;
}

/** A container instance (EC2 launch type): a host of the registry (src/hosts) as one cluster sees it. */
export interface ContainerInstanceRecord extends ContainerInstance {
  id: string;
  /** The host it stands for; records written before hosts had ids are the local Docker host. */
  hostId?: string;
  clusterArn: string;
  containerInstanceArn: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  registeredAt: Date;
}

export const CONTAINER_INSTANCE_KIND = "ecs.containerInstance";
export const TASK_KIND = "ecs.task";
export const CLUSTER_KIND = "ecs.cluster";
export const TASK_DEFINITION_KIND = "ecs.taskDefinition";

export interface DeploymentRecord extends Deployment {
  id: string;
  status: "PRIMARY" | "ACTIVE";
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  failedTasks: number;
  createdAt: Date;
  updatedAt: Date;
  rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
}

/** A service as stored: the ECS Service shape plus what the scheduler keeps between passes. */
export interface ServiceRecord extends Service {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  desiredCount: number;
  taskDefinition: string;
  deployments: DeploymentRecord[];
  events: ServiceEvent[];
  createdAt: Date;
  tags: Tag[];
  /** Tasks being deregistered from their target groups before they are stopped: ARN → stop reason. */
  draining: Record<string, string>;
  /** The task definition of the last deployment that completed (the rollback target). */
  lastStableTaskDefinition?: string;
}

export const SERVICE_KIND = "ecs.service";
