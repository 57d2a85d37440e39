import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Operations, TargetGroup } from "../../protocol/generated/types/elbv2.js";
import type { Provider } from "../../protocol/service.js";
import { attributeList, modifyTargetGroupAttributes, targetGroupAttributeDefaults } from "./attributes.js";
import { ElbContext, pageOf } from "./context.js";
import type { TargetGroupRecord } from "../../store/schema/elbv2.js";
import { mergeTags } from "./tags.js";
import { checkResourceArn, checkTargetGroupName, checkVpcId, healthCheckSettings } from "./validate.js";

export function describeTargetGroup(tg: TargetGroupRecord, loadBalancerArns: string[]): TargetGroup {
  const hc = tg.healthCheck;
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: hc.enabled,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThresholdCount,
    UnhealthyThresholdCount: hc.unhealthyThresholdCount,
    ...(hc.path !== undefined ? { HealthCheckPath: hc.path } : {}),
    ...(hc.matcher !== undefined ? { Matcher: { HttpCode: hc.matcher } } : {}),
    LoadBalancerArns: loadBalancerArns,
    TargetType: tg.targetType,
    ...(tg.protocolVersion ? { ProtocolVersion: tg.protocolVersion } : {}),
    IpAddressType: tg.ipAddressType,
  };
}

export const currentTargetGroupAttributes = (tg: TargetGroupRecord) => ({
  ...targetGroupAttributeDefaults(tg.protocol),
  ...tg.attributes,
});

const unsupported = (message: string) => elbv2Errors.InvalidConfigurationRequestException(message);

export function targetGroupOperations(elb: ElbContext): Provider<Operations> {
  const describeAll = (scope: Scope, tgs: TargetGroupRecord[]) => {
    const use = elb.targetGroupUse(scope);
    return tgs.map((tg) => describeTargetGroup(tg, [...(use.get(tg.arn) ?? [])].sort()));
  };

  return {
    CreateTargetGroup: (input, scope) => {
      checkTargetGroupName(input.Name);
      const targetType = input.TargetType ?? "instance";
      if (targetType !== "ip" && targetType !== "instance")
        throw unsupported(`Target type '${targetType}' is not supported by Berth; use ip or instance`);
      if (input.Protocol === undefined)
        throw commonErrors.ValidationError("A protocol must be specified for target groups of type ip or instance");
      if (input.Port === undefined)
        throw commonErrors.ValidationError("A port must be specified for target groups of type ip or instance");
      const protocol = input.Protocol;
      if (protocol !== "HTTP" && protocol !== "TCP")
        throw unsupported(
          `Target group protocol '${protocol}' is not supported by Berth yet; use HTTP (Application Load Balancers) or TCP (Network Load Balancers)`,
        );
      let protocolVersion: string | undefined;
      if (protocol === "HTTP") {
        protocolVersion = (input.ProtocolVersion ?? "HTTP1").toUpperCase();
        if (protocolVersion !== "HTTP1")
          throw unsupported(`Protocol version '${input.ProtocolVersion}' is not supported by Berth yet; use HTTP1`);
      } else if (input.ProtocolVersion !== undefined)
        throw commonErrors.ValidationError("A protocol version can only be specified for HTTP and HTTPS target groups");
      if ((input.IpAddressType ?? "ipv4") !== "ipv4")
        throw unsupported("Only IPv4 target groups are supported by Berth");
      if (input.TargetControlPort !== undefined) throw unsupported("Target control ports are not supported by Berth");
      const healthCheck = healthCheckSettings(input, { protocol, targetType });
      const tags = mergeTags([], input.Tags ?? []);
      if (input.VpcId !== undefined) checkVpcId(input.VpcId);
      const vpcId = input.VpcId ?? elb.defaultVpc(scope).vpcId;
      const existing = elb.targetGroups.get(scope, input.Name);
      if (existing) {
        const same =
          existing.protocol === protocol &&
          existing.port === input.Port &&
          existing.targetType === targetType &&
          existing.vpcId === vpcId &&
          JSON.stringify(existing.healthCheck) === JSON.stringify(healthCheck);
        if (same) return { TargetGroups: describeAll(scope, [existing]) }; // idempotent, as in AWS
        throw elbv2Errors.DuplicateTargetGroupNameException(
          `A target group with the name '${input.Name}' already exists with different settings`,
        );
      }
      const record: TargetGroupRecord = {
        arn: elb.targetGroupArn(scope, input.Name, ElbContext.newId()),
        name: input.Name,
        protocol,
        ...(protocolVersion ? { protocolVersion } : {}),
        port: input.Port,
        vpcId,
        targetType,
        ipAddressType: "ipv4",
        healthCheck,
        attributes: targetGroupAttributeDefaults(protocol),
        tags,
      };
      elb.targetGroups.put(scope, record);
      return { TargetGroups: describeAll(scope, [record]) };
    },

    DescribeTargetGroups: (input, scope) => {
      const filters = [input.LoadBalancerArn, input.TargetGroupArns?.length, input.Names?.length].filter(Boolean);
      if (filters.length > 1)
        throw commonErrors.ValidationError("Only one of LoadBalancerArn, TargetGroupArns and Names can be specified");
      let found = elb.targetGroups.list(scope);
      if (input.LoadBalancerArn) {
        const lb = elb.loadBalancer(input.LoadBalancerArn);
        const use = elb.targetGroupUse(lb.scope);
        found = elb.targetGroups.list(lb.scope).filter((tg) => use.get(tg.arn)?.has(input.LoadBalancerArn!));
      } else if (input.TargetGroupArns?.length) {
        found = input.TargetGroupArns.map((a) => elb.targetGroup(a).doc);
      } else if (input.Names?.length) {
        const missing = input.Names.filter((n) => !found.some((tg) => tg.name === n));
        if (missing.length)
          throw elbv2Errors.TargetGroupNotFoundException(`Target groups '[${missing.join(", ")}]' not found`);
        const wanted = new Set(input.Names);
        found = found.filter((tg) => wanted.has(tg.name));
      }
      const { page, next } = pageOf(found, (tg) => [tg.name], input.Marker, input.PageSize);
      return { TargetGroups: describeAll(scope, page), NextMarker: next };
    },

    ModifyTargetGroup: (input) => {
      const { scope, doc } = elb.targetGroup(input.TargetGroupArn);
      const healthCheck = healthCheckSettings(input, doc, doc.healthCheck);
      const record = { ...doc, healthCheck };
      elb.targetGroups.put(scope, record);
      return { TargetGroups: describeAll(scope, [record]) };
    },

    DeleteTargetGroup: (input) => {
      checkResourceArn(input.TargetGroupArn, "targetgroup");
      const hit = elb.targetGroups.byArn(input.TargetGroupArn);
      if (!hit) return {}; // AWS: deleting a missing target group succeeds
      if (elb.loadBalancerArnsOf(hit.scope, hit.doc.arn).length)
        throw elbv2Errors.ResourceInUseException(
          `Target group '${input.TargetGroupArn}' is currently in use by a listener or a rule`,
        );
      elb.store.transaction(() => {
        for (const t of elb.targets.children(hit.scope, hit.doc.arn))
          elb.targets.delete(hit.scope, `${t.targetGroupArn}|${t.id}|${t.port}`);
        elb.targetGroups.delete(hit.scope, hit.doc.name);
      });
      return {};
    },

    DescribeTargetGroupAttributes: (input) => ({
      Attributes: attributeList(currentTargetGroupAttributes(elb.targetGroup(input.TargetGroupArn).doc)),
    }),

    ModifyTargetGroupAttributes: (input) => {
      const { scope, doc } = elb.targetGroup(input.TargetGroupArn);
      const attributes = modifyTargetGroupAttributes(doc.protocol, currentTargetGroupAttributes(doc), input.Attributes);
      elb.targetGroups.put(scope, { ...doc, attributes });
      const changed = new Set(input.Attributes.map((a) => a.Key));
      return { Attributes: attributeList(attributes).filter((a) => changed.has(a.Key)) };
    },
  };
}
