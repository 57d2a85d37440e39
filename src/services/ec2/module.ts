import type { Clock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { HostProvisioner } from "../../hosts/provisioner.js";
import { serviceModule } from "../module.js";
import { InstanceController } from "./instance-controller.js";
import { type Ec2Deps, ec2Service } from "./provider.js";

/**
 * EC2 as a service module: the API, and with a provisioner the instance controller that makes
 * instances real hosts. `records` are what ECS container instances and Auto Scaling read;
 * `api` is the provider other services launch and terminate instances with.
 */
export function ec2Module(deps: Ec2Deps & { clock?: Clock; logger?: Logger; provisioner?: HostProvisioner }) {
  const ec2 = ec2Service(deps);
  const controller =
    deps.provisioner && deps.clock && deps.logger
      ? new InstanceController({
          store: deps.store,
          instances: ec2.context.records.instances,
          provisioner: deps.provisioner,
          clock: deps.clock,
          logger: deps.logger,
        })
      : undefined;
  return serviceModule({
    name: "ec2",
    definitions: [ec2.service],
    iam: { prefixes: { ec2: "ec2" } },
    records: ec2.context.records,
    api: ec2.service.provider,
    /** An instance's state name (ECS's lost-host check), undefined for instances EC2 does not know. */
    instanceState: (scope: Scope, id: string) => ec2.context.records.instances.get(scope, id)?.State.Name,
    async start() {
      await controller?.start();
    },
    async stop() {
      controller?.stop();
    },
  });
}
