import type { Operations } from "../../protocol/generated/types/ec2.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import type { DocumentStore } from "../../store/documents.js";
import { defineService } from "../define.js";
import { Ec2Context } from "./context.js";
import { ec2Errors } from "./errors.js";
import { type InstanceDeps, instanceOperations } from "./instances.js";
import { launchTemplateOperations } from "./launch-templates.js";
import { regionOperations } from "./regions.js";
import { securityGroupOperations } from "./security-groups.js";
import { subnetOperations } from "./subnets.js";
import { tagOperations } from "./tags.js";
import { vpcOperations } from "./vpcs.js";

export interface Ec2Deps {
  store: DocumentStore;
  /** IAM's instance profiles, for RunInstances' IamInstanceProfile (without it, none can be named). */
  instanceProfile?: InstanceDeps["instanceProfile"];
}

/**
 * Every operation first settles the scope's default VPC (made on first use, as an account
 * has one from the start on AWS), and answers DryRun as EC2 does once the call is authorised.
 */
function withDefaults(ec2: Ec2Context, ops: Provider<Operations>): Provider<Operations> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(ops)) {
    const h = handler as (input: { DryRun?: boolean }, ctx: RequestContext) => unknown;
    wrapped[name] = (input: { DryRun?: boolean }, ctx: RequestContext) => {
      ec2.ensureDefaults(ctx);
      if (input.DryRun) throw ec2Errors.DryRunOperation("Request would have succeeded, but DryRun flag is set.");
      return h(input, ctx);
    };
  }
  return wrapped as Provider<Operations>;
}

/** Amazon EC2 (ec2 protocol): the networking records IaC creates before ECS — VPCs, subnets, security groups, tags. */
export function ec2Service(deps: Ec2Deps) {
  const ec2 = new Ec2Context(deps.store);
  const provider = withDefaults(ec2, {
    ...regionOperations(ec2),
    ...vpcOperations(ec2),
    ...subnetOperations(ec2),
    ...securityGroupOperations(ec2),
    ...tagOperations(ec2),
    ...launchTemplateOperations(ec2),
    ...instanceOperations(ec2, { instanceProfile: deps.instanceProfile ?? (() => undefined) }),
  });
  return { service: defineService("ec2", provider, { validationCode: "InvalidParameterValue" }), context: ec2 };
}
