/**
 * Default bytes of messages the hub holds at once. Counts alone let 8,000 unacked messages of up to
 * 1 MiB into memory (2,500 x 900 KB took a hub to 2.9 GB); normal events (1-2 KB) in three batches of
 * 2,000 hold about 12 MB, well under it.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of messages the hub holds at once (received, not yet acked or left for redelivery). Taking
 * never blocks (the message is already in memory); the consume loop waits for `available()` before
 * reading the next one, so what is held stays under the limit plus one message.
 */
export class ByteBudget {
  readonly limit: number;
  #held = 0;
  #peak = 0;
  #waiters: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be >= 1 byte, got ${limit}`);
    this.limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  /** Most bytes held at once since the start. */
  get peak(): number {
    return this.#peak;
  }

  get exhausted(): boolean {
    return this.#held >= this.limit;
  }

  take(bytes: number): void {
    this.#held += bytes;
    if (this.#held > this.#peak) this.#peak = this.#held;
  }

  release(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
    if (this.#held < this.limit && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once fewer than `limit` bytes are held. */
  available(): Promise<void> {
    if (!this.exhausted) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
