import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Cidr,
  allowedPrefix,
  carve,
  contains,
  formatCidr,
  overlaps,
  parseCidr,
  usableAddresses,
} from "../../src/services/ec2/cidr.js";
import { applyFilters, wildcardRegExp } from "../../src/services/ec2/filters.js";
import { expandPermissions, groupRules, normalProtocol, ruleKey } from "../../src/services/ec2/permissions.js";

describe("EC2 CIDR blocks", () => {
  it.each([
    ["10.0.0.0/16", { base: 10 * 2 ** 24, prefix: 16 }],
    ["172.31.0.0/16", { base: (172 * 256 + 31) * 2 ** 16, prefix: 16 }],
    ["0.0.0.0/0", { base: 0, prefix: 0 }],
    ["192.168.1.128/25", { base: ((192 * 256 + 168) * 256 + 1) * 256 + 128, prefix: 25 }],
  ])("parses %s", (text, cidr) => expect(parseCidr(text)).toEqual(cidr));

  it.each([
    "10.0.0.1/16",
    "10.0.0/16",
    "10.0.0.0",
    "10.0.0.0/33",
    "256.0.0.0/8",
    "a.b.c.d/8",
    "::/0",
    " 10.0.0.0/16",
    "010.0.0.0/8",
  ])("refuses %s", (text) => expect(parseCidr(text)).toBeUndefined());

  it.each([
    ["10.0.0.0/16", "10.0.1.0/24", true, true],
    ["10.0.0.0/16", "10.1.0.0/24", false, false],
    ["10.0.0.0/24", "10.0.0.0/16", false, true],
    ["10.0.0.0/24", "10.0.0.128/25", true, true],
    ["10.0.0.0/25", "10.0.0.128/25", false, false],
  ])("%s vs %s: contains %s, overlaps %s", (a, b, inside, overlap) => {
    expect(contains(parseCidr(a)!, parseCidr(b)!)).toBe(inside);
    expect(overlaps(parseCidr(a)!, parseCidr(b)!)).toBe(overlap);
  });

  it("carves the default VPC's /20 subnets and counts usable addresses", () => {
    expect(carve(parseCidr("172.31.0.0/16")!, 20, 3).map(formatCidr)).toEqual([
      "172.31.0.0/20",
      "172.31.16.0/20",
      "172.31.32.0/20",
    ]);
    expect(usableAddresses(parseCidr("172.31.0.0/20")!)).toBe(4091);
    expect(usableAddresses(parseCidr("10.0.0.0/28")!)).toBe(11);
    expect(allowedPrefix(parseCidr("10.0.0.0/8")!)).toBe(false);
    expect(allowedPrefix(parseCidr("10.0.0.0/28")!)).toBe(true);
  });

  const cidr = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
    .map(([addr, prefix]): Cidr => ({ base: addr - (addr % 2 ** (32 - prefix)), prefix }));

  it("formats what it parses and parses what it formats", () =>
    fc.assert(
      fc.property(cidr, (c) => {
        expect(parseCidr(formatCidr(c))).toEqual(c);
      }),
    ));

  it("overlap is symmetric, and containment implies overlap", () =>
    fc.assert(
      fc.property(cidr, cidr, (a, b) => {
        expect(overlaps(a, b)).toBe(overlaps(b, a));
        if (contains(a, b)) expect(overlaps(a, b)).toBe(true);
        // Two aligned blocks either nest or are disjoint.
        if (overlaps(a, b)) expect(contains(a, b) || contains(b, a)).toBe(true);
      }),
    ));
});

describe("EC2 filters", () => {
  const items = [
    { id: "vpc-1", cidr: "10.0.0.0/16", tags: [{ Key: "team", Value: "platform" }] },
    {
      id: "vpc-2",
      cidr: "10.1.0.0/16",
      tags: [
        { Key: "team", Value: "ops" },
        { Key: "env", Value: "prod" },
      ],
    },
    { id: "vpc-3", cidr: "172.31.0.0/16", tags: [] },
  ];
  const spec = {
    names: { "vpc-id": (v: (typeof items)[0]) => [v.id], cidr: (v: (typeof items)[0]) => [v.cidr] },
    tags: (v: (typeof items)[0]) => v.tags,
  };
  const ids = (filters: { Name: string; Values: string[] }[]) => applyFilters(items, filters, spec).map((v) => v.id);

  it.each([
    [[{ Name: "vpc-id", Values: ["vpc-1", "vpc-3"] }], ["vpc-1", "vpc-3"]],
    [[{ Name: "cidr", Values: ["10.*"] }], ["vpc-1", "vpc-2"]],
    [[{ Name: "cidr", Values: ["10.?.0.0/16"] }], ["vpc-1", "vpc-2"]],
    [[{ Name: "tag:team", Values: ["ops", "platform"] }], ["vpc-1", "vpc-2"]],
    [
      [
        { Name: "tag:team", Values: ["*"] },
        { Name: "tag-key", Values: ["env"] },
      ],
      ["vpc-2"],
    ],
    [[{ Name: "tag-value", Values: ["prod"] }], ["vpc-2"]],
    [[{ Name: "tag:missing", Values: ["*"] }], []],
    [[{ Name: "cidr", Values: [] }], []],
  ])("%j → %j", (filters, expected) => expect(ids(filters)).toEqual(expected));

  it("refuses an unknown filter name even with nothing to filter", () => {
    expect(() => applyFilters([], [{ Name: "colour", Values: ["red"] }], spec)).toThrow(
      "The filter 'colour' is invalid",
    );
  });

  it.each([
    ["a*c", "abbbc", true],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["a\\*c", "a*c", true],
    ["a\\*c", "abc", false],
    ["10.0.0.0/16", "10.0.0.0/16", true],
    ["10.0.0.0/16", "10x0.0.0/16", false],
  ])("wildcard %s matches %s: %s", (pattern, value, matches) =>
    expect(wildcardRegExp(pattern).test(value)).toBe(matches),
  );

  it("a pattern without wildcards matches exactly itself", () =>
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[*?\\]/.test(s)),
        fc.string(),
        (p, other) => {
          expect(wildcardRegExp(p).test(p)).toBe(true);
          if (other !== p) expect(wildcardRegExp(p).test(other)).toBe(false);
        },
      ),
    ));
});

describe("EC2 security group permissions", () => {
  it("expands one rule per peer and groups them back by protocol and ports", () => {
    const rules = expandPermissions(
      [
        {
          IpProtocol: "6",
          FromPort: 80,
          ToPort: 80,
          IpRanges: [{ CidrIp: "10.0.0.0/8" }, { CidrIp: "0.0.0.0/0", Description: "web" }],
          UserIdGroupPairs: [{ GroupId: "sg-1" }],
        },
      ],
      false,
    );
    expect(rules.map((r) => [r.IpProtocol, r.CidrIpv4 ?? r.ReferencedGroupId])).toEqual([
      ["tcp", "10.0.0.0/8"],
      ["tcp", "0.0.0.0/0"],
      ["tcp", "sg-1"],
    ]);
    const grouped = groupRules(
      rules.map((r, i) => ({ ...r, SecurityGroupRuleId: `sgr-${i}` })),
      "000000000000",
    );
    expect(grouped).toEqual([
      {
        IpProtocol: "tcp",
        FromPort: 80,
        ToPort: 80,
        IpRanges: [{ CidrIp: "10.0.0.0/8" }, { CidrIp: "0.0.0.0/0", Description: "web" }],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [{ GroupId: "sg-1", UserId: "000000000000" }],
      },
    ]);
  });

  it("a description does not make a rule different", () => {
    const [a] = expandPermissions(
      [{ IpProtocol: "tcp", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "1.0.0.0/8" }] }],
      false,
    );
    const [b] = expandPermissions(
      [{ IpProtocol: "TCP", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "1.0.0.0/8", Description: "x" }] }],
      false,
    );
    expect(ruleKey(a)).toBe(ruleKey(b));
  });

  it.each([
    [{ IpProtocol: "tcp", FromPort: 80, ToPort: 70, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }, "portRange"],
    [{ IpProtocol: "tcp", FromPort: 0, ToPort: 65536, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }, "portRange"],
    [{ IpProtocol: "tcp", IpRanges: [{ CidrIp: "10.0.0.0/8" }] }, "both from and to"],
    [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: "10.0.0/8" }] }, "malformed"],
    [{ IpProtocol: "banana", IpRanges: [{ CidrIp: "10.0.0.0/8" }] }, "Unknown protocol"],
    [{ IpProtocol: "-1" }, "peer"],
  ])("refuses %j", (permission, message) => {
    expect(() => expandPermissions([permission], false)).toThrow(message);
  });

  it("all-traffic rules have no ports; protocol numbers become names", () => {
    expect(expandPermissions([{ IpProtocol: "-1", FromPort: 5, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }], true)).toEqual([
      { IsEgress: true, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" },
    ]);
    expect(normalProtocol("17")).toBe("udp");
    expect(normalProtocol("50")).toBe("50");
  });
});
