import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { RegistryPolicy, RepositoryInfo } from "../api.js";
import type { OciRegistry } from "../registry.js";

/** What a /v2/<name>/… handler gets: the request, the resolved repository and the registry. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  registry: OciRegistry;
  policy: RegistryPolicy;
  /** The caller's credentials as the policy reads them (`Basic …`), or undefined when anonymous. */
  authorization: string | undefined;
  repo: RepositoryInfo;
  /** `/v2/<name>`, the prefix of Locations. */
  base: string;
  baseHeaders: OutgoingHttpHeaders;
  /** Logs a failure that can no longer be answered (the response has started). */
  logError?: (e: unknown) => void;
}
