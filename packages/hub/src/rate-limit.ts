/**
 * Per-key token buckets: `rate` tokens a second, at most `burst` saved up. The ingest takes one
 * token per event, per producer, so one noisy CI pipeline cannot crowd out the others.
 */
export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { ratePerSecond: number; burst: number; now?: () => number }) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1))
      throw new RangeError('a token bucket needs a positive rate and a burst of at least 1');
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Seconds until `key` has at least one token (0: it has one now), taking none: checked before a
   * request body is read, when its number of events is not known yet.
   */
  wait(key: string): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return 0;
    const tokens = Math.min(this.#burst, bucket.tokens + ((this.#now() - bucket.at) / 1000) * this.#rate);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.#rate);
  }

  /**
   * Takes `n` tokens for `key` if it has them: 0 when taken, else the seconds until it will have
   * them (for `Retry-After`). More than the burst can never be taken at once.
   */
  take(key: string, n: number): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (n > this.#burst) return Number.POSITIVE_INFINITY;
    if (bucket.tokens >= n) {
      bucket.tokens -= n;
      return 0;
    }
    return Math.ceil((n - bucket.tokens) / this.#rate);
  }
}
