import { describe, expect, it } from "vitest";
import { imageById } from "../../src/services/ec2/images.js";
import { publicParameter } from "../../src/services/ssm/public-parameters.js";

describe("SSM public parameters", () => {
  it.each([
    "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id",
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
  ])("%s names an image EC2 knows", (name) => {
    const p = publicParameter(name, "eu-west-1")!;
    expect(imageById(p.Value!)).toBeDefined();
    expect(p.ARN).toBe(`arn:aws:ssm:eu-west-1::parameter${name}`);
  });

  it("the recommended document agrees with its image_id leaf", () => {
    const base = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended";
    const doc = JSON.parse(publicParameter(base, "us-east-1")!.Value!);
    expect(doc.image_id).toBe(publicParameter(`${base}/image_id`, "us-east-1")!.Value);
    expect(doc.image_name).toBe(imageById(doc.image_id)!.Name);
    expect(doc.os).toBe("Amazon Linux 2023");
  });

  it("anything else is not a public parameter", () =>
    expect(publicParameter("/aws/service/ecs/optimized-ami/windows/recommended", "us-east-1")).toBeUndefined());
});
