/** The Kubernetes API server on its own (test harness: in-memory store, fixed token), in its own process for bench/eks/api.ts. */
import { startKubeHarness } from "../../test/support/kube-harness.js";

const h = await startKubeHarness();
process.stdout.write(`${JSON.stringify({ url: h.url, caPem: h.caPem })}\n`);
process.on("SIGTERM", () => void h.stop().then(() => process.exit(0)));
