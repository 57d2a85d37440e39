import type { Operations } from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { Ec2Context } from "./context.js";
import { ec2Errors } from "./errors.js";
import { applyFilters } from "./filters.js";
import { regionsOf, zonesOf } from "./zones.js";

/** Zones, regions and account attributes: fixed data, the zones of the caller's region. */
export function regionOperations(ec2: Ec2Context): Provider<Operations> {
  return {
    DescribeAvailabilityZones: (input, ctx) => {
      let zones = zonesOf(ctx.region);
      for (const name of input.ZoneNames ?? [])
        if (!zones.some((z) => z.ZoneName === name))
          throw ec2Errors.InvalidParameterValue(`The zone '${name}' does not exist.`);
      for (const id of input.ZoneIds ?? [])
        if (!zones.some((z) => z.ZoneId === id))
          throw ec2Errors.InvalidParameterValue(`The zone ID '${id}' does not exist.`);
      if (input.ZoneNames?.length || input.ZoneIds?.length)
        zones = zones.filter((z) => input.ZoneNames?.includes(z.ZoneName!) || input.ZoneIds?.includes(z.ZoneId!));
      const filtered = applyFilters(zones, input.Filters, {
        names: {
          "zone-name": (z) => [z.ZoneName],
          "zone-id": (z) => [z.ZoneId],
          "region-name": (z) => [z.RegionName],
          state: (z) => [z.State],
          "zone-type": (z) => [z.ZoneType],
          "group-name": (z) => [z.GroupName],
          "opt-in-status": (z) => [z.OptInStatus],
          "network-border-group": (z) => [z.NetworkBorderGroup],
        },
      });
      return { AvailabilityZones: filtered };
    },

    DescribeRegions: (input, ctx) => {
      let regions = regionsOf(ctx.region);
      for (const name of input.RegionNames ?? [])
        if (!regions.some((r) => r.RegionName === name))
          throw ec2Errors.InvalidParameterValue(`Invalid region: ${name}`);
      if (input.RegionNames?.length) regions = regions.filter((r) => input.RegionNames!.includes(r.RegionName!));
      const filtered = applyFilters(regions, input.Filters, {
        names: {
          "region-name": (r) => [r.RegionName],
          endpoint: (r) => [r.Endpoint],
          "opt-in-status": (r) => [r.OptInStatus],
        },
      });
      return { Regions: filtered };
    },

    DescribeAccountAttributes: (input, ctx) => {
      const all = [
        { AttributeName: "supported-platforms", AttributeValues: [{ AttributeValue: "VPC" }] },
        { AttributeName: "default-vpc", AttributeValues: [{ AttributeValue: ec2.defaultVpcId(ctx) ?? "none" }] },
        { AttributeName: "max-instances", AttributeValues: [{ AttributeValue: "20" }] },
        { AttributeName: "vpc-max-security-groups-per-interface", AttributeValues: [{ AttributeValue: "5" }] },
        { AttributeName: "max-elastic-ips", AttributeValues: [{ AttributeValue: "5" }] },
        { AttributeName: "vpc-max-elastic-ips", AttributeValues: [{ AttributeValue: "5" }] },
      ];
      const names = input.AttributeNames as string[] | undefined;
      return { AccountAttributes: names?.length ? all.filter((a) => names.includes(a.AttributeName)) : all };
    },
  };
}
