/** The Kubernetes API server (src/kube-api): what main.ts and the EKS service wire. */
export { createKubeApiEndpoints, forbiddenError, type KubeApiServer } from "./server.js";
export type { KubeApiDeps, VersionInfo } from "./context.js";
