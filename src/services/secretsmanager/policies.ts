import { MalformedPolicy, parsePolicy } from "../../iam/policy.js";
import type { Operations } from "../../protocol/generated/types/secretsmanager.js";
import type { Provider } from "../../protocol/service.js";
import type { SecretsContext } from "./context.js";
import { secretsmanagerErrors } from "../../protocol/generated/errors/secretsmanager.js";

/** Parses a resource policy; a syntax error is MalformedPolicyDocumentException. */
const checkPolicy = (text: string) => {
  try {
    return parsePolicy(text, "resource");
  } catch (e) {
    if (e instanceof MalformedPolicy)
      throw secretsmanagerErrors.MalformedPolicyDocumentException(
        `This resource policy contains a syntax error: ${e.message}`,
      );
    throw e;
  }
};

/** PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy, ValidateResourcePolicy. */
export function policyOperations(c: SecretsContext): Provider<Operations> {
  return {
    PutResourcePolicy: (input, ctx) => {
      const policy = checkPolicy(input.ResourcePolicy);
      const isPublic = policy.statements.some(
        (st) =>
          st.effect === "Allow" &&
          (st.principal === "*" || (typeof st.principal === "object" && st.principal.AWS?.includes("*"))) &&
          !st.condition,
      );
      if ((input.BlockPublicPolicy ?? true) && isPublic)
        throw secretsmanagerErrors.PublicPolicyException(
          "You can't attach a resource-based policy that allows broad access to the secret.",
        );
      const s = c.require(ctx, input.SecretId);
      c.save({ ...s, policy: input.ResourcePolicy });
      return { ARN: s.ARN, Name: s.Name };
    },
    GetResourcePolicy: (input, ctx) => {
      const s = c.require(ctx, input.SecretId, true);
      return { ARN: s.ARN, Name: s.Name, ResourcePolicy: s.policy };
    },
    DeleteResourcePolicy: (input, ctx) => {
      const s = c.require(ctx, input.SecretId);
      c.save({ ...s, policy: undefined });
      return { ARN: s.ARN, Name: s.Name };
    },
    ValidateResourcePolicy: (input) => {
      try {
        parsePolicy(input.ResourcePolicy, "resource");
        return { PolicyValidationPassed: true, ValidationErrors: [] };
      } catch (e) {
        if (!(e instanceof MalformedPolicy)) throw e;
        return {
          PolicyValidationPassed: false,
          ValidationErrors: [{ CheckName: "JSON_SYNTAX", ErrorMessage: e.message }],
        };
      }
    },
  };
}
