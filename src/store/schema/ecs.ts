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
  TaskStopCode,
} from "../../protocol/generated/types/ecs.js";
import type { Collection, DocumentStore } from "../documents.js";

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

/** The task asked to stop with a stop code and reason (StopTask, the service scheduler). */
export function stopping(task: TaskRecord, stopCode: TaskStopCode, reason: string, now: Date): TaskRecord {
  if (task.desiredStatus === "STOPPED") return task;
  return {
    ...task,
    desiredStatus: "STOPPED",
    stopCode,
    stoppedReason: reason,
    stoppingAt: now,
    version: (task.version ?? 1) + 1,
  };
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

export type LaunchType = "FARGATE" | "EC2";

/** The launch type a service's tasks use (services stored before EC2 support were all FARGATE). */
export const serviceLaunchType = (service: { launchType?: string }): LaunchType =>
  service.launchType === "EC2" ? "EC2" : "FARGATE";

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

/** The ECS collections: what the ECS operations, the controllers and the task endpoint read and write. */
export class EcsCollections {
  readonly clusters: Collection<ClusterRecord>;
  readonly taskDefinitions: Collection<TaskDefinitionRecord>;
  readonly tasks: Collection<TaskRecord>;
  readonly services: Collection<ServiceRecord>;
  readonly containerInstances: Collection<ContainerInstanceRecord>;

  constructor(readonly store: DocumentStore) {
    this.clusters = store.collection<ClusterRecord>(CLUSTER_KIND, {
      id: (c) => c.clusterName,
      arn: (c) => c.clusterArn,
    });
    this.taskDefinitions = store.collection<TaskDefinitionRecord>(TASK_DEFINITION_KIND, {
      id: (d) => `${d.family}:${d.revision}`,
      arn: (d) => d.taskDefinitionArn,
      parent: (d) => d.family,
    });
    this.tasks = store.collection<TaskRecord>(TASK_KIND, {
      id: (t) => t.taskArn,
      arn: (t) => t.taskArn,
      parent: (t) => t.clusterArn,
    });
    this.containerInstances = store.collection<ContainerInstanceRecord>(CONTAINER_INSTANCE_KIND, {
      id: (i) => `${i.clusterArn.split("/").pop()}/${i.id}`,
      arn: (i) => i.containerInstanceArn,
      parent: (i) => i.clusterArn,
    });
    this.services = store.collection<ServiceRecord>(SERVICE_KIND, {
      id: (s) => `${s.clusterArn.split("/").pop()}/${s.serviceName}`,
      arn: (s) => s.serviceArn,
      parent: (s) => s.clusterArn,
    });
  }
}
