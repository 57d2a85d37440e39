/**
 * Values AWS refuses that Berth once accepted with 200 (issue 16), through the SDKs: each is
 * refused with the service's code and a message that quotes at most a short prefix, and nothing
 * is created.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CreateServiceCommand,
  ECSClient,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import {
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { clientOptions, newAccount, rootOf } from "../support/identity.js";

const account = newAccount();

/** The error a call fails with (name and message), failing the test if it succeeds. */
async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

describe("values AWS refuses", () => {
  const endpoint = inject("endpoint");
  const opts = () => clientOptions(endpoint, rootOf(account));
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let ssm: SSMClient;
  let aas: ApplicationAutoScalingClient;

  beforeAll(() => {
    ecs = new ECSClient(opts());
    elb = new ElasticLoadBalancingV2Client(opts());
    ssm = new SSMClient(opts());
    aas = new ApplicationAutoScalingClient(opts());
  });

  it("ECS: roles that are not roles, ephemeral storage out of range, an oversized image; nothing registered", async () => {
    const def = (extra: object) =>
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "fidelity",
          containerDefinitions: [{ name: "a", image: "busybox", memory: 64 }],
          ...extra,
        }),
      );
    for (const extra of [{ taskRoleArn: "not-an-arn:x" }, { executionRoleArn: "arn:aws:iam::bad" }]) {
      const r = await refusal(def(extra));
      expect(r).toMatchObject({ name: "ClientException", message: "Role is not valid", status: 400 });
    }
    expect((await refusal(def({ ephemeralStorage: { sizeInGiB: -1 } }))).name).toBe("ClientException");
    const big = await refusal(
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "fidelity",
          containerDefinitions: [{ name: "a", image: "x".repeat(1_000_000), memory: 64 }],
        }),
      ),
    );
    expect(big.name).toBe("ClientException");
    expect(big.message.length).toBeLessThan(1000);
    const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: "fidelity" }));
    expect(listed.taskDefinitionArns).toEqual([]);
  });

  it("ECS: a negative health check grace period, a bad service role, an oversized RunTask group", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "fidelity-ok",
        containerDefinitions: [{ name: "a", image: "busybox", memory: 64 }],
      }),
    );
    const create = (extra: object) =>
      ecs.send(new CreateServiceCommand({ serviceName: "fid", taskDefinition: "fidelity-ok", ...extra }));
    expect((await refusal(create({ healthCheckGracePeriodSeconds: -5 }))).name).toBe("InvalidParameterException");
    expect(await refusal(create({ role: "arn:bad" }))).toMatchObject({
      name: "InvalidParameterException",
      message: "Role is not valid",
    });
    expect((await ecs.send(new ListServicesCommand({}))).serviceArns).toEqual([]);
    const group = await refusal(
      ecs.send(new RunTaskCommand({ taskDefinition: "fidelity-ok", group: "g".repeat(1_000_000) })),
    );
    expect(group.name).toBe("InvalidParameterException");
    expect(group.message.length).toBeLessThan(1000);
  });

  it("ELBv2: target group names beginning internal-, malformed VPC ids", async () => {
    const create = (extra: object) =>
      elb.send(new CreateTargetGroupCommand({ Name: "fid-tg", Protocol: "HTTP", Port: 80, ...extra }));
    expect((await refusal(create({ Name: "internal-tg" }))).name).toBe("ValidationError");
    const vpc = await refusal(create({ VpcId: "v".repeat(1_000_000) }));
    expect(vpc.name).toBe("ValidationError");
    expect(vpc.message.length).toBeLessThan(1000);
    const tgs = await elb.send(new DescribeTargetGroupsCommand({}));
    expect(tgs.TargetGroups ?? []).toEqual([]);
  });

  it("SSM: an empty value, policies that are not JSON or of an unknown type; nothing stored", async () => {
    const put = (extra: object) =>
      ssm.send(new PutParameterCommand({ Name: "/fidelity/p", Type: "String", Value: "v", ...extra }));
    expect((await refusal(put({ Value: "" }))).name).toBe("ValidationException");
    expect((await refusal(put({ Policies: "{" }))).name).toBe("InvalidPolicyAttributeException");
    expect((await refusal(put({ Policies: '[{"Type":"Forever","Version":"1.0","Attributes":{}}]' }))).name).toBe(
      "InvalidPolicyTypeException",
    );
    expect((await refusal(ssm.send(new GetParameterCommand({ Name: "/fidelity/p" })))).name).toBe("ParameterNotFound");
  });

  it("Application Auto Scaling: a policy name with ':'", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "fid-aas",
        containerDefinitions: [{ name: "a", image: "busybox", memory: 64 }],
      }),
    );
    await aas
      .send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: "ecs",
          ResourceId: "service/default/fid-aas",
          ScalableDimension: "ecs:service:DesiredCount",
          MinCapacity: 1,
          MaxCapacity: 2,
        }),
      )
      .catch(() => undefined); // the target may need the service; the name check comes first either way
    const r = await refusal(
      aas.send(
        new PutScalingPolicyCommand({
          PolicyName: "a:b",
          ServiceNamespace: "ecs",
          ResourceId: "service/default/fid-aas",
          ScalableDimension: "ecs:service:DesiredCount",
          PolicyType: "TargetTrackingScaling",
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: 50,
            PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
          },
        }),
      ),
    );
    expect(r.name).toBe("ValidationException");
    expect(r.message).toContain("'policyName'");
    const policies = await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: "ecs" }));
    expect(policies.ScalingPolicies ?? []).toEqual([]);
  });

  it("STS: a tampered key id is refused, never the account root", async () => {
    const sts = new STSClient({
      ...opts(),
      credentials: { accessKeyId: "AKIA6BVCQ2ZJXYZ4ABCD", secretAccessKey: "x" },
    });
    expect((await refusal(sts.send(new GetCallerIdentityCommand({})))).name).toBe("InvalidClientTokenId");
  });
});
