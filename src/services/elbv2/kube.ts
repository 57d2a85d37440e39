import { commonErrors } from "../../core/errors.js";
import { rootArn, type Scope, uuid } from "../../core/ids.js";
import type { Elbv2Api } from "../../controllers/kube/loadbalancers/index.js";
import type { ServiceDefinition } from "../../protocol/service.js";

/**
 * ELBv2 as the Kubernetes load balancer controllers call it: each call goes to the provider's
 * operation as the account's root would make it (the controller acts for the cluster's account).
 */
export function elbv2ApiOf(service: ServiceDefinition): Elbv2Api {
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
  };
}
