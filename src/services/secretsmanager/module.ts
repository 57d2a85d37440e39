import { serviceModule } from "../module.js";
import { type SecretsManagerDeps, secretsManagerService } from "./provider.js";

/**
 * Secrets Manager as a service module: calls name their secrets by full ARN (with the random
 * suffix), and secrets carry resource policies. `secrets` resolves container `secrets`.
 */
export function secretsManagerModule(deps: SecretsManagerDeps) {
  const { service, secrets } = secretsManagerService(deps);
  return serviceModule({
    name: "secretsmanager",
    definitions: [service],
    iam: {
      prefixes: { secretsmanager: "secretsmanager" },
      resources: {
        secretsmanager: (_op, input, scope) => {
          const id =
            typeof input.SecretId === "string"
              ? input.SecretId
              : typeof input.Name === "string"
                ? input.Name
                : undefined;
          if (!id) {
            const list = Array.isArray(input.SecretIdList) ? (input.SecretIdList as string[]) : [];
            return list.length ? list.map((x) => secrets.find(scope, x)?.ARN ?? x) : ["*"];
          }
          return [
            secrets.find(scope, id)?.ARN ??
              (id.startsWith("arn:") ? id : `arn:aws:secretsmanager:${scope.region}:${scope.account}:secret:${id}`),
          ];
        },
      },
      resourcePolicies: { secretsmanager: (arn) => secrets.secrets.byArn(arn)?.doc.policy },
    },
    secrets,
  });
}
