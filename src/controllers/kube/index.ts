/** The Kubernetes controllers: what the composition root (services/eks) and the other parts use. */
export { type KubeControllerDeps, type KubeControllers, startKubeControllers } from "./controllers.js";
export { type EventRecorder, type EventRecorderOptions, type EventType, eventRecorder } from "./events.js";
export { bootstrapClusterObjects, SYSTEM_NAMESPACES } from "./namespaces.js";
