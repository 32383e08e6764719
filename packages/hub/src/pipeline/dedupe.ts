/**
 * A bounded set of recently seen event identities, oldest evicted first. Catches repeats that
 * arrive after JetStream's duplicate window (or from a second agent) without a store round trip.
 */
export class RecentIdentities {
  readonly #capacity: number;
  readonly #seen = new Set<string>();

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
    if (this.#seen.size > this.#capacity) {
      // A Set iterates in insertion order: the first value is the oldest.
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
