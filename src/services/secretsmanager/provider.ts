import type { Clock } from "../../core/clock.js";
import { arn } from "../../core/ids.js";
import type { Authorizer } from "../../iam/authorizer.js";
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
  /** Registers how secret calls name their resources and where their resource policies are. */
  authorizer?: Authorizer;
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

  // How calls name their secrets (the full ARN, with its random suffix) and where the policy is.
  deps.authorizer?.resolveResourcesWith("secretsmanager", (_op, input, scope) => {
    const id =
      typeof input.SecretId === "string" ? input.SecretId : typeof input.Name === "string" ? input.Name : undefined;
    if (!id) {
      const list = Array.isArray(input.SecretIdList) ? (input.SecretIdList as string[]) : [];
      return list.length ? list.map((x) => sm.find(scope, x)?.ARN ?? x) : ["*"];
    }
    return [sm.find(scope, id)?.ARN ?? (id.startsWith("arn:") ? id : arn("secretsmanager", scope, `secret:${id}`))];
  });
  deps.authorizer?.resourcePoliciesFrom("secretsmanager", (arn) => sm.secrets.byArn(arn)?.doc.policy);

  return {
    service: defineService("secretsmanager", provider, { validationCode: "InvalidParameterException" }),
    secrets: sm,
  };
}
