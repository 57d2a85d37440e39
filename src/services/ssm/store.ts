import type { Clock } from "../../core/clock.js";
import { type Scope, arn, parseArn } from "../../core/ids.js";
import type { SecretBox } from "../../iam/secret-box.js";
import type { Tag } from "../../protocol/generated/types/ssm.js";
import type { Collection, DocumentStore } from "../../store/documents.js";
import { SealedStore, type SealedStoreOptions } from "../sealed-store.js";
import { ssmErrors } from "../../protocol/generated/errors/ssm.js";

export type ParameterType = "String" | "StringList" | "SecureString";

export interface ParameterVersionRecord {
  Version: number;
  Type: ParameterType;
  /** The value, sealed at rest whatever its type. */
  sealed: string;
  Description?: string;
  AllowedPattern?: string;
  KeyId?: string;
  Tier: "Standard" | "Advanced" | "Intelligent-Tiering";
  DataType: string;
  Labels: string[];
  LastModifiedDate: Date;
  LastModifiedUser: string;
}

export interface ParameterRecord {
  Name: string;
  ARN: string;
  Tags: Tag[];
  /** Oldest first; at most 100 versions are kept. */
  versions: ParameterVersionRecord[];
}

export const PARAMETER_KIND = "ssm.parameter";
const PURPOSE = "berth-ssm-parameter";

export const parameterNotFound = (name: string) => ssmErrors.ParameterNotFound(`Parameter ${name} not found.`);

/** `name` → `arn:aws:ssm:<region>:<acct>:parameter/<name without its leading slash>`. */
export const arnOfParameter = (s: Scope, name: string) =>
  arn("ssm", s, `parameter${name.startsWith("/") ? name : `/${name}`}`);

/** A name, `name:selector` or ARN as GetParameter takes them. */
export interface ParameterRef {
  scope: Scope;
  /** Candidate names (an ARN's `parameter/db` may name `db` or `/db`). */
  names: string[];
  /** As written (ARN or name), without the selector, for messages. */
  display: string;
  selector?: string;
}

export function parseParameterRef(scope: Scope, ref: string): ParameterRef {
  if (ref.startsWith("arn:")) {
    const p = parseArn(ref);
    if (p?.service !== "ssm" || !p.resource.startsWith("parameter/"))
      throw ssmErrors.ValidationException(`Invalid parameter ARN: ${ref}`);
    let rest = p.resource.slice("parameter".length);
    let selector: string | undefined;
    const colon = rest.lastIndexOf(":");
    if (colon >= 0) {
      selector = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
    const bare = rest.slice(1);
    return {
      scope: { account: p.account, region: p.region },
      names: bare.includes("/") ? [rest] : [bare, rest],
      display: selector === undefined ? ref : ref.slice(0, ref.lastIndexOf(":")),
      selector,
    };
  }
  const colon = ref.lastIndexOf(":");
  if (colon > 0)
    return { scope, names: [ref.slice(0, colon)], display: ref.slice(0, colon), selector: ref.slice(colon + 1) };
  return { scope, names: [ref], display: ref };
}

/** Parameters in the store, values sealed with the data directory's key. */
const SEALING: SealedStoreOptions<ParameterRecord> = {
  kind: PARAMETER_KIND,
  purpose: PURPOSE,
  name: (p) => p.Name,
  arn: (p) => p.ARN,
  undecryptable: () =>
    ssmErrors.InternalServerError("A stored parameter value could not be decrypted with this data directory's key."),
};

export class ParameterStore extends SealedStore<ParameterRecord> {
  readonly parameters: Collection<ParameterRecord>;

  constructor(store: DocumentStore, box: SecretBox, clock: Clock) {
    super(store, box, clock, SEALING);
    this.parameters = this.records;
  }

  find(ref: ParameterRef): ParameterRecord | undefined {
    for (const n of ref.names) {
      const p = this.parameters.get(ref.scope, n);
      if (p) return p;
    }
    return undefined;
  }

  /** The version a selector (`:3` or `:label`) picks, or the latest. */
  version(p: ParameterRecord, selector: string | undefined, display: string): ParameterVersionRecord {
    if (selector === undefined) return p.versions[p.versions.length - 1];
    const found = /^\d+$/.test(selector)
      ? p.versions.find((v) => v.Version === Number(selector))
      : p.versions.find((v) => v.Labels.includes(selector));
    if (!found)
      throw ssmErrors.ParameterVersionNotFound(
        `Systems Manager could not find version ${selector} of ${display}. Verify the version and try again.`,
      );
    return found;
  }

  /**
   * What a task definition's `valueFrom` (name or ARN, in the task's scope) holds: the value,
   * decrypted. Throws ParameterNotFound / ParameterVersionNotFound.
   */
  resolve(scope: Scope, valueFrom: string): { arn: string; value: string } {
    const ref = parseParameterRef(scope, valueFrom);
    const p = this.find(ref);
    if (!p) throw parameterNotFound(ref.display);
    return { arn: p.ARN, value: this.open(this.version(p, ref.selector, ref.display)) };
  }
}
