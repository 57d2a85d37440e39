import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { globalArn } from "../core/ids.js";

/**
 * AWS managed policies that ECS, ECR and container workloads commonly attach, under their real
 * ARNs and with the statements AWS publishes. The policies are data (managed-policies.json
 * beside this file); statements about services Berth does not serve are kept, they simply never
 * match a Berth request.
 */

export interface AwsManagedPolicy {
  name: string;
  path: string;
  description: string;
  versionId: string;
  document: { Version: "2012-10-17"; Statement: Record<string, unknown>[] };
}

const FILE = "managed-policies.json";

/** The data file: beside this module under src/ (tsx, vitest), or in src/iam/ when running from dist/. */
function dataFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, FILE), join(here, "../../../src/iam", FILE)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`cannot find ${FILE} (looked in ${candidates.join(", ")})`);
  return found;
}

/** Parses the data file, checking each entry's shape so a bad edit fails at startup, not in a request. */
export function parseManagedPolicies(text: string): AwsManagedPolicy[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error(`${FILE}: expected an array of policies`);
  return data.map((p, i) => {
    const ok =
      typeof p === "object" &&
      p !== null &&
      ["name", "path", "description", "versionId"].every((k) => typeof p[k] === "string") &&
      p.document?.Version === "2012-10-17" &&
      Array.isArray(p.document.Statement);
    if (!ok) throw new Error(`${FILE}: entry ${i} is not a policy (name, path, description, versionId, document)`);
    return p as AwsManagedPolicy;
  });
}

export const AWS_MANAGED_POLICIES: AwsManagedPolicy[] = parseManagedPolicies(readFileSync(dataFile(), "utf8"));

export const awsManagedPolicyArn = (p: AwsManagedPolicy) => globalArn("iam", "aws", `policy${p.path}${p.name}`);

const BY_ARN = new Map(AWS_MANAGED_POLICIES.map((p) => [awsManagedPolicyArn(p), p]));

export const awsManagedPolicy = (arn: string): AwsManagedPolicy | undefined => BY_ARN.get(arn);

/** The date AWS managed policies report as created (they predate every Berth). */
export const AWS_MANAGED_CREATED = new Date("2015-02-06T18:40:00Z");
