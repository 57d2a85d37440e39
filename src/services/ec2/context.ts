import { hexId } from "../../core/ids.js";
import type { Scope } from "../../core/ids.js";
import { decodeKey, pageByKey } from "../../core/paginate.js";
import type { Tag, TagSpecification } from "../../protocol/generated/types/ec2.js";
import type { DocumentStore } from "../../store/documents.js";
import { Ec2Records, type SecurityGroupRecord, type SubnetRecord, type VpcRecord } from "../../store/schema/ec2.js";
import { carve, formatCidr, parseCidr } from "./cidr.js";
import { ec2Errors } from "./errors.js";
import { zonesOf } from "./zones.js";

/** EC2 ids: a prefix and 17 hex digits (`vpc-0a1b2c3d4e5f67890`). */
export const newId = (prefix: string) => `${prefix}-${hexId(9).slice(0, 17)}`;

export const DEFAULT_VPC_CIDR = "172.31.0.0/16";
const MAX_TAGS = 50;

/** The records and the rules every EC2 operation shares. */
export class Ec2Context {
  readonly records: Ec2Records;
  /** Scopes whose default VPC is known to be settled (made, or deleted on purpose). */
  private readonly settled = new Set<string>();

  constructor(readonly store: DocumentStore) {
    this.records = new Ec2Records(store);
  }

  /** Makes the scope's default VPC (subnets, security group) the first time the scope is used. */
  ensureDefaults(scope: Scope) {
    const key = `${scope.account}/${scope.region}`;
    if (this.settled.has(key)) return;
    this.store.transaction(() => {
      if (this.records.defaults.get(scope, "defaults")) return;
      const vpc = this.createDefaultVpc(scope);
      this.records.defaults.put(scope, { id: "defaults", defaultVpcId: vpc.VpcId }, { expect: 0 });
    });
    this.settled.add(key);
  }

  /** The default VPC: 172.31.0.0/16, one /20 default subnet per zone, its default security group. */
  createDefaultVpc(scope: Scope): VpcRecord {
    const vpc = this.createVpc(scope, DEFAULT_VPC_CIDR, { isDefault: true, tags: [] });
    const zones = zonesOf(scope.region);
    const blocks = carve(parseCidr(DEFAULT_VPC_CIDR)!, 20, zones.length);
    for (const [i, zone] of zones.entries())
      this.records.subnets.put(
        scope,
        {
          SubnetId: newId("subnet"),
          VpcId: vpc.VpcId,
          OwnerId: scope.account,
          CidrBlock: formatCidr(blocks[i]),
          AvailabilityZone: zone.ZoneName!,
          AvailabilityZoneId: zone.ZoneId!,
          DefaultForAz: true,
          MapPublicIpOnLaunch: true,
          Tags: [],
        },
        { expect: 0 },
      );
    return vpc;
  }

  /** A VPC with its default security group (the caller has checked the block). */
  createVpc(scope: Scope, cidr: string, opts: { isDefault: boolean; tags: Tag[]; tenancy?: string }): VpcRecord {
    const vpc: VpcRecord = {
      VpcId: newId("vpc"),
      OwnerId: scope.account,
      CidrBlock: cidr,
      CidrAssociationId: newId("vpc-cidr-assoc"),
      IsDefault: opts.isDefault,
      InstanceTenancy: opts.tenancy ?? "default",
      DhcpOptionsId: "dopt-00000000000000000",
      EnableDnsSupport: true,
      EnableDnsHostnames: opts.isDefault,
      Tags: opts.tags,
    };
    this.records.vpcs.put(scope, vpc, { expect: 0 });
    const groupId = newId("sg");
    this.records.securityGroups.put(
      scope,
      {
        GroupId: groupId,
        GroupName: "default",
        Description: "default VPC security group",
        VpcId: vpc.VpcId,
        OwnerId: scope.account,
        Rules: [
          { SecurityGroupRuleId: newId("sgr"), IsEgress: false, IpProtocol: "-1", ReferencedGroupId: groupId },
          { SecurityGroupRuleId: newId("sgr"), IsEgress: true, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" },
        ],
        Tags: [],
      },
      { expect: 0 },
    );
    return vpc;
  }

  defaultVpcId(scope: Scope): string | undefined {
    const id = this.records.defaults.get(scope, "defaults")?.defaultVpcId;
    return id && this.records.vpcs.get(scope, id) ? id : undefined;
  }

  vpc(scope: Scope, id: string): VpcRecord {
    const vpc = this.records.vpcs.get(scope, id);
    if (!vpc) throw ec2Errors.InvalidVpcIdNotFound(`The vpc ID '${id}' does not exist`);
    return vpc;
  }

  subnet(scope: Scope, id: string): SubnetRecord {
    const subnet = this.records.subnets.get(scope, id);
    if (!subnet) throw ec2Errors.InvalidSubnetIdNotFound(`The subnet ID '${id}' does not exist`);
    return subnet;
  }

  securityGroup(scope: Scope, id: string): SecurityGroupRecord {
    const group = this.records.securityGroups.get(scope, id);
    if (!group) throw ec2Errors.InvalidGroupNotFound(`The security group '${id}' does not exist`);
    return group;
  }
}

/** The tags a create call's TagSpecifications give the one resource type it makes. */
export function tagsFor(specs: readonly TagSpecification[] | undefined, resourceType: string): Tag[] {
  const tags: Tag[] = [];
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType)
      throw ec2Errors.InvalidParameterValue(
        `'${spec.ResourceType ?? "null"}' is not a valid taggable resource type for this operation.`,
      );
    tags.push(...(spec.Tags ?? []));
  }
  return checkTags([], tags);
}

/** `existing` with `added` merged in (same key: the new value wins), checked as EC2 checks tags. */
export function checkTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const map = new Map(existing.map((t) => [t.Key ?? "", t.Value ?? ""]));
  for (const t of added) {
    const key = t.Key ?? "";
    if (!key) throw ec2Errors.InvalidParameterValue("Tag keys must not be empty.");
    if (key.length > 128) throw ec2Errors.InvalidParameterValue(`Tag key exceeds the maximum length of 128 characters`);
    if ((t.Value ?? "").length > 256)
      throw ec2Errors.InvalidParameterValue(`Tag value exceeds the maximum length of 256 characters`);
    if (key.toLowerCase().startsWith("aws:"))
      throw ec2Errors.InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use");
    map.set(key, t.Value ?? "");
  }
  if (map.size > MAX_TAGS) throw ec2Errors.TagLimitExceeded(`The maximum number of tags (${MAX_TAGS}) was exceeded`);
  return [...map].map(([Key, Value]) => ({ Key, Value }));
}

/**
 * One page of a Describe call's items in id order. `MaxResults` has the call's own bounds; a
 * token names the last item returned, so pages stay right while items come and go.
 */
export function pageOf<T>(
  items: T[],
  idOf: (item: T) => string,
  input: { MaxResults?: number; NextToken?: string },
  bounds: { min: number; max: number } = { min: 5, max: 1000 },
): { page: T[]; nextToken?: string } {
  const { MaxResults, NextToken } = input;
  if (MaxResults !== undefined && (MaxResults < bounds.min || MaxResults > bounds.max))
    throw ec2Errors.InvalidParameterValue(
      `Value ( ${MaxResults} ) for parameter maxResults is invalid. Parameter must be between ${bounds.min} and ${bounds.max}.`,
    );
  const invalidToken = () => ec2Errors.InvalidNextToken(`The token '${NextToken}' is invalid.`);
  if (NextToken !== undefined) decodeKey(NextToken, invalidToken);
  return pageByKey(items, (item) => [idOf(item)], {
    nextToken: NextToken,
    limit: MaxResults ?? Number.MAX_SAFE_INTEGER,
    invalidToken,
  });
}

/** Every id asked for must exist: EC2 names the first missing one in the kind's NotFound error. */
export function requireAll<T>(
  found: T[],
  ids: readonly string[] | undefined,
  idOf: (t: T) => string,
  missing: (id: string) => Error,
) {
  if (!ids?.length) return found;
  const have = new Set(found.map(idOf));
  for (const id of ids) if (!have.has(id)) throw missing(id);
  const wanted = new Set(ids);
  return found.filter((t) => wanted.has(idOf(t)));
}
