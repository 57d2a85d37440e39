import { execFileSync } from "node:child_process";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";

export const trustService = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

/**
 * An instance profile of the same name as its role, which EC2 may assume; with
 * AmazonEC2ContainerServiceforEC2Role unless `ecs` is false (an agent that may not join).
 */
export async function createInstanceProfile(iam: IAMClient, name: string, opts: { ecs?: boolean } = {}) {
  await iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustService("ec2.amazonaws.com") }),
  );
  if (opts.ecs !== false)
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: name,
        PolicyArn: "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
      }),
    );
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
}

/** The user data of an ECS-optimized AMI that joins `cluster` (base64, as RunInstances takes it). */
export const ecsUserData = (cluster: string) =>
  Buffer.from(`#!/bin/bash\necho ECS_CLUSTER=${cluster} >> /etc/ecs/ecs.config\n`).toString("base64");

/**
 * Pushes a local image to a new ECR repository of Berth with the docker CLI (its own config
 * dir), as instance hosts pull from ECR; returns the pushed reference.
 */
export function pushToEcr(
  berth: { endpoint: string; port: number },
  docker: { run(args: string[], input?: string): string },
  repository: string,
  source: string,
): string {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_DEFAULT_REGION: "us-east-1",
  };
  const aws = (...args: string[]) =>
    execFileSync("aws", ["--endpoint-url", berth.endpoint, ...args], { encoding: "utf8", env });
  const uri = JSON.parse(aws("ecr", "create-repository", "--repository-name", repository)).repository
    .repositoryUri as string;
  docker.run(
    ["login", "-u", "AWS", "--password-stdin", `localhost:${berth.port}`],
    aws("ecr", "get-login-password").trim(),
  );
  const image = `${uri}:1`;
  docker.run(["tag", source, image]);
  docker.run(["push", "-q", image]);
  return image;
}
