/** A typed AWS service error. Providers throw it; the protocol layer renders it as AWS does. */
export class ServiceError extends Error {
  constructor(
    /** AWS error code, e.g. `ClusterNotFoundException`. */
    readonly code: string,
    message: string,
    /** HTTP status; when the model declares one for this code, the model wins. */
    readonly status = 400,
    readonly fault: Fault = "Sender",
    /** Extra members some errors carry (e.g. `resourceIds`). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export type Fault = "Sender" | "Receiver";

/**
 * Builds the ServiceError of one error code. The generated `src/protocol/generated/errors/*.ts`
 * hold one per error shape of a service model, so a misspelt code does not compile; `fields`
 * are the shape's other members.
 */
export interface ErrorFactory<Fields extends object = Record<string, never>> {
  (message: string, fields?: Fields): ServiceError;
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
}

export function errorFactory<Fields extends object = Record<string, never>>(
  code: string,
  status = 400,
  fault: Fault = "Sender",
): ErrorFactory<Fields> {
  const make = (message: string, fields?: Fields) =>
    new ServiceError(code, message, status, fault, fields as Record<string, unknown> | undefined);
  return Object.assign(make, { code, status, fault });
}

/** Whether an error is the one a factory builds (`isError(e, logsErrors.ResourceNotFoundException)`). */
export const isError = (e: unknown, factory: { readonly code: string }): e is ServiceError =>
  e instanceof ServiceError && e.code === factory.code;

/**
 * Codes AWS front ends send that no service model declares as an error shape: request
 * validation, protocol and authentication errors. Kept by hand; everything else is generated.
 */
export const commonErrors = {
  /** awsQuery services' request validation (STS, IAM, ELBv2, CloudWatch). */
  ValidationError: errorFactory("ValidationError"),
  /** awsJson services' request validation where the model lacks the shape. */
  ValidationException: errorFactory("ValidationException"),
  InvalidParameterException: errorFactory("InvalidParameterException"),
  InvalidParameterValue: errorFactory("InvalidParameterValue"),
  /** awsQuery services' authorization failure. */
  AccessDenied: errorFactory("AccessDenied", 403),
  /** awsJson services' authorization failure where the model lacks the shape. */
  AccessDeniedException: errorFactory("AccessDeniedException"),
  /** restJson services' authorization failure where the model lacks the shape: same code, sent with 403. */
  RestJsonAccessDeniedException: errorFactory("AccessDeniedException", 403),
  SerializationException: errorFactory("SerializationException"),
  UnknownOperationException: errorFactory("UnknownOperationException"),
  InvalidAction: errorFactory("InvalidAction"),
  NotImplemented: errorFactory("NotImplemented", 501, "Receiver"),
  InternalFailure: errorFactory("InternalFailure", 500, "Receiver"),
  /** Berth's own: the edge could not tell which service a request is for. */
  UnknownService: errorFactory("UnknownService"),
  // SigV4 authentication failures: awsQuery front ends send the first of each pair with 403,
  // JSON front ends the `…Exception` spelling with 400.
  SignatureDoesNotMatch: errorFactory("SignatureDoesNotMatch", 403),
  InvalidSignatureException: errorFactory("InvalidSignatureException"),
  MissingAuthenticationToken: errorFactory("MissingAuthenticationToken", 403),
  MissingAuthenticationTokenException: errorFactory("MissingAuthenticationTokenException"),
  ExpiredToken: errorFactory("ExpiredToken", 403),
  ExpiredTokenException: errorFactory("ExpiredTokenException"),
  InvalidClientTokenId: errorFactory("InvalidClientTokenId", 403),
  UnrecognizedClientException: errorFactory("UnrecognizedClientException"),
} as const;

export const notImplemented = (service: string, operation: string) =>
  commonErrors.NotImplemented(
    `${operation} is not implemented in Berth's ${service} yet. See docs/ for what is supported.`,
  );

export const internalError = (requestId: string) =>
  commonErrors.InternalFailure(`The request processing has failed because of an unknown error (request ${requestId}).`);
