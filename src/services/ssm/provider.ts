import type { Clock } from "../../core/clock.js";
import type { SecretBox } from "../../iam/secret-box.js";
import type { Operations } from "../../protocol/generated/types/ssm.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { historyOperations } from "./history.js";
import { labelOperations } from "./labels.js";
import { parameterOperations } from "./parameters.js";
import { ParameterStore } from "./store.js";
import { tagOperations } from "./tags.js";

export interface SsmDeps {
  store: DocumentStore;
  box: SecretBox;
  clock: Clock;
}

/** SSM Parameter Store (awsJson1_1, target prefix AmazonSSM): one module per operation group. */
export function ssmService(deps: SsmDeps) {
  const ps = new ParameterStore(deps.store, deps.box, deps.clock);
  const provider: Provider<Operations> = {
    ...parameterOperations(ps),
    ...historyOperations(ps),
    ...labelOperations(ps),
    ...tagOperations(ps),
  };
  return { service: defineService("ssm", provider, { validationCode: "ValidationException" }), parameters: ps };
}
