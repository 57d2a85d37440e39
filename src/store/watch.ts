import { type Periodic, periodic } from "../core/periodic.js";
import type { ChangeRow, ResourceBackend } from "./backend.js";

/** A change to one stored resource, read from the change log after it committed. */
export type Change<T = unknown> = Omit<ChangeRow, "body" | "dates" | "at"> & {
  /** The document as written, or as it was when deleted. */
  doc: T;
};

/** What a watcher reads: the change log, decoded, and where watch positions are kept. */
export interface ChangeSource {
  readonly backend: Pick<ResourceBackend, "cursor" | "saveCursor" | "oldest" | "onCommit">;
  head(): number;
  changesSince(seq: number, limit: number): Change[];
}

export interface WatchOptions {
  /**
   * A durable name: the position is saved in the store after each delivered batch and a watch of
   * the same name resumes there (after a restart too). Unnamed watches live in memory.
   */
  name?: string;
  /** Where an unnamed watch (or a named one seen for the first time) starts: after this sequence number. Default: the head. */
  from?: number;
  /** Which kinds to deliver (default all). */
  kinds?: readonly string[] | ((kind: string) => boolean);
  /**
   * Changes after the position were compacted away: the watcher must re-read current state
   * (as a Kubernetes client relists after 410 Gone). Delivery goes on from the oldest kept entry.
   */
  onCompacted?: () => void | Promise<void>;
  /** A handler failed; its batch is delivered again at the next wake-up or poll. */
  onError?: (err: unknown) => void;
  /** How often to look for changes made by other processes sharing the store (ms; default 1000). */
  pollMs?: number;
  batch?: number;
}

export interface Watch {
  /** The sequence number of the last change delivered (or skipped by the kind filter). */
  position(): number;
  /** Resolves once every change committed so far has been delivered. */
  caughtUp(): Promise<void>;
  stop(): void;
}

/** Reads the change log after a position and hands committed changes to a handler, in order, one batch at a time. */
export class Watcher implements Watch {
  private pos: number;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private poll?: Periodic;
  private readonly match: (kind: string) => boolean;

  constructor(
    private readonly store: ChangeSource,
    private readonly opts: WatchOptions,
    private readonly handler: (changes: Change[]) => void | Promise<void>,
  ) {
    const saved = opts.name === undefined ? undefined : store.backend.cursor(opts.name);
    this.pos = saved ?? opts.from ?? store.head();
    const kinds = opts.kinds;
    this.match = kinds === undefined ? () => true : typeof kinds === "function" ? kinds : (k) => kinds.includes(k);
  }

  start(): this {
    this.unsubscribe = this.store.backend.onCommit(() => this.wake());
    this.poll = periodic(() => this.wake(), { name: "change log poll", everyMs: this.opts.pollMs ?? 1000 });
    void this.poll.start();
    this.wake();
    return this;
  }

  position() {
    return this.pos;
  }

  async caughtUp(): Promise<void> {
    while (!this.stopped && (this.running || this.pos < this.store.head())) {
      this.wake();
      await this.running;
      if (this.running === undefined && this.pos < this.store.head()) {
        // The last pass failed (a handler threw): wait for the retry rather than spin.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  stop() {
    this.stopped = true;
    this.unsubscribe?.();
    this.poll?.stop();
  }

  private wake() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump()
      .catch((err) => this.opts.onError?.(err))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pump() {
    const limit = this.opts.batch ?? 500;
    while (!this.stopped) {
      const oldest = this.store.backend.oldest();
      if (this.pos + 1 < oldest) {
        await this.opts.onCompacted?.();
        this.advance(oldest - 1);
      }
      const changes = this.store.changesSince(this.pos, limit);
      if (changes.length === 0) return;
      const wanted = changes.filter((c) => this.match(c.kind));
      if (wanted.length > 0) await this.handler(wanted);
      this.advance(changes[changes.length - 1]!.seq);
      if (changes.length < limit) return;
    }
  }

  private advance(seq: number) {
    this.pos = seq;
    if (this.opts.name !== undefined) this.store.backend.saveCursor(this.opts.name, seq);
  }
}
