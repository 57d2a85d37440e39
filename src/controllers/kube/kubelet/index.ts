/** The kubelet and the pod scheduler's applier: what services/eks (or main.ts) starts. */
export {
  startKubelet,
  type Kubelet,
  type KubeletCluster,
  type KubeletDeps,
  type ServiceAccountTokens,
} from "./kubelet.js";
export { nodeNameOf } from "./node.js";
