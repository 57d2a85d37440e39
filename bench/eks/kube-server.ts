/** The Kubernetes API server on its own (test harness: SQLite store in a temp dir, fixed token), in its own process for bench/eks/api.ts. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKubeHarness } from "../../test/support/kube-harness.js";

// On SQLite in a file, as Berth's own store (a fair peer for the ECS API).
const h = await startKubeHarness({}, { file: join(mkdtempSync(join(tmpdir(), "kube-bench-")), "berth.db") });
process.stdout.write(`${JSON.stringify({ url: h.url, caPem: h.caPem })}\n`);
process.on("SIGTERM", () => void h.stop().then(() => process.exit(0)));
