import { elbv2Errors } from "../../protocol/generated/errors/elbv2.js";
import { commonErrors } from "../../core/errors.js";
import type { Scope } from "../../core/ids.js";
import type { Action, Listener, Operations } from "../../protocol/generated/types/elbv2.js";
import type { Provider } from "../../protocol/service.js";
import { ElbContext, pageOf } from "./context.js";
import type { ListenerRecord, LoadBalancerRecord } from "../../store/schema/elbv2.js";
import { mergeTags } from "./tags.js";
import { type ActionContext, normalizeActions } from "./validate.js";

export const describeListener = (l: ListenerRecord): Listener => ({
  ListenerArn: l.arn,
  LoadBalancerArn: l.loadBalancerArn,
  Port: l.port,
  Protocol: l.protocol,
  DefaultActions: l.defaultActions,
});

/** What action validation needs to know about the listener's load balancer and the target groups. */
export function actionContext(
  elb: ElbContext,
  scope: Scope,
  lb: LoadBalancerRecord,
  protocol: "HTTP" | "TCP",
): ActionContext {
  const use = elb.targetGroupUse(scope);
  return {
    loadBalancerArn: lb.arn,
    loadBalancerType: lb.type,
    listenerProtocol: protocol,
    targetGroup: (arn) => {
      const hit = elb.targetGroups.byArn(arn);
      if (!hit) return undefined;
      return { protocol: hit.doc.protocol, loadBalancerArns: [...(use.get(arn) ?? [])] };
    },
  };
}

/** The listener protocol a load balancer accepts, or the error AWS gives. */
function listenerProtocol(lb: LoadBalancerRecord, protocol: string | undefined): "HTTP" | "TCP" {
  if (protocol === undefined) throw commonErrors.ValidationError("A listener protocol must be specified");
  if (lb.type === "application") {
    if (protocol === "HTTP") return "HTTP";
    if (protocol === "HTTPS")
      throw elbv2Errors.UnsupportedProtocolException(
        "Berth does not terminate TLS yet: HTTPS listeners are not supported; use an HTTP listener",
      );
    throw elbv2Errors.UnsupportedProtocolException(
      `Protocol '${protocol}' is not supported for Application Load Balancers`,
    );
  }
  if (protocol === "TCP") return "TCP";
  if (["TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC"].includes(protocol))
    throw elbv2Errors.UnsupportedProtocolException(
      `Berth's Network Load Balancers support only TCP listeners; '${protocol}' is not supported yet`,
    );
  throw elbv2Errors.UnsupportedProtocolException(`Protocol '${protocol}' is not supported for Network Load Balancers`);
}

const sameActions = (a: Action[], b: Action[]) => JSON.stringify(a) === JSON.stringify(b);

export function listenerOperations(elb: ElbContext): Provider<Operations> {
  /** Fails with InvalidConfigurationRequest when another process holds the address and port. */
  const checkPortFree = async (lb: LoadBalancerRecord, port: number) => {
    const problem = await elb.probePort(lb.address, port);
    if (problem)
      throw elbv2Errors.InvalidConfigurationRequestException(
        `Port ${port} cannot be listened on at ${lb.address}: ${problem}`,
      );
  };

  return {
    CreateListener: async (input) => {
      const { scope, doc: lb } = elb.loadBalancer(input.LoadBalancerArn);
      const protocol = listenerProtocol(lb, input.Protocol);
      if (input.Port === undefined) throw commonErrors.ValidationError("A listener port must be specified");
      if (input.Certificates?.length || input.SslPolicy)
        throw commonErrors.ValidationError("Certificates and SSL policies apply only to HTTPS and TLS listeners");
      const defaultActions = normalizeActions(input.DefaultActions, actionContext(elb, scope, lb, protocol));
      const tags = mergeTags([], input.Tags ?? []);
      const clash = () => elb.listeners.children(scope, lb.arn).find((l) => l.port === input.Port);
      const existing = clash();
      if (existing) {
        if (existing.protocol === protocol && sameActions(existing.defaultActions, defaultActions))
          return { Listeners: [describeListener(existing)] }; // idempotent, as in AWS
        throw elbv2Errors.DuplicateListenerException(
          `A listener already exists on port ${input.Port} of this load balancer`,
        );
      }
      if (elb.listeners.children(scope, lb.arn).length >= 50)
        throw elbv2Errors.TooManyListenersException("A load balancer can have at most 50 listeners");
      await checkPortFree(lb, input.Port);
      if (!elb.loadBalancers.byArn(lb.arn))
        throw elbv2Errors.LoadBalancerNotFoundException("The load balancer was deleted");
      if (clash())
        throw elbv2Errors.DuplicateListenerException(
          `A listener already exists on port ${input.Port} of this load balancer`,
        );
      const arn = elb.listenerArn(scope, lb.arn, ElbContext.newId());
      const record: ListenerRecord = {
        arn,
        loadBalancerArn: lb.arn,
        port: input.Port,
        protocol,
        defaultActions,
        defaultRuleArn: elb.ruleArn(scope, arn, ElbContext.newId()),
        tags,
      };
      elb.listeners.put(scope, record);
      await elb.settle();
      return { Listeners: [describeListener(record)] };
    },

    DescribeListeners: (input) => {
      if (input.LoadBalancerArn && input.ListenerArns?.length)
        throw commonErrors.ValidationError(
          "Listener ARNs and a load balancer ARN cannot be specified at the same time",
        );
      let found: ListenerRecord[];
      if (input.ListenerArns?.length) {
        found = input.ListenerArns.map((a) => elb.listener(a).doc);
      } else if (input.LoadBalancerArn) {
        found = elb.listeners.children(elb.loadBalancer(input.LoadBalancerArn).scope, input.LoadBalancerArn);
      } else {
        throw commonErrors.ValidationError("You must specify either listener ARNs or a load balancer ARN");
      }
      const { page, next } = pageOf(found, (l) => [l.loadBalancerArn, l.port], input.Marker, input.PageSize);
      return { Listeners: page.map(describeListener), NextMarker: next };
    },

    ModifyListener: async (input) => {
      const { scope, doc: listener } = elb.listener(input.ListenerArn);
      const { doc: lb } = elb.loadBalancer(listener.loadBalancerArn);
      const protocol = input.Protocol !== undefined ? listenerProtocol(lb, input.Protocol) : listener.protocol;
      if (input.Certificates?.length || input.SslPolicy)
        throw commonErrors.ValidationError("Certificates and SSL policies apply only to HTTPS and TLS listeners");
      const defaultActions = input.DefaultActions
        ? normalizeActions(input.DefaultActions, actionContext(elb, scope, lb, protocol))
        : listener.defaultActions;
      const port = input.Port ?? listener.port;
      const clash = () => elb.listeners.children(scope, lb.arn).some((l) => l.port === port && l.arn !== listener.arn);
      if (clash())
        throw elbv2Errors.DuplicateListenerException(`A listener already exists on port ${port} of this load balancer`);
      if (port !== listener.port) await checkPortFree(lb, port);
      const current = elb.listeners.byArn(listener.arn);
      if (!current) throw elbv2Errors.ListenerNotFoundException(`Listener '${listener.arn}' not found`);
      if (clash())
        throw elbv2Errors.DuplicateListenerException(`A listener already exists on port ${port} of this load balancer`);
      const record: ListenerRecord = { ...current.doc, port, protocol, defaultActions };
      elb.listeners.put(scope, record);
      await elb.settle();
      return { Listeners: [describeListener(record)] };
    },

    DeleteListener: async (input) => {
      const { scope, doc } = elb.listener(input.ListenerArn);
      elb.store.transaction(() => {
        for (const r of elb.rules.children(scope, doc.arn)) elb.rules.delete(scope, r.arn);
        elb.listeners.delete(scope, doc.arn);
      });
      await elb.settle();
      return {};
    },
  };
}
