/**
 * EKS's rules for a Fargate profile's input. PURE: each returns the InvalidParameterException
 * message, or undefined. Selectors: one to five, each with a namespace and at most five labels;
 * namespaces, label keys and label values are Kubernetes names in which `*` and `?` may stand in
 * for characters (EKS's wildcard selectors).
 */
import type { FargateProfileSelector } from "../../protocol/generated/types/eks.js";

export const MAX_SELECTORS = 5;
export const MAX_SELECTOR_LABELS = 5;
/** Fargate profiles per cluster (EKS's service quota). */
export const MAX_FARGATE_PROFILES = 10;

const NAME_RE = /^[0-9A-Za-z][A-Za-z0-9\-_]*$/;
/** A DNS-1123 label, wildcards allowed. */
const NAMESPACE_RE = /^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/;
/** A label name segment (and value), wildcards allowed. */
const LABEL_NAME_RE = /^[A-Za-z0-9*?]([-A-Za-z0-9_.*?]*[A-Za-z0-9*?])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?(\.[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?)*$/;

export function checkFargateProfileName(name: string): string | undefined {
  if (name.length < 1 || name.length > 100 || !NAME_RE.test(name))
    return `The Fargate profile name ${JSON.stringify(name)} is invalid: it must be 1 to 100 characters, start with a letter or digit and contain only letters, digits, hyphens and underscores.`;
  return undefined;
}

function checkLabelKey(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix)))
    return `The label key ${JSON.stringify(key)} is invalid: its prefix must be a DNS subdomain of at most 253 characters.`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME_RE.test(name))
    return `The label key ${JSON.stringify(key)} is invalid: its name must be 1 to 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit ('*' and '?' are wildcards).`;
  return undefined;
}

function checkLabelValue(key: string, value: string): string | undefined {
  if (value.length > 63 || (value.length > 0 && !LABEL_NAME_RE.test(value)))
    return `The value ${JSON.stringify(value)} of label ${JSON.stringify(key)} is invalid: it must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit ('*' and '?' are wildcards).`;
  return undefined;
}

export function checkSelectors(selectors: FargateProfileSelector[] | undefined): string | undefined {
  if (!selectors || selectors.length === 0) return "A Fargate profile needs at least one selector.";
  if (selectors.length > MAX_SELECTORS)
    return `A Fargate profile can have at most ${MAX_SELECTORS} selectors; this one has ${selectors.length}.`;
  for (const [i, s] of selectors.entries()) {
    const ns = s.namespace;
    if (ns === undefined || ns === "") return `Selector ${i + 1} has no namespace; every selector needs one.`;
    if (ns.length > 63 || !NAMESPACE_RE.test(ns))
      return `The namespace ${JSON.stringify(ns)} of selector ${i + 1} is invalid: it must be a Kubernetes namespace name (lower-case letters, digits and '-', at most 63 characters; '*' and '?' are wildcards).`;
    const labels = Object.entries(s.labels ?? {});
    if (labels.length > MAX_SELECTOR_LABELS)
      return `Selector ${i + 1} has ${labels.length} labels; a selector can have at most ${MAX_SELECTOR_LABELS}.`;
    for (const [k, v] of labels) {
      const err = checkLabelKey(k) ?? checkLabelValue(k, v ?? "");
      if (err) return err;
    }
  }
  return undefined;
}

const SUBNET_RE = /^subnet-[0-9a-z]{1,32}$/;

export function checkSubnets(subnets: string[]): string | undefined {
  const bad = subnets.find((s) => !SUBNET_RE.test(s));
  if (bad !== undefined) return `The subnet ID '${bad}' is malformed.`;
  return undefined;
}
