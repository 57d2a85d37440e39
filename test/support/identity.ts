import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import { region } from "./berth.js";

const run = promisify(execFile);

/** A fresh account per test file: a 12-digit access key id selects it (as the account root). */
export const newAccount = () =>
  `7${String(Date.now()).slice(-7)}${String(Math.floor(Math.random() * 1e4)).padStart(4, "0")}`;

export const rootOf = (account: string): AwsCredentialIdentity => ({ accessKeyId: account, secretAccessKey: "x" });

export const clientOptions = (endpoint: string, credentials: AwsCredentialIdentity) => ({
  endpoint,
  region,
  credentials,
  maxAttempts: 1,
});

export const iamClient = (endpoint: string, credentials: AwsCredentialIdentity) =>
  new IAMClient(clientOptions(endpoint, credentials));
export const stsClient = (endpoint: string, credentials: AwsCredentialIdentity) =>
  new STSClient(clientOptions(endpoint, credentials));

export const trustPolicy = (principal: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRole", ...extra }],
  });

export const allow = (actions: string | string[], resources: string | string[] = "*") =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: actions, Resource: resources }] });

/** The AWS CLI v2 with the given credentials; JSON out, or the error text. */
export async function awsCli(
  endpoint: string,
  credentials: AwsCredentialIdentity,
  args: string[],
): Promise<{ ok: true; json: unknown } | { ok: false; stderr: string }> {
  try {
    const { stdout } = await run("/usr/bin/aws", ["--endpoint-url", endpoint, "--output", "json", ...args], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
        AWS_DEFAULT_REGION: region,
        AWS_PAGER: "",
      },
    });
    return { ok: true, json: stdout.trim() ? JSON.parse(stdout) : {} };
  } catch (e) {
    return { ok: false, stderr: String((e as { stderr?: string }).stderr ?? e) };
  }
}
