/**
 * What an export task writes, as CloudWatch Logs lays it out in S3 (pure), and the local
 * "bucket" directories Berth writes it to until it has S3: `<dataDir>/s3/<bucket>/<key>`.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";

/** The prefix AWS uses when CreateExportTask names none. */
export const DEFAULT_EXPORT_PREFIX = "exportedlogs";

/** S3 bucket naming rules (3–63 lowercase letters, digits, dots, hyphens; no `..`; not an IP address). */
export function bucketNameProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return "must be 3 to 63 characters long";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket))
    return "may hold only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit";
  if (bucket.includes("..")) return "must not hold two adjacent dots";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return "must not be formatted as an IP address";
  return undefined;
}

/** An export's object prefix must not climb out of its bucket. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix.split("/").some((part) => part === ".." || part === ".")) return "must not hold '.' or '..' segments";
  return undefined;
}

/** Keys of one task's objects: `<prefix>/<taskId>/<logStreamName>/000000.gz`. */
export const exportObjectKey = (prefix: string, taskId: string, stream: string, part = 0) =>
  `${trimSlashes(prefix)}/${taskId}/${stream}/${String(part).padStart(6, "0")}.gz`;

/** The object AWS writes first to check it may write to the bucket. */
export const writeTestKey = (prefix: string) => `${trimSlashes(prefix)}/aws-logs-write-test`;

const trimSlashes = (p: string) => p.replace(/^\/+|\/+$/g, "");

/** One exported line: the event's ISO-8601 timestamp, a space, the message. */
export const exportLine = (e: { timestamp: number; message: string }) =>
  `${new Date(e.timestamp).toISOString()} ${e.message}\n`;

/** Where export tasks put objects. */
export interface ExportSink {
  put(bucket: string, key: string, body: Buffer): void;
}

/** Objects as files under `<dataDir>/s3/<bucket>/`; each written whole (temp file, then rename). */
export function localBuckets(dataDir: string): ExportSink {
  const root = resolve(dataDir, "s3");
  return {
    put(bucket, key, body) {
      const base = join(root, bucket);
      const file = resolve(base, key);
      if (!file.startsWith(base + sep)) throw new Error(`object key ${key} leaves its bucket`);
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.berth-tmp`;
      writeFileSync(tmp, body);
      renameSync(tmp, file);
    },
  };
}

export const gzipLines = (lines: string[]) => gzipSync(Buffer.from(lines.join(""), "utf8"));
