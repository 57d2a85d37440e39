import { serviceModule } from "../module.js";
import { type EfsDeps, efsService } from "./provider.js";
import { efsApiOf } from "./kube.js";
import { efsResources } from "./resources.js";

/** EFS as a service module; `volumes` is what the ECS task controller mounts through. */
export function efsModule(deps: EfsDeps) {
  const efs = efsService(deps);
  return serviceModule({
    name: "efs",
    definitions: [efs.service],
    iam: {
      prefixes: { efs: "elasticfilesystem" },
      resources: { efs: efsResources },
      resourcePolicies: { elasticfilesystem: (arn) => efs.context.records.fileSystems.byArn(arn)?.doc.Policy },
    },
    volumes: efs.volumes,
    /** EFS for the Kubernetes storage controllers (the EFS CSI driver's calls and mounts). */
    kubeApi: efsApiOf(efs.service, efs.volumes),
    stop: () => efs.context.views.close(),
  });
}
