import type { Clock } from "../../core/clock.js";
import type { Authorizer } from "../../iam/authorizer.js";
import type { IamStore } from "../../iam/store.js";
import type { Operations } from "../../protocol/generated/types/efs.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import { accessPointOperations } from "./access-points.js";
import { EfsContext } from "./context.js";
import { fileSystemOperations } from "./file-systems.js";
import { mountTargetOperations } from "./mount-targets.js";
import { type PosixViews, bindfsViews } from "./posix-views.js";
import { policyOperations } from "./policies.js";
import { replicationOperations } from "./replication.js";
import { EfsStorage } from "./storage.js";
import { tagOperations } from "./tags.js";
import { efsVolumes } from "./volumes.js";

export interface EfsDeps {
  store: DocumentStore;
  clock: Clock;
  dataDir: string;
  authorizer: Authorizer;
  iam: IamStore;
  /** Access points' PosixUser views (bindfs under the data dir by default). */
  views?: PosixViews;
}

/** Amazon EFS (restJson): file systems as directories under the data dir, and the volumes ECS mounts. */
export function efsService(deps: EfsDeps) {
  const efs = new EfsContext(
    deps.store,
    new EfsStorage(deps.dataDir, deps.clock),
    deps.clock,
    deps.views ?? bindfsViews(deps.dataDir),
  );
  const provider: Provider<Operations> = {
    ...fileSystemOperations(efs),
    ...mountTargetOperations(efs),
    ...accessPointOperations(efs),
    ...policyOperations(efs),
    ...tagOperations(efs),
    ...replicationOperations(efs),
  };
  return {
    service: defineService("efs", provider, { validationCode: "BadRequest" }),
    context: efs,
    volumes: efsVolumes(efs, deps),
  };
}
