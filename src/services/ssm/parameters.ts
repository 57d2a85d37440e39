import { isError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import { publicParameter } from "./public-parameters.js";
import { callerOf } from "../../iam/identity.js";
import type { Operations, Parameter, ParameterMetadata, Tag } from "../../protocol/generated/types/ssm.js";
import type { Provider } from "../../protocol/service.js";
import { latest, pageOf, requireByName, validation, view } from "./context.js";
import { checkFilters, matches } from "./filters.js";
import {
  type ParameterRecord,
  type ParameterStore,
  type ParameterType,
  type ParameterVersionRecord,
  arnOfParameter,
  parameterNotFound,
  parseParameterRef,
} from "./store.js";
import { TAG_LIMIT } from "./tags.js";
import { ssmErrors } from "../../protocol/generated/errors/ssm.js";

const NAME = /^[a-zA-Z0-9_.\-/]+$/;
const MAX_VERSIONS = 100;

/** AWS's naming rules for parameters. */
function checkName(name: string): string {
  if (!NAME.test(name) || name.length > 1011)
    throw validation(
      `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_ (got "${name}")`,
    );
  const bare = name.replace(/^\//, "").toLowerCase();
  if (bare.startsWith("aws") || bare.startsWith("ssm"))
    throw validation(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`);
  if (name.includes("/") && !name.startsWith("/")) throw validation("Parameter name must be a fully qualified name.");
  if (name.includes("//") || (name.length > 1 && name.endsWith("/")))
    throw validation(`Parameter name: "${name}" is not a valid hierarchy.`);
  if (name.split("/").length - 1 > 15)
    throw ssmErrors.HierarchyLevelLimitExceededException("Parameter name has more than 15 hierarchy levels.");
  return name;
}

/** PutParameter, GetParameter(s), GetParametersByPath, DeleteParameter(s), DescribeParameters. */
export function parameterOperations(ps: ParameterStore): Provider<Operations> {
  const meta = (p: ParameterRecord): ParameterMetadata => {
    const v = p.versions[p.versions.length - 1];
    return {
      Name: p.Name,
      ARN: p.ARN,
      Type: v.Type,
      KeyId: v.KeyId,
      LastModifiedDate: v.LastModifiedDate,
      LastModifiedUser: v.LastModifiedUser,
      Description: v.Description,
      AllowedPattern: v.AllowedPattern,
      Version: v.Version,
      Tier: v.Tier,
      Policies: [],
      DataType: v.DataType,
    };
  };
  const get = (scope: Scope, ref: string, decrypt: boolean) => {
    const r = parseParameterRef(scope, ref);
    const p = ps.find(r);
    if (!p) {
      const published = r.selector === undefined ? publicParameter(r.display, scope.region) : undefined;
      if (published) return published;
      throw parameterNotFound(r.display);
    }
    return view(ps, p, ps.version(p, r.selector, r.display), decrypt, r.selector);
  };

  return {
    PutParameter: (input, ctx) => {
      const name = checkName(input.Name);
      const type = input.Type as ParameterType | undefined;
      if (type !== undefined && !["String", "StringList", "SecureString"].includes(type))
        throw ssmErrors.UnsupportedParameterType(`Parameter type ${type} is not supported.`);
      if (input.Value.length === 0)
        throw validation(
          "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
      if (input.Policies !== undefined) checkParameterPolicies(input.Policies);
      const tier = input.Tier ?? "Standard";
      const limit = tier === "Advanced" ? 8192 : 4096;
      if (input.Value.length > limit)
        throw validation(
          `Standard tier parameters support a maximum parameter value of ${limit} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`,
        );
      if (input.AllowedPattern !== undefined) {
        let re: RegExp;
        try {
          re = new RegExp(`^(?:${input.AllowedPattern})$`);
        } catch {
          throw ssmErrors.InvalidAllowedPatternException(
            `The allowed pattern ${input.AllowedPattern} is not a valid regular expression.`,
          );
        }
        if (!re.test(input.Value))
          throw ssmErrors.ParameterPatternMismatchException(
            `Parameter value, cannot be validated against allowedPattern: ${input.AllowedPattern}`,
          );
      }
      const dataType = input.DataType ?? "text";
      if (!["text", "aws:ec2:image", "aws:ssm:integration"].includes(dataType))
        throw validation(
          `The following data type is not supported: ${dataType} (Data type names are text, aws:ec2:image and aws:ssm:integration).`,
        );
      const caller = callerOf(ctx);
      return ps.store.transaction(() => {
        const existing = ps.parameters.get(ctx, name);
        if (existing && !input.Overwrite)
          throw ssmErrors.ParameterAlreadyExists(
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
          );
        if (existing && input.Tags?.length)
          throw validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
          );
        const last = existing?.versions[existing.versions.length - 1];
        const finalType = type ?? last?.Type;
        if (!finalType) throw validation("A parameter type is required when you create a parameter.");
        const version: ParameterVersionRecord = {
          Version: (last?.Version ?? 0) + 1,
          Type: finalType,
          sealed: ps.seal(input.Value),
          Description: input.Description ?? last?.Description,
          AllowedPattern: input.AllowedPattern ?? last?.AllowedPattern,
          KeyId: finalType === "SecureString" ? (input.KeyId ?? "alias/aws/ssm") : undefined,
          Tier: tier,
          DataType: dataType,
          Labels: [],
          LastModifiedDate: ps.clock.now(),
          LastModifiedUser: caller.arn,
        };
        let versions = [...(existing?.versions ?? []), version];
        if (versions.length > MAX_VERSIONS) {
          if (versions[0].Labels.length)
            throw ssmErrors.ParameterMaxVersionLimitExceeded(
              `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${versions[0].Version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
            );
          versions = versions.slice(1);
        }
        const tags = (input.Tags ?? []).map((t: Tag) => ({ Key: t.Key, Value: t.Value }));
        if (tags.length > TAG_LIMIT.max) throw TAG_LIMIT.tooMany(tags.length);
        ps.parameters.put(ctx, { Name: name, ARN: arnOfParameter(ctx, name), Tags: existing?.Tags ?? tags, versions });
        return { Version: version.Version, Tier: tier };
      });
    },
    GetParameter: (input, ctx) => ({ Parameter: get(ctx, input.Name, input.WithDecryption ?? false) }),
    GetParameters: (input, ctx) => {
      const Parameters: Parameter[] = [];
      const InvalidParameters: string[] = [];
      for (const name of input.Names) {
        try {
          Parameters.push(get(ctx, name, input.WithDecryption ?? false));
        } catch (e) {
          if (isError(e, ssmErrors.ParameterNotFound) || isError(e, ssmErrors.ParameterVersionNotFound))
            InvalidParameters.push(name);
          else throw e;
        }
      }
      return { Parameters, InvalidParameters };
    },
    GetParametersByPath: (input, ctx) => {
      const path = input.Path;
      if (!path.startsWith("/"))
        throw validation(
          `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". (Path ${path})`,
        );
      checkFilters(input.ParameterFilters, ["Type", "KeyId", "Label"]);
      const base = path.endsWith("/") ? path : `${path}/`;
      const found = ps.parameters.list(ctx).filter((p) => {
        if (!p.Name.startsWith(base)) return false;
        if (!input.Recursive && p.Name.slice(base.length).includes("/")) return false;
        const v = p.versions[p.versions.length - 1];
        return (input.ParameterFilters ?? []).every((f) => matches(p, v, f, false));
      });
      const pg = pageOf(found, input.NextToken, input.MaxResults, 10, 10);
      return {
        Parameters: pg.page.map((p) => view(ps, p, latest(p), input.WithDecryption ?? false)),
        NextToken: pg.NextToken,
      };
    },
    DeleteParameter: (input, ctx) => {
      const p = requireByName(ps, ctx, input.Name);
      ps.parameters.delete(ctx, p.Name);
      return {};
    },
    DeleteParameters: (input, ctx) => {
      const DeletedParameters: string[] = [];
      const InvalidParameters: string[] = [];
      for (const name of input.Names) {
        const p = ps.find(parseParameterRef(ctx, name));
        if (p) {
          ps.parameters.delete(ctx, p.Name);
          DeletedParameters.push(name);
        } else InvalidParameters.push(name);
      }
      return { DeletedParameters, InvalidParameters };
    },
    DescribeParameters: (input, ctx) => {
      checkFilters(input.ParameterFilters, ["Name", "Type", "KeyId", "Path", "Tier", "DataType", "Label"]);
      const legacy = (input.Filters ?? []).map((f) => ({
        Key: f.Key,
        Option: f.Key === "Name" ? "BeginsWith" : "Equals",
        Values: f.Values,
      }));
      if (legacy.length && input.ParameterFilters?.length)
        throw validation("You can use either Filters or ParameterFilters in a single request.");
      const filters = [...legacy, ...(input.ParameterFilters ?? [])];
      const found = ps.parameters
        .list(ctx)
        .filter((p) => filters.every((f) => matches(p, p.versions[p.versions.length - 1], f, true)));
      const pg = pageOf(found, input.NextToken, input.MaxResults, 50, 10);
      return { Parameters: pg.page.map(meta), NextToken: pg.NextToken };
    },
  };
}

const POLICY_TYPES = ["Expiration", "ExpirationNotification", "NoChangeNotification"];

/** Parameter policies as SSM checks them: a JSON array of at most 10 policies of known types with attributes. */
export function checkParameterPolicies(text: string) {
  let policies: unknown;
  try {
    policies = JSON.parse(text);
  } catch {
    throw ssmErrors.InvalidPolicyAttributeException(
      "Invalid policies: the value is not valid JSON; give a JSON array of parameter policies.",
    );
  }
  if (!Array.isArray(policies))
    throw ssmErrors.InvalidPolicyAttributeException("Invalid policies: give a JSON array of parameter policies.");
  if (policies.length > 10)
    throw ssmErrors.PoliciesLimitExceededException("You can specify a maximum of 10 policies for a parameter.");
  for (const p of policies) {
    const type = (p as { Type?: unknown } | null)?.Type;
    if (typeof type !== "string" || !POLICY_TYPES.includes(type))
      throw ssmErrors.InvalidPolicyTypeException(
        `The following policy types are not supported: ${String(type).slice(0, 64)}. Supported types are ${POLICY_TYPES.join(", ")}.`,
      );
    const attributes = (p as { Attributes?: unknown }).Attributes;
    if (attributes === null || typeof attributes !== "object" || Array.isArray(attributes))
      throw ssmErrors.InvalidPolicyAttributeException(`A policy of type ${type} needs an Attributes object.`);
  }
}
