/**
 * Vendors the protobuf schema of the Kubernetes API types (what typed clients such as kubectl's
 * `create`, `auth can-i` and `drain` send: `application/vnd.kubernetes.protobuf`) from Debian's
 * kubectl (package kubernetes-client): Go's generated code registers each generated.proto as a
 * gzipped FileDescriptorProto, which this finds in the binary, decodes, and writes as one
 * protobufjs JSON root to src/kube-api/proto/kube-protos.json.gz. Nothing is written by hand.
 *
 *   bash scripts/ensure-test-tools.sh   (unpacks Debian's kubectl 1.20 into /opt/berth-tools)
 *   npx tsx scripts/extract-kube-protos.ts [path/to/kubectl]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

const binary = process.argv[2] ?? "/opt/berth-tools/kubectl-1.20/usr/bin/kubectl";
const out = "src/kube-api/proto/kube-protos.json.gz";
const bin = readFileSync(binary);
const magic = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0]);
// biome-ignore lint/suspicious/noExplicitAny: protobufjs' descriptor types are untyped
const FileDescriptorProto = (descriptor as any).FileDescriptorProto;
// biome-ignore lint/suspicious/noExplicitAny: as above
const files: any[] = [];
for (let i = bin.indexOf(magic); i >= 0; i = bin.indexOf(magic, i + 1)) {
  let raw: Buffer;
  try {
    raw = gunzipSync(bin.subarray(i, i + 4_000_000), { finishFlush: 2 });
  } catch {
    continue;
  }
  try {
    const fd = FileDescriptorProto.decode(raw);
    if (typeof fd.name === "string" && fd.name.includes("k8s.io/") && fd.package?.startsWith("k8s.io.")) files.push(fd);
  } catch {
    // not a descriptor
  }
}
const seen = new Set<string>();
const unique = files.filter((f) => !seen.has(f.name) && seen.add(f.name));
if (!unique.some((f) => f.package === "k8s.io.api.core.v1"))
  throw new Error(`no k8s.io/api/core/v1 descriptor in ${binary}`);
// biome-ignore lint/suspicious/noExplicitAny: as above
const root = (protobuf.Root as any).fromDescriptor({ file: unique }) as protobuf.Root;
root.resolveAll();
writeFileSync(out, gzipSync(JSON.stringify(root.toJSON()), { level: 9 }));
console.log(`${out}: ${unique.length} files from ${binary}`);
for (const f of unique.map((f) => f.package).sort()) console.log(`  ${f}`);
