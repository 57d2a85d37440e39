/**
 * Extracts the AWS service models Berth speaks from botocore's data directory into
 * src/protocol/generated/: a documentation-free copy of each service-2.json and a TypeScript
 * file with one type per shape plus the service's operation table, and a file of error factories,
 * one per error shape.
 *
 * Usage: npm run models            (finds botocore through python3)
 *        BOTOCORE_DATA=/path/to/botocore/data npm run models
 *
 * The output is committed, so users and CI need neither Python nor botocore.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** Services Berth serves or will serve; the key is Berth's service id. */
const SERVICES: Record<string, string> = {
  ecs: "ecs",
  logs: "logs",
  ecr: "ecr",
  "ecr-public": "ecr-public",
  sts: "sts",
  iam: "iam",
  elbv2: "elbv2",
  eks: "eks",
  cloudwatch: "cloudwatch",
  "application-autoscaling": "application-autoscaling",
  efs: "efs",
  ssm: "ssm",
  secretsmanager: "secretsmanager",
  apprunner: "apprunner",
  ec2: "ec2",
  autoscaling: "autoscaling",
};

/**
 * Services whose model is cut down to the operations Berth serves (and the shapes they reach):
 * EC2's full model is 765 operations and several megabytes.
 */
const OPERATION_SUBSETS: Record<string, string[]> = {
  autoscaling: [
    "CreateAutoScalingGroup",
    "DescribeAutoScalingGroups",
    "UpdateAutoScalingGroup",
    "DeleteAutoScalingGroup",
    "SetDesiredCapacity",
    "DescribeAutoScalingInstances",
    "SetInstanceProtection",
    "TerminateInstanceInAutoScalingGroup",
    "DescribeScalingActivities",
    "PutScalingPolicy",
    "DescribePolicies",
    "DeletePolicy",
    "ExecutePolicy",
  ],
  ec2: [
    "DescribeAvailabilityZones",
    "DescribeRegions",
    "DescribeAccountAttributes",
    "DescribeVpcs",
    "CreateVpc",
    "DeleteVpc",
    "DescribeVpcAttribute",
    "ModifyVpcAttribute",
    "CreateDefaultVpc",
    "DescribeSubnets",
    "CreateSubnet",
    "DeleteSubnet",
    "ModifySubnetAttribute",
    "DescribeSecurityGroups",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "RevokeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupEgress",
    "CreateTags",
    "DeleteTags",
    "DescribeTags",
    "CreateLaunchTemplate",
    "DescribeLaunchTemplates",
    "DescribeLaunchTemplateVersions",
    "DeleteLaunchTemplate",
    "RunInstances",
    "DescribeInstances",
    "TerminateInstances",
    "StopInstances",
    "StartInstances",
    "DescribeInstanceStatus",
    "DescribeInstanceTypes",
    "DescribeImages",
  ],
};

/** The model with only the operations listed and the shapes they reach. */
function subset(model: Record<string, unknown>, operations: string[]): Record<string, unknown> {
  const ops = model.operations as Record<
    string,
    { input?: { shape: string }; output?: { shape: string }; errors?: { shape: string }[] }
  >;
  const shapes = model.shapes as Record<string, Record<string, unknown>>;
  const kept: Record<string, unknown> = {};
  const reach = (name: string) => {
    if (kept[name] || !shapes[name]) return;
    const s = shapes[name];
    kept[name] = s;
    const refs = [
      ...Object.values((s.members ?? {}) as Record<string, { shape: string }>),
      s.member,
      s.key,
      s.value,
    ] as ({ shape: string } | undefined)[];
    for (const r of refs) if (r) reach(r.shape);
  };
  const keptOps: Record<string, unknown> = {};
  for (const op of operations) {
    const o = ops[op];
    if (!o) throw new Error(`operation ${op} is not in the model`);
    keptOps[op] = o;
    if (o.input) reach(o.input.shape);
    if (o.output) reach(o.output.shape);
    for (const e of o.errors ?? []) reach(e.shape);
  }
  const sorted = Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b)));
  return { ...model, operations: keptOps, shapes: sorted };
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "src/protocol/generated");

function botocoreData(): { dir: string; version: string } {
  const fromEnv = process.env.BOTOCORE_DATA;
  const script = "import botocore,os;print(os.path.dirname(botocore.__file__));print(botocore.__version__)";
  if (fromEnv) return { dir: fromEnv, version: "unknown (BOTOCORE_DATA)" };
  const [pkg, version] = execFileSync("python3", ["-c", script], { encoding: "utf8" }).trim().split("\n");
  return { dir: join(pkg, "data"), version };
}

function readModel(dir: string, svc: string): Record<string, unknown> {
  const svcDir = join(dir, svc);
  const version = readdirSync(svcDir).sort().at(-1);
  if (!version) throw new Error(`no model versions under ${svcDir}`);
  const plain = join(svcDir, version, "service-2.json");
  const text = existsSync(plain)
    ? readFileSync(plain, "utf8")
    : gunzipSync(readFileSync(`${plain}.gz`)).toString("utf8");
  return JSON.parse(text);
}

/** Drops documentation and other keys the protocols never read, to keep the committed files small. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "documentation" || k === "documentationUrl" || k === "examples" || k === "deprecatedMessage") continue;
      out[k] = strip(v);
    }
    return out;
  }
  return value;
}

interface RawShape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  exception?: boolean;
  fault?: boolean;
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
}

const RESERVED = new Set([
  "Date",
  "Error",
  "Object",
  "String",
  "Number",
  "Boolean",
  "Function",
  "Record",
  "Map",
  "Set",
  "Promise",
]);
const typeName = (name: string) => (RESERVED.has(name) ? `${name}Shape` : name.replace(/[^A-Za-z0-9_]/g, "_"));

function tsType(shapes: Record<string, RawShape>, name: string): string {
  const s = shapes[name];
  switch (s.type) {
    case "structure":
      return typeName(name);
    case "list":
      return `${tsType(shapes, s.member?.shape ?? "")}[]`;
    case "map":
      return `Record<string, ${tsType(shapes, s.value?.shape ?? "")}>`;
    case "string":
      return s.enum ? typeName(name) : "string";
    case "integer":
    case "long":
    case "float":
    case "double":
      return "number";
    case "boolean":
      return "boolean";
    case "timestamp":
      return "Date";
    case "blob":
      return "Uint8Array";
    default:
      return "unknown";
  }
}

const memberKey = (k: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k));

function typesFile(svc: string, model: Record<string, unknown>, version: string): string {
  const shapes = model.shapes as Record<string, RawShape>;
  const ops = model.operations as Record<
    string,
    { input?: { shape: string }; output?: { shape: string }; errors?: { shape: string }[] }
  >;
  const lines = [
    "// GENERATED by scripts/extract-models.ts from botocore " + version + ". Do not edit.",
    `// Types for the ${svc} service model: one per structure and enum, and the operation table.`,
    "/* eslint-disable */",
    "",
  ];
  for (const [name, s] of Object.entries(shapes).sort(([a], [b]) => a.localeCompare(b))) {
    if (s.type === "string" && s.enum) {
      lines.push(`export type ${typeName(name)} = ${s.enum.map((e) => JSON.stringify(e)).join(" | ")};`);
    } else if (s.type === "structure") {
      const required = new Set(s.required ?? []);
      const members = Object.entries(s.members ?? {}).map(
        ([k, m]) => `  ${memberKey(k)}${required.has(k) ? "" : "?"}: ${tsType(shapes, m.shape)};`,
      );
      lines.push(
        members.length
          ? `export interface ${typeName(name)} {\n${members.join("\n")}\n}`
          : `export type ${typeName(name)} = Record<string, never>;`,
      );
    }
  }
  lines.push("", "export interface Operations {");
  for (const [op, o] of Object.entries(ops).sort(([a], [b]) => a.localeCompare(b))) {
    const input = o.input ? typeName(o.input.shape) : "Record<string, never>";
    const output = o.output ? typeName(o.output.shape) : "Record<string, never>";
    lines.push(`  ${op}: { input: ${input}; output: ${output} };`);
  }
  lines.push("}", "");
  return lines.join("\n");
}

/** `ecr-public` → `ecrPublicErrors`: the name a service's error factories are exported under. */
const errorsExportName = (id: string) => `${id.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}Errors`;

/**
 * One factory per error shape: the code as AWS sends it (the `error.code` override awsQuery and
 * query-compatible services declare, else the shape name), the model's HTTP status (default 400,
 * 500 for server faults), the fault side, and the shape's members other than its message as fields.
 */
function errorsFile(svc: string, model: Record<string, unknown>, version: string): string {
  const shapes = model.shapes as Record<string, RawShape>;
  const entries: string[] = [];
  for (const [name, s] of Object.entries(shapes).sort(([a], [b]) => a.localeCompare(b))) {
    if (!s.exception) continue;
    const code = s.error?.code ?? name;
    const status = s.error?.httpStatusCode ?? (s.fault ? 500 : 400);
    const fault = s.fault || status >= 500 ? "Receiver" : "Sender";
    const messages = Object.keys(s.members ?? {}).filter((k) => k.toLowerCase() === "message");
    const others = Object.keys(s.members ?? {}).filter((k) => k.toLowerCase() !== "message");
    const fields = others.length
      ? `<${messages.length ? `Omit<T.${typeName(name)}, ${messages.map((m) => JSON.stringify(m)).join(" | ")}>` : `T.${typeName(name)}`}>`
      : "";
    entries.push(`  ${memberKey(name)}: errorFactory${fields}(${JSON.stringify(code)}, ${status}, "${fault}"),`);
  }
  const usesTypes = entries.some((e) => e.includes("T."));
  return [
    "// GENERATED by scripts/extract-models.ts from botocore " + version + ". Do not edit.",
    `// Error factories for the ${svc} service model: one per error shape, with its wire code and status.`,
    "/* eslint-disable */",
    'import { errorFactory } from "../../../core/errors.js";',
    ...(usesTypes ? [`import type * as T from "../types/${svc}.js";`] : []),
    "",
    `export const ${errorsExportName(svc)} = {`,
    ...entries,
    "} as const;",
    "",
  ].join("\n");
}

const { dir, version } = botocoreData();
mkdirSync(join(outDir, "errors"), { recursive: true });
for (const [id, svc] of Object.entries(SERVICES)) {
  const full = strip(readModel(dir, svc)) as Record<string, unknown>;
  const model = OPERATION_SUBSETS[id] ? subset(full, OPERATION_SUBSETS[id]) : full;
  writeFileSync(join(outDir, "models", `${id}.json`), `${JSON.stringify(model)}\n`);
  writeFileSync(join(outDir, "types", `${id}.ts`), typesFile(id, model, version));
  writeFileSync(join(outDir, "errors", `${id}.ts`), errorsFile(id, model, version));
}
writeFileSync(
  join(outDir, "SOURCE.md"),
  `Generated from botocore ${version} by \`npm run models\` (scripts/extract-models.ts). Do not edit by hand.\n`,
);
console.log(`extracted ${Object.keys(SERVICES).length} models from botocore ${version}`);
