/**
 * What App Runner runs on: ordinary Berth resources made through the ECS, ELBv2, IAM and ECR
 * operations themselves (the same code their APIs run). One shared Application Load Balancer
 * (`berth-apprunner`) per account and region has one HTTP listener; each service is a target
 * group, a host-header rule for its ServiceUrl, and an ECS service (Fargate, awsvpc) in the
 * `apprunner` cluster registering its tasks in the target group. Express Mode composes the same
 * operations the same way (services/ecs/express/).
 */
import { ServiceError } from "../../core/errors.js";
import { arn, type Scope } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { LogsBackend } from "../../controllers/tasks/logs-backend.js";
import { apprunnerErrors } from "../../protocol/generated/errors/apprunner.js";
import type { Operations as EcrOperations } from "../../protocol/generated/types/ecr.js";
import type { Operations as EcsOperations } from "../../protocol/generated/types/ecs.js";
import type { Operations as ElbOperations } from "../../protocol/generated/types/elbv2.js";
import type { Operations as IamOperations } from "../../protocol/generated/types/iam.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import type { ServiceRecord } from "../../store/schema/ecs.js";
import { APPRUNNER_DEFAULTS, parseImage } from "./spec.js";

/** What App Runner needs of the services around it (bound late: they are built in main.ts). */
export interface AppRunnerBackends {
  ecs: () => Provider<EcsOperations> | undefined;
  /** An ECS service record (deployments, counts) by cluster and name. */
  ecsService: (scope: Scope, cluster: string, name: string) => ServiceRecord | undefined;
  /** How many tasks of an ECS service have not stopped yet (a delete ends once there are none). */
  liveTasks: (scope: Scope, cluster: string, name: string) => number;
  elbv2: () => Provider<ElbOperations> | undefined;
  iam: () => Provider<IamOperations> | undefined;
  ecr: () => Provider<EcrOperations> | undefined;
  /** The account and region of an image in Berth's registry, else undefined. */
  berthImage: (image: string) => Scope | undefined;
  logs?: LogsBackend;
  /** Requests in flight to a target group now (the load balancer data plane). */
  inFlight: (targetGroupArn: string) => number;
  /** The shared listener's port (App Runner: HTTPS 443; Berth: HTTP). */
  listenerPort: number;
}

type Handler<I, O> = ((input: I, ctx: RequestContext) => O | Promise<O>) | undefined;

/** Runs another service's operation; its errors become App Runner's, naming the step. */
export async function step<I, O>(service: string, op: string, h: Handler<I, O>, input: I, ctx: RequestContext) {
  if (!h) throw apprunnerErrors.InternalServiceErrorException(`${service} is not available to App Runner (${op}).`);
  try {
    return await h(input, ctx);
  } catch (err) {
    if (err instanceof ServiceError) {
      const message = `${service} ${op} failed: ${err.code}: ${err.message}`;
      throw err.fault === "Receiver"
        ? apprunnerErrors.InternalServiceErrorException(message)
        : apprunnerErrors.InvalidRequestException(message);
    }
    throw err;
  }
}

/** A RequestContext for the work App Runner does on its own (after the API call answered). */
export const systemContext = (scope: Scope): RequestContext => ({
  account: scope.account,
  region: scope.region,
  requestId: "apprunner",
  principal: {
    accessKeyId: "",
    arn: arn(
      "iam",
      { ...scope, region: "" },
      "role/aws-service-role/apprunner.amazonaws.com/AWSServiceRoleForAppRunner",
    ),
  },
});

/** The role App Runner's ECS tasks pull images, write logs and read secrets with (made on first use). */
export const EXECUTION_ROLE = { name: "AppRunnerECSTaskExecutionRole", path: "/service-role/" };

export function platform(b: AppRunnerBackends, logger?: Logger) {
  const need = <P>(p: P | undefined, what: string): P => {
    if (!p) throw apprunnerErrors.InternalServiceErrorException(`App Runner needs ${what}, which is off.`);
    return p;
  };
  const ecs = () => need(b.ecs(), "ECS");
  const elb = () => need(b.elbv2(), "Elastic Load Balancing");
  const iam = () => need(b.iam(), "IAM");

  /** One at a time: the shared load balancer, cluster and role are made once. */
  let chain: Promise<unknown> = Promise.resolve();
  const serially = <T>(f: () => Promise<T>): Promise<T> => {
    const run = chain.then(f, f);
    chain = run.catch(() => undefined);
    return run;
  };

  const executionRole = async (ctx: RequestContext): Promise<string> => {
    const p = iam();
    try {
      const got = await p.GetRole?.({ RoleName: EXECUTION_ROLE.name }, ctx);
      if (got?.Role?.Arn) return got.Role.Arn;
    } catch (err) {
      if (!(err instanceof ServiceError) || err.code !== "NoSuchEntity") throw err;
    }
    const created = await step(
      "IAM",
      "CreateRole",
      p.CreateRole,
      {
        RoleName: EXECUTION_ROLE.name,
        Path: EXECUTION_ROLE.path,
        Description: "Made by Berth's App Runner: its ECS tasks pull images, write logs and read secrets with it.",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      ctx,
    );
    await step(
      "IAM",
      "AttachRolePolicy",
      p.AttachRolePolicy,
      {
        RoleName: EXECUTION_ROLE.name,
        PolicyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
      },
      ctx,
    );
    await step(
      "IAM",
      "PutRolePolicy",
      p.PutRolePolicy,
      {
        RoleName: EXECUTION_ROLE.name,
        PolicyName: "RuntimeEnvironmentSecrets",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt"],
              Resource: "*",
            },
          ],
        }),
      },
      ctx,
    );
    return created.Role!.Arn!;
  };

  /** The `apprunner` cluster, the execution role, and the shared load balancer with its listener. */
  const foundation = (ctx: RequestContext) =>
    serially(async () => {
      await step("ECS", "CreateCluster", ecs().CreateCluster, { clusterName: APPRUNNER_DEFAULTS.cluster }, ctx);
      const roleArn = await executionRole(ctx);
      const e = elb();
      let lb = await step("ELBv2", "DescribeLoadBalancers", e.DescribeLoadBalancers, {}, ctx).then((r) =>
        (r.LoadBalancers ?? []).find((l) => l.LoadBalancerName === APPRUNNER_DEFAULTS.loadBalancerName),
      );
      if (!lb)
        lb = (
          await step(
            "ELBv2",
            "CreateLoadBalancer",
            e.CreateLoadBalancer,
            {
              Name: APPRUNNER_DEFAULTS.loadBalancerName,
              Type: "application",
              Scheme: "internet-facing",
              Tags: [{ Key: "apprunner:shared", Value: "true" }],
            },
            ctx,
          )
        ).LoadBalancers![0];
      const listeners =
        (await step("ELBv2", "DescribeListeners", e.DescribeListeners, { LoadBalancerArn: lb.LoadBalancerArn! }, ctx))
          .Listeners ?? [];
      let listener = listeners.find((l) => l.Port === b.listenerPort);
      if (!listener)
        listener = (
          await step(
            "ELBv2",
            "CreateListener",
            e.CreateListener,
            {
              LoadBalancerArn: lb.LoadBalancerArn!,
              Protocol: "HTTP",
              Port: b.listenerPort,
              DefaultActions: [
                {
                  Type: "fixed-response",
                  FixedResponseConfig: { StatusCode: "404", ContentType: "text/plain", MessageBody: "Not Found" },
                },
              ],
            },
            ctx,
          )
        ).Listeners![0];
      const subnets = (lb.AvailabilityZones ?? []).map((z) => z.SubnetId!).filter(Boolean);
      return {
        executionRoleArn: roleArn,
        loadBalancerArn: lb.LoadBalancerArn!,
        listenerArn: listener.ListenerArn!,
        subnets,
        securityGroups: lb.SecurityGroups ?? [],
      };
    });

  /** Tag → digest for an image in Berth's ECR; InvalidRequestException when there is no such image. */
  const resolveImage = async (ctx: RequestContext, image: string): Promise<{ image: string; digest?: string }> => {
    const scope = b.berthImage(image);
    const parts = parseImage(image);
    if (!scope || !parts)
      throw apprunnerErrors.InvalidRequestException(
        `ImageIdentifier '${image}' does not name an image in Berth's ECR: use a repositoryUri from 'aws ecr create-repository' with a tag (<host>/<repository>:<tag>).`,
      );
    if (parts.digest) return { image, digest: parts.digest };
    const p = need(b.ecr(), "ECR");
    try {
      const out = await p.DescribeImages?.(
        { repositoryName: parts.repository, imageIds: [{ imageTag: parts.tag ?? "latest" }] },
        { ...ctx, ...scope },
      );
      const digest = out?.imageDetails?.[0]?.imageDigest;
      if (!digest) throw apprunnerErrors.InvalidRequestException(`ImageIdentifier '${image}' was not found in ECR.`);
      return { image: `${parts.host}/${parts.repository}@${digest}`, digest };
    } catch (err) {
      if (err instanceof ServiceError && /NotFound/.test(err.code))
        throw apprunnerErrors.InvalidRequestException(
          `ImageIdentifier '${image}' was not found in ECR (${err.code}: ${err.message}); push it first.`,
        );
      if (err instanceof ServiceError && err.code !== "InvalidRequestException")
        throw apprunnerErrors.InvalidRequestException(
          `ImageIdentifier '${image}' cannot be deployed: ECR says ${err.code}: ${err.message}`,
        );
      throw err;
    }
  };

  /** Runs an undo step; failures are logged, never thrown (the rest of the undo goes on). */
  const quietly = async (what: string, f: () => unknown) => {
    try {
      await f();
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, `App Runner: ${what} failed`);
    }
  };

  return { ecs, elb, foundation, resolveImage, quietly, backends: b };
}

export type Platform = ReturnType<typeof platform>;
