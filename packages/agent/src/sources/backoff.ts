/** Exponential backoff with jitter, reset after a healthy run. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #next: number;

  constructor(initialMs = 500, maxMs = 30_000) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#next = initialMs;
  }

  /** The next delay; each call doubles the following one up to the maximum. */
  delay(): number {
    const base = this.#next;
    this.#next = Math.min(this.#next * 2, this.#maxMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#next = this.#initialMs;
  }
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
