/**
 * Capacity providers, pure: the Fargate ones every account has (FARGATE, FARGATE_SPOT; EC2
 * capacity providers come with Auto Scaling), the checks PutClusterCapacityProviders and
 * CreateCluster make, how a RunTask / CreateService call without a launch type resolves through
 * the cluster's default strategy, and which provider each new task gets (base first, then weight).
 */
import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import type { CapacityProviderStrategyItem } from "../../protocol/generated/types/ecs.js";
import type { LaunchType } from "../../store/schema/ecs.js";

export const FARGATE_PROVIDERS = ["FARGATE", "FARGATE_SPOT"];

const invalid = ecsErrors.InvalidParameterException;

/** Checks a strategy against the providers it may use (AWS's rules and texts). */
export function checkStrategy(strategy: CapacityProviderStrategyItem[], associated: string[]) {
  const seen = new Set<string>();
  for (const item of strategy) {
    if (!associated.includes(item.capacityProvider))
      throw invalid(
        "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.",
      );
    if (seen.has(item.capacityProvider))
      throw invalid(
        `The capacity provider strategy cannot contain duplicate capacity providers (${item.capacityProvider}).`,
      );
    seen.add(item.capacityProvider);
    if (item.weight !== undefined && (item.weight < 0 || item.weight > 1000))
      throw invalid("The capacity provider strategy weight must be between 0 and 1000.");
    if (item.base !== undefined && (item.base < 0 || item.base > 100_000))
      throw invalid("The capacity provider strategy base must be between 0 and 100000.");
  }
  if (strategy.filter((s) => (s.base ?? 0) > 0).length > 1)
    throw invalid("Only one capacity provider in a capacity provider strategy can have a base defined.");
  if (strategy.length > 0 && !strategy.some((s) => (s.weight ?? 0) > 0))
    throw invalid("At least one capacity provider in a capacity provider strategy must have a weight greater than 0.");
}

/** A cluster's capacity providers and default strategy as PutClusterCapacityProviders and CreateCluster take them. */
export function checkClusterProviders(providers: string[], strategy: CapacityProviderStrategyItem[]) {
  for (const p of providers)
    if (!FARGATE_PROVIDERS.includes(p))
      throw invalid(
        `The specified capacity provider '${p.slice(0, 64)}' does not exist. Berth has the FARGATE and FARGATE_SPOT capacity providers.`,
      );
  if (new Set(providers).size !== providers.length)
    throw invalid("The capacity providers of a cluster cannot contain duplicates.");
  checkStrategy(strategy, providers);
}

/** A strategy as AWS reports it: weight and base always present. */
export const normalizeStrategy = (strategy: CapacityProviderStrategyItem[]): CapacityProviderStrategyItem[] =>
  strategy.map((s) => ({ capacityProvider: s.capacityProvider, weight: s.weight ?? 0, base: s.base ?? 0 }));

export interface Launch {
  launchType: LaunchType;
  /** Set when the tasks launch through capacity providers (the call's, or the cluster's default). */
  strategy?: CapacityProviderStrategyItem[];
}

/**
 * How a RunTask or CreateService call launches: its launchType; else its capacityProviderStrategy
 * (providers associated with the cluster); else the cluster's default strategy; else EC2, AWS's
 * launch type for a cluster without one.
 */
export function resolveLaunch(
  input: { launchType?: string; capacityProviderStrategy?: CapacityProviderStrategyItem[] },
  cluster: { capacityProviders?: string[]; defaultCapacityProviderStrategy?: CapacityProviderStrategyItem[] },
): Launch {
  const asked = input.capacityProviderStrategy ?? [];
  if (input.launchType && asked.length)
    throw invalid("Specify either a launchType or a capacityProviderStrategy, not both.");
  if (input.launchType === "FARGATE" || input.launchType === "EC2") return { launchType: input.launchType };
  if (input.launchType) throw invalid(`Launch type ${input.launchType} is not supported by Berth; use FARGATE or EC2.`);
  if (asked.length) {
    checkStrategy(asked, cluster.capacityProviders ?? []);
    return { launchType: "FARGATE", strategy: normalizeStrategy(asked) };
  }
  const fallback = cluster.defaultCapacityProviderStrategy ?? [];
  if (fallback.length) return { launchType: "FARGATE", strategy: normalizeStrategy(fallback) };
  return { launchType: "EC2" };
}

/**
 * The provider of each of `count` new tasks: a provider below its base gets the next task;
 * after that each goes to the provider furthest below its weighted share (ties: strategy order).
 * `running` counts the tasks each provider already has (a service's).
 */
export function pickProviders(
  strategy: CapacityProviderStrategyItem[],
  count: number,
  running: Record<string, number> = {},
): string[] {
  const have = new Map(strategy.map((s) => [s.capacityProvider, running[s.capacityProvider] ?? 0]));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const belowBase = strategy.find((s) => (have.get(s.capacityProvider) ?? 0) < (s.base ?? 0));
    let pick = belowBase;
    if (!pick) {
      let best = Number.POSITIVE_INFINITY;
      for (const s of strategy) {
        const weight = s.weight ?? 0;
        if (weight <= 0) continue;
        const beyondBase = (have.get(s.capacityProvider) ?? 0) - (s.base ?? 0);
        const share = (beyondBase + 1) / weight;
        if (share < best) {
          best = share;
          pick = s;
        }
      }
    }
    const name = (pick ?? strategy[0]).capacityProvider;
    out.push(name);
    have.set(name, (have.get(name) ?? 0) + 1);
  }
  return out;
}
