import { logsResources } from "../../iam/resources.js";
import { serviceModule } from "../module.js";
import { type LogsDeps, logsService } from "./provider.js";

/** CloudWatch Logs as a service module; `backend` is what the task controller's awslogs driver writes to. */
export function logsModule(deps: LogsDeps) {
  const logs = logsService(deps);
  return serviceModule({
    name: "logs",
    definitions: [logs.service],
    iam: { prefixes: { logs: "logs" }, resources: { logs: logsResources } },
    backend: logs.backend,
    // The retention sweep runs from construction (retentionSweepMs); stopping ends it.
    stop: logs.close,
  });
}
