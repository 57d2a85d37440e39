/** A typed AWS service error. Providers throw it; the protocol layer renders it as AWS does. */
export class ServiceError extends Error {
  constructor(
    /** AWS error code, e.g. `ClusterNotFoundException`. */
    readonly code: string,
    message: string,
    /** HTTP status; when the model declares one for this code, the model wins. */
    readonly status = 400,
    readonly fault: "Sender" | "Receiver" = "Sender",
    /** Extra members some errors carry (e.g. `resourceIds`). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export const notImplemented = (service: string, operation: string) =>
  new ServiceError(
    "NotImplemented",
    `${operation} is not implemented in Berth's ${service} yet. See docs/ for what is supported.`,
    501,
    "Receiver",
  );

export const internalError = (requestId: string) =>
  new ServiceError(
    "InternalFailure",
    `The request processing has failed because of an unknown error (request ${requestId}).`,
    500,
    "Receiver",
  );
