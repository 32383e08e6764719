/** Default event identities remembered (`--dedupe-cache-size`). */
export const DEFAULT_DEDUPE_CACHE_SIZE = 200_000;

/**
 * A bounded set of recently seen event identities, oldest evicted first. Catches repeats that
 * arrive after JetStream's duplicate window (or from a second agent) without a store round trip.
 *
 * The order of arrival is kept in a ring of its own: finding the oldest as a Set's first entry made
 * V8 step over every entry deleted before it, 120-310 us an add once the set was full (a hub past
 * its first 200,000 events spent more on this than on its inserts; docs/benchmarks.md, 2026-12-07).
 */
export class RecentIdentities {
  readonly #capacity: number;
  readonly #seen = new Set<string>();
  /** The identities in `#seen`, in the order they came: `#oldest` is the next to go once full. */
  readonly #order: string[] = [];
  #oldest = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  has(identity: string): boolean {
    return this.#seen.has(identity);
  }

  add(identity: string): void {
    if (this.#seen.has(identity)) return;
    this.#seen.add(identity);
    if (this.#order.length < this.#capacity) {
      this.#order.push(identity);
      return;
    }
    const oldest = this.#order[this.#oldest];
    if (oldest !== undefined) this.#seen.delete(oldest);
    this.#order[this.#oldest] = identity;
    this.#oldest = (this.#oldest + 1) % this.#capacity;
  }

  get size(): number {
    return this.#seen.size;
  }
}

/**
 * The dedupe stage: an identity is a repeat when it was stored recently, belongs to a batch still
 * in flight (its message stays unacked until that batch is stored), or came earlier in the same
 * batch. The three sets live here; the store stage's lookup catches what they have forgotten.
 */
export class Dedupe {
  readonly #recent: RecentIdentities;
  /** Identities of batches still being processed. */
  readonly #inFlight = new Set<string>();

  constructor(capacity: number) {
    this.#recent = new RecentIdentities(capacity);
  }

  /** A new batch's view: `isRepeat` and `admit` for the identities of one batch. */
  batch(): BatchDedupe {
    const inBatch = new Set<string>();
    return {
      isRepeat: (identity) =>
        this.#recent.has(identity) || this.#inFlight.has(identity) || inBatch.has(identity),
      admit: (identity) => {
        inBatch.add(identity);
      },
    };
  }

  /** The batch's admitted identities are being stored: repeats of them wait for the outcome. */
  hold(identities: readonly string[]): void {
    for (const identity of identities) this.#inFlight.add(identity);
  }

  release(identities: readonly string[]): void {
    for (const identity of identities) this.#inFlight.delete(identity);
  }

  /** Stored (and acked): later deliveries are repeats. */
  remember(identities: readonly string[]): void {
    for (const identity of identities) this.#recent.add(identity);
  }
}

export interface BatchDedupe {
  isRepeat(identity: string): boolean;
  admit(identity: string): void;
}
