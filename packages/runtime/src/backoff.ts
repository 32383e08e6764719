/** First delay of a `Backoff` by default, in ms. */
export const DEFAULT_BACKOFF_INITIAL_MS = 500;
/** Longest delay of a `Backoff` by default, in ms. */
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

/**
 * Exponential backoff with jitter, reset after a healthy run. The ±20 % jitter keeps replicas (hubs
 * sharing one ClickHouse, agents sharing one NATS) from retrying in step after a shared outage.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #next: number;

  constructor(initialMs = DEFAULT_BACKOFF_INITIAL_MS, maxMs = DEFAULT_BACKOFF_MAX_MS) {
    if (!(initialMs >= 0) || !(maxMs >= initialMs))
      throw new RangeError(`backoff needs 0 <= initialMs <= maxMs, got ${initialMs} and ${maxMs}`);
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#next = initialMs;
  }

  /** The next delay in ms; each call doubles the following one up to the maximum. */
  delay(): number {
    const base = this.#next;
    this.#next = Math.min(this.#next * 2, this.#maxMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#next = this.#initialMs;
  }
}

/**
 * Waits `ms`, or less: resolves at once when `signal` aborts (a stopping process must not wait out a
 * 10 s backoff: finding 27, every SIGTERM of the hub took 10 s). Never rejects; callers look at
 * their own stop flag afterwards. The abort listener is removed, so one long-lived signal serves
 * any number of sleeps.
 */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
