import { resourcePolicyGrantsAccount } from "../../iam/authorizer.js";
import type { RegistryPolicy } from "../../registry/api.js";
import { basicPassword, readPassword } from "./auth.js";
import { type EcrContext, PUBLIC_PREFIX } from "./context.js";

const SCOPED_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\./;

/** ECR's side of the registry: which repositories exist, who may push and pull. */
export function registryPolicy(ecr: EcrContext): RegistryPolicy {
  return {
    scopeForHost(host) {
      const m = SCOPED_HOST.exec(host ?? "");
      return m ? { account: m[1], region: m[2] } : { account: ecr.deps.defaultAccount, region: ecr.deps.defaultRegion };
    },
    repository(ref) {
      const scope = { account: ref.account, region: ref.region };
      const isPublic = ref.name.startsWith(`${PUBLIC_PREFIX}/`);
      const name = isPublic ? ref.name.split("/").slice(2).join("/") : ref.name;
      const r = ecr.find(scope, name, isPublic);
      if (!r || ecr.path(scope, r.repositoryName, r.public) !== ref.name) return undefined;
      return ecr.info(scope, r);
    },
    authorize(authorization, repo, access) {
      if (repo.public && access === "pull") return "ok";
      const password = basicPassword(authorization);
      if (!password) return "unauthenticated";
      const claims = readPassword(ecr.deps.tokenSecret, password, ecr.deps.clock.now().getTime());
      if (!claims) return "unauthenticated";
      // Tokens are per account; another account needs the repository policy to grant it.
      if (claims.account === repo.account) return "ok";
      const scope = { account: repo.account, region: repo.region };
      const name = repo.public ? repo.name.split("/").slice(2).join("/") : repo.name;
      const r = ecr.find(scope, name, repo.public);
      const action =
        access === "pull" ? "ecr:BatchGetImage" : access === "push" ? "ecr:PutImage" : "ecr:BatchDeleteImage";
      return r &&
        resourcePolicyGrantsAccount(r.repositoryPolicyText, claims.account, action, r.repositoryArn, repo.account)
        ? "ok"
        : "denied";
    },
    repositories(scope) {
      return ecr.repositories
        .list(scope)
        .map((r) => ecr.path(scope, r.repositoryName, r.public))
        .sort();
    },
  };
}
