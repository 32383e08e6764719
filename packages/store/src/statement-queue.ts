/** Whose statement waits for chdb: the hub's ingest (inserts and their repeat lookups) goes first. */
export type Turn = 'ingest' | 'query';

interface Waiter {
  start(): void;
}

/**
 * Ingest statements in a row while queries wait: a batch's repeat lookup and its insert, which the
 * hub sends one right after the other, then a waiting query goes (else a long catch-up would hold
 * every dashboard read until it ends).
 */
export const INGEST_STATEMENTS_IN_A_ROW = 2;

/**
 * One statement in embedded chdb at a time, the ingest's before the others. chdb runs one statement
 * at a time and takes waiting ones in the order they came (measured, 2026-12-06: an insert sent
 * behind three 2 s reads finished after all three, at 6.1 s), so three people opening the dashboard
 * would hold ingestion up for all their queries. Kept here instead, the line lets a batch's lookup
 * and insert wait for the one query running at most (INGEST_STATEMENTS_IN_A_ROW, then a query
 * goes), drops a waiting statement whose caller gave up before it runs, and releases the next only
 * after a failed statement's clean-up (`afterFailure`).
 */
export class StatementQueue {
  #running = false;
  /** Ingest statements since the last query. */
  #ingestInARow = 0;
  /** Right after an ingest statement: queries wait until the event loop turns, for its next one. */
  #ingestFollowing = false;
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
          this.#ingestInARow = turn === 'ingest' ? this.#ingestInARow + 1 : 0;
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
              if (turn === 'ingest') this.#awaitFollowing();
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

  /**
   * The hub sends a batch's insert as soon as its lookup answers, in the same turn of the event loop
   * (promise continuations): until the loop turns, a waiting query does not take its place.
   */
  #awaitFollowing(): void {
    if (this.#ingestInARow >= INGEST_STATEMENTS_IN_A_ROW) return;
    this.#ingestFollowing = true;
    setImmediate(() => {
      this.#ingestFollowing = false;
      this.#next();
    });
  }

  #next(): void {
    if (this.#running) return;
    const { ingest, query } = this.#waiting;
    const ingestMayGo =
      ingest.length > 0 && (query.length === 0 || this.#ingestInARow < INGEST_STATEMENTS_IN_A_ROW);
    if (ingestMayGo) ingest.shift()?.start();
    else if (!this.#ingestFollowing) query.shift()?.start();
  }
}
