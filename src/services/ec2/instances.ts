import { instanceType as knownInstanceType } from "../../controllers/kube/nodegroups/instance-types.js";
import type { Scope } from "../../core/ids.js";
import type {
  Image,
  Instance,
  InstanceStateChange,
  InstanceStatus,
  InstanceTypeInfo,
  Operations,
  RequestLaunchTemplateData,
  Reservation,
  RunInstancesRequest,
  Tag,
} from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { InstanceRecord } from "../../store/schema/ec2.js";
import { nextFreeAddress, parseCidr } from "./cidr.js";
import { type Ec2Context, checkTags, newId, pageOf, requireAll } from "./context.js";
import { ec2Errors } from "./errors.js";
import { applyFilters } from "./filters.js";
import { IMAGES, imageById } from "./images.js";
import { type StateRequest, requestedState, stateOf, userInitiated } from "./instance-states.js";
import { findLaunchTemplate, selectVersions } from "./launch-templates.js";

/** An instance profile as EC2 needs it: its ARN and id, and the role in it. */
export interface InstanceProfileRef {
  Arn: string;
  Id: string;
  roleArn?: string;
}

export interface InstanceDeps {
  /** An instance profile by name or ARN in an account (IAM). */
  instanceProfile(account: string, nameOrArn: string): InstanceProfileRef | undefined;
}

/** EC2 launches at most this many instances per call here (one machine's worth of hosts). */
const MAX_PER_CALL = 20;
/** What RunInstances launches when no instance type is named (EC2's default). */
const DEFAULT_INSTANCE_TYPE = "m1.small";

/** vCPUs and memory of an instance type (the EKS table, plus EC2's default m1.small). */
export function instanceTypeSize(
  name: string,
): { vcpus: number; memoryMiB: number; arch: "x86_64" | "arm64" } | undefined {
  if (name === DEFAULT_INSTANCE_TYPE) return { vcpus: 1, memoryMiB: 1740, arch: "x86_64" };
  const t = knownInstanceType(name);
  return t && { vcpus: t.vcpus, memoryMiB: t.memoryMiB, arch: t.arch === "arm64" ? "arm64" : "x86_64" };
}

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;

/** The instance as DescribeInstances shows it (what only its host needs stays out). */
export function instanceView(i: InstanceRecord): Instance {
  const { ReservationId: _r, OwnerId: _o, roleArn: _role, userData: _u, stateChangedAt: _s, version: _v, ...shape } = i;
  return shape;
}

/** Request members win over the launch template's (EC2's rule), member by member. */
function merged(input: RunInstancesRequest, template: RequestLaunchTemplateData | undefined) {
  const nic = template?.NetworkInterfaces?.find((n) => (n.DeviceIndex ?? 0) === 0);
  return {
    ImageId: input.ImageId ?? template?.ImageId,
    InstanceType: input.InstanceType ?? template?.InstanceType,
    KeyName: input.KeyName ?? template?.KeyName,
    UserData: input.UserData ?? template?.UserData,
    IamInstanceProfile: input.IamInstanceProfile ?? template?.IamInstanceProfile,
    SubnetId: input.SubnetId ?? nic?.SubnetId,
    SecurityGroupIds: input.SecurityGroupIds ?? nic?.Groups ?? template?.SecurityGroupIds,
    AvailabilityZone: input.Placement?.AvailabilityZone ?? template?.Placement?.AvailabilityZone,
    Tags: [
      ...(template?.TagSpecifications ?? []).filter((t) => t.ResourceType === "instance").flatMap((t) => t.Tags ?? []),
      ...(input.TagSpecifications ?? []).filter((t) => t.ResourceType === "instance").flatMap((t) => t.Tags ?? []),
    ] as Tag[],
  };
}

const isBase64 = (s: string) => /^[A-Za-z0-9+/\s]*={0,2}$/.test(s) && Buffer.from(s, "base64").length > 0;

/** EC2 instances: RunInstances and the instance lifecycle; instances-controller.ts makes their hosts. */
export function instanceOperations(ec2: Ec2Context, deps: InstanceDeps): Provider<Operations> {
  const records = ec2.records.instances;

  const checkIds = (ids: readonly string[] | undefined) => {
    for (const id of ids ?? [])
      if (!INSTANCE_ID.test(id)) throw ec2Errors.InvalidInstanceIdMalformed(`Invalid id: "${id}"`);
  };
  const existing = (scope: Scope, ids: readonly string[]) => {
    checkIds(ids);
    return requireAll(
      records.list(scope),
      ids,
      (i) => i.InstanceId,
      (id) => notFound(id),
    );
  };
  const notFound = (id: string) => ec2Errors.InvalidInstanceIdNotFound(`The instance ID '${id}' does not exist`);

  /** Start/Stop/Terminate: every instance must allow the change before any changes (all or nothing). */
  const change = (scope: Scope, ids: string[] | undefined, request: StateRequest): InstanceStateChange[] => {
    if (!ids?.length) throw ec2Errors.MissingParameter("The request must contain the parameter InstanceId");
    return ec2.store.transaction(() => {
      const found = ids.map((id) => {
        checkIds([id]);
        const i = records.get(scope, id);
        if (!i) throw notFound(id);
        return i;
      });
      const next = found.map((i) => {
        const to = requestedState(i.InstanceId, i.State.Name, request);
        if (typeof to === "object") throw ec2Errors.IncorrectInstanceState(to.incorrect);
        return to;
      });
      const now = new Date();
      return found.map((i, n) => {
        const to = next[n];
        if (to !== i.State.Name)
          records.put(scope, {
            ...i,
            State: stateOf(to),
            StateTransitionReason: request === "start" ? "" : userInitiated(now),
            StateReason:
              request === "start"
                ? undefined
                : {
                    Code: "Client.UserInitiatedShutdown",
                    Message: "Client.UserInitiatedShutdown: User initiated shutdown",
                  },
            stateChangedAt: now,
            version: i.version + 1,
          });
        return { InstanceId: i.InstanceId, PreviousState: i.State, CurrentState: stateOf(to) };
      });
    });
  };

  return {
    RunInstances: (input, ctx) => {
      if (!Number.isInteger(input.MinCount) || input.MinCount < 1)
        throw ec2Errors.InvalidParameterValue(
          `Value (${input.MinCount}) for parameter minCount is invalid. Expected a positive integer.`,
        );
      if (!Number.isInteger(input.MaxCount) || input.MaxCount < input.MinCount)
        throw ec2Errors.InvalidParameterValue(
          `Value (${input.MaxCount}) for parameter maxCount is invalid. Expected an integer no smaller than minCount (${input.MinCount}).`,
        );
      if (input.ClientToken) {
        const earlier = records.list(ctx).filter((i) => i.ClientToken === input.ClientToken);
        if (earlier.length) return reservationOf(ctx, earlier);
      }
      const template = input.LaunchTemplate
        ? selectVersions(findLaunchTemplate(ec2, ctx, input.LaunchTemplate), {
            Versions: [input.LaunchTemplate.Version ?? "$Default"],
          })[0].Data
        : undefined;
      const want = merged(input, template);
      if (!want.ImageId) throw ec2Errors.MissingParameter("The request must contain the parameter ImageId");
      if (!/^ami-[0-9a-f]{8,17}$/.test(want.ImageId))
        throw ec2Errors.InvalidAMIIDMalformed(`Invalid id: "${want.ImageId}" (expecting "ami-...")`);
      const image = imageById(want.ImageId);
      if (!image) throw ec2Errors.InvalidAMIIDNotFound(`The image id '[${want.ImageId}]' does not exist`);
      const typeName = want.InstanceType ?? DEFAULT_INSTANCE_TYPE;
      const size = instanceTypeSize(typeName);
      if (!size)
        throw ec2Errors.InvalidParameterValue(
          `Invalid value '${typeName}' for InstanceType. Berth knows the t3/t3a/t4g, m5…m7, c5…c7 and r5…r7 families.`,
        );
      if (size.arch !== image.Architecture)
        throw ec2Errors.InvalidParameterValue(
          `The architecture '${size.arch}' of the specified instance type does not match the architecture '${image.Architecture}' of the specified AMI.`,
        );
      if (want.UserData !== undefined && !isBase64(want.UserData))
        throw ec2Errors.InvalidParameterValue("Invalid BASE64 encoding of user data.");
      let profile: InstanceProfileRef | undefined;
      const spec = want.IamInstanceProfile;
      if (spec?.Arn || spec?.Name) {
        profile = deps.instanceProfile(ctx.account, spec.Arn ?? spec.Name!);
        if (!profile)
          throw ec2Errors.InvalidParameterValue(
            spec.Arn
              ? `Value (${spec.Arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`
              : `Value (${spec.Name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
          );
      }
      const tags = checkTags([], want.Tags);
      // Placement: the named subnet, else the default VPC's subnet in the zone asked for (or the first zone's).
      const subnet = want.SubnetId
        ? ec2.subnet(ctx, want.SubnetId)
        : ec2.records.subnets
            .list(ctx)
            .filter((s) => s.VpcId === ec2.defaultVpcId(ctx) && s.DefaultForAz)
            .sort((a, b) => a.AvailabilityZone.localeCompare(b.AvailabilityZone))
            .find((s) => !want.AvailabilityZone || s.AvailabilityZone === want.AvailabilityZone);
      if (!subnet)
        throw ec2Errors.VPCIdNotSpecified(
          "No default VPC for this user. Name a SubnetId (or create a default VPC with CreateDefaultVpc).",
        );
      const groups = (
        want.SecurityGroupIds?.length
          ? want.SecurityGroupIds
          : ec2.records.securityGroups
              .children(ctx, subnet.VpcId)
              .filter((g) => g.GroupName === "default")
              .map((g) => g.GroupId)
      ).map((id) => {
        const g = ec2.securityGroup(ctx, id);
        if (g.VpcId !== subnet.VpcId)
          throw ec2Errors.InvalidParameterValue(
            `Security group ${id} and subnet ${subnet.SubnetId} belong to different networks.`,
          );
        return { GroupId: g.GroupId, GroupName: g.GroupName };
      });
      return ec2.store.transaction(() => {
        const taken = new Set(
          records
            .list(ctx)
            .filter((i) => i.SubnetId === subnet.SubnetId && i.State.Name !== "terminated")
            .map((i) => i.PrivateIpAddress ?? ""),
        );
        const count = Math.min(input.MaxCount, MAX_PER_CALL);
        if (input.MinCount > MAX_PER_CALL)
          throw ec2Errors.InstanceLimitExceeded(
            `You have requested more instances (${input.MinCount}) than your current instance limit of ${MAX_PER_CALL} allows for the specified instance type. Berth launches at most ${MAX_PER_CALL} per call.`,
          );
        const reservationId = newId("r");
        const now = new Date();
        const made: InstanceRecord[] = [];
        for (let n = 0; n < count; n++) {
          const block = parseCidr(subnet.CidrBlock);
          const ip = block && nextFreeAddress(block, taken);
          if (!ip) {
            if (made.length >= input.MinCount) break;
            throw ec2Errors.InsufficientFreeAddressesInSubnet(
              `There are not enough free addresses in subnet '${subnet.SubnetId}' to satisfy the requested number of instances.`,
            );
          }
          taken.add(ip);
          const id = newId("i");
          const launchTags: Tag[] = template
            ? [
                {
                  Key: "aws:ec2launchtemplate:id",
                  Value: findLaunchTemplate(ec2, ctx, input.LaunchTemplate!).LaunchTemplateId,
                },
                { Key: "aws:ec2launchtemplate:version", Value: String(input.LaunchTemplate?.Version ?? "$Default") },
              ]
            : [];
          const dns = `ip-${ip.replaceAll(".", "-")}.ec2.internal`;
          made.push(
            records.put(
              ctx,
              {
                InstanceId: id,
                ReservationId: reservationId,
                OwnerId: ctx.account,
                ImageId: want.ImageId,
                InstanceType: typeName as Instance["InstanceType"],
                State: stateOf("pending"),
                StateTransitionReason: "",
                LaunchTime: now,
                AmiLaunchIndex: n,
                KeyName: want.KeyName,
                Placement: { AvailabilityZone: subnet.AvailabilityZone, Tenancy: "default", GroupName: "" },
                Monitoring: { State: "disabled" },
                SubnetId: subnet.SubnetId,
                VpcId: subnet.VpcId,
                PrivateIpAddress: ip,
                PrivateDnsName: dns,
                PublicDnsName: "",
                Architecture: image.Architecture,
                RootDeviceType: "ebs",
                RootDeviceName: "/dev/xvda",
                VirtualizationType: "hvm",
                Hypervisor: "xen",
                EbsOptimized: false,
                EnaSupport: true,
                SourceDestCheck: true,
                ClientToken: input.ClientToken ?? "",
                SecurityGroups: groups,
                IamInstanceProfile: profile ? { Arn: profile.Arn, Id: profile.Id } : undefined,
                MetadataOptions: {
                  State: "applied",
                  HttpTokens: "required",
                  HttpPutResponseHopLimit: 2,
                  HttpEndpoint: "enabled",
                },
                PlatformDetails: "Linux/UNIX",
                UsageOperation: "RunInstances",
                Tags: [...launchTags, ...tags],
                roleArn: profile?.roleArn,
                userData: want.UserData,
                stateChangedAt: now,
                version: 1,
              },
              { expect: 0 },
            ),
          );
        }
        return reservationOf(ctx, made);
      });
    },

    DescribeInstances: (input, ctx) => {
      const all = applyFilters(existing(ctx, input.InstanceIds ?? []), input.Filters, INSTANCE_FILTERS);
      if (input.InstanceIds?.length && input.MaxResults !== undefined)
        throw ec2Errors.InvalidParameterCombination(
          "The parameter instancesSet cannot be used with the parameter maxResults",
        );
      const { page, nextToken } = pageOf(all, (i) => i.InstanceId, input, { min: 5, max: 1000 });
      const byReservation = new Map<string, InstanceRecord[]>();
      for (const i of page) byReservation.set(i.ReservationId, [...(byReservation.get(i.ReservationId) ?? []), i]);
      return {
        Reservations: [...byReservation.values()].map((list) => reservationOf(ctx, list)),
        NextToken: nextToken,
      };
    },

    TerminateInstances: (input, ctx) => ({ TerminatingInstances: change(ctx, input.InstanceIds, "terminate") }),
    StopInstances: (input, ctx) => ({ StoppingInstances: change(ctx, input.InstanceIds, "stop") }),
    StartInstances: (input, ctx) => ({ StartingInstances: change(ctx, input.InstanceIds, "start") }),

    DescribeInstanceStatus: (input, ctx) => {
      const all = existing(ctx, input.InstanceIds ?? []).filter(
        (i) => input.IncludeAllInstances || i.State.Name === "running",
      );
      const statuses: InstanceStatus[] = all.map((i) => {
        const up = i.State.Name === "running";
        const summary = {
          Status: (up ? "ok" : "not-applicable") as "ok" | "not-applicable",
          Details: up ? [{ Name: "reachability" as const, Status: "passed" as const }] : undefined,
        };
        return {
          InstanceId: i.InstanceId,
          AvailabilityZone: i.Placement?.AvailabilityZone,
          InstanceState: i.State,
          InstanceStatus: summary,
          SystemStatus: summary,
        };
      });
      const filtered = applyFilters(statuses, input.Filters, STATUS_FILTERS);
      const { page, nextToken } = pageOf(filtered, (s) => s.InstanceId!, input, { min: 5, max: 1000 });
      return { InstanceStatuses: page, NextToken: nextToken };
    },

    DescribeInstanceTypes: (input) => {
      const names = input.InstanceTypes?.length ? input.InstanceTypes : [...ALL_TYPES];
      const infos = names.map((name) => {
        const size = instanceTypeSize(name);
        if (!size) throw ec2Errors.InvalidInstanceType(`The following supplied instance types do not exist: [${name}]`);
        return typeInfo(name, size);
      });
      const filtered = applyFilters(infos, input.Filters, TYPE_FILTERS);
      const { page, nextToken } = pageOf(filtered, (t) => t.InstanceType!, input, { min: 5, max: 100 });
      return { InstanceTypes: page, NextToken: nextToken };
    },

    DescribeImages: (input) => {
      for (const id of input.ImageIds ?? [])
        if (!imageById(id)) throw ec2Errors.InvalidAMIIDNotFound(`The image id '[${id}]' does not exist`);
      let images: Image[] = input.ImageIds?.length
        ? IMAGES.filter((i) => input.ImageIds!.includes(i.ImageId!))
        : [...IMAGES];
      if (input.Owners?.length)
        images = images.filter((i) => input.Owners!.some((o) => o === i.OwnerId || o === i.ImageOwnerAlias));
      const filtered = applyFilters(images, input.Filters, IMAGE_FILTERS);
      const { page, nextToken } = pageOf(filtered, (i) => i.ImageId!, input, { min: 5, max: 1000 });
      return { Images: page, NextToken: nextToken };
    },
  };
}

function reservationOf(scope: Scope, list: InstanceRecord[]): Reservation {
  return {
    ReservationId: list[0]?.ReservationId,
    OwnerId: scope.account,
    Groups: [],
    Instances: list.map(instanceView),
  };
}

const ALL_TYPES = [
  "m1.small",
  ...["t3", "t3a", "t4g"].flatMap((f) =>
    ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"].map((s) => `${f}.${s}`),
  ),
  ...[
    "m5",
    "m5a",
    "m6i",
    "m6a",
    "m6g",
    "m7i",
    "m7a",
    "m7g",
    "c5",
    "c5a",
    "c6i",
    "c6a",
    "c6g",
    "c7i",
    "c7g",
    "r5",
    "r5a",
    "r6i",
    "r6g",
    "r7i",
    "r7g",
  ].flatMap((f) =>
    ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"].map((s) => `${f}.${s}`),
  ),
].filter((t) => instanceTypeSize(t));

function typeInfo(name: string, size: NonNullable<ReturnType<typeof instanceTypeSize>>): InstanceTypeInfo {
  return {
    InstanceType: name as InstanceTypeInfo["InstanceType"],
    CurrentGeneration: name !== "m1.small",
    FreeTierEligible: name === "t3.micro",
    SupportedUsageClasses: ["on-demand", "spot"],
    SupportedRootDeviceTypes: ["ebs"],
    SupportedVirtualizationTypes: ["hvm"],
    BareMetal: false,
    Hypervisor: "nitro",
    ProcessorInfo: { SupportedArchitectures: [size.arch] },
    VCpuInfo: { DefaultVCpus: size.vcpus },
    MemoryInfo: { SizeInMiB: size.memoryMiB },
    InstanceStorageSupported: false,
    BurstablePerformanceSupported: /^t\d/.test(name),
    SupportedInRegion: true,
  };
}

const INSTANCE_FILTERS = {
  names: {
    "instance-id": (i: InstanceRecord) => [i.InstanceId],
    "instance-state-name": (i: InstanceRecord) => [i.State.Name],
    "instance-state-code": (i: InstanceRecord) => [String(i.State.Code)],
    "instance-type": (i: InstanceRecord) => [i.InstanceType],
    "image-id": (i: InstanceRecord) => [i.ImageId],
    "subnet-id": (i: InstanceRecord) => [i.SubnetId],
    "vpc-id": (i: InstanceRecord) => [i.VpcId],
    "availability-zone": (i: InstanceRecord) => [i.Placement?.AvailabilityZone],
    "private-ip-address": (i: InstanceRecord) => [i.PrivateIpAddress],
    "private-dns-name": (i: InstanceRecord) => [i.PrivateDnsName],
    "reservation-id": (i: InstanceRecord) => [i.ReservationId],
    "iam-instance-profile.arn": (i: InstanceRecord) => [i.IamInstanceProfile?.Arn],
    "instance.group-id": (i: InstanceRecord) => (i.SecurityGroups ?? []).map((g) => g.GroupId),
    "key-name": (i: InstanceRecord) => [i.KeyName],
    "owner-id": (i: InstanceRecord) => [i.OwnerId],
  },
  tags: (i: InstanceRecord) => i.Tags,
};

const STATUS_FILTERS = {
  names: {
    "availability-zone": (s: InstanceStatus) => [s.AvailabilityZone],
    "instance-state-name": (s: InstanceStatus) => [s.InstanceState?.Name],
    "instance-status.status": (s: InstanceStatus) => [s.InstanceStatus?.Status],
    "system-status.status": (s: InstanceStatus) => [s.SystemStatus?.Status],
  },
};

const TYPE_FILTERS = {
  names: {
    "instance-type": (t: InstanceTypeInfo) => [t.InstanceType],
    "vcpu-info.default-vcpus": (t: InstanceTypeInfo) => [String(t.VCpuInfo?.DefaultVCpus)],
    "memory-info.size-in-mib": (t: InstanceTypeInfo) => [String(t.MemoryInfo?.SizeInMiB)],
    "processor-info.supported-architecture": (t: InstanceTypeInfo) => t.ProcessorInfo?.SupportedArchitectures ?? [],
    "current-generation": (t: InstanceTypeInfo) => [String(t.CurrentGeneration)],
  },
};

const IMAGE_FILTERS = {
  names: {
    name: (i: Image) => [i.Name],
    "image-id": (i: Image) => [i.ImageId],
    architecture: (i: Image) => [i.Architecture],
    "owner-id": (i: Image) => [i.OwnerId],
    "owner-alias": (i: Image) => [i.ImageOwnerAlias],
    state: (i: Image) => [i.State],
    "image-type": (i: Image) => [i.ImageType],
  },
  tags: (i: Image) => i.Tags,
};
