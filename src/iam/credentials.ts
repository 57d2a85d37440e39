import type { Clock } from "../core/clock.js";
import {
  type CallerIdentity,
  type SessionClaims,
  openSession,
  rootIdentity,
  sealSession,
  sessionIdentity,
} from "./identity.js";
import { issuedByBerth, newAccessKeyId, newSecretAccessKey } from "./keys.js";
import type { SecretBox } from "./secret-box.js";
import type { IamStore } from "./store.js";

/** What an access key in a request turns out to be. */
export type KeyLookup =
  | { kind: "known"; identity: CallerIdentity; secretAccessKey: string }
  | { kind: "refused"; reason: "invalid" | "expired"; message: string }
  /** Not a key Berth issued: the edge applies its permissive or strict rule. */
  | { kind: "unknown" };

export interface TemporaryCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: Date;
}

const SECRET_PURPOSE = "berth-iam-access-key";
const INVALID = "The security token included in the request is invalid.";

/**
 * Issues and recognises the credentials Berth hands out: IAM users' access keys (stored, secret
 * sealed at rest) and temporary session credentials (self-contained sealed tokens; nothing is
 * stored, they simply stop working when they expire).
 */
export class Credentials {
  /** When each long-term key's last use was written (epoch ms), to write at most once a minute. */
  private readonly recorded = new Map<string, number>();

  constructor(
    private readonly iam: IamStore,
    private readonly box: SecretBox,
    /** Signs the MAC in access key ids. */
    private readonly keySecret: string,
    private readonly clock: Clock,
  ) {}

  /** A new long-term key for a user: its id, its secret (shown once) and what to store. */
  newAccessKey(): { AccessKeyId: string; SecretAccessKey: string; sealedSecret: string } {
    const id = newAccessKeyId("AKIA", this.keySecret);
    const secret = newSecretAccessKey();
    return { AccessKeyId: id, SecretAccessKey: secret, sealedSecret: this.box.seal(secret, SECRET_PURPOSE) };
  }

  /** Mints temporary credentials for a session lasting `durationSec`. */
  issueSession(
    claims: Omit<SessionClaims, "v" | "accessKeyId" | "secretAccessKey" | "issuedAt" | "expiresAt">,
    durationSec: number,
  ): { credentials: TemporaryCredentials; claims: SessionClaims } {
    const now = this.clock.now().getTime();
    const full: SessionClaims = {
      v: 1,
      ...claims,
      accessKeyId: newAccessKeyId("ASIA", this.keySecret),
      secretAccessKey: newSecretAccessKey(),
      issuedAt: now,
      expiresAt: now + durationSec * 1000,
    };
    return {
      claims: full,
      credentials: {
        AccessKeyId: full.accessKeyId,
        SecretAccessKey: full.secretAccessKey,
        SessionToken: sealSession(this.box, full),
        Expiration: new Date(full.expiresAt),
      },
    };
  }

  /** Records that an IAM user's long-term key was used (GetAccessKeyLastUsed), at most once a minute per key. */
  recordUse(accessKeyId: string, service: string, region: string) {
    if (!accessKeyId.startsWith("AKIA")) return;
    const now = this.clock.now();
    const last = this.recorded.get(accessKeyId) ?? 0;
    if (now.getTime() - last < 60_000) return;
    this.recorded.set(accessKeyId, now.getTime());
    const key = this.iam.accessKey(accessKeyId);
    if (key) this.iam.putAccessKey({ ...key, LastUsedDate: now, lastUsedService: service, lastUsedRegion: region });
  }

  /** Resolves the access key (and session token) of a request. */
  lookup(accessKeyId: string, sessionToken?: string): KeyLookup {
    const berthKey = issuedByBerth(accessKeyId, this.keySecret);
    if (sessionToken) {
      const claims = openSession(this.box, sessionToken);
      if (!claims) return berthKey ? { kind: "refused", reason: "invalid", message: INVALID } : { kind: "unknown" };
      if (claims.accessKeyId !== accessKeyId) return { kind: "refused", reason: "invalid", message: INVALID };
      if (claims.expiresAt <= this.clock.now().getTime())
        return { kind: "refused", reason: "expired", message: "The security token included in the request is expired" };
      return { kind: "known", identity: sessionIdentity(claims), secretAccessKey: claims.secretAccessKey };
    }
    if (!berthKey) return { kind: "unknown" };
    if (accessKeyId.startsWith("ASIA")) return { kind: "refused", reason: "invalid", message: INVALID };
    const key = this.iam.accessKey(accessKeyId);
    if (key?.Status !== "Active") return { kind: "refused", reason: "invalid", message: INVALID };
    const user = this.iam.user(key.account, key.UserName);
    const secret = this.box.openText(key.sealedSecret, SECRET_PURPOSE);
    if (!user || secret === undefined) return { kind: "refused", reason: "invalid", message: INVALID };
    return {
      kind: "known",
      secretAccessKey: secret,
      identity: {
        kind: "user",
        account: key.account,
        arn: user.Arn,
        userId: user.UserId,
        userName: user.UserName,
        accessKeyId,
        permissive: false,
      },
    };
  }
}

/** The rules every caller of Berth is recognised by (the edge's, and EKS tokens'): a part of Config. */
export interface KeyRules {
  rootAccessKeyId: string;
  rootSecretAccessKey: string;
  /** `lenient` takes unknown keys as the account root; `strict` refuses them. */
  auth: "lenient" | "strict";
  defaultAccount: string;
}

/** Who an access key stands for, and how its signature is checked. */
export type KeyResolution =
  /** The signature must match this secret. */
  | { kind: "signed"; secretAccessKey: string; identity: CallerIdentity }
  /** Taken without a signature check (lenient rules: a 12-digit key selects that account's root). */
  | { kind: "unsigned"; identity: CallerIdentity }
  | { kind: "refused"; reason: "invalid" | "expired"; message: string };

/**
 * The one decision of who an access key is: the root key, a key Berth issued (with its session
 * token), a 12-digit key naming an account, or an unknown key (root in lenient mode).
 */
export function resolveAccessKey(
  rules: KeyRules,
  lookup: (accessKeyId: string, sessionToken?: string) => KeyLookup,
  accessKeyId: string,
  sessionToken?: string,
): KeyResolution {
  if (accessKeyId === rules.rootAccessKeyId)
    return {
      kind: "signed",
      secretAccessKey: rules.rootSecretAccessKey,
      identity: rootIdentity(rules.defaultAccount, accessKeyId),
    };
  const found = lookup(accessKeyId, sessionToken);
  if (found.kind === "known")
    return { kind: "signed", secretAccessKey: found.secretAccessKey, identity: found.identity };
  if (found.kind === "refused") return found;
  if (/^\d{12}$/.test(accessKeyId)) return { kind: "unsigned", identity: rootIdentity(accessKeyId, accessKeyId) };
  if (rules.auth === "strict") return { kind: "refused", reason: "invalid", message: INVALID };
  // A key id in AWS's (and Berth's) form that no one issued is a wrong or tampered key, never root.
  if (looksIssued(accessKeyId)) return { kind: "refused", reason: "invalid", message: INVALID };
  return { kind: "unsigned", identity: rootIdentity(rules.defaultAccount, accessKeyId) };
}

/** AWS's documented example key ids: placeholders users configure, taken like any other unknown key. */
const EXAMPLE_KEY_IDS = new Set(["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"]);

/** Whether a key id has the form of an issued AWS/Berth key (AKIA/ASIA + 16 base32) and is not an example. */
export const looksIssued = (accessKeyId: string) =>
  /^(AKIA|ASIA)[A-Z2-7]{16}$/.test(accessKeyId) && !EXAMPLE_KEY_IDS.has(accessKeyId);
