/** What ECS services need from the load balancers (ELBv2 provides it). */
export interface ServiceLoadBalancing {
  /** The target group's port and type, or undefined when it does not exist. */
  targetGroup(arn: string): { targetType: string; loadBalancerArns: string[] } | undefined;
  register(targetGroupArn: string, targets: { id: string; port: number }[]): void;
  deregister(targetGroupArn: string, targets: { id: string; port: number }[]): void;
  health(targetGroupArn: string): { id: string; port: number; state: string }[];
}
