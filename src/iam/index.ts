import type { Clock } from "../core/clock.js";
import type { DocumentStore } from "../store/documents.js";
import { storeSecret } from "../store/identity.js";
import { Authorizer } from "./authorizer.js";
import { Credentials, type KeyLookup } from "./credentials.js";
import type { CallerIdentity } from "./identity.js";
import { SecretBox } from "./secret-box.js";
import { RoleSessions } from "./sessions.js";
import { IamStore } from "./store.js";

/** IAM's part in the chain: recognising the keys Berth issued, and authorising each call. */
export interface EdgeIdentity {
  lookup(accessKeyId: string, sessionToken?: string): KeyLookup;
  /** Throws an AccessDenied ServiceError unless the caller may make the call. */
  authorize(
    caller: CallerIdentity,
    service: { id: string; signingName: string; protocol: string },
    operation: string,
    input: Record<string, unknown>,
    scope: { account: string; region: string; sourceIp?: string },
  ): void;
}

/** Everything identity-related Berth builds once: store views, key material, decisions. */
export interface IdentityKit {
  iam: IamStore;
  box: SecretBox;
  credentials: Credentials;
  authorizer: Authorizer;
  sessions: RoleSessions;
  /** What the edge chain needs. */
  edge: EdgeIdentity;
}

export function createIdentity(deps: { store: DocumentStore; dataDir: string; clock: Clock }): IdentityKit {
  const iam = new IamStore(deps.store);
  const box = SecretBox.forDataDir(deps.dataDir);
  const credentials = new Credentials(iam, box, storeSecret(deps.store, "iam-access-key-ids"), deps.clock);
  const authorizer = new Authorizer(iam, deps.clock);
  const sessions = new RoleSessions(iam, credentials, authorizer, deps.clock);
  return {
    iam,
    box,
    credentials,
    authorizer,
    sessions,
    edge: {
      lookup: (accessKeyId, sessionToken) => credentials.lookup(accessKeyId, sessionToken),
      authorize: (caller, service, operation, input, scope) => {
        if (caller.kind === "user" && !caller.session)
          credentials.recordUse(caller.accessKeyId, service.signingName, scope.region);
        authorizer.authorizeCall(caller, service, operation, input, scope);
      },
    },
  };
}
