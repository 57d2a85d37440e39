import type { Image } from "../../protocol/generated/types/ec2.js";

/**
 * The machine images Berth knows: the Amazon ECS-optimized AMIs (their hosts run `berth agent`,
 * as those AMIs run the ECS agent) and plain Amazon Linux, under stable ids. Any of them boots
 * the same kind of instance host; an ECS-optimized one with ECS_CLUSTER in its user data joins
 * that cluster, any other joins `default` only if its user data says so.
 */
const OWNER_ECS = "591542846629";
const OWNER_AMAZON = "137112412989";

const image = (ImageId: string, Name: string, OwnerId: string, Architecture: "x86_64" | "arm64", Description: string) =>
  ({
    ImageId,
    Name,
    OwnerId,
    ImageOwnerAlias: "amazon",
    Architecture,
    Description,
    ImageLocation: `amazon/${Name}`,
    State: "available",
    Public: true,
    ImageType: "machine",
    RootDeviceType: "ebs",
    RootDeviceName: "/dev/xvda",
    VirtualizationType: "hvm",
    Hypervisor: "xen",
    EnaSupport: true,
    BootMode: "uefi-preferred",
    PlatformDetails: "Linux/UNIX",
    UsageOperation: "RunInstances",
    CreationDate: "2026-11-20T00:00:00.000Z",
    ImdsSupport: "v2.0",
  }) satisfies Image;

export const IMAGES: readonly Image[] = [
  image(
    "ami-0e5c2023b5e7a1c01",
    "al2023-ami-ecs-hvm-2023.0.20261120-kernel-6.1-x86_64",
    OWNER_ECS,
    "x86_64",
    "Amazon Linux AMI 2023.0.20261120 x86_64 ECS HVM EBS",
  ),
  image(
    "ami-0e5c2023b5e7a1c02",
    "al2023-ami-ecs-hvm-2023.0.20261120-kernel-6.1-arm64",
    OWNER_ECS,
    "arm64",
    "Amazon Linux AMI 2023.0.20261120 arm64 ECS HVM EBS",
  ),
  image(
    "ami-0e5c2b5e7a1c00003",
    "amzn2-ami-ecs-hvm-2.0.20261120-x86_64-ebs",
    OWNER_ECS,
    "x86_64",
    "Amazon Linux AMI 2.0.20261120 x86_64 ECS HVM GP2",
  ),
  image(
    "ami-0a12023b5e7a1c004",
    "al2023-ami-2023.9.20261120.0-kernel-6.1-x86_64",
    OWNER_AMAZON,
    "x86_64",
    "Amazon Linux 2023 AMI 2023.9.20261120.0 x86_64 HVM kernel-6.1",
  ),
];

/** The ECS-optimized Amazon Linux 2023 AMI (what /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended names). */
export const ECS_OPTIMIZED_AL2023 = IMAGES[0];

export const imageById = (id: string) => IMAGES.find((i) => i.ImageId === id);
