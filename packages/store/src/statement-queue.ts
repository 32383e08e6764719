/** Whose statement waits for chdb: the hub's ingest (inserts and their repeat lookups) goes first. */
export type Turn = 'ingest' | 'query';

interface Waiter {
  start(): void;
}

/**
 * One statement in embedded chdb at a time, the ingest's before the others. chdb runs one statement
 * at a time and takes waiting ones in the order they came (measured, 2026-12-06: an insert sent
 * behind three 2 s reads finished after all three, at 6.1 s), so three people opening the dashboard
 * would hold ingestion up for all their queries. Kept here instead, the line lets an insert wait for
 * the one statement running at most, drops a waiting statement whose caller gave up before it runs,
 * and releases the next only after a failed statement's clean-up (`afterFailure`).
 */
export class StatementQueue {
  #running = false;
  readonly #waiting: Record<Turn, Waiter[]> = { ingest: [], query: [] };

  /** Statements waiting for their turn. */
  get waiting(): number {
    return this.#waiting.ingest.length + this.#waiting.query.length;
  }

  /**
   * Runs `task` in its turn. Its outcome reaches the caller as soon as it settles; after a failure
   * the next statement waits for `afterFailure` too. Rejects with the signal's reason, without
   * running `task`, when `signal` aborts while it waits.
   */
  run<T>(
    turn: Turn,
    task: () => Promise<T>,
    options: { readonly signal?: AbortSignal; readonly afterFailure?: () => Promise<void> } = {},
  ): Promise<T> {
    const { signal, afterFailure } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#running = true;
          const outcome = (async () => task())();
          outcome.then(resolve, reject);
          outcome
            .then(
              () => undefined,
              () => afterFailure?.(),
            )
            .catch(() => undefined)
            .finally(() => {
              this.#running = false;
              this.#next();
            });
        },
      };
      const onAbort = (): void => {
        const line = this.#waiting[turn];
        const at = line.indexOf(waiter);
        if (at < 0) return;
        line.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting[turn].push(waiter);
      this.#next();
    });
  }

  #next(): void {
    if (this.#running) return;
    (this.#waiting.ingest.shift() ?? this.#waiting.query.shift())?.start();
  }
}
