import { type LongRunning, PeriodicTask, type Readiness, statusOf } from '@argus/runtime';
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
export class StoreProbe extends PeriodicTask implements LongRunning {
  readonly #store: Store;
  readonly #timeoutMs: number;
  #failure: string | undefined;

  constructor(store: Store, options: { intervalMs?: number; timeoutMs?: number } = {}) {
    super(options.intervalMs ?? STORE_PROBE_INTERVAL_MS);
    this.#store = store;
    this.#timeoutMs = options.timeoutMs ?? STORE_PROBE_TIMEOUT_MS;
  }

  /** Ready when the last probe succeeded; otherwise what ClickHouse answered (or did not). */
  status(): Readiness {
    return statusOf(this.#failure === undefined ? [] : [`clickhouse: ${this.#failure}`]);
  }

  /** Probes now (or waits for the probe in progress). */
  probe(): Promise<void> {
    return this.run();
  }

  protected async tick(): Promise<void> {
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
    }
  }
}
