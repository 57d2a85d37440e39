import type { Clock } from "../../core/clock.js";
import type { SecretBox } from "../../iam/secret-box.js";
import type { Operations } from "../../protocol/generated/types/secretsmanager.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { SecretsContext } from "./context.js";
import { passwordOperations } from "./password.js";
import { policyOperations } from "./policies.js";
import { secretOperations } from "./secrets.js";
import { SecretStore } from "./store.js";
import { tagOperations } from "./tags.js";
import { valueOperations } from "./values.js";

export interface SecretsManagerDeps {
  store: DocumentStore;
  box: SecretBox;
  clock: Clock;
}

/** Secrets Manager (awsJson1_1, target prefix secretsmanager): one module per operation group. */
export function secretsManagerService(deps: SecretsManagerDeps) {
  const sm = new SecretStore(deps.store, deps.box, deps.clock);
  const c = new SecretsContext(sm, deps.clock);
  const provider: Provider<Operations> = {
    ...secretOperations(c),
    ...valueOperations(c),
    ...policyOperations(c),
    ...tagOperations(c),
    ...passwordOperations,
  };

  return {
    service: defineService("secretsmanager", provider, { validationCode: "InvalidParameterException" }),
    secrets: sm,
  };
}
