import { parseArn } from "../../../core/ids.js";
import { quoteValue } from "../../../protocol/validate.js";
import { invalid } from "./invalid.js";

/** ELBv2 resource ARNs: `arn:aws:elasticloadbalancing:<region>:<account>:<kind>/…`. */
const KINDS = { loadbalancer: "load balancer", targetgroup: "target group" } as const;

/**
 * Refuses a value that is not an ARN of the kind given, as AWS does ("'x' is not a valid target
 * group ARN"), also where a missing resource of a well-formed ARN is not an error (Delete*).
 */
export function checkResourceArn(value: string, kind: keyof typeof KINDS) {
  const parsed = parseArn(value);
  const ok =
    parsed?.service === "elasticloadbalancing" &&
    /^\d{12}$/.test(parsed.account) &&
    parsed.resource.startsWith(`${kind}/`);
  if (!ok) throw invalid(`${quoteValue(value)} is not a valid ${KINDS[kind]} ARN`);
}
