import type { Parameter } from "../../protocol/generated/types/ssm.js";
import { IMAGES } from "../ec2/images.js";

/**
 * AWS's public parameters under `/aws/service/` that tooling reads to find an AMI (the ECS
 * getting-started flow, CloudFormation `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>`): they
 * name the images Berth's EC2 knows. Read-only, in every account and region.
 */
const ECS = "/aws/service/ecs/optimized-ami";

function ecsRecommended(path: string, imageId: string): Record<string, string> {
  const image = IMAGES.find((i) => i.ImageId === imageId)!;
  const version = /(\d+\.\d+\.\d{8})/.exec(image.Name!)?.[1] ?? "";
  const doc = {
    ecs_agent_version: "1.99.0",
    ecs_runtime_version: "Docker version 25.0.8",
    image_id: image.ImageId,
    image_name: image.Name,
    image_version: version,
    os: path.includes("amazon-linux-2023") ? "Amazon Linux 2023" : "Amazon Linux 2",
    schema_version: 1,
    source_image_name: image.Name!.replace("-ecs-hvm", ""),
  };
  const out: Record<string, string> = { [path]: JSON.stringify(doc) };
  for (const [k, v] of Object.entries(doc)) out[`${path}/${k}`] = String(v);
  return out;
}

const VALUES: Record<string, string> = {
  ...ecsRecommended(`${ECS}/amazon-linux-2023/recommended`, "ami-0e5c2023b5e7a1c01"),
  ...ecsRecommended(`${ECS}/amazon-linux-2023/arm64/recommended`, "ami-0e5c2023b5e7a1c02"),
  ...ecsRecommended(`${ECS}/amazon-linux-2/recommended`, "ami-0e5c2b5e7a1c00003"),
  "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64": "ami-0a12023b5e7a1c004",
  "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64": "ami-0a12023b5e7a1c004",
};

const PUBLISHED = new Date("2026-11-20T00:00:00.000Z");

/** PURE: the public parameter `name` names in `region`, or undefined. */
export function publicParameter(name: string, region: string): Parameter | undefined {
  const Value = VALUES[name];
  if (Value === undefined) return undefined;
  return {
    Name: name,
    Type: "String",
    Value,
    Version: 1,
    LastModifiedDate: PUBLISHED,
    ARN: `arn:aws:ssm:${region}::parameter${name}`,
    DataType: "text",
  };
}
