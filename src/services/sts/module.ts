import type { ServiceModule } from "../module.js";
import { type StsDeps, stsService } from "./provider.js";

/** STS as a service module. */
export function stsModule(deps: StsDeps): ServiceModule {
  return { name: "sts", definitions: [stsService(deps)], iam: { prefixes: { sts: "sts" } } };
}
