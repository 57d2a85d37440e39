import type { Clock } from "../core/clock.js";
import type { ServiceError } from "../core/errors.js";
import type { SecretBox } from "../iam/secret-box.js";
import type { Collection, DocumentStore } from "../store/documents.js";

/** A stored value sealed at rest: text (or base64 of binary) sealed with the data directory's key. */
export interface SealedValue {
  sealed: string;
}

export interface SealedStoreOptions<R> {
  /** The collection's kind in the store. */
  kind: string;
  /** What the box binds a sealed value to, so a value sealed for one use cannot be opened as another. */
  purpose: string;
  /** Records are keyed by name and found by ARN. */
  name: (r: R) => string;
  arn: (r: R) => string;
  /** The service's error when a stored value cannot be opened with this data directory's key. */
  undecryptable: () => ServiceError;
}

/**
 * Records of one kind whose values are sealed at rest (Secrets Manager secrets, SSM parameters):
 * the collection plus seal/open with the service's purpose and error.
 */
export class SealedStore<R> {
  readonly records: Collection<R>;

  constructor(
    readonly store: DocumentStore,
    private readonly box: SecretBox,
    readonly clock: Clock,
    private readonly opts: SealedStoreOptions<R>,
  ) {
    this.records = store.collection<R>(opts.kind, { id: opts.name, arn: opts.arn });
  }

  seal(value: string): string {
    return this.box.seal(value, this.opts.purpose);
  }

  open(v: SealedValue): string {
    const plain = this.box.openText(v.sealed, this.opts.purpose);
    if (plain === undefined) throw this.opts.undecryptable();
    return plain;
  }
}
