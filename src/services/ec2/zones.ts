import type { AvailabilityZone, Region } from "../../protocol/generated/types/ec2.js";

/** The regions DescribeRegions lists (the commercial ones enabled by default). */
export const REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ca-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-north-1",
  "ap-south-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-southeast-1",
  "ap-southeast-2",
  "sa-east-1",
] as const;

/** `us-east-1` → `use1`, the prefix of its zone ids (`use1-az1`). */
export const regionAbbreviation = (region: string) =>
  region
    .split("-")
    .map((part, i) => (i === 0 || /^\d+$/.test(part) ? part : part[0]))
    .join("");

/** us-east-1 has six zones (a–f) on AWS; Berth gives every other region three (a–c). */
export function zonesOf(region: string): AvailabilityZone[] {
  const count = region === "us-east-1" ? 6 : 3;
  return Array.from({ length: count }, (_, i) => ({
    ZoneName: `${region}${String.fromCharCode(97 + i)}`,
    ZoneId: `${regionAbbreviation(region)}-az${i + 1}`,
    RegionName: region,
    State: "available",
    OptInStatus: "opt-in-not-required",
    GroupName: region,
    NetworkBorderGroup: region,
    ZoneType: "availability-zone",
    Messages: [],
  }));
}

export const regionsOf = (current: string): Region[] =>
  [...new Set([...REGIONS, current])].map((name) => ({
    RegionName: name,
    Endpoint: `ec2.${name}.amazonaws.com`,
    OptInStatus: "opt-in-not-required",
  }));
