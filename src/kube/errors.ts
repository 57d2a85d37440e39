/**
 * Kubernetes API errors, rendered as `Status` objects with kube-apiserver's reason and code.
 * Everything in src/kube and the Kubernetes API server throws these.
 */
export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Invalid"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "RequestEntityTooLarge"
  | "TooManyRequests"
  | "InternalError"
  | "Timeout"
  | "Expired";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = `Kube${reason}`;
  }

  toStatus() {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `<resource>.<group>` as kube-apiserver names a resource in messages (`deployments.apps`, `pods`). */
export const qualified = (group: string, resource: string) => (group ? `${resource}.${group}` : resource);

/** utilerrors.NewAggregate(...).Error(): one message as it is, several (deduplicated) in brackets. */
const aggregate = (messages: string[]) => {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
};

export const kubeErrors = {
  notFound: (group: string, resource: string, name: string) =>
    new KubeError(404, "NotFound", `${qualified(group, resource)} "${name}" not found`, {
      name,
      group: group || undefined,
      kind: resource,
    }),
  alreadyExists: (group: string, resource: string, name: string) =>
    new KubeError(409, "AlreadyExists", `${qualified(group, resource)} "${name}" already exists`, {
      name,
      group: group || undefined,
      kind: resource,
    }),
  conflict: (group: string, resource: string, name: string, why: string) =>
    new KubeError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`, {
      name,
      group: group || undefined,
      kind: resource,
    }),
  /** 422: field errors, each `field: message`, as kube-apiserver's validation reports them. */
  invalid: (group: string, kind: string, name: string, causes: StatusCause[]) =>
    new KubeError(
      422,
      "Invalid",
      `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${aggregate(causes.map((c) => `${c.field}: ${c.message}`))}`,
      { name, group: group || undefined, kind, causes },
    ),
  badRequest: (message: string) => new KubeError(400, "BadRequest", message),
  unauthorized: (message = "Unauthorized") => new KubeError(401, "Unauthorized", message),
  forbidden: (message: string, details?: StatusDetails) => new KubeError(403, "Forbidden", message, details),
  gone: (message: string) => new KubeError(410, "Expired", message),
  methodNotAllowed: (message: string) => new KubeError(405, "MethodNotAllowed", message),
  unsupportedMediaType: (message: string) => new KubeError(415, "UnsupportedMediaType", message),
  internal: (message: string) => new KubeError(500, "InternalError", message),
};
