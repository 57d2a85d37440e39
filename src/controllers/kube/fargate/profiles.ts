/**
 * Which Fargate profile a pod belongs to, as EKS decides it. PURE. A selector matches a pod when
 * its namespace matches and every label it names is on the pod; `*` (any run of characters, none
 * included) and `?` (one character) are wildcards in namespaces, label keys and label values. A
 * pod that matches several ACTIVE profiles goes to the one its `eks.amazonaws.com/fargate-profile`
 * label names (when that profile matches it too), else to the first by name (EKS "picks one of the
 * matches"; Berth picks the same one every time).
 */
import type { ClusterRef } from "../../../kube/types.js";

export const FARGATE_PROFILE_LABEL = "eks.amazonaws.com/fargate-profile";
export const FARGATE_SCHEDULER = "fargate-scheduler";

export interface FargateSelector {
  namespace?: string;
  labels?: Record<string, string>;
}

/** What the Fargate side needs of a profile (the EKS API's record, seen from Kubernetes). */
export interface FargateProfileView {
  name: string;
  status: "CREATING" | "ACTIVE" | "DELETING" | "CREATE_FAILED" | "DELETE_FAILED";
  selectors: FargateSelector[];
  /** The zones of its subnets (a pod's node lands in one of them). */
  zones: string[];
}

/** The profiles of a cluster, in any status (the EKS module implements it). */
export interface FargateProfileSource {
  profiles(cluster: ClusterRef): FargateProfileView[];
}

/** `*` and `?` wildcards over the whole value. */
export function wildcardMatch(pattern: string, value: string): boolean {
  // Iterative glob match with backtracking to the last `*`: linear in practice, no regex built from input.
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

export function selectorMatches(sel: FargateSelector, namespace: string, labels: Record<string, string>): boolean {
  if (sel.namespace === undefined || !wildcardMatch(sel.namespace, namespace)) return false;
  const podLabels = Object.entries(labels);
  return Object.entries(sel.labels ?? {}).every(([kp, vp]) =>
    podLabels.some(([k, v]) => wildcardMatch(kp, k) && wildcardMatch(vp, v)),
  );
}

export function profileMatches(p: FargateProfileView, namespace: string, labels: Record<string, string>): boolean {
  return p.selectors.some((s) => selectorMatches(s, namespace, labels));
}

/** The ACTIVE profile a new pod in `namespace` with `labels` runs under, or undefined (not Fargate). */
export function chooseProfile(
  profiles: readonly FargateProfileView[],
  namespace: string,
  labels: Record<string, string>,
): FargateProfileView | undefined {
  const matching = profiles
    .filter((p) => p.status === "ACTIVE" && profileMatches(p, namespace, labels))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const asked = labels[FARGATE_PROFILE_LABEL];
  if (asked !== undefined) return matching.find((p) => p.name === asked);
  return matching[0];
}
