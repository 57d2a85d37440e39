import type { Scope } from "../core/ids.js";

/**
 * The seam between EC2 instances (services/ec2: records, states, the API) and the machines that
 * are those instances (hosts/instance-hosts: a network namespace with its own Docker Engine that
 * runs `berth agent`). EC2 decides when an instance boots, stops or goes away; a provisioner
 * makes it so. Every call is idempotent by instance id, so a controller may repeat it after a
 * crash or restart.
 */
export interface InstanceHostSpec {
  scope: Scope;
  instanceId: string;
  instanceType: string;
  vcpus: number;
  memoryMiB: number;
  /** The instance's private IPv4 address in its subnet (EC2's view; the host may use its own). */
  privateIpAddress?: string;
  availabilityZone: string;
  subnetId?: string;
  /** Decoded user data (an ECS-optimized AMI's `echo ECS_CLUSTER=name >> /etc/ecs/ecs.config` names the cluster to join). */
  userData?: string;
  /** The instance profile's role, whose credentials the host's agent uses (IMDS). */
  roleArn?: string;
  imageId: string;
}

export interface InstanceHostState {
  instanceId: string;
  /** The host's processes are up (its agent may still be joining). */
  running: boolean;
  /** Where the host is reachable from the control plane (its address on the hosts' bridge). */
  address?: string;
}

export interface HostProvisioner {
  /** Boots (or resumes) the instance's host; resolves once its processes run. */
  start(spec: InstanceHostSpec): Promise<InstanceHostState>;
  /** Stops the host's processes and containers, keeping its disk (StopInstances). */
  stop(instanceId: string): Promise<void>;
  /** Removes the host, its containers and its disk (TerminateInstances). */
  destroy(instanceId: string): Promise<void>;
  /** What the host of an instance is doing now (undefined when there is none). */
  state(instanceId: string): Promise<InstanceHostState | undefined>;
  /** Every instance host that exists (restart reconciliation, orphan clean-up). */
  list(): Promise<InstanceHostState[]>;
}
