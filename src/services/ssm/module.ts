import { ssmResources } from "../../iam/resources.js";
import { serviceModule } from "../module.js";
import { type SsmDeps, ssmService } from "./provider.js";

/** SSM Parameter Store as a service module; `parameters` resolves container `secrets` for the task endpoint. */
export function ssmModule(deps: SsmDeps) {
  const ssm = ssmService(deps);
  return serviceModule({
    name: "ssm",
    definitions: [ssm.service],
    iam: { prefixes: { ssm: "ssm" }, resources: { ssm: ssmResources } },
    parameters: ssm.parameters,
  });
}
