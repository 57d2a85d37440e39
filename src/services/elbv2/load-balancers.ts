import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { LoadBalancer, Operations } from "../../protocol/generated/types/elbv2.js";
import type { Provider } from "../../protocol/service.js";
import { attributeList, loadBalancerAttributeDefaults, modifyLoadBalancerAttributes } from "./attributes.js";
import { ElbContext, lbNotFound, pageOf } from "./context.js";
import type { LoadBalancerRecord } from "../../store/schema/elbv2.js";
import { mergeTags } from "./tags.js";
import { checkLoadBalancerName, checkResourceArn } from "./validate.js";

/** Route 53 hosted zone ids of ELB DNS names per region (AWS's published values); us-east-1's elsewhere. */
const HOSTED_ZONES: Record<string, { app: string; net: string }> = {
  "us-east-1": { app: "Z35SXDOTRQ7X7K", net: "Z26RNL4JYFTOTI" },
  "us-east-2": { app: "Z3AADJGX6KTTL2", net: "ZLMOA37VPKANP" },
  "us-west-1": { app: "Z368ELLRRE2KJ0", net: "Z24FKFUX50B4VW" },
  "us-west-2": { app: "Z1H1FL5HABSF5", net: "Z18D5FSROUN65G" },
  "eu-west-1": { app: "Z32O12XQLNTSW2", net: "Z2IFOLAFXWLO4F" },
  "eu-central-1": { app: "Z215JYRZR1TBD5", net: "Z3F0SRJ5LGBH90" },
  "ap-southeast-1": { app: "Z1LMS91P8CMLE5", net: "ZKVM4W9LS7TM" },
  "ap-northeast-1": { app: "Z14GRHDCWA56QT", net: "Z31USIVHYNEOWT" },
};

export function describeLoadBalancer(scope: Scope, lb: LoadBalancerRecord): LoadBalancer {
  const zones = HOSTED_ZONES[scope.region] ?? HOSTED_ZONES["us-east-1"];
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.address,
    CanonicalHostedZoneId: lb.type === "application" ? zones.app : zones.net,
    CreatedTime: lb.createdTime,
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: lb.provisionedAt ? "active" : "provisioning" },
    Type: lb.type,
    AvailabilityZones: lb.availabilityZones,
    ...(lb.type === "application" || lb.securityGroups.length ? { SecurityGroups: lb.securityGroups } : {}),
    IpAddressType: lb.ipAddressType,
  };
}

export const currentAttributes = (lb: LoadBalancerRecord) => ({
  ...loadBalancerAttributeDefaults(lb.type),
  ...lb.attributes,
});

/** Removes a load balancer with its listeners and rules (one transaction). */
export function deleteLoadBalancerRecords(elb: ElbContext, scope: Scope, lb: LoadBalancerRecord) {
  elb.store.transaction(() => {
    for (const l of elb.listeners.children(scope, lb.arn)) {
      for (const r of elb.rules.children(scope, l.arn)) elb.rules.delete(scope, r.arn);
      elb.listeners.delete(scope, l.arn);
    }
    elb.loadBalancers.delete(scope, lb.name);
  });
}

export function loadBalancerOperations(elb: ElbContext): Provider<Operations> {
  return {
    CreateLoadBalancer: (input, scope) => {
      checkLoadBalancerName(input.Name);
      const type = input.Type ?? "application";
      if (type !== "application" && type !== "network")
        throw elbv2Errors.InvalidConfigurationRequestException(
          `Load balancer type '${type}' is not supported by Berth; use application or network`,
        );
      const scheme = input.Scheme ?? "internet-facing";
      const ipAddressType = input.IpAddressType ?? "ipv4";
      if (ipAddressType !== "ipv4")
        throw elbv2Errors.InvalidConfigurationRequestException(
          `IP address type '${ipAddressType}' is not supported by Berth; its load balancers listen on IPv4 loopback addresses`,
        );
      if (input.Subnets?.length && input.SubnetMappings?.length)
        throw commonErrors.ValidationError("You can specify subnets or subnet mappings, not both");
      const given = input.Subnets?.length
        ? input.Subnets
        : (input.SubnetMappings ?? []).map((m) => m.SubnetId ?? "").filter(Boolean);
      if (new Set(given).size !== given.length)
        throw commonErrors.ValidationError(
          "Duplicate subnets are not allowed; specify one subnet per Availability Zone",
        );
      if (type === "application" && given.length === 1)
        throw commonErrors.ValidationError(
          "At least two subnets in two different Availability Zones must be specified",
        );
      const defaults = elb.defaultVpc(scope);
      const subnets = given.length ? given : defaults.subnets;
      const existing = elb.loadBalancers.get(scope, input.Name);
      if (existing) {
        if (existing.type === type && existing.scheme === scheme)
          return { LoadBalancers: [describeLoadBalancer(scope, existing)] };
        throw elbv2Errors.DuplicateLoadBalancerNameException(
          `A load balancer with the name '${input.Name}' already exists with different settings`,
        );
      }
      const tags = mergeTags([], input.Tags ?? []);
      const id = ElbContext.newId();
      const record: LoadBalancerRecord = {
        arn: elb.loadBalancerArn(scope, type, input.Name, id),
        name: input.Name,
        type,
        scheme,
        ipAddressType,
        createdTime: elb.clock.now(),
        vpcId: defaults.vpcId,
        availabilityZones: subnets.map((SubnetId, i) => ({
          ZoneName: `${scope.region}${String.fromCharCode(97 + (i % 26))}`,
          SubnetId,
          LoadBalancerAddresses: [],
        })),
        securityGroups: input.SecurityGroups ?? (type === "application" ? [`sg-${defaults.vpcId.slice(4, 21)}`] : []),
        address: elb.allocateAddress(),
        attributes: loadBalancerAttributeDefaults(type),
        tags,
      };
      elb.loadBalancers.put(scope, record);
      return { LoadBalancers: [describeLoadBalancer(scope, record)] };
    },

    DescribeLoadBalancers: (input, scope) => {
      if (input.LoadBalancerArns?.length && input.Names?.length)
        throw commonErrors.ValidationError("Load balancer ARNs and names cannot be specified at the same time");
      let found = elb.loadBalancers.list(scope);
      if (input.LoadBalancerArns?.length) {
        const wanted = new Set(input.LoadBalancerArns);
        found = found.filter((l) => wanted.has(l.arn));
        if (found.length !== wanted.size) throw lbNotFound();
      } else if (input.Names?.length) {
        const wanted = new Set(input.Names);
        found = found.filter((l) => wanted.has(l.name));
        const missing = input.Names.filter((n) => !found.some((l) => l.name === n));
        if (missing.length) throw lbNotFound(`Load balancers '[${missing.join(", ")}]' not found`);
      }
      const { page, next } = pageOf(found, (l) => [l.name], input.Marker, input.PageSize);
      return { LoadBalancers: page.map((l) => describeLoadBalancer(scope, l)), NextMarker: next };
    },

    DeleteLoadBalancer: async (input) => {
      checkResourceArn(input.LoadBalancerArn, "loadbalancer");
      const hit = elb.loadBalancers.byArn(input.LoadBalancerArn);
      if (!hit) return {}; // AWS: deleting a missing load balancer succeeds
      if (currentAttributes(hit.doc)["deletion_protection.enabled"] === "true")
        throw elbv2Errors.OperationNotPermittedException(
          `Load balancer '${input.LoadBalancerArn}' cannot be deleted because deletion protection is enabled`,
        );
      deleteLoadBalancerRecords(elb, hit.scope, hit.doc);
      await elb.settle();
      return {};
    },

    DescribeLoadBalancerAttributes: (input) => {
      const { doc } = elb.loadBalancer(input.LoadBalancerArn);
      return { Attributes: attributeList(currentAttributes(doc)) };
    },

    ModifyLoadBalancerAttributes: (input) => {
      const { scope, doc } = elb.loadBalancer(input.LoadBalancerArn);
      const attributes = modifyLoadBalancerAttributes(doc.type, currentAttributes(doc), input.Attributes);
      elb.loadBalancers.put(scope, { ...doc, attributes });
      const changed = new Set(input.Attributes.map((a) => a.Key));
      return { Attributes: attributeList(attributes).filter((a) => changed.has(a.Key)) };
    },
  };
}
