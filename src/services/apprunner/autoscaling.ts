/**
 * App Runner auto scaling configurations: named, revisioned (MaxConcurrency, MinSize, MaxSize),
 * one of them the account's default. `DefaultConfiguration` (100 / 1 / 25) exists from the start,
 * as on AWS; services without an AutoScalingConfigurationArn use the default's latest revision.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { arn, type Scope } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import { apprunnerErrors } from "../../protocol/generated/errors/apprunner.js";
import type { AutoScalingConfiguration, Operations } from "../../protocol/generated/types/apprunner.js";
import type { Provider } from "../../protocol/service.js";
import type { AppRunnerCollections, AutoScalingConfigurationRecord } from "../../store/schema/apprunner.js";
import { APPRUNNER_DEFAULTS } from "./spec.js";

const invalid = apprunnerErrors.InvalidRequestException;
const notFound = apprunnerErrors.ResourceNotFoundException;
const badToken = () => invalid("The NextToken is not valid: pass the NextToken of the previous response unchanged.");

/** `…:autoscalingconfiguration/<name>[/<revision>[/<id>]]` → name and revision (undefined: latest). */
export function parseAutoScalingArn(value: string): { name: string; revision?: number } | undefined {
  const m =
    /^arn:aws[a-z-]*:apprunner:[^:]+:\d{12}:autoscalingconfiguration\/([^/]+)(?:\/(\d+)(?:\/[0-9a-f]+)?)?$/.exec(value);
  if (!m) return undefined;
  return { name: m[1], ...(m[2] ? { revision: Number(m[2]) } : {}) };
}

export function autoScalingConfigurations(deps: {
  collections: AppRunnerCollections;
  clock: Clock;
  /** ARNs of the auto scaling configurations services (not deleted) use. */
  inUse: (scope: Scope) => Set<string>;
}) {
  const { autoScaling, accounts } = deps.collections;

  const defaultName = (scope: Scope) =>
    accounts.get(scope, "settings")?.defaultAutoScalingConfigurationName ?? APPRUNNER_DEFAULTS.defaultAutoScalingName;

  const revisions = (scope: Scope, name: string) =>
    autoScaling
      .list(scope)
      .filter((r) => r.AutoScalingConfigurationName === name)
      .sort((a, b) => a.AutoScalingConfigurationRevision - b.AutoScalingConfigurationRevision);

  const newRevision = (
    scope: Scope,
    name: string,
    values: { MaxConcurrency: number; MinSize: number; MaxSize: number },
    tags: AutoScalingConfigurationRecord["Tags"],
  ) => {
    const previous = revisions(scope, name);
    const revision = (previous.at(-1)?.AutoScalingConfigurationRevision ?? 0) + 1;
    for (const p of previous) if (p.Latest) autoScaling.put(scope, { ...p, Latest: false });
    const record: AutoScalingConfigurationRecord = {
      AutoScalingConfigurationArn: arn(
        "apprunner",
        scope,
        `autoscalingconfiguration/${name}/${revision}/${randomBytes(16).toString("hex")}`,
      ),
      AutoScalingConfigurationName: name,
      AutoScalingConfigurationRevision: revision,
      Latest: true,
      Status: "ACTIVE",
      ...values,
      CreatedAt: deps.clock.now(),
      Tags: tags,
    };
    return autoScaling.put(scope, record);
  };

  /** DefaultConfiguration's first revision, made on first use. */
  const ensureBuiltIn = (scope: Scope) => {
    if (revisions(scope, APPRUNNER_DEFAULTS.defaultAutoScalingName).length) return;
    newRevision(
      scope,
      APPRUNNER_DEFAULTS.defaultAutoScalingName,
      {
        MaxConcurrency: APPRUNNER_DEFAULTS.maxConcurrency,
        MinSize: APPRUNNER_DEFAULTS.minSize,
        MaxSize: APPRUNNER_DEFAULTS.maxSize,
      },
      [],
    );
  };

  /** The configuration an ARN (full or partial) names, ACTIVE; ResourceNotFoundException otherwise. */
  const resolve = (scope: Scope, value: string): AutoScalingConfigurationRecord => {
    ensureBuiltIn(scope);
    const parsed = parseAutoScalingArn(value);
    if (!parsed)
      throw invalid(`AutoScalingConfigurationArn '${value}' is not an App Runner auto scaling configuration ARN.`);
    const all = revisions(scope, parsed.name).filter((r) => r.Status === "ACTIVE");
    const found =
      parsed.revision === undefined
        ? all.at(-1)
        : all.find(
            (r) =>
              r.AutoScalingConfigurationRevision === parsed.revision &&
              (value.split("/").length < 4 || r.AutoScalingConfigurationArn === value),
          );
    if (!found) throw notFound(`Auto scaling configuration ${value} was not found (or is deleted).`);
    return found;
  };

  /** The account's default configuration (its latest ACTIVE revision). */
  const defaultConfiguration = (scope: Scope): AutoScalingConfigurationRecord => {
    ensureBuiltIn(scope);
    const latest = revisions(scope, defaultName(scope))
      .filter((r) => r.Status === "ACTIVE")
      .at(-1);
    return latest ?? revisions(scope, APPRUNNER_DEFAULTS.defaultAutoScalingName).at(-1)!;
  };

  const view = (scope: Scope, r: AutoScalingConfigurationRecord): AutoScalingConfiguration => ({
    AutoScalingConfigurationArn: r.AutoScalingConfigurationArn,
    AutoScalingConfigurationName: r.AutoScalingConfigurationName,
    AutoScalingConfigurationRevision: r.AutoScalingConfigurationRevision,
    Latest: r.Latest,
    Status: r.Status,
    MaxConcurrency: r.MaxConcurrency,
    MinSize: r.MinSize,
    MaxSize: r.MaxSize,
    CreatedAt: r.CreatedAt,
    ...(r.DeletedAt ? { DeletedAt: r.DeletedAt } : {}),
    HasAssociatedService: deps.inUse(scope).has(r.AutoScalingConfigurationArn),
    IsDefault: r.AutoScalingConfigurationName === defaultName(scope),
  });

  const summary = (scope: Scope, r: AutoScalingConfigurationRecord) => {
    const v = view(scope, r);
    return {
      AutoScalingConfigurationArn: v.AutoScalingConfigurationArn,
      AutoScalingConfigurationName: v.AutoScalingConfigurationName,
      AutoScalingConfigurationRevision: v.AutoScalingConfigurationRevision,
      Status: v.Status,
      CreatedAt: v.CreatedAt,
      HasAssociatedService: v.HasAssociatedService,
      IsDefault: v.IsDefault,
    };
  };

  const operations: Provider<Operations> = {
    CreateAutoScalingConfiguration: (input, ctx) => {
      ensureBuiltIn(ctx);
      const name = input.AutoScalingConfigurationName;
      if (!/^[A-Za-z0-9][A-Za-z0-9\-_]{3,31}$/.test(name))
        throw invalid(
          `AutoScalingConfigurationName '${name}' is not valid: 4 to 32 letters, digits, hyphens and underscores, starting with a letter or digit.`,
        );
      const values = {
        MaxConcurrency: input.MaxConcurrency ?? APPRUNNER_DEFAULTS.maxConcurrency,
        MinSize: input.MinSize ?? APPRUNNER_DEFAULTS.minSize,
        MaxSize: input.MaxSize ?? APPRUNNER_DEFAULTS.maxSize,
      };
      if (values.MaxConcurrency < 1 || values.MaxConcurrency > 200)
        throw invalid(`MaxConcurrency must be from 1 to 200 (got ${values.MaxConcurrency}).`);
      if (values.MinSize < 1 || values.MinSize > 25)
        throw invalid(`MinSize must be from 1 to 25 (got ${values.MinSize}).`);
      if (values.MaxSize < 1 || values.MaxSize > 25)
        throw invalid(`MaxSize must be from 1 to 25 (got ${values.MaxSize}).`);
      if (values.MinSize > values.MaxSize)
        throw invalid(`MinSize (${values.MinSize}) must not be greater than MaxSize (${values.MaxSize}).`);
      const active = revisions(ctx, name).filter((r) => r.Status === "ACTIVE");
      if (active.length >= 5)
        throw apprunnerErrors.ServiceQuotaExceededException(
          `Auto scaling configuration ${name} already has 5 active revisions (the App Runner quota); delete one first.`,
        );
      const record = newRevision(ctx, name, values, input.Tags ?? []);
      return { AutoScalingConfiguration: view(ctx, record) };
    },

    DescribeAutoScalingConfiguration: (input, ctx) => {
      const r = autoScaling.byArn(input.AutoScalingConfigurationArn);
      if (r && r.scope.account === ctx.account && r.scope.region === ctx.region)
        return { AutoScalingConfiguration: view(ctx, r.doc) };
      return { AutoScalingConfiguration: view(ctx, resolve(ctx, input.AutoScalingConfigurationArn)) };
    },

    ListAutoScalingConfigurations: (input, ctx) => {
      if (
        input.AutoScalingConfigurationName !== undefined &&
        !/^[A-Za-z0-9][A-Za-z0-9\-_]{3,31}$/.test(input.AutoScalingConfigurationName)
      )
        throw invalid(`AutoScalingConfigurationName '${input.AutoScalingConfigurationName}' is not valid.`);
      ensureBuiltIn(ctx);
      const items = autoScaling
        .list(ctx)
        .filter(
          (r) =>
            r.Status === "ACTIVE" &&
            (!input.AutoScalingConfigurationName ||
              r.AutoScalingConfigurationName === input.AutoScalingConfigurationName) &&
            (!input.LatestOnly || r.Latest),
        );
      const { page, nextToken } = pageByKey(
        items,
        (r) => [r.AutoScalingConfigurationName, r.AutoScalingConfigurationRevision],
        { nextToken: input.NextToken, limit: input.MaxResults ?? 100, invalidToken: badToken },
      );
      return {
        AutoScalingConfigurationSummaryList: page.map((r) => summary(ctx, r)),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },

    DeleteAutoScalingConfiguration: (input, ctx) => {
      const target = resolve(ctx, input.AutoScalingConfigurationArn);
      const used = deps.inUse(ctx);
      const doomed = input.DeleteAllRevisions
        ? revisions(ctx, target.AutoScalingConfigurationName).filter((r) => r.Status === "ACTIVE")
        : [target];
      const busy = doomed.find((r) => used.has(r.AutoScalingConfigurationArn));
      if (busy)
        throw apprunnerErrors.InvalidStateException(
          `Auto scaling configuration ${busy.AutoScalingConfigurationArn} is used by a service; update or delete the service first.`,
        );
      const now = deps.clock.now();
      let last = target;
      for (const r of doomed) last = autoScaling.put(ctx, { ...r, Status: "INACTIVE", DeletedAt: now });
      const mine = doomed.find((r) => r.AutoScalingConfigurationArn === target.AutoScalingConfigurationArn) ?? last;
      return { AutoScalingConfiguration: view(ctx, { ...mine, Status: "INACTIVE", DeletedAt: now }) };
    },

    UpdateDefaultAutoScalingConfiguration: (input, ctx) => {
      const target = resolve(ctx, input.AutoScalingConfigurationArn);
      accounts.put(ctx, { id: "settings", defaultAutoScalingConfigurationName: target.AutoScalingConfigurationName });
      return { AutoScalingConfiguration: view(ctx, target) };
    },
  };

  return { operations, resolve, defaultConfiguration, view, summary };
}
