import type { Clock } from "../../core/clock.js";
import type { KubeApiEndpoints } from "../../kube/contracts.js";
import type { Operations } from "../../protocol/generated/types/eks.js";
import type { Provider } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import { accessEntryOperations } from "./access-entries.js";
import { clusterOperations } from "./clusters.js";
import { FargateProfiles, fargateProfileOperations } from "./fargate-profiles.js";
import { type EksConfig, EksContext } from "./context.js";
import { tagOperations } from "./tags.js";

export interface EksServiceDeps {
  store: DocumentStore;
  clock: Clock;
  config: EksConfig;
  /** The Kubernetes API server's listeners (asked lazily: it may be wired after the service is built). */
  endpoints: () => KubeApiEndpoints;
  onError: (err: unknown, what: string) => void;
}

/** Amazon EKS (restJson): clusters, updates, access entries and tags. */
export function eksService(deps: EksServiceDeps) {
  const eks = new EksContext(deps.store, deps.clock, deps.config, deps.endpoints, deps.onError);
  const fargate = new FargateProfiles(deps.store, () => deps.clock.now());
  const provider: Provider<Operations> = {
    ...clusterOperations(eks),
    ...accessEntryOperations(eks),
    ...tagOperations(eks),
    ...fargateProfileOperations(eks, fargate, {
      createDelayMs: deps.config.fargateCreateDelayMs ?? deps.config.createDelayMs,
      deleteDelayMs: deps.config.fargateDeleteDelayMs ?? deps.config.deleteDelayMs,
    }),
  };
  return {
    service: defineService("eks", provider, { validationCode: "InvalidParameterException" }),
    context: eks,
    fargate,
  };
}
