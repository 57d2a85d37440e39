import type { Authorizer, ResourcePolicyLookup } from "../iam/authorizer.js";
import type { ResourceResolver } from "../iam/resources.js";
import type { ServiceDefinition } from "../protocol/service.js";

/** How IAM sees a module's services. */
export interface ModuleIam {
  /** The IAM action prefix of each service id the module serves (`elbv2` → `elasticloadbalancing`). */
  prefixes: Record<string, string>;
  /** How each service's calls name their resources, by service id (otherwise: an ARN member, or `*`). */
  resources?: Record<string, ResourceResolver>;
  /** Where resource policies come from, by IAM prefix (ECR repository policies, secret policies). */
  resourcePolicies?: Record<string, ResourcePolicyLookup>;
}

/**
 * One AWS service (or a family served together, like ECR and ECR Public) as the composition
 * root assembles it: the APIs the edge serves, what IAM needs to know about them, and the
 * controllers and loops behind them. A module may carry more typed members that later modules
 * use (ECS's collections, the load balancers' contract).
 */
export interface ServiceModule {
  /** For logs: "ecs", "cloudwatch". */
  readonly name: string;
  readonly definitions: ServiceDefinition[];
  readonly iam: ModuleIam;
  /** Starts the module's controllers and loops. Modules start in their order in the list. */
  start?(): Promise<void> | void;
  /** Stops them. Modules stop in reverse order. */
  stop?(): Promise<void> | void;
}

/** Tells IAM each module's action prefixes, resource resolvers and resource policies. */
export function registerIam(authorizer: Authorizer, modules: readonly ServiceModule[]) {
  for (const { iam } of modules) {
    for (const [id, prefix] of Object.entries(iam.prefixes)) authorizer.actionPrefix(id, prefix);
    for (const [id, resolver] of Object.entries(iam.resources ?? {})) authorizer.resolveResourcesWith(id, resolver);
    for (const [prefix, lookup] of Object.entries(iam.resourcePolicies ?? {}))
      authorizer.resourcePoliciesFrom(prefix, lookup);
  }
}

/** Starts modules in order; each has started (or failed) before the next begins. */
export async function startModules(modules: readonly ServiceModule[]) {
  for (const m of modules) await m.start?.();
}

/** Stops modules in reverse order, every one even when an earlier stop throws (the first error is rethrown). */
export async function stopModules(modules: readonly ServiceModule[]) {
  let first: unknown;
  for (const m of [...modules].reverse()) {
    try {
      await m.stop?.();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** Checks a module against the contract and keeps its extra members' types. */
export const serviceModule = <M extends ServiceModule>(module: M): M => module;
