import type { Store } from '@argus/store';

/** How often /readyz's view of ClickHouse is refreshed, in ms: "within seconds" of an outage. */
export const STORE_PROBE_INTERVAL_MS = 2_000;
/** A probe that has not answered after this long counts as failed, in ms (an unreachable server may hang). */
export const STORE_PROBE_TIMEOUT_MS = 3_000;

/**
 * Asks ClickHouse a tiny question about the events table in the background, so that /readyz (which
 * must answer at once) knows whether the store answers: a server that is down, or an embedded chdb
 * whose table is gone, makes the hub not ready even while no event arrives to fail an insert.
 */
export class StoreProbe {
  readonly #store: Store;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  #failure: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(store: Store, options: { intervalMs?: number; timeoutMs?: number } = {}) {
    this.#store = store;
    this.#intervalMs = options.intervalMs ?? STORE_PROBE_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? STORE_PROBE_TIMEOUT_MS;
  }

  /** Why ClickHouse is not usable (undefined: the last probe succeeded). */
  get notReadyReason(): string | undefined {
    return this.#failure === undefined ? undefined : `clickhouse: ${this.#failure}`;
  }

  async probe(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answered = this.#store
        .rows<{ n: string }>(`SELECT count() AS n FROM ${this.#store.table('cdevents')} WHERE 0`)
        .then(() => undefined);
      const timedOut = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${this.#timeoutMs} ms`), this.#timeoutMs);
      });
      this.#failure = await Promise.race([answered, timedOut]);
    } catch (err) {
      this.#failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    } finally {
      clearTimeout(timer);
      this.#running = false;
    }
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.probe(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
