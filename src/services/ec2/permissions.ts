import ipaddr from "ipaddr.js";
import type { IpPermission } from "../../protocol/generated/types/ec2.js";
import type { SecurityGroupRuleRecord } from "../../store/schema/ec2.js";
import { parseCidr } from "./cidr.js";
import { ec2Errors } from "./errors.js";

/** A rule before it has an id. */
export type RuleSpec = Omit<SecurityGroupRuleRecord, "SecurityGroupRuleId">;

const PROTOCOL_NAMES: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", all: "-1" };

/** `tcp`, `TCP` and `6` are the same protocol to EC2; it shows the name. */
export function normalProtocol(raw: string | undefined): string {
  const p = (raw ?? "").toLowerCase();
  const named = PROTOCOL_NAMES[p] ?? p;
  if (["tcp", "udp", "icmp", "icmpv6", "-1"].includes(named)) return named;
  if (/^\d+$/.test(named) && Number(named) <= 255) return named;
  throw ec2Errors.InvalidParameterValue(`Invalid value '${raw ?? ""}' for IP protocol. Unknown protocol.`);
}

function portsOf(
  protocol: string,
  from: number | undefined,
  to: number | undefined,
): { FromPort?: number; ToPort?: number } {
  if (protocol === "-1") return {};
  if (protocol === "tcp" || protocol === "udp") {
    if (from === undefined || to === undefined)
      throw ec2Errors.InvalidParameterValue(
        `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`,
      );
    if (from < 0 || to > 65535 || from > to)
      throw ec2Errors.InvalidParameterValue(
        `Invalid value '${from}-${to}' for portRange. Must be in the range 0-65535 with from port not above to port.`,
      );
    return { FromPort: from, ToPort: to };
  }
  if (protocol === "icmp" || protocol === "icmpv6") {
    const f = from ?? -1;
    const t = to ?? -1;
    if (f < -1 || f > 255 || t < -1 || t > 255)
      throw ec2Errors.InvalidParameterValue(`Invalid value '${f}' for ICMP type or '${t}' for ICMP code: -1 to 255.`);
    return { FromPort: f, ToPort: t };
  }
  return from === undefined && to === undefined ? {} : { FromPort: from, ToPort: to };
}

const validIpv6Cidr = (text: string) => {
  try {
    return ipaddr.parseCIDR(text)[0].kind() === "ipv6";
  } catch {
    return false;
  }
};

/**
 * IpPermissions → one rule per peer (CIDR, IPv6 CIDR, prefix list, group). A permission
 * without any peer, a malformed block or a port range out of bounds is refused.
 */
export function expandPermissions(permissions: readonly IpPermission[], isEgress: boolean): RuleSpec[] {
  const rules: RuleSpec[] = [];
  for (const p of permissions) {
    const IpProtocol = normalProtocol(p.IpProtocol);
    const ports = portsOf(IpProtocol, p.FromPort, p.ToPort);
    const base = { IsEgress: isEgress, IpProtocol, ...ports };
    const before = rules.length;
    for (const r of p.IpRanges ?? []) {
      if (!r.CidrIp || !parseCidr(r.CidrIp))
        throw ec2Errors.InvalidParameterValue(`CIDR block ${r.CidrIp ?? "null"} is malformed`);
      rules.push({ ...base, CidrIpv4: r.CidrIp, ...(r.Description ? { Description: r.Description } : {}) });
    }
    for (const r of p.Ipv6Ranges ?? []) {
      if (!r.CidrIpv6 || !validIpv6Cidr(r.CidrIpv6))
        throw ec2Errors.InvalidParameterValue(`CIDR block ${r.CidrIpv6 ?? "null"} is malformed`);
      rules.push({ ...base, CidrIpv6: r.CidrIpv6, ...(r.Description ? { Description: r.Description } : {}) });
    }
    for (const r of p.PrefixListIds ?? []) {
      if (!r.PrefixListId) throw ec2Errors.InvalidParameterValue("A prefix list id must be given.");
      rules.push({ ...base, PrefixListId: r.PrefixListId, ...(r.Description ? { Description: r.Description } : {}) });
    }
    for (const r of p.UserIdGroupPairs ?? []) {
      if (!r.GroupId) throw ec2Errors.InvalidGroupNotFound("A referenced security group must be named by GroupId.");
      rules.push({ ...base, ReferencedGroupId: r.GroupId, ...(r.Description ? { Description: r.Description } : {}) });
    }
    if (rules.length === before)
      throw ec2Errors.MissingParameter(
        "The request must contain a peer for each permission: IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs.",
      );
  }
  return rules;
}

/** What makes two rules the same rule (the description does not). */
export const ruleKey = (r: RuleSpec) =>
  JSON.stringify([
    r.IsEgress,
    r.IpProtocol,
    r.FromPort ?? null,
    r.ToPort ?? null,
    r.CidrIpv4 ?? null,
    r.CidrIpv6 ?? null,
    r.PrefixListId ?? null,
    r.ReferencedGroupId ?? null,
  ]);

/** How EC2 names a rule in its duplicate and not-found messages. */
export const describeRule = (r: RuleSpec) =>
  `peer: ${r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupId}, ${r.IpProtocol === "-1" ? "ALL" : r.IpProtocol.toUpperCase()}, from port: ${r.FromPort ?? "all"}, to port: ${r.ToPort ?? "all"}, ALLOW`;

/** Rules back into IpPermissions as Describe shows them: one per protocol and port range. */
export function groupRules(rules: readonly SecurityGroupRuleRecord[], owner: string): IpPermission[] {
  const byRange = new Map<string, IpPermission>();
  for (const r of rules) {
    const key = JSON.stringify([r.IpProtocol, r.FromPort ?? null, r.ToPort ?? null]);
    let p = byRange.get(key);
    if (!p) {
      p = {
        IpProtocol: r.IpProtocol,
        ...(r.FromPort !== undefined ? { FromPort: r.FromPort } : {}),
        ...(r.ToPort !== undefined ? { ToPort: r.ToPort } : {}),
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      };
      byRange.set(key, p);
    }
    const description = r.Description ? { Description: r.Description } : {};
    if (r.CidrIpv4) p.IpRanges!.push({ CidrIp: r.CidrIpv4, ...description });
    if (r.CidrIpv6) p.Ipv6Ranges!.push({ CidrIpv6: r.CidrIpv6, ...description });
    if (r.PrefixListId) p.PrefixListIds!.push({ PrefixListId: r.PrefixListId, ...description });
    if (r.ReferencedGroupId) p.UserIdGroupPairs!.push({ GroupId: r.ReferencedGroupId, UserId: owner, ...description });
  }
  return [...byRange.values()];
}
