/**
 * EKS's Fargate admission (its mutating webhook on pod create): a pod that matches an ACTIVE
 * Fargate profile and asks for no node or scheduler of its own is handed to `fargate-scheduler`,
 * with the profile in the `eks.amazonaws.com/fargate-profile` label and annotation. DaemonSet pods
 * and pods annotated `eks.amazonaws.com/compute-type: ec2` (as EKS's CoreDNS is) stay off Fargate.
 */
import type { Admission } from "../../../kube/contracts.js";
import type { KubeObject, ResourceType } from "../../../kube/types.js";
import type { Pod } from "../kubelet/types.js";
import { COMPUTE_TYPE_LABEL, FARGATE_PROFILE_ANNOTATION } from "./plan.js";
import {
  chooseProfile,
  FARGATE_PROFILE_LABEL,
  FARGATE_SCHEDULER,
  type FargateProfileSource,
  type FargateProfileView,
} from "./profiles.js";

const isPods = (t: ResourceType) => t.group === "" && t.resource === "pods";

/** PURE: the pod as admission leaves it (the same object when it is not Fargate's). */
export function admitFargatePod(pod: KubeObject, profiles: readonly FargateProfileView[]): KubeObject {
  const spec = (pod.spec ?? {}) as Pod["spec"];
  if (spec.nodeName) return pod;
  if ((spec.schedulerName ?? "default-scheduler") !== "default-scheduler") return pod;
  if (pod.metadata.annotations?.[COMPUTE_TYPE_LABEL] === "ec2") return pod;
  if ((pod.metadata.ownerReferences ?? []).some((r) => r.kind === "DaemonSet" && r.controller)) return pod;
  const profile = chooseProfile(profiles, pod.metadata.namespace ?? "default", pod.metadata.labels ?? {});
  if (!profile) return pod;
  const annotations = { ...(pod.metadata.annotations ?? {}), [FARGATE_PROFILE_ANNOTATION]: profile.name };
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      labels: { ...(pod.metadata.labels ?? {}), [FARGATE_PROFILE_LABEL]: profile.name },
      annotations,
    },
    spec: { ...spec, schedulerName: FARGATE_SCHEDULER },
  };
}

/** The admission step: pods on create, against the cluster's profiles now. */
export function fargateAdmission(source: FargateProfileSource): Admission {
  return {
    admit(cluster, op, type, obj) {
      if (op !== "create" || !isPods(type)) return obj;
      const profiles = source.profiles(cluster);
      if (!profiles.some((p) => p.status === "ACTIVE")) return obj;
      return admitFargatePod(obj, profiles);
    },
  };
}
