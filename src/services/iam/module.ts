import type { Clock } from "../../core/clock.js";
import type { Credentials } from "../../iam/credentials.js";
import { iamResolver } from "../../iam/resources.js";
import { type IamStore, groupArn, instanceProfileArn, roleArn, userArn } from "../../iam/store.js";
import type { ServiceModule } from "../module.js";
import { iamService } from "./provider.js";

/** IAM as a service module: its API, and resources named through the store (ARNs carry paths). */
export function iamModule(deps: { iam: IamStore; credentials: Credentials; clock: Clock }): ServiceModule {
  const { iam } = deps;
  return {
    name: "iam",
    definitions: [iamService(deps)],
    iam: {
      prefixes: { iam: "iam" },
      resources: {
        iam: iamResolver({
          roleArn: (account, name) => iam.role(account, name)?.Arn ?? roleArn(account, "/", name),
          userArn: (account, name) => iam.user(account, name)?.Arn ?? userArn(account, "/", name),
          groupArn: (account, name) => iam.group(account, name)?.Arn ?? groupArn(account, "/", name),
          instanceProfileArn: (account, name) =>
            iam.instanceProfile(account, name)?.Arn ?? instanceProfileArn(account, "/", name),
        }),
      },
    },
  };
}
