import { type Scope, arn } from "../core/ids.js";

/**
 * Which resource ARNs a call acts on, per service: the `Resource` IAM matches policies against.
 * Where Berth cannot name the resource (lists, account-level calls) the answer is `*`, as AWS
 * does for actions without resource types. Pure over the request input.
 */
export type ResourceResolver = (
  operation: string,
  input: Record<string, unknown>,
  scope: Scope,
  caller?: { userName?: string },
) => string[];

type Input = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const regional = arn;
const isArn = (v: string) => v.startsWith("arn:");

/** A resource ARN named by the usual `resourceArn`-like members, when the input has one. */
function genericArn(input: Input): string[] | undefined {
  for (const key of ["resourceArn", "ResourceArn", "ResourceARN", "resourceARN", "arn", "Arn"]) {
    const v = str(input[key]);
    if (v && isArn(v)) return [v];
  }
  return undefined;
}

// ---- ECS --------------------------------------------------------------------------------

const clusterName = (ref: unknown) => {
  const v = str(ref) ?? "default";
  return isArn(v) ? v.split("/").pop()! : v;
};
const ecsCluster = (s: Scope, ref: unknown) => {
  const v = str(ref);
  return v && isArn(v) ? v : regional("ecs", s, `cluster/${clusterName(ref)}`);
};
const ecsTask = (s: Scope, cluster: unknown, ref: string) =>
  isArn(ref) ? ref : regional("ecs", s, `task/${clusterName(cluster)}/${ref}`);
const ecsService = (s: Scope, cluster: unknown, ref: string) =>
  isArn(ref) ? ref : regional("ecs", s, `service/${clusterName(cluster)}/${ref}`);
const ecsTaskDefinition = (s: Scope, ref: string) => (isArn(ref) ? ref : regional("ecs", s, `task-definition/${ref}`));

export const ecsResources: ResourceResolver = (op, input, s) => {
  switch (op) {
    case "CreateCluster":
      return [ecsCluster(s, input.clusterName)];
    case "DeleteCluster":
    case "UpdateCluster":
    case "UpdateClusterSettings":
    case "PutClusterCapacityProviders":
    case "ListServices":
    case "ListTasks":
    case "ListContainerInstances":
      return [ecsCluster(s, input.cluster)];
    case "DescribeClusters": {
      const list = strs(input.clusters);
      return list.length ? list.map((c) => ecsCluster(s, c)) : [ecsCluster(s, undefined)];
    }
    case "RunTask":
    case "StartTask":
    case "DeregisterTaskDefinition": {
      const td = str(input.taskDefinition);
      return td ? [ecsTaskDefinition(s, td)] : ["*"];
    }
    case "DeleteTaskDefinitions":
      return strs(input.taskDefinitions).map((t) => ecsTaskDefinition(s, t));
    case "StopTask":
    case "ExecuteCommand": {
      const t = str(input.task);
      return t ? [ecsTask(s, input.cluster, t)] : ["*"];
    }
    case "DescribeTasks":
    case "GetTaskProtection":
    case "UpdateTaskProtection":
      return strs(input.tasks).map((t) => ecsTask(s, input.cluster, t));
    case "CreateService":
      return [ecsService(s, input.cluster, str(input.serviceName) ?? "")];
    case "UpdateService":
    case "DeleteService": {
      const sv = str(input.service);
      return sv ? [ecsService(s, input.cluster, sv)] : ["*"];
    }
    case "DescribeServices":
      return strs(input.services).map((sv) => ecsService(s, input.cluster, sv));
    default:
      return genericArn(input) ?? ["*"];
  }
};

// ---- ECR --------------------------------------------------------------------------------

export const ecrResources: ResourceResolver = (op, input, s) => {
  const account = str(input.registryId) ?? s.account;
  const repo = (name: string) => arn("ecr", { region: s.region, account }, `repository/${name}`);
  if (op === "GetAuthorizationToken") return ["*"];
  const name = str(input.repositoryName);
  if (name) return [repo(name)];
  const names = strs(input.repositoryNames);
  if (names.length) return names.map(repo);
  return genericArn(input) ?? ["*"];
};

// ---- CloudWatch Logs ----------------------------------------------------------------------

export const logsResources: ResourceResolver = (_op, input, s) => {
  const group = str(input.logGroupName) ?? str(input.logGroupIdentifier);
  if (group && isArn(group)) return [group.replace(/:\*$/, "")];
  const stream = str(input.logStreamName);
  if (group && stream) return [regional("logs", s, `log-group:${group}:log-stream:${stream}`)];
  if (group) return [regional("logs", s, `log-group:${group}`)];
  return genericArn(input) ?? ["*"];
};

// ---- SSM Parameter Store --------------------------------------------------------------------

/** `name`, `name:3`, `name:label` or an ARN → the parameter's ARN. */
export function parameterArn(s: Scope, ref: string): string {
  if (isArn(ref)) return ref.replace(/(:parameter\/[^:]*):[^/:]+$/, "$1");
  const name = ref.replace(/:[^/:]+$/, "");
  return regional("ssm", s, `parameter${name.startsWith("/") ? name : `/${name}`}`);
}

export const ssmResources: ResourceResolver = (op, input, s) => {
  const name = str(input.Name);
  if (name) return [parameterArn(s, name)];
  const names = strs(input.Names);
  if (names.length) return names.map((n) => parameterArn(s, n));
  const path = str(input.Path);
  if (path) return [parameterArn(s, path.length > 1 ? path.replace(/\/$/, "") : path)];
  if (
    (op === "AddTagsToResource" || op === "RemoveTagsFromResource" || op === "ListTagsForResource") &&
    input.ResourceType === "Parameter"
  ) {
    const id = str(input.ResourceId);
    if (id) return [parameterArn(s, id)];
  }
  return ["*"];
};

// ---- IAM ------------------------------------------------------------------------------------

/** IAM resolution needs the stored path of roles and users; the provider module supplies it. */
export interface IamNames {
  roleArn(account: string, name: string): string;
  userArn(account: string, name: string): string;
  groupArn(account: string, name: string): string;
  instanceProfileArn(account: string, name: string): string;
}

export function iamResolver(names: IamNames): ResourceResolver {
  return (op, input, s, caller) => {
    const out: string[] = [];
    const role = str(input.RoleName);
    if (role) out.push(names.roleArn(s.account, role));
    const user = str(input.UserName);
    if (user) out.push(names.userArn(s.account, user));
    const group = str(input.GroupName);
    if (group) out.push(names.groupArn(s.account, group));
    const profile = str(input.InstanceProfileName);
    if (profile && !role) out.push(names.instanceProfileArn(s.account, profile));
    const policy = str(input.PolicyArn);
    if (policy && !role && !user && !group) out.push(policy);
    if (out.length) return out;
    // GetUser, ListAccessKeys, … without a UserName act on the calling user.
    if (caller?.userName && /User|AccessKey/.test(op)) return [names.userArn(s.account, caller.userName)];
    const kind = /^List(Roles|Users|Groups|Policies|InstanceProfiles)$/.exec(op)?.[1];
    if (kind) {
      const type = {
        Roles: "role",
        Users: "user",
        Groups: "group",
        Policies: "policy",
        InstanceProfiles: "instance-profile",
      }[kind];
      return [`arn:aws:iam::${s.account}:${type}/`];
    }
    return ["*"];
  };
}

/** Everything else: an ARN member if the input names one, otherwise `*`. */
export const genericResolver: ResourceResolver = (_op, input) => genericArn(input) ?? ["*"];
