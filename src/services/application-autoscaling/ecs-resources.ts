import type { ScalableResources } from "../../store/schema/application-autoscaling.js";
import type { Scope } from "../../core/ids.js";
import type { EcsContext } from "../ecs/context.js";
import { setServiceDesiredCount } from "../ecs/services.js";

const ECS_DIMENSION = "ecs:service:DesiredCount";

/** `service/<cluster>/<service>` → its parts, or undefined. */
export function parseEcsResourceId(resourceId: string): { cluster: string; service: string } | undefined {
  const m = /^service\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})$/.exec(resourceId);
  return m ? { cluster: m[1], service: m[2] } : undefined;
}

/** ECS services as Application Auto Scaling sees them: capacity is the service's desiredCount. */
export function ecsScalableResources(ecs: EcsContext): ScalableResources {
  const active = (scope: Scope, resourceId: string) => {
    const id = parseEcsResourceId(resourceId);
    if (!id) return undefined;
    const s = ecs.services.get(scope, `${id.cluster}/${id.service}`);
    return s?.status === "ACTIVE" ? { id, service: s } : undefined;
  };
  return {
    problem(scope, namespace, resourceId, dimension) {
      if (namespace !== "ecs")
        return `Berth's Application Auto Scaling scales ECS services (ServiceNamespace ecs); ${namespace} is not supported.`;
      if (dimension !== ECS_DIMENSION)
        return `Unsupported scalable dimension ${dimension} for service namespace ecs; use ${ECS_DIMENSION}.`;
      if (!parseEcsResourceId(resourceId))
        return `Unsupported resource ID ${resourceId}: an ECS service is identified as service/<cluster-name>/<service-name>.`;
      if (!active(scope, resourceId)) return `ECS service doesn't exist: ${resourceId}`;
      return undefined;
    },
    capacity(scope, namespace, resourceId, dimension) {
      if (namespace !== "ecs" || dimension !== ECS_DIMENSION) return undefined;
      return active(scope, resourceId)?.service.desiredCount;
    },
    setCapacity(scope, namespace, resourceId, dimension, n) {
      if (namespace !== "ecs" || dimension !== ECS_DIMENSION) return false;
      const id = parseEcsResourceId(resourceId);
      if (!id) return false;
      return setServiceDesiredCount(ecs, scope, id.cluster, id.service, n) !== undefined;
    },
    fulfilledBy: () => "ecs",
  };
}
