/**
 * Vendors SPDY/3's header compression dictionary (the spec's constant, which zlib needs to read
 * kubectl's SPDY header blocks) from Debian's kubectl, where Go's SPDY framer carries it, into
 * src/kube-api/spdy/dictionary.ts. Nothing is written by hand.
 *
 *   npx tsx scripts/extract-spdy-dictionary.ts [path/to/kubectl]
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const binary = process.argv[2] ?? "/opt/berth-tools/kubectl-1.20/usr/bin/kubectl";
const bin = readFileSync(binary);
const start = bin.indexOf(Buffer.from("\x00\x00\x00\x07options\x00\x00\x00\x04head", "latin1"));
const tail = Buffer.from(",*,enq=0.");
const end = bin.indexOf(tail, start) + tail.length;
if (start < 0 || end <= start) throw new Error(`no SPDY/3 dictionary in ${binary}`);
const dict = bin.subarray(start, end);
const sha = createHash("sha256").update(dict).digest("hex");
writeFileSync(
  "src/kube-api/spdy/dictionary.ts",
  `/** SPDY/3's zlib header dictionary (${dict.length} bytes, sha256 ${sha}), from scripts/extract-spdy-dictionary.ts. Generated. */\nexport const SPDY3_DICTIONARY = Buffer.from(\n  "${dict.toString("base64")}",\n  "base64",\n);\n`,
);
console.log(`wrote ${dict.length} bytes (sha256 ${sha})`);
