import { ecsErrors } from "../../protocol/generated/errors/ecs.js";
import { arn } from "../../core/ids.js";
import { pageByKey, pageSize } from "../../core/paginate.js";
import type { Operations, TaskDefinition } from "../../protocol/generated/types/ecs.js";
import type { Provider } from "../../protocol/service.js";
import type { EcsContext } from "./context.js";
import type { TaskDefinitionRecord } from "../../store/schema/ecs.js";
import { checkTaskDefinition } from "./task-definition-rules.js";

const publicView = (d: TaskDefinitionRecord): TaskDefinition => ({ ...d });

export function taskDefinitionOperations(ecs: EcsContext): Provider<Operations> {
  return {
    RegisterTaskDefinition: (input, ctx) => {
      const normalized = checkTaskDefinition(input);
      const revisions = ecs.taskDefinitions.children(ctx, input.family);
      const revision = revisions.reduce((max, d) => Math.max(max, d.revision), 0) + 1;
      const record: TaskDefinitionRecord = {
        taskDefinitionArn: arn("ecs", ctx, `task-definition/${input.family}:${revision}`),
        family: input.family,
        revision,
        status: "ACTIVE",
        containerDefinitions: normalized.containerDefinitions,
        taskRoleArn: input.taskRoleArn,
        executionRoleArn: input.executionRoleArn,
        networkMode: normalized.networkMode,
        volumes: input.volumes ?? [],
        placementConstraints: input.placementConstraints ?? [],
        requiresCompatibilities: input.requiresCompatibilities,
        compatibilities: normalized.compatibilities,
        cpu: normalized.cpu,
        memory: normalized.memory,
        pidMode: input.pidMode,
        ipcMode: input.ipcMode,
        proxyConfiguration: input.proxyConfiguration,
        runtimePlatform: input.runtimePlatform,
        ephemeralStorage: input.ephemeralStorage,
        requiresAttributes: [],
        registeredAt: ecs.clock.now(),
        registeredBy: ctx.principal.arn,
        tags: input.tags ?? [],
      };
      ecs.taskDefinitions.put(ctx, record);
      return { taskDefinition: publicView(record), tags: record.tags };
    },

    DescribeTaskDefinition: (input, scope) => {
      const d = ecs.taskDefinition(scope, input.taskDefinition);
      return { taskDefinition: publicView(d), tags: input.include?.includes("TAGS") ? d.tags : undefined };
    },

    ListTaskDefinitions: (input, scope) => {
      const status = input.status ?? "ACTIVE";
      const all = ecs.taskDefinitions
        .list(scope)
        // Despite its name, ListTaskDefinitions' familyPrefix is the full family name (AWS's docs say so);
        // ListTaskDefinitionFamilies' is a true prefix.
        .filter((d) => d.status === status && (!input.familyPrefix || d.family === input.familyPrefix));
      const { page, nextToken } = pageByKey(all, (d) => [d.family, d.revision], {
        descending: input.sort === "DESC",
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 100 }),
      });
      const arns = page.map((d) => d.taskDefinitionArn);
      return { taskDefinitionArns: arns, nextToken };
    },

    ListTaskDefinitionFamilies: (input, scope) => {
      const status = input.status ?? "ACTIVE";
      const byFamily = new Map<string, boolean>();
      for (const d of ecs.taskDefinitions.list(scope)) {
        if (d.status === "DELETE_IN_PROGRESS") continue;
        byFamily.set(d.family, (byFamily.get(d.family) ?? false) || d.status === "ACTIVE");
      }
      const families = [...byFamily]
        .filter(([f, active]) => {
          if (input.familyPrefix && !f.startsWith(input.familyPrefix)) return false;
          return status === "ALL" || (status === "ACTIVE" ? active : !active);
        })
        .map(([f]) => f);
      const { page, nextToken } = pageByKey(families, (f) => [f], {
        nextToken: input.nextToken,
        limit: pageSize(input.maxResults, { default: 100, max: 100 }),
      });
      return { families: page, nextToken };
    },

    DeregisterTaskDefinition: (input, scope) => {
      if (!input.taskDefinition.includes(":"))
        throw ecsErrors.ClientException(
          `A revision is required: give 'family:revision' or the full ARN, not '${input.taskDefinition}'.`,
        );
      const d = ecs.taskDefinition(scope, input.taskDefinition);
      const updated: TaskDefinitionRecord = {
        ...d,
        status: "INACTIVE",
        deregisteredAt: d.deregisteredAt ?? ecs.clock.now(),
      };
      ecs.taskDefinitions.put(scope, updated);
      return { taskDefinition: publicView(updated) };
    },

    DeleteTaskDefinitions: (input, scope) => {
      if (input.taskDefinitions.length > 10)
        throw ecsErrors.InvalidParameterException("You can delete up to 10 task definitions per request.");
      const taskDefinitions: TaskDefinition[] = [];
      const failures = [];
      for (const ref of input.taskDefinitions) {
        let d: TaskDefinitionRecord;
        try {
          d = ecs.taskDefinition(scope, ref);
        } catch {
          failures.push({ arn: ref, reason: "The specified task definition does not exist." });
          continue;
        }
        if (d.status === "ACTIVE") {
          failures.push({
            arn: d.taskDefinitionArn,
            reason:
              "The specified task definition is still in ACTIVE status. Please deregister the target and try again.",
          });
          continue;
        }
        const updated: TaskDefinitionRecord = { ...d, status: "DELETE_IN_PROGRESS" };
        ecs.taskDefinitions.put(scope, updated);
        taskDefinitions.push(publicView(updated));
      }
      return { taskDefinitions, failures };
    },
  };
}
