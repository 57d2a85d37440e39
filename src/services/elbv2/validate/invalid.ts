import { commonErrors } from "../../../core/errors.js";

/** The error AWS gives for input that breaks a rule of ELBv2 (HTTP 400). */
export const invalid = (message: string) => commonErrors.ValidationError(message);
