/**
 * App Runner's loop (once a second): settles each operation from the ECS deployment it rolls out
 * (progress.ts), finishes deletes once the ECS service has drained, scales RUNNING services on
 * their requests in flight (scaling.ts), and redeploys services with AutoDeploymentsEnabled when
 * their ECR tag moves to a new digest or their source changes.
 */
import type { Clock, TimerClock } from "../../core/clock.js";
import type { Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import { type Periodic, periodic } from "../../core/periodic.js";
import type { CodeRepository } from "../../protocol/generated/types/apprunner.js";
import type { AppRunnerCollections, AppRunnerServiceRecord } from "../../store/schema/apprunner.js";
import { type Platform, step, systemContext } from "./platform.js";
import { progressOf } from "./progress.js";
import { decideInstances } from "./scaling.js";
import type { ServiceWork } from "./services.js";
import { APPRUNNER_DEFAULTS } from "./spec.js";

export interface AppRunnerControllerOptions {
  /** How long a deployment may take to become healthy (default 10 minutes). */
  deployTimeoutMs?: number;
  /** How long concurrency must stay low before the service scales in (default 60 s). */
  scaleInAfterMs?: number;
  /** Samples (one a second) whose peak concurrency the scaler uses (default 10). */
  window?: number;
  /** Every how many ticks the ECR tags of auto-deployed services are checked (default 5). */
  autoDeployEvery?: number;
}

export function appRunnerController(deps: {
  collections: AppRunnerCollections;
  platform: Platform;
  work: ServiceWork;
  clock: Clock | TimerClock;
  logger?: Logger;
  options?: AppRunnerControllerOptions;
  /** A CodeRepository's current revision (SourceBuilder.revision), for automatic deployments from source. */
  sourceRevision?: (code: CodeRepository) => string | undefined;
}) {
  const { collections, platform: p, work, logger } = deps;
  const opts = {
    deployTimeoutMs: 10 * 60_000,
    scaleInAfterMs: 60_000,
    window: 10,
    autoDeployEvery: 5,
    ...deps.options,
  };
  const samples = new Map<string, number[]>();
  let tick = 0;

  const ecsServiceOf = (scope: Scope, r: AppRunnerServiceRecord) =>
    p.backends.ecsService(scope, APPRUNNER_DEFAULTS.cluster, r.resources.ecsServiceName);

  const settleOperation = async (scope: Scope, r: AppRunnerServiceRecord) => {
    const op = r.operations[0];
    if (!op || work.working.has(r.ServiceId)) return;
    const svc = ecsServiceOf(scope, r);
    switch (op.type) {
      case "DELETE_SERVICE": {
        if (await work.finishTeardown(scope, r.ServiceId)) {
          work.settle(scope, r.ServiceId, "SUCCEEDED", "DELETED");
          work.change(scope, r.ServiceId, (x) => ({ ...x, DeletedAt: deps.clock.now() }));
          samples.delete(r.ServiceId);
        }
        return;
      }
      case "PAUSE_SERVICE": {
        const live = (svc?.deployments ?? []).reduce((n, d) => n + d.runningCount + d.pendingCount, 0);
        if (live === 0) work.settle(scope, r.ServiceId, "SUCCEEDED", "PAUSED");
        return;
      }
      case "RESUME_SERVICE": {
        const primary = svc?.deployments.find((d) => d.status === "PRIMARY");
        if (primary && primary.runningCount >= r.desiredInstances)
          work.settle(scope, r.ServiceId, "SUCCEEDED", "RUNNING");
        return;
      }
      default:
    }
    if (!op.deploymentId || !svc) {
      // The work that would have started the deployment is not running: Berth restarted during it.
      const reason = "The operation was interrupted (Berth restarted before its deployment started).";
      if (op.type === "CREATE_SERVICE") await work.createFailed(scope, r.ServiceId, reason);
      else work.settle(scope, r.ServiceId, "FAILED", "RUNNING", reason);
      return;
    }
    const progress = progressOf(
      { type: op.type, deploymentId: op.deploymentId, startedAt: op.startedAt.getTime() },
      svc.deployments,
      deps.clock.now().getTime(),
      opts.deployTimeoutMs,
    );
    if (progress.kind === "waiting" || progress.kind === "rolling-back") return;
    if (progress.kind === "timed-out") {
      if (op.type === "CREATE_SERVICE") return work.createFailed(scope, r.ServiceId, progress.reason);
      const previous = r.resources.taskDefinitionArns.at(-2);
      if (previous)
        await p.quietly("rollback", () =>
          step(
            "ECS",
            "UpdateService",
            p.ecs().UpdateService,
            { cluster: APPRUNNER_DEFAULTS.cluster, service: r.resources.ecsServiceName, taskDefinition: previous },
            systemContext(scope),
          ),
        );
      work.settle(scope, r.ServiceId, "ROLLBACK_SUCCEEDED", "RUNNING", progress.reason);
      return;
    }
    if (progress.status === "SUCCEEDED") work.settle(scope, r.ServiceId, "SUCCEEDED", "RUNNING");
    else if (op.type === "CREATE_SERVICE") await work.createFailed(scope, r.ServiceId, progress.reason ?? "");
    else work.settle(scope, r.ServiceId, progress.status, "RUNNING", progress.reason);
  };

  const scale = async (scope: Scope, r: AppRunnerServiceRecord) => {
    const tg = r.resources.targetGroupArn;
    if (!tg) return;
    const asc = collections.autoScaling.byArn(r.AutoScalingConfigurationArn)?.doc;
    if (!asc) return;
    const list = samples.get(r.ServiceId) ?? [];
    list.push(p.backends.inFlight(tg));
    while (list.length > opts.window) list.shift();
    samples.set(r.ServiceId, list);
    const decision = decideInstances({
      current: r.desiredInstances,
      peakConcurrency: Math.max(...list),
      maxConcurrency: asc.MaxConcurrency,
      minSize: asc.MinSize,
      maxSize: asc.MaxSize,
      now: deps.clock.now().getTime(),
      belowSince: r.belowSince?.getTime(),
      scaleInAfterMs: opts.scaleInAfterMs,
    });
    const since = decision.belowSince;
    if (decision.desired !== r.desiredInstances) {
      await step(
        "ECS",
        "UpdateService",
        p.ecs().UpdateService,
        { cluster: APPRUNNER_DEFAULTS.cluster, service: r.resources.ecsServiceName, desiredCount: decision.desired },
        systemContext(scope),
      );
      work.serviceLog(
        scope,
        r,
      )(
        `[AppRunner] Scaling from ${r.desiredInstances} to ${decision.desired} instances (peak ${Math.max(...list)} requests in flight, MaxConcurrency ${asc.MaxConcurrency}).`,
      );
      work.change(scope, r.ServiceId, (x) => ({ ...x, desiredInstances: decision.desired, belowSince: undefined }));
    } else if ((since === undefined) !== (r.belowSince === undefined)) {
      work.change(scope, r.ServiceId, (x) => ({ ...x, belowSince: since === undefined ? undefined : new Date(since) }));
    }
  };

  const autoDeploy = async (scope: Scope, r: AppRunnerServiceRecord) => {
    const code = r.SourceConfiguration.CodeRepository;
    if (code && r.SourceConfiguration.AutoDeploymentsEnabled && deps.sourceRevision) {
      // A source change (new commit, archive or files) redeploys, as a push to the repository does on AWS.
      const now = deps.sourceRevision(code);
      if (!now || !r.sourceRevision || now === r.sourceRevision) return;
      work.serviceLog(scope, r)(`[AppRunner] Source ${code.RepositoryUrl} changed (${now}): deploying.`);
      work.startAutoDeployment(scope, r);
      return;
    }
    const image = r.SourceConfiguration.ImageRepository;
    if (!image) return;
    if (image.ImageRepositoryType !== "ECR" || !r.SourceConfiguration.AutoDeploymentsEnabled) return;
    if (image.ImageIdentifier.includes("@")) return;
    const resolved = await p.resolveImage(systemContext(scope), image.ImageIdentifier).catch(() => undefined);
    if (!resolved?.digest || resolved.digest === r.imageDigest) return;
    work.serviceLog(scope, r)(`[AppRunner] ${image.ImageIdentifier} now points at ${resolved.digest}: deploying.`);
    work.startAutoDeployment(scope, r);
  };

  const pass = async () => {
    tick++;
    for (const { scope, doc } of collections.services.listAll()) {
      try {
        if (doc.Status === "OPERATION_IN_PROGRESS") await settleOperation(scope, doc);
        else if (doc.Status === "CREATE_FAILED" && doc.resources.ecsService) {
          if (!work.working.has(doc.ServiceId)) await work.finishTeardown(scope, doc.ServiceId);
        } else if (doc.Status === "RUNNING") {
          await scale(scope, doc);
          if (tick % opts.autoDeployEvery === 0)
            await autoDeploy(scope, collections.services.get(scope, doc.ServiceId)!);
        }
      } catch (err) {
        logger?.warn({ service: doc.ServiceArn, err: (err as Error).message }, "App Runner controller");
      }
    }
  };

  let loop: Periodic | undefined;
  return {
    pass,
    start() {
      loop = periodic(pass, { name: "App Runner", everyMs: 1000, logger, clock: deps.clock });
      void loop.start();
    },
    stop() {
      loop?.stop();
    },
  };
}
