import type { EfsApi } from "../../controllers/kube/storage/api.js";
import type { EfsVolumes } from "../../controllers/tasks/efs-volumes.js";
import { commonErrors } from "../../core/errors.js";
import { rootArn, type Scope, uuid } from "../../core/ids.js";
import type { ServiceDefinition } from "../../protocol/service.js";

/**
 * EFS as the EFS CSI driver calls it from a cluster: each call goes to the provider's operation
 * as the account's root would make it (the driver acts with the cluster's credentials), and
 * mounts resolve through the same EfsVolumes ECS tasks use.
 */
export function efsApiOf(service: ServiceDefinition, volumes: EfsVolumes): EfsApi {
  return {
    async send(scope: Scope, operation, input) {
      const handler = service.provider[operation];
      if (!handler) throw commonErrors.ValidationError(`Operation ${operation} is not implemented`);
      return handler(input, {
        account: scope.account,
        region: scope.region,
        requestId: uuid(),
        principal: { accessKeyId: "", arn: rootArn(scope.account) },
      });
    },
    volumes,
  };
}
