import { randomBytes, randomUUID } from "node:crypto";

export const uuid = () => randomUUID();
/** 32 lowercase hex digits, the shape of ECS task ids. */
export const hexId = (bytes = 16) => randomBytes(bytes).toString("hex");

export interface Scope {
  account: string;
  region: string;
}

export const arn = (service: string, scope: Scope, resource: string) =>
  `arn:aws:${service}:${scope.region}:${scope.account}:${resource}`;

/** The ARN of a resource of a global service (IAM, STS, ECR Public's registry): no region. */
export const globalArn = (service: string, account: string, resource: string) =>
  `arn:aws:${service}::${account}:${resource}`;

/** An account's root user, `arn:aws:iam::<account>:root`. */
export const rootArn = (account: string) => globalArn("iam", account, "root");

export interface ParsedArn {
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(value: string): ParsedArn | undefined {
  const m = /^arn:aws[a-z-]*:([^:]+):([^:]*):([^:]*):(.+)$/.exec(value);
  return m ? { service: m[1], region: m[2], account: m[3], resource: m[4] } : undefined;
}
