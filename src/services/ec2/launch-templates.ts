import type { Scope } from "../../core/ids.js";
import type { LaunchTemplate, Operations, ResponseLaunchTemplateData } from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { LaunchTemplateRecord } from "../../store/schema/ec2.js";
import { type Ec2Context, newId, pageOf, requireAll, tagsFor } from "./context.js";
import { ec2Errors } from "./errors.js";
import { applyFilters } from "./filters.js";

const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;

const view = (t: LaunchTemplateRecord): LaunchTemplate => ({
  LaunchTemplateId: t.LaunchTemplateId,
  LaunchTemplateName: t.LaunchTemplateName,
  CreateTime: t.CreateTime,
  CreatedBy: t.CreatedBy,
  DefaultVersionNumber: t.DefaultVersionNumber,
  LatestVersionNumber: Math.max(...t.Versions.map((v) => v.VersionNumber)),
  Tags: t.Tags,
});

/**
 * Which versions a Versions list names: numbers, `$Latest`, `$Default`; every one must exist.
 * Without a list, all of them (or those between MinVersion and MaxVersion).
 */
export function selectVersions(
  t: LaunchTemplateRecord,
  input: { Versions?: string[]; MinVersion?: string; MaxVersion?: string },
): LaunchTemplateRecord["Versions"] {
  const latest = Math.max(...t.Versions.map((v) => v.VersionNumber));
  if (input.Versions?.length) {
    const wanted = input.Versions.map((v) => {
      const n =
        v === "$Latest" ? latest : v === "$Default" ? t.DefaultVersionNumber : /^\d+$/.test(v) ? Number(v) : Number.NaN;
      const version = t.Versions.find((x) => x.VersionNumber === n);
      if (!version)
        throw ec2Errors.InvalidLaunchTemplateIdVersionNotFound(
          `Could not find launch template version ${v} for launch template ${t.LaunchTemplateId}`,
        );
      return version;
    });
    return [...new Set(wanted)];
  }
  const min = input.MinVersion !== undefined ? Number(input.MinVersion) : 0;
  const max = input.MaxVersion !== undefined ? Number(input.MaxVersion) : Number.MAX_SAFE_INTEGER;
  if (Number.isNaN(min) || Number.isNaN(max))
    throw ec2Errors.InvalidParameterValue("MinVersion and MaxVersion must be version numbers.");
  return t.Versions.filter((v) => v.VersionNumber >= min && v.VersionNumber <= max);
}

const byName = (ec2: Ec2Context, scope: Scope, name: string) =>
  ec2.records.launchTemplates.list(scope).find((t) => t.LaunchTemplateName === name);

/** The launch template a request names by id or name, or EC2's NotFound / MissingParameter error. */
export function findLaunchTemplate(
  ec2: Ec2Context,
  scope: Scope,
  input: { LaunchTemplateId?: string; LaunchTemplateName?: string },
): LaunchTemplateRecord {
  if (input.LaunchTemplateId) {
    const t = ec2.records.launchTemplates.get(scope, input.LaunchTemplateId);
    if (!t)
      throw ec2Errors.InvalidLaunchTemplateIdNotFound(
        `The specified launch template, with template ID ${input.LaunchTemplateId}, does not exist.`,
      );
    return t;
  }
  if (!input.LaunchTemplateName)
    throw ec2Errors.MissingParameter("The request must contain the parameter launchTemplateName or launchTemplateId");
  const t = byName(ec2, scope, input.LaunchTemplateName);
  if (!t)
    throw ec2Errors.InvalidLaunchTemplateNameNotFound(
      `The specified launch template, with template name ${input.LaunchTemplateName}, does not exist.`,
    );
  return t;
}

export function launchTemplateOperations(ec2: Ec2Context): Provider<Operations> {
  const find = (scope: Scope, input: { LaunchTemplateId?: string; LaunchTemplateName?: string }) =>
    findLaunchTemplate(ec2, scope, input);

  return {
    CreateLaunchTemplate: (input, ctx) => {
      if (!NAME.test(input.LaunchTemplateName))
        throw ec2Errors.InvalidLaunchTemplateNameMalformed(
          "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'",
        );
      const tags = tagsFor(input.TagSpecifications, "launch-template");
      const record = ec2.store.transaction(() => {
        if (byName(ec2, ctx, input.LaunchTemplateName))
          throw ec2Errors.InvalidLaunchTemplateNameAlreadyExists(`Launch template name already in use.`);
        const now = new Date();
        const t: LaunchTemplateRecord = {
          LaunchTemplateId: newId("lt"),
          LaunchTemplateName: input.LaunchTemplateName,
          CreateTime: now,
          CreatedBy: ctx.principal.arn,
          DefaultVersionNumber: 1,
          Versions: [
            {
              VersionNumber: 1,
              VersionDescription: input.VersionDescription,
              CreateTime: now,
              Data: input.LaunchTemplateData,
            },
          ],
          Tags: tags,
        };
        return ec2.records.launchTemplates.put(ctx, t, { expect: 0 });
      });
      return { LaunchTemplate: view(record) };
    },

    DescribeLaunchTemplates: (input, ctx) => {
      let all = requireAll(
        ec2.records.launchTemplates.list(ctx),
        input.LaunchTemplateIds,
        (t) => t.LaunchTemplateId,
        (id) =>
          ec2Errors.InvalidLaunchTemplateIdNotFound(
            `The specified launch template, with template ID ${id}, does not exist.`,
          ),
      );
      if (input.LaunchTemplateNames?.length)
        all = input.LaunchTemplateNames.map((name) => {
          const t = all.find((x) => x.LaunchTemplateName === name);
          if (!t)
            throw ec2Errors.InvalidLaunchTemplateNameNotFound(
              `At least one of the launch templates specified in the request does not exist.`,
            );
          return t;
        });
      const filtered = applyFilters(all, input.Filters, {
        names: {
          "launch-template-name": (t) => [t.LaunchTemplateName],
          "create-time": (t) => [t.CreateTime.toISOString()],
        },
        tags: (t) => t.Tags,
      });
      const { page, nextToken } = pageOf(filtered, (t) => t.LaunchTemplateId, input, { min: 1, max: 200 });
      return { LaunchTemplates: page.map(view), NextToken: nextToken };
    },

    DescribeLaunchTemplateVersions: (input, ctx) => {
      const t = find(ctx, input);
      const versions = selectVersions(t, input).map((v) => ({
        LaunchTemplateId: t.LaunchTemplateId,
        LaunchTemplateName: t.LaunchTemplateName,
        VersionNumber: v.VersionNumber,
        VersionDescription: v.VersionDescription,
        CreateTime: v.CreateTime,
        CreatedBy: t.CreatedBy,
        DefaultVersion: v.VersionNumber === t.DefaultVersionNumber,
        // The request and response data shapes share their member names; the serializer keeps those.
        LaunchTemplateData: v.Data as ResponseLaunchTemplateData,
      }));
      const { page, nextToken } = pageOf(versions, (v) => String(v.VersionNumber).padStart(10, "0"), input, {
        min: 1,
        max: 200,
      });
      return { LaunchTemplateVersions: page, NextToken: nextToken };
    },

    DeleteLaunchTemplate: (input, ctx) => {
      const t = ec2.store.transaction(() => {
        const found = find(ctx, input);
        ec2.records.launchTemplates.delete(ctx, found.LaunchTemplateId);
        return found;
      });
      return { LaunchTemplate: view(t) };
    },
  };
}
