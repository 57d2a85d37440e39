import type { Clock } from "../../core/clock.js";
import type { Credentials } from "../../iam/credentials.js";
import type { IamStore } from "../../iam/store.js";
import type { Operations } from "../../protocol/generated/types/iam.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import { certificateOperations } from "./certificates.js";
import type { IamContext } from "./common.js";
import { instanceProfileOperations } from "./instance-profiles.js";
import { policyOperations } from "./policies.js";
import { roleOperations } from "./roles.js";
import { userOperations } from "./users.js";

export interface IamDeps {
  iam: IamStore;
  credentials: Credentials;
  clock: Clock;
}

/** IAM (awsQuery): roles, users, groups, access keys, managed and inline policies, instance profiles,
 * signing and server certificates. */
export function iamService(deps: IamDeps) {
  const c: IamContext = { iam: deps.iam, credentials: deps.credentials, clock: deps.clock };
  const provider: Provider<Operations> = {
    ...roleOperations(c),
    ...userOperations(c),
    ...policyOperations(c),
    ...instanceProfileOperations(c),
    ...certificateOperations(c),
  };
  return defineService("iam", provider, { validationCode: "ValidationError", typeErrorCode: "MalformedInput" });
}
