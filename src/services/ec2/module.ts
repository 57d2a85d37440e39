import { serviceModule } from "../module.js";
import { type Ec2Deps, ec2Service } from "./provider.js";

/** EC2 as a service module; `records` are what ECS container instances and Auto Scaling will read. */
export function ec2Module(deps: Ec2Deps) {
  const ec2 = ec2Service(deps);
  return serviceModule({
    name: "ec2",
    definitions: [ec2.service],
    iam: { prefixes: { ec2: "ec2" } },
    records: ec2.context.records,
  });
}
