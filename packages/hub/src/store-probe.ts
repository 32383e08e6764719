import { type LongRunning, PeriodicTask, type Readiness, statusOf } from '@argus/runtime';
import type { Store } from '@argus/store';

/** How often /readyz's view of ClickHouse is refreshed, in ms: "within seconds" of an outage. */
export const STORE_PROBE_INTERVAL_MS = 2_000;
/**
 * A probe that has not answered this long after its turn in the store came counts as failed, in ms (an
 * unreachable server may hang; `Store.answers`).
 */
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
    // Counted from the probe's turn: with chdb, a dashboard read running before it is no outage.
    this.#failure = await this.#store.answers(this.#timeoutMs);
  }
}
