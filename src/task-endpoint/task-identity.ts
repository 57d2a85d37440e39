import type { Scope } from "../core/ids.js";
import type { Authorizer } from "../iam/authorizer.js";
import { type CallerIdentity, sessionIdentity } from "../iam/identity.js";
import type { RoleSessions } from "../iam/sessions.js";
import type { ContainerDefinition } from "../protocol/generated/types/ecs.js";
import type { RegistryAuth } from "../runtime/runtime.js";
import type { TaskRecord } from "../store/schema/ecs.js";
import { parameterArn } from "../iam/resources.js";
import type { EndpointIds } from "./endpoint-ids.js";

/** What a container gets from identity before it is created. */
export interface PreparedContainer {
  /** Variables the container definition's `environment` may override (AWS_ENDPOINT_URL). */
  defaults: Record<string, string>;
  /** Variables that win over the definition: credential and metadata URIs, resolved `secrets`. */
  overrides: Record<string, string>;
  /** Credentials for a private registry (`repositoryCredentials`). */
  registryAuth?: RegistryAuth;
}

/** The task controller's view of identity: called before each container is created. */
export interface TaskIdentityHooks {
  /**
   * Checks what the execution role must allow (image pulls from Berth's ECR, awslogs, secrets),
   * resolves `secrets` and `repositoryCredentials`, and names the credential and metadata
   * endpoints. Throws an Error whose message is the task's stoppedReason when the task cannot start.
   */
  prepareContainer(task: TaskRecord, scope: Scope, container: string): Promise<PreparedContainer>;
}

/** Where containers reach the task endpoint, once it listens. */
export interface TaskEndpointInfo {
  /** `http://169.254.170.2` (or with a port). */
  baseUrl: string;
  /** Port 80: the SDKs' relative credential URI works; otherwise the full URI is given. */
  relativeUri: boolean;
}

/** Where container `secrets` come from: SSM parameters and Secrets Manager secrets by `valueFrom`. */
export interface SecretValues {
  /** The value a `valueFrom` names and the ARN it resolves to; throws a ServiceError when there is none. */
  resolve(scope: Scope, valueFrom: string): { arn: string; value: string };
}

export interface TaskIdentityDeps {
  authorizer: Authorizer;
  sessions: RoleSessions;
  parameters: SecretValues;
  /** Secrets Manager also finds a secret by its ARN without version suffixes (for the permission check). */
  secrets: SecretValues & { find(scope: Scope, id: string): { ARN: string } | undefined };
  ids: EndpointIds;
  endpoint: () => TaskEndpointInfo | undefined;
  /** The account and region of an image in Berth's own registry (ECR), else undefined. */
  berthImage?: (image: string) => Scope | undefined;
}

export const ECS_TASKS = "ecs-tasks.amazonaws.com";
/** ECS hands tasks credentials valid for about six hours and refreshes them well before. */
export const TASK_CREDENTIALS_SEC = 6 * 60 * 60;

const SECRETS_PREFIX =
  "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed";

export const unableToAssume = (roleArn: string) =>
  `ECS was unable to assume the role '${roleArn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`;

/** `host[:port]/name[:tag|@digest]` → name. */
function repositoryName(image: string): string {
  const noDigest = image.split("@")[0];
  const path = noDigest.split("/").slice(1).join("/");
  const colon = path.lastIndexOf(":");
  return colon > path.lastIndexOf("/") ? path.slice(0, colon) : path;
}

/**
 * Task and execution roles for the task controller: what the execution role may do decides
 * whether a task can start; the task role's credentials are served by the task endpoint.
 */
export class TaskIdentity implements TaskIdentityHooks {
  constructor(private readonly d: TaskIdentityDeps) {}

  /** The ECS service assumes a role for a task: the role's trust policy must allow ecs-tasks.amazonaws.com. */
  assumeForTask(task: TaskRecord, scope: Scope, roleArn: string, durationSec = TASK_CREDENTIALS_SEC) {
    return this.d.sessions.assume(
      { kind: "service", service: ECS_TASKS, account: scope.account },
      {
        roleArn,
        sessionName: task.taskArn.split("/").pop()!,
        durationSec,
        context: { "aws:sourcearn": [task.taskArn], "aws:sourceaccount": [scope.account] },
        region: scope.region,
      },
    );
  }

  private executionIdentity(task: TaskRecord, scope: Scope): CallerIdentity | undefined {
    const arn = task.spec.executionRoleArn;
    if (!arn) return undefined;
    const out = this.assumeForTask(task, scope, arn, 900);
    if (!out.ok) throw new Error(`ResourceInitializationError: ${unableToAssume(arn)}`);
    return sessionIdentity(out.claims);
  }

  private need(caller: CallerIdentity, action: string, resource: string, region: string, prefix: string) {
    const r = this.d.authorizer.check(caller, action, resource, { region });
    if (!r.allowed) throw new Error(`${prefix}: AccessDeniedException: ${r.message}`);
  }

  async prepareContainer(task: TaskRecord, scope: Scope, name: string): Promise<PreparedContainer> {
    const def = task.spec.containers.find((c) => c.name === name);
    if (!def) throw new Error(`CannotCreateContainerError: no container definition named ${name}`);
    const exec = this.executionIdentity(task, scope);
    if (exec) {
      this.checkPull(exec, def, scope);
      this.checkLogs(exec, task, def, scope);
    }
    const overrides: Record<string, string> = {};
    const defaults: Record<string, string> = {};
    const secrets = def.secrets ?? [];
    if (secrets.length && !exec)
      throw new Error(
        `${SECRETS_PREFIX}: the container '${name}' has secrets but the task has no executionRoleArn; ECS reads secrets with the task execution role`,
      );
    for (const s of secrets) overrides[s.name] = this.secretValue(exec!, s.valueFrom, scope);
    let registryAuth: RegistryAuth | undefined;
    const credentialsParameter = def.repositoryCredentials?.credentialsParameter;
    if (credentialsParameter) {
      if (!exec)
        throw new Error(
          `${SECRETS_PREFIX}: repositoryCredentials need an executionRoleArn with secretsmanager:GetSecretValue on ${credentialsParameter}`,
        );
      registryAuth = this.repositoryAuth(exec, def.image ?? "", credentialsParameter, scope);
    }

    if (task.spec.taskRoleArn) {
      // Check now that ECS can assume it, so a task whose role is unusable does not start.
      const out = this.assumeForTask(task, scope, task.spec.taskRoleArn, 900);
      if (!out.ok) throw new Error(`ResourceInitializationError: ${unableToAssume(task.spec.taskRoleArn)}`);
    }
    const endpoint = this.d.endpoint();
    if (endpoint) {
      defaults.AWS_ENDPOINT_URL = endpoint.baseUrl;
      const meta = this.d.ids.metadata(task.taskArn, name);
      overrides.ECS_CONTAINER_METADATA_URI_V4 = `${endpoint.baseUrl}/v4/${meta}`;
      overrides.ECS_CONTAINER_METADATA_URI = `${endpoint.baseUrl}/v3/${meta}`;
      if (task.spec.taskRoleArn) {
        const path = `/v2/credentials/${this.d.ids.credentials(task.taskArn)}`;
        if (endpoint.relativeUri) overrides.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = path;
        else overrides.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${endpoint.baseUrl}${path}`;
      }
    }
    return { defaults, overrides, registryAuth };
  }

  private checkPull(exec: CallerIdentity, def: ContainerDefinition, scope: Scope) {
    const image = def.image ?? "";
    const registry = this.d.berthImage?.(image);
    if (!registry || image.split("/")[1] === "public.ecr.aws") return;
    const repo = `arn:aws:ecr:${registry.region}:${registry.account}:repository/${repositoryName(image)}`;
    this.need(
      exec,
      "ecr:GetAuthorizationToken",
      "*",
      scope.region,
      `${SECRETS_PREFIX}: unable to retrieve ecr registry auth: service call has been retried 3 time(s)`,
    );
    for (const action of ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
      this.need(
        exec,
        action,
        repo,
        registry.region,
        `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${image}`,
      );
  }

  private checkLogs(exec: CallerIdentity, task: TaskRecord, def: ContainerDefinition, scope: Scope) {
    const cfg = def.logConfiguration;
    if (cfg?.logDriver !== "awslogs") return;
    const o = cfg.options ?? {};
    const group = o["awslogs-group"];
    if (!group) return; // the controller reports the missing group itself
    const region = o["awslogs-region"] ?? scope.region;
    const prefix = o["awslogs-stream-prefix"];
    const id = task.taskArn.split("/").pop();
    const stream = prefix ? `${prefix}/${def.name}/${id}` : `${def.name}/${id}`;
    const groupArn = `arn:aws:logs:${region}:${scope.account}:log-group:${group}`;
    const reason = `ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream`;
    if (o["awslogs-create-group"] === "true") this.need(exec, "logs:CreateLogGroup", groupArn, region, reason);
    const streamArn = `${groupArn}:log-stream:${stream}`;
    this.need(exec, "logs:CreateLogStream", streamArn, region, reason);
    this.need(exec, "logs:PutLogEvents", streamArn, region, reason);
  }

  private secretValue(exec: CallerIdentity, valueFrom: string, scope: Scope): string {
    if (valueFrom.startsWith("arn:") && valueFrom.split(":")[2] === "secretsmanager") {
      const prefix = `${SECRETS_PREFIX}: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${valueFrom} from secrets manager`;
      const base = valueFrom.split(":").slice(0, 7).join(":");
      const found = this.d.secrets.find(scope, base);
      this.need(exec, "secretsmanager:GetSecretValue", found?.ARN ?? base, scope.region, prefix);
      try {
        return this.d.secrets.resolve(scope, valueFrom).value;
      } catch (e) {
        throw new Error(`${prefix}: ${(e as { code?: string }).code ?? "Error"}: ${(e as Error).message}`);
      }
    }
    const prefix = `${SECRETS_PREFIX}: unable to retrieve secrets from ssm: service call has been retried 1 time(s)`;
    let arn = parameterArn(scope, valueFrom);
    try {
      arn = this.d.parameters.resolve(scope, valueFrom).arn;
    } catch {
      // checked below: permission first, as AWS does, then existence
    }
    this.need(exec, "ssm:GetParameters", arn, scope.region, prefix);
    try {
      return this.d.parameters.resolve(scope, valueFrom).value;
    } catch {
      throw new Error(`${prefix}: invalid parameters: ${valueFrom}`);
    }
  }

  private repositoryAuth(exec: CallerIdentity, image: string, secretArn: string, scope: Scope): RegistryAuth {
    const raw = this.secretValue(exec, secretArn, scope);
    let creds: { username?: unknown; password?: unknown };
    try {
      creds = JSON.parse(raw);
    } catch {
      creds = {};
    }
    if (typeof creds.username !== "string" || typeof creds.password !== "string")
      throw new Error(
        `${SECRETS_PREFIX}: the repositoryCredentials secret ${secretArn} must be JSON with "username" and "password"`,
      );
    const first = image.split("/")[0];
    const host =
      image.includes("/") && (first.includes(".") || first.includes(":")) ? first : "https://index.docker.io/v1/";
    return { username: creds.username, password: creds.password, serveraddress: host };
  }
}
