/** The pod network and Services of Berth's Kubernetes: what the composition root wires. */
export { serviceAdmission } from "./admission.js";
export { bootstrapServices } from "./bootstrap.js";
export { type ClusterNetwork, type ClusterNetworks, createPodNetworking } from "./pod-networking.js";
export { serviceEnv } from "./service-env.js";
export { type ServiceNetworking, startServiceNetworking } from "./service-networking.js";
