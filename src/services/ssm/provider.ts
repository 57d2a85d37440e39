import type { Clock } from "../../core/clock.js";
import { ServiceError } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import { callerOf } from "../../iam/identity.js";
import type { SecretBox } from "../../iam/secret-box.js";
import type {
  Operations,
  Parameter,
  ParameterMetadata,
  ParameterStringFilter,
  Tag,
} from "../../protocol/generated/types/ssm.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import type { Provider } from "../../protocol/service.js";
import {
  type ParameterRecord,
  ParameterStore,
  type ParameterType,
  type ParameterVersionRecord,
  arnOfParameter,
  parameterNotFound,
  parseParameterRef,
} from "./store.js";

const validation = (message: string) => new ServiceError("ValidationException", message);
const NAME = /^[a-zA-Z0-9_.\-/]+$/;
const LABEL = /^[a-zA-Z0-9_.-]+$/;
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
    throw new ServiceError("HierarchyLevelLimitExceededException", "Parameter name has more than 15 hierarchy levels.");
  return name;
}

function token(name: string) {
  return Buffer.from(JSON.stringify(["p1", name])).toString("base64url");
}
function afterToken(t: string | undefined): string | undefined {
  if (t === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(t, "base64url").toString("utf8"));
    if (Array.isArray(v) && v[0] === "p1" && typeof v[1] === "string") return v[1];
  } catch {
    // fall through
  }
  throw new ServiceError("InvalidNextToken", "The specified token isn't valid.");
}

function pageOf<T extends { Name: string }>(
  items: T[],
  nextToken: string | undefined,
  max: number | undefined,
  limit: number,
  dflt: number,
) {
  const size = max ?? dflt;
  if (!Number.isInteger(size) || size < 1 || size > limit)
    throw validation(
      `1 validation error detected: Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`,
    );
  const after = afterToken(nextToken);
  const sorted = [...items].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  const start = after === undefined ? 0 : sorted.findIndex((x) => x.Name > after);
  const from = start < 0 ? sorted.length : start;
  const page = sorted.slice(from, from + size);
  return { page, NextToken: from + size < sorted.length ? token(page[page.length - 1].Name) : undefined };
}

function matches(p: ParameterRecord, v: ParameterVersionRecord, f: ParameterStringFilter, allowPath: boolean): boolean {
  const key = f.Key;
  const option = f.Option ?? "Equals";
  const values = f.Values ?? [];
  const test = (actual: string) => {
    if (option === "Equals") return values.includes(actual);
    if (option === "BeginsWith") return values.some((x) => actual.startsWith(x));
    if (option === "Contains") return values.some((x) => actual.includes(x));
    return false;
  };
  if (key === "Name")
    return (
      test(p.Name) || test(p.Name.replace(/^\//, "")) || (option === "Equals" && values.some((x) => `/${x}` === p.Name))
    );
  if (key === "Type") return test(v.Type);
  if (key === "KeyId") return v.KeyId !== undefined && test(v.KeyId);
  if (key === "Tier") return test(v.Tier);
  if (key === "DataType") return test(v.DataType);
  if (key === "Label") return p.versions.some((x) => x.Labels.some((l) => test(l)));
  if (key === "Path" && allowPath) {
    return values.some((path) => {
      const base = path.endsWith("/") ? path : `${path}/`;
      if (!p.Name.startsWith(base)) return false;
      return option === "Recursive" || !p.Name.slice(base.length).includes("/");
    });
  }
  if (key.startsWith("tag:")) {
    const tag = p.Tags.find((t) => t.Key === key.slice(4));
    return !!tag && (values.length === 0 || values.includes(tag.Value));
  }
  return false;
}

function checkFilters(filters: ParameterStringFilter[] | undefined, allowed: string[]) {
  for (const f of filters ?? []) {
    if (!allowed.includes(f.Key) && !f.Key.startsWith("tag:"))
      throw new ServiceError(
        "InvalidFilterKey",
        `The following filter key is not valid: ${f.Key}. Valid filter keys include: [${allowed.join(", ")}].`,
      );
    const opts =
      f.Key === "Path"
        ? ["Recursive", "OneLevel"]
        : f.Key === "Name"
          ? ["Equals", "BeginsWith", "Contains"]
          : f.Key.startsWith("tag:")
            ? ["Equals"]
            : ["Equals", "BeginsWith"];
    if (f.Option !== undefined && !opts.includes(f.Option))
      throw new ServiceError(
        "InvalidFilterOption",
        `The following filter option is not valid: ${f.Option}. Valid options include: [${opts.join(", ")}].`,
      );
    if (!f.Key.startsWith("tag:") && (!f.Values || f.Values.length === 0))
      throw new ServiceError(
        "InvalidFilterValue",
        `The following filter values are missing : null for filter key ${f.Key}.`,
      );
  }
}

export interface SsmDeps {
  store: DocumentStore;
  box: SecretBox;
  clock: Clock;
}

/** SSM Parameter Store (awsJson1_1, target prefix AmazonSSM). */
export function ssmService(deps: SsmDeps) {
  const ps = new ParameterStore(deps.store, deps.box, deps.clock);

  const view = (p: ParameterRecord, v: ParameterVersionRecord, decrypt: boolean, selector?: string): Parameter => ({
    Name: p.Name,
    Type: v.Type,
    Value: v.Type === "SecureString" && !decrypt ? v.sealed : ps.open(v),
    Version: v.Version,
    Selector: selector !== undefined ? `:${selector}` : undefined,
    LastModifiedDate: v.LastModifiedDate,
    ARN: p.ARN,
    DataType: v.DataType,
  });
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
    if (!p) throw parameterNotFound(r.display);
    return view(p, ps.version(p, r.selector, r.display), decrypt, r.selector);
  };
  const requireByName = (scope: Scope, name: string) => {
    const r = parseParameterRef(scope, name);
    const p = ps.find(r);
    if (!p) throw parameterNotFound(name);
    return p;
  };
  const resourceParameter = (scope: Scope, type: string, id: string) => {
    if (type !== "Parameter")
      throw new ServiceError(
        "InvalidResourceType",
        `Berth's SSM supports tags on Parameter resources only, not ${type}.`,
      );
    const p = ps.find(parseParameterRef(scope, id));
    if (!p)
      throw new ServiceError(
        "InvalidResourceId",
        "The resource ID is not valid. Verify that you entered the correct ID and try again.",
      );
    return p;
  };

  const provider: Provider<Operations> = {
    PutParameter: (input, ctx) => {
      const name = checkName(input.Name);
      const type = input.Type as ParameterType | undefined;
      if (type !== undefined && !["String", "StringList", "SecureString"].includes(type))
        throw new ServiceError("UnsupportedParameterType", `Parameter type ${type} is not supported.`);
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
          throw new ServiceError(
            "InvalidAllowedPatternException",
            `The allowed pattern ${input.AllowedPattern} is not a valid regular expression.`,
          );
        }
        if (!re.test(input.Value))
          throw new ServiceError(
            "ParameterPatternMismatchException",
            `Parameter value, cannot be validated against allowedPattern: ${input.AllowedPattern}`,
          );
      }
      const dataType = input.DataType ?? "text";
      if (!["text", "aws:ec2:image", "aws:ssm:integration"].includes(dataType))
        throw validation(
          `The following data type is not supported: ${dataType} (Data type names are text, aws:ec2:image and aws:ssm:integration).`,
        );
      const caller = callerOf(ctx);
      return deps.store.transaction(() => {
        const existing = ps.parameters.get(ctx, name);
        if (existing && !input.Overwrite)
          throw new ServiceError(
            "ParameterAlreadyExists",
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
          LastModifiedDate: deps.clock.now(),
          LastModifiedUser: caller.arn,
        };
        let versions = [...(existing?.versions ?? []), version];
        if (versions.length > MAX_VERSIONS) {
          if (versions[0].Labels.length)
            throw new ServiceError(
              "ParameterMaxVersionLimitExceeded",
              `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${versions[0].Version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
            );
          versions = versions.slice(1);
        }
        const tags = (input.Tags ?? []).map((t: Tag) => ({ Key: t.Key, Value: t.Value }));
        if (tags.length > 50)
          throw new ServiceError("TooManyTagsError", "The Tags parameter contains more than 50 tags.");
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
          if (e instanceof ServiceError && (e.code === "ParameterNotFound" || e.code === "ParameterVersionNotFound"))
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
        Parameters: pg.page.map((p) => view(p, p.versions[p.versions.length - 1], input.WithDecryption ?? false)),
        NextToken: pg.NextToken,
      };
    },
    DeleteParameter: (input, ctx) => {
      const p = requireByName(ctx, input.Name);
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
    GetParameterHistory: (input, ctx) => {
      const p = requireByName(ctx, input.Name);
      const withDecryption = input.WithDecryption ?? false;
      const history = p.versions.map((v) => ({
        Name: p.Name,
        Type: v.Type,
        KeyId: v.KeyId,
        LastModifiedDate: v.LastModifiedDate,
        LastModifiedUser: v.LastModifiedUser,
        Description: v.Description,
        Value: v.Type === "SecureString" && !withDecryption ? v.sealed : ps.open(v),
        AllowedPattern: v.AllowedPattern,
        Version: v.Version,
        Labels: v.Labels,
        Tier: v.Tier,
        Policies: [],
        DataType: v.DataType,
      }));
      const size = input.MaxResults ?? 50;
      if (!Number.isInteger(size) || size < 1 || size > 50)
        throw validation(
          `1 validation error detected: Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50`,
        );
      let start = 0;
      if (input.NextToken !== undefined) {
        const after = afterToken(input.NextToken)!;
        start = history.findIndex((h) => String(h.Version) === after) + 1;
        if (start <= 0) throw new ServiceError("InvalidNextToken", "The specified token isn't valid.");
      }
      const page = history.slice(start, start + size);
      return {
        Parameters: page,
        NextToken: start + size < history.length ? token(String(page[page.length - 1].Version)) : undefined,
      };
    },
    LabelParameterVersion: (input, ctx) =>
      deps.store.transaction(() => {
        const p = requireByName(ctx, input.Name);
        const versionNo = input.ParameterVersion ?? p.versions[p.versions.length - 1].Version;
        const target = p.versions.find((v) => v.Version === versionNo);
        if (!target)
          throw new ServiceError(
            "ParameterVersionNotFound",
            `Systems Manager could not find version ${versionNo} of ${p.Name}. Verify the version and try again.`,
          );
        const invalid = input.Labels.filter(
          (l) => l.length > 100 || !LABEL.test(l) || /^\d/.test(l) || /^(aws|ssm)/i.test(l),
        );
        const valid = input.Labels.filter((l) => !invalid.includes(l));
        const labels = [...new Set([...target.Labels, ...valid])];
        if (labels.length > 10)
          throw new ServiceError(
            "ParameterVersionLabelLimitExceeded",
            "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
          );
        const versions = p.versions.map((v) =>
          v.Version === versionNo
            ? { ...v, Labels: labels }
            : { ...v, Labels: v.Labels.filter((l) => !valid.includes(l)) },
        );
        ps.parameters.put(ctx, { ...p, versions });
        return { InvalidLabels: invalid, ParameterVersion: versionNo };
      }),
    UnlabelParameterVersion: (input, ctx) =>
      deps.store.transaction(() => {
        const p = requireByName(ctx, input.Name);
        const target = p.versions.find((v) => v.Version === input.ParameterVersion);
        if (!target)
          throw new ServiceError(
            "ParameterVersionNotFound",
            `Systems Manager could not find version ${input.ParameterVersion} of ${p.Name}. Verify the version and try again.`,
          );
        const RemovedLabels = input.Labels.filter((l) => target.Labels.includes(l));
        const InvalidLabels = input.Labels.filter((l) => !target.Labels.includes(l));
        const versions = p.versions.map((v) =>
          v.Version === input.ParameterVersion
            ? { ...v, Labels: v.Labels.filter((l) => !RemovedLabels.includes(l)) }
            : v,
        );
        ps.parameters.put(ctx, { ...p, versions });
        return { RemovedLabels, InvalidLabels };
      }),
    AddTagsToResource: (input, ctx) =>
      deps.store.transaction(() => {
        const p = resourceParameter(ctx, input.ResourceType, input.ResourceId);
        const tags = new Map(p.Tags.map((t) => [t.Key, t.Value]));
        for (const t of input.Tags) tags.set(t.Key, t.Value);
        if (tags.size > 50)
          throw new ServiceError("TooManyTagsError", "The Tags parameter contains more than 50 tags.");
        ps.parameters.put(ctx, { ...p, Tags: [...tags].map(([Key, Value]) => ({ Key, Value })) });
        return {};
      }),
    RemoveTagsFromResource: (input, ctx) => {
      const p = resourceParameter(ctx, input.ResourceType, input.ResourceId);
      ps.parameters.put(ctx, { ...p, Tags: p.Tags.filter((t) => !input.TagKeys.includes(t.Key)) });
      return {};
    },
    ListTagsForResource: (input, ctx) => ({
      TagList: resourceParameter(ctx, input.ResourceType, input.ResourceId).Tags,
    }),
  };

  return { service: defineService("ssm", provider, { validationCode: "ValidationException" }), parameters: ps };
}
