import { RegistryError } from "./api.js";

/**
 * The OCI distribution spec's error codes with the HTTP status each is answered with. Every
 * registry failure is one of these, rendered as `{"errors":[{"code","message","detail"}]}`.
 */
export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 415,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  TOOMANYREQUESTS: 429,
  /** Distribution's catch-all (a pull-through upstream that failed: 502). */
  UNKNOWN: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A RegistryError with the code's usual status (pass `status` to override, e.g. 413 or 405). */
export const registryError = (code: ErrorCode, message: string, detail?: unknown, status?: number) =>
  new RegistryError(code, message, status ?? ERROR_STATUS[code], detail);
