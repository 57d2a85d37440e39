import type { Clock } from "../../core/clock.js";
import type { Authorizer } from "../../iam/authorizer.js";
import type { Credentials } from "../../iam/credentials.js";
import { iamResolver } from "../../iam/resources.js";
import { type IamStore, groupArn, instanceProfileArn, roleArn, userArn } from "../../iam/store.js";
import type { Operations } from "../../protocol/generated/types/iam.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import type { IamContext } from "./common.js";
import { instanceProfileOperations } from "./instance-profiles.js";
import { policyOperations } from "./policies.js";
import { roleOperations } from "./roles.js";
import { userOperations } from "./users.js";

export interface IamDeps {
  iam: IamStore;
  credentials: Credentials;
  authorizer: Authorizer;
  clock: Clock;
}

/** IAM (awsQuery): roles, users, groups, access keys, managed and inline policies, instance profiles. */
export function iamService(deps: IamDeps) {
  const c: IamContext = { iam: deps.iam, credentials: deps.credentials, clock: deps.clock };
  const provider: Provider<Operations> = {
    ...roleOperations(c),
    ...userOperations(c),
    ...policyOperations(c),
    ...instanceProfileOperations(c),
  };
  // IAM resources carry their path in the ARN: resolve names through the store.
  deps.authorizer.resolveResourcesWith(
    "iam",
    iamResolver({
      roleArn: (account, name) => deps.iam.role(account, name)?.Arn ?? roleArn(account, "/", name),
      userArn: (account, name) => deps.iam.user(account, name)?.Arn ?? userArn(account, "/", name),
      groupArn: (account, name) => deps.iam.group(account, name)?.Arn ?? groupArn(account, "/", name),
      instanceProfileArn: (account, name) =>
        deps.iam.instanceProfile(account, name)?.Arn ?? instanceProfileArn(account, "/", name),
    }),
  );
  return defineService("iam", provider, { validationCode: "ValidationError" });
}
